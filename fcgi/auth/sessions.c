/* auth sessions: issuing, rotating and ending access and refresh tokens.
 *
 * A refresh token is an opaque random string; only its SHA-256 is stored.
 * Tokens of one login form a family: each refresh spends the presented token
 * and issues the next one of the family. A spent token presented again means
 * it was stolen (or replayed), so the whole family is revoked: its refresh
 * tokens and every access token issued with one of them (each refresh
 * token's row keeps the jti of the access token issued with it).
 * Revocations are durable (identity/revocation.h): Postgres, then the
 * gate's Redis cache. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "core/log.h"
#include "identity/revocation.h"

static const char refresh_refused[] = "The refresh token is not valid.";

/* Builds a session for u: a new access token and the next refresh token of
 * family_id (a new family when NULL), stored in the database. */
static enum err session_create(struct http_req *req, const struct auth_user *u,
                               const char *family_id, struct json_object **out)
{
	struct token_claims claims = {
	    .sub = u->id,
	    .email = u->email,
	    .name = u->name,
	    .role = u->role,
	    .iss = token_cfg.jwt_issuer,
	    .aud = token_cfg.jwt_audience,
	};
	const char *jwt = NULL, *jti = NULL;
	long long exp = 0;
	enum err e = token_issue(auth_keys, &claims, (long long)time(NULL), auth_cfg.access_ttl,
	                         req->pool, &jwt, &jti, &exp);
	if (e != ERR_OK)
		return e;
	char family[TOKEN_UUID_SIZE];
	if (!family_id) {
		e = token_uuid_v4(family);
		if (e != ERR_OK)
			return e;
		family_id = family;
	}
	char refresh[TOKEN_OPAQUE_SIZE], refresh_hash[TOKEN_SHA256_HEX_SIZE];
	e = token_random_opaque(refresh);
	if (e != ERR_OK)
		return e;
	token_sha256_hex(refresh, strlen(refresh), refresh_hash);
	char ttl[24], access_exp[24];
	snprintf(ttl, sizeof(ttl), "%ld", auth_cfg.refresh_ttl);
	snprintf(access_exp, sizeof(access_exp), "%lld", exp);
	const char *params[] = {family_id, u->id, refresh_hash, ttl, jti, access_exp};
	e = db_exec_prepared(
	    service_db(), "auth_refresh_insert",
	    "INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at, "
	    "access_jti, access_expires_at) "
	    "VALUES ($1, $2, $3, now() + make_interval(secs => $4::int), $5, "
	    "to_timestamp($6::bigint))",
	    6, params, NULL);
	if (e != ERR_OK)
		return e;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(jwt));
	json_object_object_add(o, "access_token", json_object_new_string(jwt));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int64(auth_cfg.access_ttl));
	json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
	json_object_object_add(o, "user", auth_user_json(u));
	*out = o;
	return ERR_OK;
}

enum err auth_send_session(struct http_req *req, int status, const struct auth_user *u,
                           const char *family_id)
{
	struct json_object *session = NULL;
	enum err e = session_create(req, u, family_id, &session);
	if (e != ERR_OK)
		return e;
	return http_send_json(req, status, session);
}

/* Revokes every token of a family (inside the caller's transaction or not). */
static enum err family_revoke(const char *family_id)
{
	const char *params[] = {family_id};
	return db_exec_prepared(service_db(), "auth_family_revoke",
	                        "UPDATE refresh_tokens SET revoked_at = now() "
	                        "WHERE family_id = $1 AND revoked_at IS NULL",
	                        1, params, NULL);
}

