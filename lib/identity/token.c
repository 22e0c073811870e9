/* token: HS256 access tokens with libjwt, pinned and checked by hand.
 *
 * libjwt 1.10.2 does not check exp, accepts alg=none without a key and
 * accepts an HS256 token keyed with an RSA public key, so it is never the
 * only judge: the verifier parses the header itself, picks the key by kid,
 * checks the HMAC in constant time, and only then lets libjwt decode the
 * (now authentic) token as a second opinion that must agree. */
#include "identity/token.h"

#include <errno.h>
#include <jwt.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "core/log.h"

enum {
	TOKEN_MAC_LEN = 32,     /* HMAC-SHA256 */
	TOKEN_SIG_B64_LEN = 43, /* its unpadded base64url text */
	TOKEN_JSON_DEPTH = 4,   /* header and claims are flat objects */
	TOKEN_ERRBUF = 256,
	TOKEN_UUID_BYTES = 16
};

/* Latest time accepted in a claim: 9999-12-31T23:59:59Z. */
static const long long token_time_max = 253402300799LL;

struct token_key {
	char kid[TOKEN_KID_MAX + 1];
	unsigned char *secret; /* malloc'd, wiped on free */
	size_t secret_len;
};

struct token_keyring {
	size_t count;
	struct token_key keys[TOKEN_KEYS_MAX];
};

static void log_openssl(const char *what)
{
	char msg[TOKEN_ERRBUF];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	log_error("%s failed: %s", what, e ? msg : "no OpenSSL error");
}

/* ---- keyring ------------------------------------------------------------ */

static bool kid_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool secret_char(char c)
{
	return c > ' ' && c <= '~' && c != ';';
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parses one trimmed, non-comment line into kr; logs and returns false when bad. */
static bool keyring_add(struct token_keyring *kr, const char *line, size_t len, int lineno)
{
	size_t i = 0;
	while (i < len && !blank(line[i]))
		i++;
	size_t kid_len = i;
	while (i < len && blank(line[i]))
		i++;
	size_t secret_at = i;
	while (i < len && !blank(line[i]))
		i++;
	size_t secret_len = i - secret_at;
	while (i < len && blank(line[i]))
		i++;

	if (i != len) {
		log_error("jwt keyring line %d: more than two fields", lineno);
		return false;
	}
	if (kid_len == 0 || kid_len > TOKEN_KID_MAX) {
		log_error("jwt keyring line %d: key id must be 1..%d characters", lineno,
		          TOKEN_KID_MAX);
		return false;
	}
	for (size_t k = 0; k < kid_len; k++) {
		if (!kid_char(line[k])) {
			log_error("jwt keyring line %d: key id may only hold A-Z a-z 0-9 . _ -",
			          lineno);
			return false;
		}
	}
	if (secret_len < TOKEN_SECRET_MIN || secret_len > TOKEN_SECRET_MAX) {
		log_error("jwt keyring line %d: secret must be %d..%d bytes", lineno,
		          TOKEN_SECRET_MIN, TOKEN_SECRET_MAX);
		return false;
	}
	for (size_t k = 0; k < secret_len; k++) {
		if (!secret_char(line[secret_at + k])) {
			log_error("jwt keyring line %d: secret must be printable ASCII", lineno);
			return false;
		}
	}
	for (size_t k = 0; k < kr->count; k++) {
		if (strlen(kr->keys[k].kid) == kid_len &&
		    memcmp(kr->keys[k].kid, line, kid_len) == 0) {
			log_error("jwt keyring line %d: key id %.*s given twice", lineno,
			          (int)kid_len, line);
			return false;
		}
	}
	if (kr->count == TOKEN_KEYS_MAX) {
		log_error("jwt keyring: more than %d keys", TOKEN_KEYS_MAX);
		return false;
	}
	struct token_key *key = &kr->keys[kr->count++];
	memcpy(key->kid, line, kid_len);
	key->kid[kid_len] = '\0';
	key->secret = xmalloc(secret_len);
	memcpy(key->secret, line + secret_at, secret_len);
	key->secret_len = secret_len;
	return true;
}

enum err token_keyring_parse(const char *text, struct token_keyring **out)
{
	enum err rc = ERR_INVALID;
	struct token_keyring *kr = xcalloc(1, sizeof(*kr));
	*out = NULL;
	if (!text || strnlen(text, TOKEN_KEYRING_TEXT_MAX + 1) > TOKEN_KEYRING_TEXT_MAX) {
		log_error("jwt keyring: missing or longer than %d bytes", TOKEN_KEYRING_TEXT_MAX);
		goto out;
	}
	int lineno = 0;
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\n;");
		const char *next = p[len] ? p + len + 1 : p + len;
		lineno++;
		while (len > 0 && blank(*p)) {
			p++;
			len--;
		}
		while (len > 0 && blank(p[len - 1]))
			len--;
		if (len > 0 && *p != '#' && !keyring_add(kr, p, len, lineno))
			goto out;
		p = next;
	}
	if (kr->count == 0) {
		log_error("jwt keyring: no keys");
		goto out;
	}
	*out = kr;
	kr = NULL;
	rc = ERR_OK;
out:
	token_keyring_free(kr);
	return rc;
}

