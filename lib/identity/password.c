/* password: scrypt through OpenSSL's EVP_PBE_scrypt, encoded like PHC strings. */
#include "identity/password.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/log.h"
#include "core/mem.h"

enum {
	PASSWORD_ERRBUF = 256,
	PASSWORD_B64_MAX = 64 /* base64 text of salt or hash, with room */
};

static const char password_prefix[] = "$scrypt$";

static void log_openssl(const char *what)
{
	char msg[PASSWORD_ERRBUF];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	log_error("%s failed: %s", what, e ? msg : "no OpenSSL error");
}

/* Decodes exactly want bytes of canonical unpadded base64 from in[0..len). */
static bool b64_decode_exact(const char *in, size_t len, unsigned char *out, size_t want)
{
	size_t got = 0;
	return len == (want * 4 + 2) / 3 && base64_decode(BASE64_STANDARD, in, len, out, &got) &&
	       got == want;
}

/* 128 * r * N within PASSWORD_MEM_MAX (the V array, scrypt's big cost). */
static bool params_ok(int log_n, uint32_t r, uint32_t p, uint32_t p_max)
{
	if (log_n < 1 || log_n > PASSWORD_LOG_N_MAX || r < 1 || r > PASSWORD_R_MAX || p < 1 ||
	    p > p_max)
		return false;
	return (uint64_t)128 * r * ((uint64_t)1 << log_n) <= (uint64_t)PASSWORD_MEM_MAX;
}

