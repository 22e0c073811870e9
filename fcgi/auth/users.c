/* auth users: sign-up, log-in, and who the caller is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "core/log.h"
#include "identity/password.h"
#include "identity/password_policy.h"

/* One sentence for every failed login, so it never tells which part was wrong. */
static const char login_failed[] = "Invalid email or password.";

void auth_user_from_row(struct auth_user *u, const PGresult *res, struct pool *pool)
{
	u->id = pool_strdup(pool, db_value(res, 0, 0));
	u->email = pool_strdup(pool, db_value(res, 0, 1));
	u->name = pool_strdup(pool, db_value(res, 0, 2));
	u->role = pool_strdup(pool, db_value(res, 0, 3));
	u->created_at = pool_strdup(pool, db_value(res, 0, 4));
}

struct json_object *auth_user_json(const struct auth_user *u)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "user_id", json_object_new_string(u->id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "role", json_object_new_string(u->role));
	json_object_object_add(o, "created_at", json_object_new_string(u->created_at));
	return o;
}

enum err auth_user_load(struct http_req *req, const char *id, struct auth_user *u)
{
	PGresult *res = NULL;
	const char *params[] = {id};
	enum err e =
	    db_exec_prepared(service_db(), "auth_user_by_id",
	                     "SELECT " AUTH_SQL_USER " FROM users WHERE id = $1", 1, params, &res);
	if (e != ERR_OK)
		goto out;
	if (PQntuples(res) != 1) {
		e = http_error(req, ERR_NOT_FOUND, "This user does not exist.");
		goto out;
	}
	auth_user_from_row(u, res, req->pool);
out:
	PQclear(res);
	return e;
}

enum err auth_register(struct http_req *req)
{
	enum err e = auth_limit_address(req);
	if (e != ERR_OK)
		return e;
	const char *email = http_param(req, "email");
	const char *name = http_param(req, "name");
	const char *password = http_param(req, "password");
	char *hash = NULL;
	PGresult *res = NULL;
	char why[PASSWORD_POLICY_WHY_MAX];
	e = password_policy_check(password, email, name, why);
	if (e == ERR_INVALID) {
		http_error_detail(req, "password", why);
		return http_error(req, ERR_INVALID, "%s", why);
	}
	if (e != ERR_OK)
		return e;
	e = password_hash(password, (int)auth_cfg.scrypt_log_n, &hash);
	if (e != ERR_OK)
		goto out;
	const char *params[] = {email, name, hash};
	e = db_exec_prepared(service_db(), "auth_user_insert",
	                     "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
	                     "RETURNING " AUTH_SQL_USER,
	                     3, params, &res);
	if (e == ERR_CONFLICT) {
		e = http_error(req, ERR_CONFLICT, "An account with this email already exists.");
		goto out;
	}
	if (e != ERR_OK)
		goto out;
	struct auth_user u;
	auth_user_from_row(&u, res, req->pool);
	log_info("registered user %s", u.id);
	e = auth_send_session(req, 201, &u, NULL);
out:
	PQclear(res);
	free(hash);
	return e;
}

/* A login attempt counted against the email and the address before any
 * hashing: concurrent attempts each take their own place under the limits,
 * so no more than the limits get through to a password check. */
struct login_slot {
	const char *email_key;
	const char *ip_key;
	struct ratelimit_result by_email, by_ip;
	bool email_taken, ip_taken; /* counted, and to be given back unless it failed */
};

/* Takes a place under both limits; refuses (429) when either is full. */
static enum err login_reserve(struct http_req *req, struct login_slot *s)
{
	enum err e = ratelimit_hit(service_cache(), s->email_key, NULL, auth_cfg.login_fail_limit,
	                           auth_cfg.login_fail_window, &s->by_email);
	if (e != ERR_OK)
		return e;
	s->email_taken = true;
	e = ratelimit_hit(service_cache(), s->ip_key, NULL, auth_cfg.login_fail_ip_limit,
	                  auth_cfg.login_fail_window, &s->by_ip);
	if (e != ERR_OK)
		return e;
	s->ip_taken = true;
	if (s->by_email.allowed && s->by_ip.allowed)
		return ERR_OK;
	const struct ratelimit_result *hit = s->by_email.allowed ? &s->by_ip : &s->by_email;
	char retry[32];
	snprintf(retry, sizeof(retry), "%ld", hit->retry_after > 0 ? hit->retry_after : 1);
	if (http_add_header(req, "Retry-After", retry) != ERR_OK)
		return ERR_INTERNAL;
	return http_error(req, ERR_RATE_LIMITED, "Too many failed logins; try again later.");
}