void token_keyring_free(struct token_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->count; i++) {
		OPENSSL_cleanse(kr->keys[i].secret, kr->keys[i].secret_len);
		free(kr->keys[i].secret);
	}
	OPENSSL_cleanse(kr, sizeof(*kr));
	free(kr);
}

size_t token_keyring_count(const struct token_keyring *kr)
{
	return kr->count;
}

const char *token_keyring_signing_kid(const struct token_keyring *kr)
{
	return kr->keys[0].kid;
}

static const struct token_key *keyring_find(const struct token_keyring *kr, const char *kid)
{
	for (size_t i = 0; i < kr->count; i++)
		if (strcmp(kr->keys[i].kid, kid) == 0)
			return &kr->keys[i];
	return NULL;
}

/* ---- helpers ------------------------------------------------------------ */

static bool hmac_sha256(const struct token_key *key, const char *data, size_t len,
                        unsigned char mac[TOKEN_MAC_LEN])
{
	unsigned int mac_len = 0;
	if (!HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (const unsigned char *)data, len,
	          mac, &mac_len) ||
	    mac_len != TOKEN_MAC_LEN) {
		log_openssl("HMAC-SHA256");
		return false;
	}
	return true;
}

static void json_put(void *obj)
{
	json_object_put(obj);
}

/* Decodes a base64url segment holding one JSON object; NULL when it is not
 * exactly that (bad base64, NUL bytes, invalid UTF-8, trailing bytes). The
 * object is released with the pool. */
static json_object *segment_json(struct pool *pool, const char *seg, size_t len)
{
	unsigned char *raw = pool_alloc(pool, len * 3 / 4 + 1);
	size_t raw_len = 0;
	if (!base64_decode(BASE64_URL, seg, len, raw, &raw_len) || raw_len == 0 ||
	    memchr(raw, '\0', raw_len))
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(TOKEN_JSON_DEPTH);
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, (const char *)raw, (int)raw_len);
	bool whole = json_tokener_get_error(tok) == json_tokener_success &&
	             json_tokener_get_parse_end(tok) == raw_len;
	json_tokener_free(tok);
	if (obj)
		pool_on_free(pool, json_put, obj);
	if (!whole || !json_object_is_type(obj, json_type_object))
		return NULL;
	return obj;
}

enum claim_result { CLAIM_OK, CLAIM_ABSENT, CLAIM_BAD };

static enum claim_result claim_string(json_object *claims, const char *name, struct pool *pool,
                                      const char **out)
{
	json_object *v;
	*out = NULL;
	if (!json_object_object_get_ex(claims, name, &v))
		return CLAIM_ABSENT;
	if (!json_object_is_type(v, json_type_string))
		return CLAIM_BAD;
	int len = json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (len <= 0 || len > TOKEN_CLAIM_MAX || memchr(s, '\0', (size_t)len))
		return CLAIM_BAD;
	*out = pool_strndup(pool, s, (size_t)len);
	return CLAIM_OK;
}