enum err auth_refresh(struct http_req *req)
{
	enum err e = auth_limit_address(req);
	if (e != ERR_OK)
		return e;
	const char *presented = http_param(req, "refresh_token");
	char hash[TOKEN_SHA256_HEX_SIZE];
	token_sha256_hex(presented, strlen(presented), hash);
	struct json_object *session = NULL;
	PGresult *res = NULL;
	bool in_tx = false;
	e = db_begin(service_db());
	if (e != ERR_OK)
		goto out;
	in_tx = true;
	const char *params[] = {hash};
	e = db_exec_prepared(service_db(), "auth_refresh_lookup",
	                     "SELECT id, family_id, user_id, used_at IS NOT NULL, "
	                     "revoked_at IS NOT NULL, expires_at <= now() "
	                     "FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
	                     1, params, &res);
	if (e != ERR_OK)
		goto out;
	if (PQntuples(res) != 1) {
		e = http_error(req, ERR_UNAUTHORIZED, refresh_refused);
		goto out;
	}
	const char *token_id = pool_strdup(req->pool, db_value(res, 0, 0));
	const char *family_id = pool_strdup(req->pool, db_value(res, 0, 1));
	const char *user_id = pool_strdup(req->pool, db_value(res, 0, 2));
	bool used = db_value(res, 0, 3)[0] == 't';
	bool revoked = db_value(res, 0, 4)[0] == 't';
	bool expired = db_value(res, 0, 5)[0] == 't';
	PQclear(res);
	res = NULL;
	if (used && !revoked) {
		/* A spent token came back: whoever holds the family is suspect. */
		/* Committed, or rolled back on failure: never left open. */
		e = db_end(service_db(), family_revoke(family_id));
		in_tx = false;
		/* The family's access tokens die now too, not when they expire. */
		if (e == ERR_OK)
			e = revocation_add_family(service_db(), service_cache(), family_id);
		if (e == ERR_OK)
			log_warn(
			    "refresh token reuse for user %s: family and its access tokens revoked",
			    user_id);
		e = e == ERR_OK ? http_error(req, ERR_UNAUTHORIZED, refresh_refused) : e;
		goto out;
	}
	if (used || revoked || expired) {
		e = http_error(req, ERR_UNAUTHORIZED, refresh_refused);
		goto out;
	}
	const char *spend[] = {token_id};
	e = db_exec_prepared(service_db(), "auth_refresh_spend",
	                     "UPDATE refresh_tokens SET used_at = now() WHERE id = $1", 1, spend,
	                     NULL);
	if (e != ERR_OK)
		goto out;
	struct auth_user u;
	e = auth_user_load(req, user_id, &u);
	if (e == ERR_NOT_FOUND)
		e = http_error(req, ERR_UNAUTHORIZED, refresh_refused);
	if (e != ERR_OK)
		goto out;
	e = session_create(req, &u, family_id, &session);
	if (e != ERR_OK)
		goto out;
	e = db_commit(service_db());
	in_tx = false;
	if (e != ERR_OK)
		goto out;
	e = http_send_json(req, 200, session);
	session = NULL;
out:
	if (in_tx)
		db_rollback(service_db());
	PQclear(res);
	json_object_put(session);
	return e;
}

enum err auth_logout(struct http_req *req)
{
	struct token_claims claims;
	const char *why = NULL;
	const char *jwt = auth_bearer(req);
	long long now = (long long)time(NULL);
	if (!jwt || token_verify(auth_keys, jwt, token_cfg.jwt_issuer, token_cfg.jwt_audience, now,
	                         req->pool, &claims, &why) != ERR_OK)
		return http_error(req, ERR_UNAUTHORIZED, "The access token is not valid.");
	/* The gate refuses a revoked token until it would expire anyway. */
	enum err e = revocation_add(service_db(), service_cache(), claims.jti, claims.exp);
	if (e != ERR_OK)
		return e;
	const char *refresh = http_param(req, "refresh_token");
	if (refresh) {
		char hash[TOKEN_SHA256_HEX_SIZE];
		token_sha256_hex(refresh, strlen(refresh), hash);
		const char *params[] = {hash, req->user_id};
		PGresult *res = NULL;
		e = db_exec_prepared(service_db(), "auth_logout_family",
		                     "SELECT family_id::text FROM refresh_tokens "
		                     "WHERE token_hash = $1 AND user_id = $2",
		                     2, params, &res);
		if (e == ERR_OK && PQntuples(res) == 1) {
			const char *family_id = pool_strdup(req->pool, db_value(res, 0, 0));
			e = family_revoke(family_id);
			if (e == ERR_OK)
				e = revocation_add_family(service_db(), service_cache(), family_id);
		}
		PQclear(res);
		if (e != ERR_OK)
			return e;
	}
	return http_send_empty(req, 204);
}