/* Gives back the places of an attempt that did not fail (a good password,
 * a refusal, an error): only failed logins stay counted. */
static void login_release(struct login_slot *s)
{
	if ((s->email_taken &&
	     ratelimit_release(service_cache(), s->email_key, auth_cfg.login_fail_window,
	                       s->by_email.reset) != ERR_OK) ||
	    (s->ip_taken &&
	     ratelimit_release(service_cache(), s->ip_key, auth_cfg.login_fail_window,
	                       s->by_ip.reset) != ERR_OK))
		log_warn("could not give back a login attempt's place");
	s->email_taken = s->ip_taken = false;
}

enum err auth_login(struct http_req *req)
{
	enum err e = auth_limit_address(req);
	if (e != ERR_OK)
		return e;
	const char *email = http_param(req, "email");
	const char *password = http_param(req, "password");
	struct login_slot slot = {
	    .email_key = pool_printf(req->pool, "lf:e:%s", email),
	    .ip_key = pool_printf(req->pool, "lf:a:%s", req->remote_addr),
	};
	PGresult *res = NULL;
	bool failed = false;
	e = login_reserve(req, &slot);
	if (e != ERR_OK)
		goto out;
	const char *params[] = {email};
	e = db_exec_prepared(service_db(), "auth_user_by_email",
	                     "SELECT " AUTH_SQL_USER ", password_hash FROM users WHERE email = $1",
	                     1, params, &res);
	if (e != ERR_OK)
		goto out;
	bool match = false;
	if (PQntuples(res) == 1) {
		e = password_verify(password, db_value(res, 0, 5), &match);
		if (e != ERR_OK)
			goto out;
	} else {
		/* The same work as a real check: timing must not reveal accounts. */
		password_burn(password, (int)auth_cfg.scrypt_log_n);
	}
	if (!match) {
		failed = true;
		e = http_error(req, ERR_UNAUTHORIZED, login_failed);
		goto out;
	}
	struct auth_user u;
	auth_user_from_row(&u, res, req->pool);
	e = auth_send_session(req, 200, &u, NULL);
out:
	if (!failed)
		login_release(&slot);
	PQclear(res);
	return e;
}

enum err auth_me(struct http_req *req)
{
	struct auth_user u;
	enum err e = auth_user_load(req, req->user_id, &u);
	if (e == ERR_NOT_FOUND)
		return http_error(req, ERR_UNAUTHORIZED, "This account no longer exists.");
	if (e != ERR_OK)
		return e;
	return http_send_json(req, 200, auth_user_json(&u));
}

enum err auth_verify(struct http_req *req)
{
	struct token_claims claims;
	const char *why = NULL;
	const char *jwt = auth_bearer(req);
	if (!jwt || token_verify(auth_keys, jwt, token_cfg.jwt_issuer, token_cfg.jwt_audience,
	                         (long long)time(NULL), req->pool, &claims, &why) != ERR_OK)
		return http_error(req, ERR_UNAUTHORIZED, "The access token is not valid.");
	struct auth_user u;
	enum err e = auth_user_load(req, req->user_id, &u);
	if (e == ERR_NOT_FOUND)
		return http_error(req, ERR_UNAUTHORIZED, "This account no longer exists.");
	if (e != ERR_OK)
		return e;
	char expires[32];
	time_t exp = (time_t)claims.exp;
	struct tm tm;
	gmtime_r(&exp, &tm);
	strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "valid", json_object_new_boolean(1));
	json_object_object_add(o, "user", auth_user_json(&u));
	json_object_object_add(o, "expires_at", json_object_new_string(expires));
	return http_send_json(req, 200, o);
}
