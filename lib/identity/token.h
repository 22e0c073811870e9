/* token: HS256 access tokens (JWT), random ids and opaque refresh tokens.
 *
 * Only HS256 is accepted, whatever a token's header says. Every token names
 * its key with a `kid` that must be in the keyring; a token without a kid is
 * refused (the verifier never tries keys in turn). The first key of the ring
 * signs, every key verifies, so keys roll over by prepending a new one and
 * dropping the old one once its tokens have expired.
 *
 * Keyring text: lines "KID SECRET" separated by newlines or ';'; blank lines
 * and lines starting with '#' are ignored. KID is [A-Za-z0-9._-]{1,64};
 * SECRET is TOKEN_SECRET_MIN..TOKEN_SECRET_MAX printable ASCII bytes without
 * spaces or ';', used as the HMAC key as written. */
#ifndef LECTERN_TOKEN_H
#define LECTERN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	TOKEN_MAX = 8192,    /* longest token accepted or issued (bytes) */
	TOKEN_KEYS_MAX = 16, /* keys in a ring */
	TOKEN_KEYRING_TEXT_MAX = 65536,
	TOKEN_KID_MAX = 64,
	TOKEN_SECRET_MIN = 32,
	TOKEN_SECRET_MAX = 512,
	TOKEN_CLAIM_MAX = 512,      /* longest string claim (bytes) */
	TOKEN_LEEWAY = 30,          /* seconds of clock skew allowed for nbf and iat */
	TOKEN_TTL_MAX = 31 * 86400, /* longest lifetime token_issue grants */
	TOKEN_UUID_SIZE = 37,       /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" + NUL */
	TOKEN_OPAQUE_BYTES = 32,    /* randomness in an opaque refresh token */
	TOKEN_OPAQUE_SIZE = 44,     /* its base64url text (43) + NUL */
	TOKEN_SHA256_HEX_SIZE = 65  /* 64 hex digits + NUL */
};

/* HS256 keys by key id; the first signs, all verify. */
struct token_keyring;

/* The claims of an access token. Strings are owned by the pool given to
 * token_verify (or by the caller for token_issue). */
struct token_claims {
	const char *sub; /* user id; also written as user_id */
	const char *email;
	const char *name; /* optional: NULL leaves it out / it was absent */
	const char *role;
	const char *jti; /* NULL on issue: a random UUID v4 is made */
	const char *iss;
	const char *aud;
	long long iat, nbf, exp; /* ignored by token_issue, which sets them */
};

/* Parses a keyring; logs what is wrong (never a secret) and returns
 * ERR_INVALID for a bad or empty ring. Free *out with token_keyring_free. */
enum err token_keyring_parse(const char *text, struct token_keyring **out) MUST_CHECK;
/* The token of an Authorization header value "Bearer TOKEN" ("Bearer"
 * matched without regard to case, blanks after it skipped), pointing into
 * authorization; NULL when there is none. Auth and the gate both use it. */
const char *token_bearer(const char *authorization);
/* Wipes the secrets and frees the ring; NULL is fine. */
void token_keyring_free(struct token_keyring *kr);
/* How many keys the ring holds. */
size_t token_keyring_count(const struct token_keyring *kr);
/* The id of the signing key (owned by the ring). */
const char *token_keyring_signing_kid(const struct token_keyring *kr);

/* Issues an HS256 token signed by the ring's first key: iat = nbf = now,
 * exp = now + ttl_seconds (1 .. TOKEN_TTL_MAX). claims sub, email, role,
 * iss and aud are required, name is optional, each at most TOKEN_CLAIM_MAX
 * bytes. *out_jwt and *out_jti belong to pool; out_jti and out_exp may be
 * NULL. ERR_INVALID for bad claims, ERR_INTERNAL if libjwt or the random
 * generator fails. */
enum err token_issue(const struct token_keyring *kr, const struct token_claims *claims,
                     long long now, long ttl_seconds, struct pool *pool, const char **out_jwt,
                     const char **out_jti, long long *out_exp) MUST_CHECK;

/* Verifies a token at time `now` against the ring, the issuer and the
 * audience (kr, iss and aud must not be NULL). On success fills *out (strings in pool). Otherwise
 * returns ERR_UNAUTHORIZED with *why = "missing" (NULL or empty token), "expired" (good token past
 * its exp) or "invalid" (anything else). why may be NULL. Requires: three base64url segments, at
 * most TOKEN_MAX bytes; header {alg: "HS256", kid in the ring, typ "JWT" if present, nothing else};
 * a valid HMAC-SHA256 (checked in constant time and again by libjwt); claims sub, email, role, jti,
 * iss, aud as strings, iss and aud equal to the arguments, user_id equal to sub if present, iat and
 * exp integers, nbf an integer if present; nbf <= now + TOKEN_LEEWAY, iat <= now + TOKEN_LEEWAY,
 * now < exp. */
enum err token_verify(const struct token_keyring *kr, const char *jwt, const char *iss,
                      const char *aud, long long now, struct pool *pool, struct token_claims *out,
                      const char **why) MUST_CHECK;
/* As token_verify; *detail (may be NULL) also gets a short static reason
 * for debug logs and tests ("bad signature", "unknown kid", ...). */
enum err token_verify_detail(const struct token_keyring *kr, const char *jwt, const char *iss,
                             const char *aud, long long now, struct pool *pool,
                             struct token_claims *out, const char **why,
                             const char **detail) MUST_CHECK;

/* Writes a random (RAND_bytes) lowercase UUID v4 with its NUL.
 * ERR_INTERNAL if the random generator fails. */
enum err token_uuid_v4(char out[TOKEN_UUID_SIZE]) MUST_CHECK;
/* Writes a random opaque token: TOKEN_OPAQUE_BYTES random bytes as
 * unpadded base64url (43 chars) with its NUL. ERR_INTERNAL if the random
 * generator fails. */
enum err token_random_opaque(char out[TOKEN_OPAQUE_SIZE]) MUST_CHECK;
/* Writes the SHA-256 of len bytes of data as 64 lowercase hex digits with
 * their NUL (for storing refresh tokens hashed). */
void token_sha256_hex(const void *data, size_t len, char out[TOKEN_SHA256_HEX_SIZE]);

#endif
