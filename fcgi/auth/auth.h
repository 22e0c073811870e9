/* auth: the pieces of the auth service shared by its files.
 *
 * Each process of lectern-auth holds one Postgres connection and one Redis
 * connection (lib/app/service.h: service_db(), service_cache()) and the
 * token keyring (auth_keys, made in each process). */
#ifndef LECTERN_AUTH_H
#define LECTERN_AUTH_H

#include <stdbool.h>

#include "data/cache.h"
#include "data/db.h"
#include "web/http.h"
#include "identity/ratelimit.h"
#include "identity/token.h"
#include "identity/token_settings.h"
#include "app/service.h"

/* RFC 3339 UTC with milliseconds, computed by Postgres. */
#define AUTH_SQL_TIME(col)                                                                         \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The user columns every query returns, in struct auth_user order. */
#define AUTH_SQL_USER "id, email, name, role, " AUTH_SQL_TIME("created_at")

/* Auth's own settings; the token and rate-limit ones are token_cfg's. */
struct auth_settings {
	long access_ttl;          /* seconds an access token lives */
	long refresh_ttl;         /* seconds a refresh token lives */
	long login_fail_limit;    /* failed logins per email per fail window */
	long login_fail_ip_limit; /* failed logins per address per fail window */
	long login_fail_window;   /* seconds */
	long scrypt_log_n;        /* scrypt cost for new hashes */
};

extern struct auth_settings auth_cfg;
extern struct token_keyring *auth_keys;

/* A user as the API shows it; strings owned by the request's pool. */
struct auth_user {
	const char *id;
	const char *email;
	const char *name;
	const char *role;
	const char *created_at;
};

/* Fills u from the first AUTH_SQL_USER columns of row 0 (copied into pool). */
void auth_user_from_row(struct auth_user *u, const PGresult *res, struct pool *pool);
/* The user object of the contract ({id, user_id, email, name, role, created_at}). */
struct json_object *auth_user_json(const struct auth_user *u);
/* Loads a user by id; ERR_NOT_FOUND when there is none. */
enum err auth_user_load(struct http_req *req, const char *id, struct auth_user *u) MUST_CHECK;
/* Issues an access token and a new refresh token (in family_id, or a new
 * family when NULL) and sends the session object with status. */
enum err auth_send_session(struct http_req *req, int status, const struct auth_user *u,
                           const char *family_id) MUST_CHECK;
/* The bearer token of the request's Authorization header, or NULL. */
const char *auth_bearer(const struct http_req *req);
/* Adds X-RateLimit-Limit/Remaining/Reset (and Retry-After when refused). */
enum err auth_rate_headers(struct http_req *req, const struct ratelimit_result *rl) MUST_CHECK;
/* Counts an anonymous request against the client address's limit; sets the
 * headers; ERR_RATE_LIMITED when over it. */
enum err auth_limit_address(struct http_req *req) MUST_CHECK;

/* Handlers (one route each). */
enum err auth_register(struct http_req *req);
enum err auth_login(struct http_req *req);
enum err auth_refresh(struct http_req *req);
enum err auth_logout(struct http_req *req);
enum err auth_verify(struct http_req *req);
enum err auth_me(struct http_req *req);

#endif