enum err password_scrypt(const void *password, size_t password_len, const void *salt,
                         size_t salt_len, int log_n, uint32_t r, uint32_t p, unsigned char *out,
                         size_t out_len)
{
	if (!params_ok(log_n, r, p, PASSWORD_KDF_P_MAX) || out_len < 1 ||
	    out_len > PASSWORD_KDF_OUT_MAX || password_len > PASSWORD_MAX) {
		log_error("scrypt: parameters out of range");
		return ERR_INVALID;
	}
	uint64_t n = (uint64_t)1 << log_n;
	/* OpenSSL needs room for V (128 r (N + 2)) and B (128 r p); its default
	 * ceiling of 32 MiB is just short of ln=15, r=8. */
	uint64_t maxmem = (uint64_t)128 * r * (n + 2) + (uint64_t)128 * r * p + 65536;
	if (EVP_PBE_scrypt(password_len ? password : "", password_len,
	                   salt_len ? salt : (const void *)"", salt_len, n, r, p, maxmem, out,
	                   out_len) != 1) {
		log_openssl("EVP_PBE_scrypt");
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

enum err password_hash(const char *password, int log_n, char **out_encoded)
{
	enum err rc = ERR_INVALID;
	unsigned char salt[PASSWORD_SALT_LEN];
	unsigned char hash[PASSWORD_HASH_LEN];
	char salt_text[PASSWORD_B64_MAX], hash_text[PASSWORD_B64_MAX];
	size_t len = strnlen(password, PASSWORD_MAX + 1);

	*out_encoded = NULL;
	if (len > PASSWORD_MAX || log_n < PASSWORD_LOG_N_MIN || log_n > PASSWORD_LOG_N_MAX) {
		log_error("password_hash: password too long or log_n out of range");
		goto out;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		log_openssl("RAND_bytes");
		rc = ERR_INTERNAL;
		goto out;
	}
	rc = password_scrypt(password, len, salt, sizeof(salt), log_n, PASSWORD_R, PASSWORD_P, hash,
	                     sizeof(hash));
	if (rc != ERR_OK)
		goto out;
	base64_encode(BASE64_STANDARD, salt, sizeof(salt), salt_text);
	base64_encode(BASE64_STANDARD, hash, sizeof(hash), hash_text);
	char encoded[PASSWORD_ENCODED_MAX + 1];
	int n = snprintf(encoded, sizeof(encoded), "%sln=%d,r=%d,p=%d$%s$%s", password_prefix,
	                 log_n, PASSWORD_R, PASSWORD_P, salt_text, hash_text);
	if (n < 0 || (size_t)n >= sizeof(encoded)) {
		log_error("password_hash: encoding longer than %d bytes", PASSWORD_ENCODED_MAX);
		rc = ERR_INTERNAL;
		goto out;
	}
	*out_encoded = xstrdup(encoded);
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(hash_text, sizeof(hash_text));
	return rc;
}

/* Reads "name=" and 1..2 decimal digits without a leading zero at *p. */
static bool take_number(const char **p, const char *name, uint32_t *out)
{
	size_t len = strlen(name);
	const char *s = *p;
	if (strncmp(s, name, len) != 0)
		return false;
	s += len;
	if (s[0] < '1' || s[0] > '9')
		return false;
	uint32_t v = (uint32_t)(s[0] - '0');
	s++;
	if (s[0] >= '0' && s[0] <= '9') {
		v = v * 10 + (uint32_t)(s[0] - '0');
		s++;
	}
	*out = v;
	*p = s;
	return true;
}

struct password_params {
	int log_n;
	uint32_t r, p;
	unsigned char salt[PASSWORD_SALT_LEN];
	unsigned char hash[PASSWORD_HASH_LEN];
};

/* Parses an encoding; NULL when fine, else why it is refused. */
static const char *parse_encoded(const char *enc, struct password_params *pp)
{
	if (strnlen(enc, PASSWORD_ENCODED_MAX + 1) > PASSWORD_ENCODED_MAX)
		return "too long";
	if (strncmp(enc, password_prefix, strlen(password_prefix)) != 0)
		return "not an scrypt hash";
	const char *s = enc + strlen(password_prefix);
	uint32_t ln;
	if (!take_number(&s, "ln=", &ln) || *s++ != ',' || !take_number(&s, "r=", &pp->r) ||
	    *s++ != ',' || !take_number(&s, "p=", &pp->p) || *s++ != '$')
		return "malformed parameters";
	pp->log_n = (int)ln;
	if (pp->log_n < PASSWORD_LOG_N_MIN || pp->log_n > PASSWORD_LOG_N_MAX ||
	    !params_ok(pp->log_n, pp->r, pp->p, PASSWORD_P_MAX))
		return "parameters out of range";
	const char *dollar = strchr(s, '$');
	if (!dollar || !b64_decode_exact(s, (size_t)(dollar - s), pp->salt, sizeof(pp->salt)) ||
	    !b64_decode_exact(dollar + 1, strlen(dollar + 1), pp->hash, sizeof(pp->hash)))
		return "malformed salt or hash";
	return NULL;
}

enum err password_verify(const char *password, const char *encoded, bool *match)
{
	enum err rc = ERR_INVALID;
	struct password_params pp;
	unsigned char derived[PASSWORD_HASH_LEN];
	*match = false;
	const char *problem = parse_encoded(encoded, &pp);
	if (problem) {
		log_error("password_verify: stored hash refused: %s", problem);
		goto out;
	}
	/* An over-long password still costs a full derivation (of its first
	 * PASSWORD_MAX bytes) but never matches: it is not cut to fit. */
	size_t len = strnlen(password, PASSWORD_MAX + 1);
	bool too_long = len > PASSWORD_MAX;
	rc = password_scrypt(password, too_long ? PASSWORD_MAX : len, pp.salt, sizeof(pp.salt),
	                     pp.log_n, pp.r, pp.p, derived, sizeof(derived));
	if (rc != ERR_OK)
		goto out;
	*match = CRYPTO_memcmp(derived, pp.hash, sizeof(derived)) == 0 && !too_long;
out:
	OPENSSL_cleanse(derived, sizeof(derived));
	OPENSSL_cleanse(&pp, sizeof(pp));
	return rc;
}

void password_burn(const char *password, int log_n)
{
	static const unsigned char salt[PASSWORD_SALT_LEN] = {0};
	unsigned char derived[PASSWORD_HASH_LEN];
	size_t len = strnlen(password, PASSWORD_MAX + 1);
	if (len > PASSWORD_MAX)
		len = PASSWORD_MAX;
	if (log_n < PASSWORD_LOG_N_MIN)
		log_n = PASSWORD_LOG_N_MIN;
	if (log_n > PASSWORD_LOG_N_MAX)
		log_n = PASSWORD_LOG_N_MAX;
	if (password_scrypt(password, len, salt, sizeof(salt), log_n, PASSWORD_R, PASSWORD_P,
	                    derived, sizeof(derived)) != ERR_OK) {
		/* Already logged; the caller answers "wrong password" regardless. */
	}
	OPENSSL_cleanse(derived, sizeof(derived));
}

bool password_needs_rehash(const char *encoded, int log_n)
{
	struct password_params pp;
	bool rehash = parse_encoded(encoded, &pp) != NULL || pp.log_n != log_n ||
	              pp.r != PASSWORD_R || pp.p != PASSWORD_P;
	OPENSSL_cleanse(&pp, sizeof(pp));
	return rehash;
}
