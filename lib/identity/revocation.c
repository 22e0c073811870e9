/* revocation: Postgres first, then Redis; a rebuild copies one to the other. */
#include "identity/revocation.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

/* A hyphenated UUID: safe inside a Redis key and a uuid column. */
static bool revocation_is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
		if (hyphen ? c != '-'
		           : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		               (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* The Redis key of one revoked token, living ttl seconds (at least 1). */
static enum err revocation_cache(struct cache *cache, const char *jti, long long ttl)
{
	redisReply *r = NULL;
	enum err e = cache_command(cache, &r, "SET revoked:%s 1 EX %lld", jti, ttl > 0 ? ttl : 1);
	if (r)
		freeReplyObject(r);
	return e;
}

enum err revocation_add(struct db *db, struct cache *cache, const char *jti, long long exp)
{
	if (!revocation_is_uuid(jti)) {
		log_error("revocation: a token id that is not a UUID");
		return ERR_INVALID;
	}
	char exp_text[24];
	snprintf(exp_text, sizeof(exp_text), "%lld", exp);
	const char *params[] = {jti, exp_text};
	enum err e = db_exec_prepared(db, "revocation_add",
	                              "INSERT INTO revoked_tokens (jti, expires_at) "
	                              "VALUES ($1, to_timestamp($2::bigint)) "
	                              "ON CONFLICT (jti) DO NOTHING",
	                              2, params, NULL);
	if (e != ERR_OK)
		return e;
	return revocation_cache(cache, jti, exp - (long long)time(NULL));
}

/* Puts every (jti, seconds left) row of res into Redis. */
static enum err revocation_cache_rows(struct cache *cache, const PGresult *res, long *count)
{
	int n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		long long ttl = 0;
		if (sscanf(db_value(res, i, 1), "%lld", &ttl) != 1)
			ttl = 1;
		enum err e = revocation_cache(cache, db_value(res, i, 0), ttl);
		if (e != ERR_OK)
			return e;
	}
	if (count)
		*count = n;
	return ERR_OK;
}

enum err revocation_add_family(struct db *db, struct cache *cache, const char *family_id)
{
	PGresult *res = NULL;
	const char *params[] = {family_id};
	enum err e = db_exec_prepared(
	    db, "revocation_add_family",
	    "WITH fam AS (SELECT DISTINCT access_jti, access_expires_at FROM refresh_tokens "
	    "  WHERE family_id = $1 AND access_jti IS NOT NULL AND access_expires_at > now()), "
	    "ins AS (INSERT INTO revoked_tokens (jti, expires_at) "
	    "  SELECT access_jti, access_expires_at FROM fam ON CONFLICT (jti) DO NOTHING) "
	    "SELECT access_jti::text, "
	    "  GREATEST(1, ceil(extract(epoch FROM access_expires_at - now())))::bigint FROM fam",
	    1, params, &res);
	if (e == ERR_OK)
		e = revocation_cache_rows(cache, res, NULL);
	PQclear(res);
	return e;
}

enum err revocation_rebuild(struct db *db, struct cache *cache, long *count)
{
	PGresult *res = NULL;
	long copied = 0;
	char prune[24];
	snprintf(prune, sizeof(prune), "%d", REVOCATION_PRUNE_SECONDS);
	const char *params[] = {prune};
	enum err e = db_exec_prepared(db, "revocation_prune",
	                              "DELETE FROM revoked_tokens WHERE expires_at < "
	                              "now() - make_interval(secs => $1::int)",
	                              1, params, NULL);
	if (e != ERR_OK)
		goto out;
	e = db_exec_prepared(
	    db, "revocation_unexpired",
	    "SELECT jti::text, GREATEST(1, ceil(extract(epoch FROM expires_at - now())))::bigint "
	    "FROM revoked_tokens WHERE expires_at > now()",
	    0, NULL, &res);
	if (e != ERR_OK)
		goto out;
	e = revocation_cache_rows(cache, res, &copied);
	if (e != ERR_OK)
		goto out;
	redisReply *r = NULL;
	e = cache_command(cache, &r, "SET %s 1", REVOCATION_READY_KEY);
	if (r)
		freeReplyObject(r);
	if (e == ERR_OK)
		log_info("revocation: the Redis cache was rebuilt from Postgres (%ld tokens)",
		         copied);
out:
	PQclear(res);
	if (count)
		*count = copied;
	return e;
}
