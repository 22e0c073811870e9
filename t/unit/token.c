/* Unit tests for token: keyrings, issue/verify round trips, key rollover and
 * forged tokens. The hostile tokens are made here by hand (base64url and
 * HMAC from OpenSSL), never by libjwt, so a libjwt quirk cannot hide in both
 * the forger and the verifier. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "tap.h"
#include "identity/token.h"

enum { NOW = 1700000000, BIG = 9000 };

#define S1 "k1-secret-0123456789abcdef0123456789ABCD"
#define S2 "k2-secret-0123456789abcdef0123456789ABCD"
#define S_OTHER "not-in-ring-0123456789abcdef0123456789AB"
#define RING "k2 " S2 "\nk1 " S1 "\n"
#define ISS "lectern"
#define AUD "lectern-api"

#define H_GOOD "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define C_ID                                                                                       \
	"\"sub\":\"u1\",\"user_id\":\"u1\",\"email\":\"a@b.c\",\"name\":\"Ann\",\"role\":"         \
	"\"user\","                                                                                \
	"\"jti\":\"j1\""
#define C_ISSAUD "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""
#define C_TIMES "\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700003600"
#define P_GOOD "{" C_ID "," C_ISSAUD "," C_TIMES "}"

/* How a forged token gets its third segment. */
enum sign {
	SIGN_HS256,      /* HMAC-SHA256 with key */
	SIGN_HS384,      /* HMAC-SHA384 with key */
	SIGN_HS512,      /* HMAC-SHA512 with key */
	SIGN_RSA_PUBKEY, /* HMAC-SHA256 keyed with an RSA public key PEM */
	SIGN_EMPTY,      /* "header.payload." */
	SIGN_DROP        /* "header.payload" */
};

static char rsa_pem[4096];

