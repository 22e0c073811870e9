/* Fuzz target: access-token verification and keyrings (lib/identity/token.c).
 *
 * The first input byte picks what the rest is:
 *   0 (mod 3)  a token, verified as is (segments, base64url, the header, the
 *              signature check);
 *   1          "HEADER\nPAYLOAD": two JSON texts that the target encodes and
 *              signs with a key of the ring, so the claim checks behind the
 *              signature are reached too;
 *   2          keyring text for token_keyring_parse.
 * Contract checked: verification answers ERR_OK or ERR_UNAUTHORIZED with
 * why "missing", "expired" or "invalid"; an accepted token has every claim,
 * iss and aud equal to the expected ones and now < exp; a parsed ring has
 * 1..TOKEN_KEYS_MAX keys. */
#include <fcntl.h>
#include <openssl/hmac.h>
#include <string.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/mem.h"
#include "fuzz.h"
#include "identity/token.h"

#define KID "k1"
#define SECRET "k1-secret-0123456789abcdef0123456789ABCD"
#define ISS "lectern"
#define AUD "lectern-api"
#define NOW 1700000100LL

static struct token_keyring *ring;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", LOG_LEVEL_ERROR);
	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	if (token_keyring_parse("k2 k2-secret-0123456789abcdef0123456789ABCD\n" KID " " SECRET,
	                        &ring) != ERR_OK)
		abort();
	return 0;
}

/* "b64(header).b64(payload).b64(HMAC)" in the pool. */
static char *sign(struct pool *pool, const char *header, size_t hlen, const char *payload,
                  size_t plen)
{
	size_t cap = (hlen + plen) * 4 / 3 + 64 + 4;
	char *out = pool_alloc(pool, cap);
	size_t n = base64_encode(BASE64_URL, header, hlen, out);
	out[n++] = '.';
	n += base64_encode(BASE64_URL, payload, plen, out + n);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)out, n, mac,
	          &mac_len))
		abort();
	out[n++] = '.';
	base64_encode(BASE64_URL, mac, mac_len, out + n);
	return out;
}

static void verify(struct pool *pool, const char *jwt)
{
	struct token_claims c;
	const char *why = NULL, *detail = NULL;
	enum err e = token_verify_detail(ring, jwt, ISS, AUD, NOW, pool, &c, &why, &detail);
	if (e != ERR_OK) {
		fuzz_check(e == ERR_UNAUTHORIZED, "refusals are ERR_UNAUTHORIZED");
		fuzz_check(why && (strcmp(why, "missing") == 0 || strcmp(why, "expired") == 0 ||
		                   strcmp(why, "invalid") == 0),
		           "why is missing, expired or invalid");
		return;
	}
	fuzz_check(c.sub && c.email && c.role && c.jti, "claims present");
	fuzz_check(c.iss && strcmp(c.iss, ISS) == 0, "issuer checked");
	fuzz_check(c.aud && strcmp(c.aud, AUD) == 0, "audience checked");
	fuzz_check(NOW < c.exp, "not expired");
	fuzz_check(c.iat <= NOW + TOKEN_LEEWAY && c.nbf <= NOW + TOKEN_LEEWAY,
	           "not from the future");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 3 * TOKEN_MAX)
		return 0;
	unsigned mode = data[0] % 3;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct pool *pool = pool_new();
	if (mode == 0) {
		verify(pool, pool_strndup(pool, text, len));
	} else if (mode == 1) {
		const char *lf = memchr(text, '\n', len);
		size_t hlen = lf ? (size_t)(lf - text) : len;
		const char *payload = lf ? lf + 1 : "";
		size_t plen = lf ? len - hlen - 1 : 0;
		verify(pool, sign(pool, text, hlen, payload, plen));
	} else {
		struct token_keyring *kr = NULL;
		if (token_keyring_parse(pool_strndup(pool, text, len), &kr) == ERR_OK) {
			size_t n = token_keyring_count(kr);
			fuzz_check(n >= 1 && n <= TOKEN_KEYS_MAX, "a ring has 1..16 keys");
			const char *kid = token_keyring_signing_kid(kr);
			fuzz_check(kid && *kid && strlen(kid) <= TOKEN_KID_MAX, "signing kid");
		}
		token_keyring_free(kr);
	}
	pool_free(pool);
	return 0;
}
