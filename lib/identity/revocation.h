/* revocation: revoked access tokens, durable in Postgres, cached in Redis.
 *
 * Postgres (the auth database's revoked_tokens table) is the record; the
 * gate reads only Redis, where each revoked token is a key
 * "revoked:<jti>" that expires with the token. Redis also holds
 * REVOCATION_READY_KEY once its cache is complete. A Redis that restarted
 * empty (or lost its data) has no such key: the gate then refuses to decide
 * (fails closed) until it has rebuilt the cache from Postgres with
 * revocation_rebuild. Writers record in Postgres first and then in Redis,
 * so a rebuild that runs meanwhile misses nothing: what it did not read
 * the writer puts in Redis itself. */
#ifndef LECTERN_REVOCATION_H
#define LECTERN_REVOCATION_H

#include "core/err.h"
#include "data/cache.h"
#include "data/db.h"

#define REVOCATION_READY_KEY "revoked:ready"

enum {
	REVOCATION_KEY_MAX = 64,        /* "revoked:" + a UUID, NUL included */
	REVOCATION_PRUNE_SECONDS = 3600 /* rows kept this long after expiry */
};

/* Revokes the access token jti (a UUID) that expires at exp (Unix seconds):
 * a row in Postgres, then the Redis key until exp. ERR_INVALID for a jti
 * that is not a UUID; database and Redis errors as db_exec and
 * cache_command (the row may then exist without the key: the caller
 * reports the failure and a retry finishes the job). */
enum err revocation_add(struct db *db, struct cache *cache, const char *jti,
                        long long exp) MUST_CHECK;

/* Revokes every unexpired access token issued with a refresh token of
 * family_id (refresh_tokens.access_jti), in Postgres and then in Redis. */
enum err revocation_add_family(struct db *db, struct cache *cache,
                               const char *family_id) MUST_CHECK;

/* Copies every unexpired revocation from Postgres into Redis, prunes rows
 * long expired, and sets REVOCATION_READY_KEY. *count (may be NULL) is the
 * number copied. Errors as db_exec and cache_command; the ready key is set
 * only when everything was copied. */
enum err revocation_rebuild(struct db *db, struct cache *cache, long *count) MUST_CHECK;

#endif