static char *b64url(struct pool *p, const void *data, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *in = data;
	char *out = pool_alloc(p, len * 4 / 3 + 4);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* Signs "head.body" (already encoded) and returns the whole token. */
static const char *sign_segments(struct pool *p, const char *head, const char *body, enum sign how,
                                 const char *key)
{
	const char *input = pool_printf(p, "%s.%s", head, body);
	const EVP_MD *md = EVP_sha256();
	switch (how) {
	case SIGN_EMPTY:
		return pool_printf(p, "%s.", input);
	case SIGN_DROP:
		return input;
	case SIGN_HS384:
		md = EVP_sha384();
		break;
	case SIGN_HS512:
		md = EVP_sha512();
		break;
	case SIGN_RSA_PUBKEY:
		key = rsa_pem;
		break;
	case SIGN_HS256:
		break;
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	HMAC(md, key, (int)strlen(key), (const unsigned char *)input, strlen(input), mac, &mac_len);
	return pool_printf(p, "%s.%s", input, b64url(p, mac, mac_len));
}

static const char *forge_n(struct pool *p, const char *header, const char *payload,
                           size_t payload_len, enum sign how, const char *key)
{
	return sign_segments(p, b64url(p, header, strlen(header)), b64url(p, payload, payload_len),
	                     how, key);
}

static const char *forge(struct pool *p, const char *header, const char *payload, enum sign how,
                         const char *key)
{
	return forge_n(p, header, payload, strlen(payload), how, key);
}

/* Decodes a base64url segment to a string (NULL if it does not decode). */
static const char *unb64url(struct pool *p, const char *seg, size_t len)
{
	char *std = pool_alloc(p, len + 4);
	for (size_t i = 0; i < len; i++)
		std[i] = seg[i] == '-' ? '+' : seg[i] == '_' ? '/' : seg[i];
	size_t padded = len;
	while (padded % 4)
		std[padded++] = '=';
	unsigned char *out = pool_alloc(p, padded);
	int n = EVP_DecodeBlock(out, (unsigned char *)std, (int)padded);
	return n > 0 ? (const char *)out : NULL;
}

static void make_rsa_pem(void)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	BIO *bio = BIO_new(BIO_s_mem());
	if (!pkey || !bio || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		tap_diag("cannot make an RSA key");
		exit(1);
	}
	int n = BIO_read(bio, rsa_pem, sizeof(rsa_pem) - 1);
	rsa_pem[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
	EVP_PKEY_free(pkey);
}

static void test_keyrings(void)
{
	static const struct {
		const char *text;
		size_t count; /* 0: must be refused */
		const char *signing;
		const char *name;
	} cases[] = {
	    {"k1 " S1, 1, "k1", "one key"},
	    {"# keys\n\nk2 " S2 "\r\n  k1\t" S1 "  \n", 2, "k2", "comments, CRLF, tabs"},
	    {"a.b_c-D " S1 ";k1 " S2, 2, "a.b_c-D", "';' separates keys"},
	    {"k1 " S1 "\n#k2 " S2, 1, "k1", "commented-out key"},
	    {"", 0, NULL, "empty ring"},
	    {"# only\n\n", 0, NULL, "only comments"},
	    {"k1 0123456789abcdef0123456789abcde", 0, NULL, "31-byte secret"},
	    {"k1 0123456789abcdef0123456789abcdef", 1, "k1", "32-byte secret"},
	    {"k/1 " S1, 0, NULL, "slash in kid"},
	    {"k1 " S1 " extra", 0, NULL, "three fields"},
	    {"k1", 0, NULL, "no secret"},
	    {"k1 " S1 "\nk1 " S2, 0, NULL, "duplicate kid"},
	    {"k1 " S1 "\xc3\xa9", 0, NULL, "non-ASCII secret"},
	    {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk " S1, 0, NULL,
	     "65-character kid"},
	    {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk " S1, 1,
	     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
	     "64-character kid"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct token_keyring *kr = NULL;
		enum err e = token_keyring_parse(cases[i].text, &kr);
		if (cases[i].count == 0) {
			ok(e == ERR_INVALID && kr == NULL, "keyring refused: %s", cases[i].name);
			continue;
		}
		if (!ok(e == ERR_OK && kr, "keyring parsed: %s", cases[i].name))
			continue;
		is_long(token_keyring_count(kr), cases[i].count, "key count");
		is_str(token_keyring_signing_kid(kr), cases[i].signing, "first key signs");
		token_keyring_free(kr);
	}

	struct token_keyring *kr = (struct token_keyring *)1;
	ok(token_keyring_parse(NULL, &kr) == ERR_INVALID && kr == NULL, "NULL text is refused");

	struct buf b;
	buf_init(&b);
	for (int i = 0; i <= TOKEN_KEYS_MAX; i++)
		buf_printf(&b, "k%d %s\n", i, S1);
	ok(token_keyring_parse(b.data, &kr) == ERR_INVALID, "more than TOKEN_KEYS_MAX keys");
	buf_clear(&b);
	buf_printf(&b, "k1 ");
	for (int i = 0; i <= TOKEN_SECRET_MAX; i++)
		buf_putc(&b, 'x');
	ok(token_keyring_parse(b.data, &kr) == ERR_INVALID, "secret above TOKEN_SECRET_MAX");
	buf_clear(&b);
	token_keyring_free(NULL);
}

struct attack {
	const char *name;
	const char *header;
	const char *payload;
	enum sign how;
	const char *key;
	const char *why;    /* NULL: accepted */
	const char *detail; /* the reason expected, so each case fails for its own cause */
};

static const struct attack attacks[] = {
    {"control: good token", H_GOOD, P_GOOD, SIGN_HS256, S1, NULL, NULL},
    {"control: good token, second key", "{\"alg\":\"HS256\",\"kid\":\"k2\"}", P_GOOD, SIGN_HS256,
     S2, NULL, NULL},
    {"alg none, empty signature", "{\"alg\":\"none\",\"kid\":\"k1\"}", P_GOOD, SIGN_EMPTY, S1,
     "invalid", "bad segment length"},
    {"alg none, no signature part", "{\"alg\":\"none\",\"kid\":\"k1\"}", P_GOOD, SIGN_DROP, S1,
     "invalid", "not three segments"},
    {"alg none with a real HS256 signature", "{\"alg\":\"none\",\"kid\":\"k1\"}", P_GOOD,
     SIGN_HS256, S1, "invalid", "algorithm not HS256"},
    {"alg NONE, HS256 signature", "{\"alg\":\"NONE\",\"kid\":\"k1\"}", P_GOOD, SIGN_HS256, S1,
     "invalid", "algorithm not HS256"},
    {"alg HS512 signed with the right secret", "{\"alg\":\"HS512\",\"kid\":\"k1\"}", P_GOOD,
     SIGN_HS512, S1, "invalid", "bad segment length"},
    {"alg HS384 signed with the right secret", "{\"alg\":\"HS384\",\"kid\":\"k1\"}", P_GOOD,
     SIGN_HS384, S1, "invalid", "bad segment length"},
    {"alg HS512 header, HS256 signature", "{\"alg\":\"HS512\",\"kid\":\"k1\"}", P_GOOD, SIGN_HS256,
     S1, "invalid", "algorithm not HS256"},
    {"alg RS256 header", "{\"alg\":\"RS256\",\"kid\":\"k1\"}", P_GOOD, SIGN_HS256, S1, "invalid",
     "algorithm not HS256"},
    {"alg missing", "{\"typ\":\"JWT\",\"kid\":\"k1\"}", P_GOOD, SIGN_HS256, S1, "invalid",
     "algorithm not HS256"},
    {"alg not a string", "{\"alg\":256,\"kid\":\"k1\"}", P_GOOD, SIGN_HS256, S1, "invalid",
     "algorithm not HS256"},
    {"HS256 keyed with an RSA public key", H_GOOD, P_GOOD, SIGN_RSA_PUBKEY, NULL, "invalid",
     "bad signature"},
    {"HS256 keyed with an RSA public key, no kid", "{\"alg\":\"HS256\"}", P_GOOD, SIGN_RSA_PUBKEY,
     NULL, "invalid", "missing kid"},
    {"wrong key", H_GOOD, P_GOOD, SIGN_HS256, S_OTHER, "invalid", "bad signature"},
    {"key of the other kid", H_GOOD, P_GOOD, SIGN_HS256, S2, "invalid", "bad signature"},
    {"unknown kid", "{\"alg\":\"HS256\",\"kid\":\"k9\"}", P_GOOD, SIGN_HS256, S1, "invalid",
     "unknown kid"},
    {"missing kid", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", P_GOOD, SIGN_HS256, S1, "invalid",
     "missing kid"},
    {"empty kid", "{\"alg\":\"HS256\",\"kid\":\"\"}", P_GOOD, SIGN_HS256, S1, "invalid", "bad kid"},
    {"kid not a string", "{\"alg\":\"HS256\",\"kid\":1}", P_GOOD, SIGN_HS256, S1, "invalid",
     "bad kid"},
    {"crit header", "{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}", P_GOOD, SIGN_HS256, S1,
     "invalid", "unexpected header field"},
    {"jku header", "{\"alg\":\"HS256\",\"kid\":\"k1\",\"jku\":\"http://x\"}", P_GOOD, SIGN_HS256,
     S1, "invalid", "unexpected header field"},
    {"typ not JWT", "{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWE\"}", P_GOOD, SIGN_HS256, S1,
     "invalid", "typ not JWT"},
    {"header is an array", "[\"HS256\"]", P_GOOD, SIGN_HS256, S1, "invalid",
     "header not a JSON object"},
    {"header is not JSON", "alg=HS256", P_GOOD, SIGN_HS256, S1, "invalid",
     "header not a JSON object"},
    {"header with trailing bytes", H_GOOD " x", P_GOOD, SIGN_HS256, S1, "invalid",
     "header not a JSON object"},
    {"header with a comment", "{\"alg\":\"HS256\",/* c */\"kid\":\"k1\"}", P_GOOD, SIGN_HS256, S1,
     "invalid", "header not a JSON object"},
    {"payload is not JSON", H_GOOD, "sub=u1", SIGN_HS256, S1, "invalid",
     "claims not a JSON object"},
    {"payload is a string", H_GOOD, "\"u1\"", SIGN_HS256, S1, "invalid",
     "claims not a JSON object"},
    {"payload nested too deep", H_GOOD, "{\"a\":[[[[[[1]]]]]]," C_ID "," C_ISSAUD "," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "claims not a JSON object"},
    {"payload with invalid UTF-8", H_GOOD, "{\"x\":\"\xff\"," C_ID "," C_ISSAUD "," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "claims not a JSON object"},
    {"wrong iss", H_GOOD, "{" C_ID ",\"iss\":\"evil\",\"aud\":\"" AUD "\"," C_TIMES "}", SIGN_HS256,
     S1, "invalid", "wrong issuer"},
    {"iss differs by case", H_GOOD,
     "{" C_ID ",\"iss\":\"Lectern\",\"aud\":\"" AUD "\"," C_TIMES "}", SIGN_HS256, S1, "invalid",
     "wrong issuer"},
    {"wrong aud", H_GOOD, "{" C_ID ",\"iss\":\"" ISS "\",\"aud\":\"other\"," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "wrong audience"},
    {"aud as an array", H_GOOD, "{" C_ID ",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"]," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "missing or malformed string claim"},
    {"missing iss", H_GOOD, "{" C_ID ",\"aud\":\"" AUD "\"," C_TIMES "}", SIGN_HS256, S1, "invalid",
     "missing or malformed string claim"},
    {"missing sub", H_GOOD,
     "{\"email\":\"a@b.c\",\"role\":\"user\",\"jti\":\"j1\"," C_ISSAUD "," C_TIMES "}", SIGN_HS256,
     S1, "invalid", "missing or malformed string claim"},
    {"missing jti", H_GOOD,
     "{\"sub\":\"u1\",\"email\":\"a@b.c\",\"role\":\"user\"," C_ISSAUD "," C_TIMES "}", SIGN_HS256,
     S1, "invalid", "missing or malformed string claim"},
    {"sub is a number", H_GOOD,
     "{\"sub\":1,\"email\":\"a@b.c\",\"role\":\"user\",\"jti\":\"j1\"," C_ISSAUD "," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "missing or malformed string claim"},
    {"user_id differs from sub", H_GOOD,
     "{\"sub\":\"u1\",\"user_id\":\"u2\",\"email\":\"a@b.c\",\"role\":\"admin\",\"jti\":"
     "\"j1\"," C_ISSAUD "," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "user_id differs from sub"},
    {"\\u0000 inside sub", H_GOOD,
     "{\"sub\":\"u1\\u0000admin\",\"email\":\"a@b.c\",\"role\":\"user\",\"jti\":\"j1\"," C_ISSAUD
     "," C_TIMES "}",
     SIGN_HS256, S1, "invalid", "missing or malformed string claim"},
    {"expired exp", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1699990000,\"nbf\":1699990000,\"exp\":1699999999}", SIGN_HS256,
     S1, "expired", "expired"},
    {"exp equal to now", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1699990000,\"nbf\":1699990000,\"exp\":1700000000}", SIGN_HS256,
     S1, "expired", "expired"},
    {"exp one second ahead", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1699990000,\"nbf\":1699990000,\"exp\":1700000001}", SIGN_HS256,
     S1, NULL, NULL},
    {"missing exp", H_GOOD, "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000000}",
     SIGN_HS256, S1, "invalid", "missing or malformed exp or iat"},
    {"exp as a string", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":\"1700003600\"}",
     SIGN_HS256, S1, "invalid", "missing or malformed exp or iat"},
    {"exp as a fraction", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700003600.5}",
     SIGN_HS256, S1, "invalid", "missing or malformed exp or iat"},
    {"exp beyond int64", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":99999999999999999999}",
     SIGN_HS256, S1, "invalid", "missing or malformed exp or iat"},
    {"negative iat", H_GOOD, "{" C_ID "," C_ISSAUD ",\"iat\":-1,\"exp\":1700003600}", SIGN_HS256,
     S1, "invalid", "missing or malformed exp or iat"},
    {"missing iat", H_GOOD, "{" C_ID "," C_ISSAUD ",\"nbf\":1700000000,\"exp\":1700003600}",
     SIGN_HS256, S1, "invalid", "missing or malformed exp or iat"},
    {"nbf in the future", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000031,\"exp\":1700003600}", SIGN_HS256,
     S1, "invalid", "not yet valid"},
    {"nbf within the leeway", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000030,\"exp\":1700003600}", SIGN_HS256,
     S1, NULL, NULL},
    {"nbf as a string", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":\"0\",\"exp\":1700003600}", SIGN_HS256, S1,
     "invalid", "malformed nbf"},
    {"iat in the future", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000060,\"nbf\":1700000000,\"exp\":1700003600}", SIGN_HS256,
     S1, "invalid", "issued in the future"},
    {"exp before iat", H_GOOD,
     "{" C_ID "," C_ISSAUD ",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1600000000}", SIGN_HS256,
     S1, "invalid", "exp not after iat"},
};

static void test_attacks(const struct token_keyring *kr)
{
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		const struct attack *a = &attacks[i];
		struct pool *p = pool_new();
		struct token_claims c;
		const char *why = "unset", *detail = "unset";
		const char *jwt = forge(p, a->header, a->payload, a->how, a->key);
		enum err e = token_verify_detail(kr, jwt, ISS, AUD, NOW, p, &c, &why, &detail);
		if (!a->why) {
			ok(e == ERR_OK && why == NULL && detail == NULL, "accepted: %s", a->name);
			is_str(c.sub, "u1", "its sub");
		} else {
			ok(e == ERR_UNAUTHORIZED && c.sub == NULL, "refused: %s", a->name);
			is_str(why, a->why, "  why");
			is_str(detail, a->detail, "  reason");
		}
		pool_free(p);
	}
}

/* Cases that need bytes or segments the table cannot spell. */
static void test_malformed(const struct token_keyring *kr)
{
	struct pool *p = pool_new();
	const char *good = forge(p, H_GOOD, P_GOOD, SIGN_HS256, S1);
	const char *head = b64url(p, H_GOOD, strlen(H_GOOD));
	const char *body = b64url(p, P_GOOD, strlen(P_GOOD));
	const char *other_body_text = "{" C_ID ",\"role\":\"admin\"," C_ISSAUD "," C_TIMES "}";
	const char *other_body = b64url(p, other_body_text, strlen(other_body_text));
	const char *sig = strrchr(good, '.') + 1;
	char *big = pool_alloc(p, BIG + 1);
	memset(big, 'A', BIG);

	/* A payload with a raw NUL byte, correctly signed. */
	static const char nul_payload[] = "{" C_ID "," C_ISSAUD "," C_TIMES "}\0{\"role\":1}";
	/* A non-canonical payload: same bytes, last character's spare bits set. */
	const char *padded_text = P_GOOD;
	while (strlen(padded_text) % 3 == 0)
		padded_text = pool_printf(p, "%s ", padded_text);
	char *noncanon = b64url(p, padded_text, strlen(padded_text));
	size_t nl = strlen(noncanon);
	ok(nl % 4 != 0, "the payload's base64 has spare bits");
	ok(token_verify(kr, sign_segments(p, head, noncanon, SIGN_HS256, S1), ISS, AUD, NOW, p,
	                &(struct token_claims){0}, NULL) == ERR_OK,
	   "its canonical form is accepted");
	noncanon[nl - 1] = (char)(noncanon[nl - 1] == 'z' ? 'y' : noncanon[nl - 1] + 1);
	/* A header with a space changes the signed bytes but not the meaning. */
	const char *spaced = "{\"alg\":\"HS256\", \"typ\":\"JWT\",\"kid\":\"k1\"}";
	/* A valid but enormous token: its name claim is larger than TOKEN_MAX. */
	char *huge_name = pool_alloc(p, TOKEN_MAX + 1);
	memset(huge_name, 'n', TOKEN_MAX);
	const char *huge_payload =
	    pool_printf(p, "{" C_ID ",\"nick\":\"%s\"," C_ISSAUD "," C_TIMES "}", huge_name);

	const struct {
		const char *name;
		const char *jwt;
		const char *why, *detail;
	} cases[] = {
	    {"control: good token", good, NULL, NULL},
	    {"NULL token", NULL, "missing", "missing"},
	    {"empty token", "", "missing", "missing"},
	    {"tampered payload", pool_printf(p, "%s.%s.%s", head, other_body, sig), "invalid",
	     "bad signature"},
	    {"tampered header",
	     pool_printf(p, "%s.%s.%s", b64url(p, spaced, strlen(spaced)), body, sig), "invalid",
	     "bad signature"},
	    {"signature of another token",
	     pool_printf(p, "%s.%s.%s", head, body,
	                 strrchr(forge(p, H_GOOD, other_body_text, SIGN_HS256, S1), '.') + 1),
	     "invalid", "bad signature"},
	    {"signature flipped in its last character",
	     pool_printf(p, "%s.%s.%.*s%c", head, body, (int)strlen(sig) - 1, sig,
	                 sig[strlen(sig) - 1] == 'A' ? 'B' : 'A'),
	     "invalid", "bad signature"},
	    {"non-canonical payload base64", sign_segments(p, head, noncanon, SIGN_HS256, S1),
	     "invalid", "claims not a JSON object"},
	    {"padded payload base64",
	     sign_segments(p, head, pool_printf(p, "%s=", body), SIGN_HS256, S1), "invalid",
	     "claims not a JSON object"},
	    {"'+' in the header", pool_printf(p, "+%s.%s.%s", head + 1, body, sig), "invalid",
	     "header not a JSON object"},
	    {"standard-alphabet signature", pool_printf(p, "%s.%s.+%s", head, body, sig + 1),
	     "invalid", "bad signature"},
	    {"payload with a raw NUL byte",
	     forge_n(p, H_GOOD, nul_payload, sizeof(nul_payload) - 1, SIGN_HS256, S1), "invalid",
	     "claims not a JSON object"},
	    {"NUL inside the token text", pool_printf(p, "%s.%s%c.%s", head, body, '\0', sig),
	     "invalid", "not three segments"},
	    {"four segments", pool_printf(p, "%s.%s.%s.%s", head, body, sig, sig), "invalid",
	     "not three segments"},
	    {"two segments", pool_printf(p, "%s.%s", head, body), "invalid", "not three segments"},
	    {"one segment", head, "invalid", "not three segments"},
	    {"empty header segment", pool_printf(p, ".%s.%s", body, sig), "invalid",
	     "bad segment length"},
	    {"empty payload segment", pool_printf(p, "%s..%s", head, sig), "invalid",
	     "bad segment length"},
	    {"dots only", "..", "invalid", "bad segment length"},
	    {"enormous garbage", big, "invalid", "too long"},
	    {"enormous signed token", forge(p, H_GOOD, huge_payload, SIGN_HS256, S1), "invalid",
	     "too long"},
	    {"spaces around", pool_printf(p, " %s ", good), "invalid", "bad segment length"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct token_claims c;
		const char *why = "unset", *detail = "unset";
		enum err e =
		    token_verify_detail(kr, cases[i].jwt, ISS, AUD, NOW, p, &c, &why, &detail);
		if (!cases[i].why) {
			ok(e == ERR_OK, "accepted: %s", cases[i].name);
			continue;
		}
		ok(e == ERR_UNAUTHORIZED, "refused: %s", cases[i].name);
		is_str(why, cases[i].why, "  why");
		is_str(detail, cases[i].detail, "  reason");
	}
	pool_free(p);
}

static bool is_uuid_v4(const char *s)
{
	if (strlen(s) != 36 || s[14] != '4' || !strchr("89ab", s[19]))
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	}
	return true;
}

static void test_issue(const struct token_keyring *kr)
{
	struct pool *p = pool_new();
	struct token_claims in = {.sub = "8b7e4c0e-0000-4000-8000-000000000001",
	                          .email = "ann@example.org",
	                          .name = "Ann \"the\" Learner \xc3\xa9",
	                          .role = "learner",
	                          .iss = ISS,
	                          .aud = AUD};
	const char *jwt = NULL, *jti = NULL, *jwt2 = NULL, *jti2 = NULL;
	long long exp = 0;
	ok(token_issue(kr, &in, NOW, 3600, p, &jwt, &jti, &exp) == ERR_OK, "issue");
	is_long(exp, NOW + 3600, "exp is now + ttl");
	ok(is_uuid_v4(jti), "jti is a UUID v4 (%s)", jti);
	ok(token_issue(kr, &in, NOW, 3600, p, &jwt2, &jti2, NULL) == ERR_OK, "issue again");
	ok(strcmp(jti, jti2) != 0 && strcmp(jwt, jwt2) != 0, "each token has its own jti");

	/* The header, decoded by hand. */
	const char *head = unb64url(p, jwt, (size_t)(strchr(jwt, '.') - jwt));
	ok(head && strstr(head, "\"alg\":\"HS256\"") && strstr(head, "\"typ\":\"JWT\"") &&
	       strstr(head, "\"kid\":\"k2\""),
	   "header names HS256, JWT and the signing kid k2");

	struct token_claims c;
	const char *why = "unset";
	ok(token_verify(kr, jwt, ISS, AUD, NOW + 10, p, &c, &why) == ERR_OK && why == NULL,
	   "an issued token verifies");
	is_str(c.sub, in.sub, "sub round trip");
	is_str(c.email, in.email, "email round trip");
	is_str(c.name, in.name, "name round trip (quotes, UTF-8)");
	is_str(c.role, in.role, "role round trip");
	is_str(c.jti, jti, "jti round trip");
	is_str(c.iss, ISS, "iss round trip");
	is_str(c.aud, AUD, "aud round trip");
	ok(c.iat == NOW && c.nbf == NOW && c.exp == NOW + 3600, "times round trip");
	ok(token_verify(kr, jwt, ISS, AUD, NOW + 3600, p, &c, &why) == ERR_UNAUTHORIZED,
	   "it expires at exp");
	is_str(why, "expired", "  as expired");
	ok(token_verify(kr, jwt, ISS, "other", NOW, p, &c, &why) == ERR_UNAUTHORIZED,
	   "another audience refuses it");

	in.name = NULL;
	in.jti = "fixed-jti";
	ok(token_issue(kr, &in, NOW, 60, p, &jwt, &jti, NULL) == ERR_OK, "issue without a name");
	ok(token_verify(kr, jwt, ISS, AUD, NOW, p, &c, NULL) == ERR_OK && c.name == NULL,
	   "  verifies without a name");
	is_str(c.jti, "fixed-jti", "  keeps the given jti");

	static const struct {
		const char *name;
		const char *sub, *email, *role;
		long ttl;
	} bad[] = {
	    {"no sub", NULL, "a@b.c", "user", 60},
	    {"empty sub", "", "a@b.c", "user", 60},
	    {"no email", "u1", NULL, "user", 60},
	    {"no role", "u1", "a@b.c", NULL, 60},
	    {"ttl 0", "u1", "a@b.c", "user", 0},
	    {"ttl negative", "u1", "a@b.c", "user", -5},
	    {"ttl above TOKEN_TTL_MAX", "u1", "a@b.c", "user", TOKEN_TTL_MAX + 1L},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct token_claims b = {.sub = bad[i].sub,
		                         .email = bad[i].email,
		                         .role = bad[i].role,
		                         .iss = ISS,
		                         .aud = AUD};
		jwt = "unset";
		ok(token_issue(kr, &b, NOW, bad[i].ttl, p, &jwt, NULL, NULL) == ERR_INVALID &&
		       jwt == NULL,
		   "issue refused: %s", bad[i].name);
	}
	char *long_claim = pool_alloc(p, TOKEN_CLAIM_MAX + 2);
	memset(long_claim, 'e', TOKEN_CLAIM_MAX + 1);
	struct token_claims b = {
	    .sub = "u1", .email = long_claim, .role = "r", .iss = ISS, .aud = AUD};
	ok(token_issue(kr, &b, NOW, 60, p, &jwt, NULL, NULL) == ERR_INVALID,
	   "issue refused: claim above TOKEN_CLAIM_MAX");
	pool_free(p);
}

static void test_rollover(void)
{
	struct token_keyring *old_ring, *both, *new_only, *impostor;
	struct pool *p = pool_new();
	struct token_claims in = {
	    .sub = "u1", .email = "a@b.c", .role = "r", .iss = ISS, .aud = AUD};
	struct token_claims c;
	const char *old_jwt, *new_jwt;
	if (token_keyring_parse("old " S1, &old_ring) != ERR_OK ||
	    token_keyring_parse("new " S2 "\nold " S1, &both) != ERR_OK ||
	    token_keyring_parse("new " S2, &new_only) != ERR_OK ||
	    token_keyring_parse("old " S2, &impostor) != ERR_OK) {
		ok(0, "rollover keyrings parse");
		return;
	}
	ok(token_issue(old_ring, &in, NOW, 600, p, &old_jwt, NULL, NULL) == ERR_OK,
	   "issue with the old key");
	ok(token_issue(both, &in, NOW, 600, p, &new_jwt, NULL, NULL) == ERR_OK,
	   "issue with the new ring");
	ok(token_verify(both, old_jwt, ISS, AUD, NOW, p, &c, NULL) == ERR_OK,
	   "old token verifies while the old key is second");
	ok(token_verify(both, new_jwt, ISS, AUD, NOW, p, &c, NULL) == ERR_OK,
	   "new token verifies with the new ring");
	ok(token_verify(old_ring, new_jwt, ISS, AUD, NOW, p, &c, NULL) == ERR_UNAUTHORIZED,
	   "new token fails on a ring without the new key");
	const char *detail;
	ok(token_verify_detail(new_only, old_jwt, ISS, AUD, NOW, p, &c, NULL, &detail) ==
	       ERR_UNAUTHORIZED,
	   "old token fails once its key is removed");
	is_str(detail, "unknown kid", "  as an unknown kid");
	ok(token_verify_detail(impostor, old_jwt, ISS, AUD, NOW, p, &c, NULL, &detail) ==
	       ERR_UNAUTHORIZED,
	   "same kid with another secret refuses it");
	is_str(detail, "bad signature", "  as a bad signature");
	token_keyring_free(old_ring);
	token_keyring_free(both);
	token_keyring_free(new_only);
	token_keyring_free(impostor);
	pool_free(p);
}

static void test_random(void)
{
	char a[TOKEN_UUID_SIZE], b[TOKEN_UUID_SIZE];
	ok(token_uuid_v4(a) == ERR_OK && token_uuid_v4(b) == ERR_OK, "uuids made");
	ok(is_uuid_v4(a) && is_uuid_v4(b), "uuid format (%s)", a);
	ok(strcmp(a, b) != 0, "uuids differ");

	char o1[TOKEN_OPAQUE_SIZE], o2[TOKEN_OPAQUE_SIZE];
	ok(token_random_opaque(o1) == ERR_OK && token_random_opaque(o2) == ERR_OK,
	   "opaque tokens made");
	is_long(strlen(o1), TOKEN_OPAQUE_SIZE - 1, "opaque token length");
	ok(strspn(o1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	       strlen(o1),
	   "opaque token is URL-safe");
	ok(strcmp(o1, o2) != 0, "opaque tokens differ");

	char hex[TOKEN_SHA256_HEX_SIZE];
	token_sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "SHA-256 of abc");
	token_sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "SHA-256 of nothing");
}

int main(void)
{
	int devnull = fileno(fopen("/dev/null", "w"));
	log_set_fd(devnull);
	make_rsa_pem();
	ok(strstr(rsa_pem, "BEGIN PUBLIC KEY") != NULL, "RSA public key made for the attack");

	test_keyrings();
	struct token_keyring *kr = NULL;
	if (!ok(token_keyring_parse(RING, &kr) == ERR_OK, "the test keyring parses"))
		return tap_done();
	test_attacks(kr);
	test_malformed(kr);
	test_issue(kr);
	test_rollover();
	test_random();
	token_keyring_free(kr);
	return tap_done();
}