static enum claim_result claim_time(json_object *claims, const char *name, long long *out)
{
	json_object *v;
	*out = 0;
	if (!json_object_object_get_ex(claims, name, &v))
		return CLAIM_ABSENT;
	if (!json_object_is_type(v, json_type_int))
		return CLAIM_BAD;
	errno = 0;
	int64_t t = json_object_get_int64(v);
	if (errno || t < 0 || t > token_time_max)
		return CLAIM_BAD;
	*out = t;
	return CLAIM_OK;
}

/* Checks the header object: alg HS256, typ JWT if present, a kid, nothing
 * else (in particular no "crit" we would have to understand). */
static const char *header_check(json_object *header, const char **kid)
{
	bool alg_ok = false;
	*kid = NULL;
	json_object_object_foreach(header, name, value)
	{
		bool is_string = json_object_is_type(value, json_type_string);
		const char *s = is_string ? json_object_get_string(value) : "";
		size_t len = is_string ? (size_t)json_object_get_string_len(value) : 0;
		if (strcmp(name, "alg") == 0) {
			if (!is_string || len != strlen("HS256") || strcmp(s, "HS256") != 0)
				return "algorithm not HS256";
			alg_ok = true;
		} else if (strcmp(name, "typ") == 0) {
			if (!is_string || len != strlen("JWT") || strcmp(s, "JWT") != 0)
				return "typ not JWT";
		} else if (strcmp(name, "kid") == 0) {
			if (!is_string || len == 0 || len > TOKEN_KID_MAX || strlen(s) != len)
				return "bad kid";
			*kid = s;
		} else {
			return "unexpected header field";
		}
	}
	if (!alg_ok)
		return "algorithm not HS256";
	if (!*kid)
		return "missing kid";
	return NULL;
}

/* libjwt's own decode of an authentic token; it must agree with ours. */
static const char *libjwt_agrees(const struct token_key *key, const char *jwt,
                                 const struct token_claims *c)
{
	jwt_t *j = NULL;
	const char *problem = NULL;
	int e = jwt_decode(&j, jwt, key->secret, (int)key->secret_len);
	if (e != 0 || !j) {
		problem = "libjwt refused it";
		goto out;
	}
	const char *kid = jwt_get_header(j, "kid");
	const char *sub = jwt_get_grant(j, "sub");
	if (jwt_get_alg(j) != JWT_ALG_HS256 || !kid || strcmp(kid, key->kid) != 0 || !sub ||
	    strcmp(sub, c->sub) != 0 || jwt_get_grant_int(j, "exp") != c->exp)
		problem = "libjwt disagrees";
out:
	if (j)
		jwt_free(j);
	return problem;
}

/* ---- verify ------------------------------------------------------------- */

