/* password: scrypt password hashes (OpenSSL 3), self-describing.
 *
 * Encoding: "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" with N = 2^ln, a
 * PASSWORD_SALT_LEN-byte random salt and a PASSWORD_HASH_LEN-byte hash, both
 * in standard base64 without padding. Verification reads the parameters
 * back but refuses any outside the PASSWORD_*_MIN..MAX bounds and above
 * PASSWORD_MEM_MAX bytes, so a stored hash cannot make the server burn
 * unbounded memory or time. */
#ifndef LECTERN_PASSWORD_H
#define LECTERN_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
	PASSWORD_MAX = 1024, /* longest password in bytes (256 chars of UTF-8) */
	PASSWORD_SALT_LEN = 16,
	PASSWORD_HASH_LEN = 32,
	PASSWORD_LOG_N_MIN = 10,
	PASSWORD_LOG_N_MAX = 20,
	PASSWORD_LOG_N_DEFAULT = 15,
	PASSWORD_R = 8, /* block size used for new hashes */
	PASSWORD_P = 1, /* parallelism used for new hashes */
	PASSWORD_R_MAX = 16,
	PASSWORD_P_MAX = 4,
	PASSWORD_MEM_MAX = 1 << 30, /* largest scrypt memory (128 * r * N bytes) */
	PASSWORD_ENCODED_MAX = 128, /* longest encoding accepted */
	PASSWORD_KDF_P_MAX = 16,    /* password_scrypt only (RFC 7914 vector 2) */
	PASSWORD_KDF_OUT_MAX = 64   /* password_scrypt only */
};

/* Hashes password (at most PASSWORD_MAX bytes) with N = 2^log_n
 * (PASSWORD_LOG_N_MIN..MAX), r = PASSWORD_R, p = PASSWORD_P and a fresh
 * random salt. *out_encoded is malloc'd; the caller frees it. ERR_INVALID
 * for a bad length or log_n, ERR_INTERNAL if OpenSSL fails. */
enum err password_hash(const char *password, int log_n, char **out_encoded) MUST_CHECK;

/* Sets *match to whether password fits encoded (compared in constant
 * time). A malformed encoding or out-of-range parameters give ERR_INVALID
 * (logged) with *match false; an over-long password is simply no match. */
enum err password_verify(const char *password, const char *encoded, bool *match) MUST_CHECK;

/* Does the work of a verification with N = 2^log_n and throws it away, so
 * that a login for an unknown email takes as long as one for a known one. */
void password_burn(const char *password, int log_n);

/* True when encoded was made with other parameters than (log_n, PASSWORD_R,
 * PASSWORD_P) or cannot be read: the caller may rehash after a good login. */
bool password_needs_rehash(const char *encoded, int log_n);

/* Raw scrypt (RFC 7914) with N = 2^log_n into out_len bytes; for the
 * encoding above and for known-answer tests. log_n 1..PASSWORD_LOG_N_MAX,
 * r 1..PASSWORD_R_MAX, p 1..PASSWORD_KDF_P_MAX, 128 * r * N at most
 * PASSWORD_MEM_MAX, out_len 1..PASSWORD_KDF_OUT_MAX. ERR_INVALID for
 * parameters out of range, ERR_INTERNAL if OpenSSL fails. */
enum err password_scrypt(const void *password, size_t password_len, const void *salt,
                         size_t salt_len, int log_n, uint32_t r, uint32_t p, unsigned char *out,
                         size_t out_len) MUST_CHECK;

#endif