static const char *verify(const struct token_keyring *kr, const char *jwt, const char *iss,
                          const char *aud, long long now, struct pool *pool, struct token_claims *c,
                          bool *expired)
{
	size_t len = strnlen(jwt, TOKEN_MAX + 1);
	if (len > TOKEN_MAX)
		return "too long";
	const char *dot1 = memchr(jwt, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt)))
		return "not three segments";
	size_t head_len = (size_t)(dot1 - jwt);
	size_t body_len = (size_t)(dot2 - dot1 - 1);
	size_t sig_len = len - (size_t)(dot2 + 1 - jwt);
	if (head_len == 0 || body_len == 0 || sig_len != TOKEN_SIG_B64_LEN)
		return "bad segment length";

	json_object *header = segment_json(pool, jwt, head_len);
	if (!header)
		return "header not a JSON object";
	const char *kid;
	const char *problem = header_check(header, &kid);
	if (problem)
		return problem;
	const struct token_key *key = keyring_find(kr, kid);
	if (!key)
		return "unknown kid";

	unsigned char mac[TOKEN_MAC_LEN];
	char mac_text[TOKEN_SIG_B64_LEN + 2];
	if (!hmac_sha256(key, jwt, (size_t)(dot2 - jwt), mac))
		return "cannot compute HMAC";
	base64_encode(BASE64_URL, mac, sizeof(mac), mac_text);
	/* Comparing the canonical text also refuses other spellings of the same MAC. */
	int differ = CRYPTO_memcmp(mac_text, dot2 + 1, TOKEN_SIG_B64_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(mac_text, sizeof(mac_text));
	if (differ)
		return "bad signature";

	json_object *claims = segment_json(pool, dot1 + 1, body_len);
	if (!claims)
		return "claims not a JSON object";
	const char *user_id;
	if (claim_string(claims, "sub", pool, &c->sub) != CLAIM_OK ||
	    claim_string(claims, "email", pool, &c->email) != CLAIM_OK ||
	    claim_string(claims, "role", pool, &c->role) != CLAIM_OK ||
	    claim_string(claims, "jti", pool, &c->jti) != CLAIM_OK ||
	    claim_string(claims, "iss", pool, &c->iss) != CLAIM_OK ||
	    claim_string(claims, "aud", pool, &c->aud) != CLAIM_OK ||
	    claim_string(claims, "name", pool, &c->name) == CLAIM_BAD)
		return "missing or malformed string claim";
	switch (claim_string(claims, "user_id", pool, &user_id)) {
	case CLAIM_BAD:
		return "malformed user_id";
	case CLAIM_OK:
		if (strcmp(user_id, c->sub) != 0)
			return "user_id differs from sub";
		break;
	case CLAIM_ABSENT:
		break;
	}
	if (claim_time(claims, "exp", &c->exp) != CLAIM_OK ||
	    claim_time(claims, "iat", &c->iat) != CLAIM_OK)
		return "missing or malformed exp or iat";
	switch (claim_time(claims, "nbf", &c->nbf)) {
	case CLAIM_BAD:
		return "malformed nbf";
	case CLAIM_ABSENT:
		c->nbf = c->iat;
		break;
	case CLAIM_OK:
		break;
	}
	if (strcmp(c->iss, iss) != 0)
		return "wrong issuer";
	if (strcmp(c->aud, aud) != 0)
		return "wrong audience";
	if (c->nbf > now + TOKEN_LEEWAY)
		return "not yet valid";
	if (c->iat > now + TOKEN_LEEWAY)
		return "issued in the future";
	if (c->exp <= c->iat)
		return "exp not after iat";
	problem = libjwt_agrees(key, jwt, c);
	if (problem)
		return problem;
	if (now >= c->exp) {
		*expired = true;
		return "expired";
	}
	return NULL;
}

enum err token_verify_detail(const struct token_keyring *kr, const char *jwt, const char *iss,
                             const char *aud, long long now, struct pool *pool,
                             struct token_claims *out, const char **why, const char **detail)
{
	struct token_claims c = {0};
	bool expired = false;
	const char *problem;
	if (!jwt || !*jwt)
		problem = "missing";
	else
		problem = verify(kr, jwt, iss, aud, now, pool, &c, &expired);
	if (detail)
		*detail = problem;
	if (!problem) {
		*out = c;
		if (why)
			*why = NULL;
		return ERR_OK;
	}
	memset(out, 0, sizeof(*out));
	if (why)
		*why = !jwt || !*jwt ? "missing" : expired ? "expired" : "invalid";
	log_debug("token refused: %s", problem);
	return ERR_UNAUTHORIZED;
}

enum err token_verify(const struct token_keyring *kr, const char *jwt, const char *iss,
                      const char *aud, long long now, struct pool *pool, struct token_claims *out,
                      const char **why)
{
	return token_verify_detail(kr, jwt, iss, aud, now, pool, out, why, NULL);
}

/* ---- issue -------------------------------------------------------------- */

static bool claim_ok(const char *s, bool required)
{
	if (!s)
		return !required;
	size_t len = strnlen(s, TOKEN_CLAIM_MAX + 1);
	return len > 0 && len <= TOKEN_CLAIM_MAX;
}

enum err token_issue(const struct token_keyring *kr, const struct token_claims *claims,
                     long long now, long ttl_seconds, struct pool *pool, const char **out_jwt,
                     const char **out_jti, long long *out_exp)
{
	enum err rc = ERR_INTERNAL;
	jwt_t *j = NULL;
	char *text = NULL;
	char jti[TOKEN_UUID_SIZE];
	const struct token_key *key = &kr->keys[0];

	*out_jwt = NULL;
	if (!claim_ok(claims->sub, true) || !claim_ok(claims->email, true) ||
	    !claim_ok(claims->role, true) || !claim_ok(claims->iss, true) ||
	    !claim_ok(claims->aud, true) || !claim_ok(claims->name, false) ||
	    !claim_ok(claims->jti, false) || ttl_seconds < 1 || ttl_seconds > TOKEN_TTL_MAX ||
	    now < 0 || now > token_time_max - TOKEN_TTL_MAX) {
		log_error("token_issue: missing, oversized or out-of-range claims");
		rc = ERR_INVALID;
		goto out;
	}
	if (claims->jti) {
		size_t n = strlen(claims->jti);
		if (n >= sizeof(jti)) {
			log_error("token_issue: jti longer than %d bytes", TOKEN_UUID_SIZE - 1);
			rc = ERR_INVALID;
			goto out;
		}
		memcpy(jti, claims->jti, n + 1);
	} else if ((rc = token_uuid_v4(jti)) != ERR_OK) {
		goto out;
	}
	rc = ERR_INTERNAL;
	long long exp = now + ttl_seconds;
	int e = jwt_new(&j);
	if (e == 0)
		e = jwt_set_alg(j, JWT_ALG_HS256, key->secret, (int)key->secret_len);
	if (e == 0)
		e = jwt_add_header(j, "kid", key->kid);
	if (e == 0)
		e = jwt_add_grant(j, "sub", claims->sub);
	if (e == 0)
		e = jwt_add_grant(j, "user_id", claims->sub);
	if (e == 0)
		e = jwt_add_grant(j, "email", claims->email);
	if (e == 0 && claims->name)
		e = jwt_add_grant(j, "name", claims->name);
	if (e == 0)
		e = jwt_add_grant(j, "role", claims->role);
	if (e == 0)
		e = jwt_add_grant(j, "iss", claims->iss);
	if (e == 0)
		e = jwt_add_grant(j, "aud", claims->aud);
	if (e == 0)
		e = jwt_add_grant(j, "jti", jti);
	if (e == 0)
		e = jwt_add_grant_int(j, "iat", (long)now);
	if (e == 0)
		e = jwt_add_grant_int(j, "nbf", (long)now);
	if (e == 0)
		e = jwt_add_grant_int(j, "exp", (long)exp);
	if (e != 0) {
		log_error("token_issue: libjwt: %s", strerror(e));
		goto out;
	}
	text = jwt_encode_str(j);
	if (!text) {
		log_error("token_issue: libjwt encode: %s", strerror(errno));
		goto out;
	}
	if (strlen(text) > TOKEN_MAX) {
		log_error("token_issue: token longer than %d bytes", TOKEN_MAX);
		rc = ERR_INVALID;
		goto out;
	}
	*out_jwt = pool_strdup(pool, text);
	if (out_jti)
		*out_jti = pool_strdup(pool, jti);
	if (out_exp)
		*out_exp = exp;
	rc = ERR_OK;
out:
	free(text);
	if (j)
		jwt_free(j);
	return rc;
}

/* ---- random ids and hashes ---------------------------------------------- */

enum err token_uuid_v4(char out[TOKEN_UUID_SIZE])
{
	unsigned char b[TOKEN_UUID_BYTES];
	if (RAND_bytes(b, sizeof(b)) != 1) {
		log_openssl("RAND_bytes");
		out[0] = '\0';
		return ERR_INTERNAL;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
	return ERR_OK;
}

enum err token_random_opaque(char out[TOKEN_OPAQUE_SIZE])
{
	unsigned char b[TOKEN_OPAQUE_BYTES];
	if (RAND_bytes(b, sizeof(b)) != 1) {
		log_openssl("RAND_bytes");
		out[0] = '\0';
		return ERR_INTERNAL;
	}
	base64_encode(BASE64_URL, b, sizeof(b), out);
	OPENSSL_cleanse(b, sizeof(b));
	return ERR_OK;
}

void token_sha256_hex(const void *data, size_t len, char out[TOKEN_SHA256_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	static const char hex[] = "0123456789abcdef";
	if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) ||
	    md_len * 2 + 1 != TOKEN_SHA256_HEX_SIZE) {
		/* SHA-256 of memory cannot fail short of a broken library. */
		log_openssl("SHA-256");
		abort();
	}
	for (unsigned int i = 0; i < md_len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * md_len] = '\0';
}

const char *token_bearer(const char *authorization)
{
	const char *h = authorization;
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}
