/* lectern-auth: users and sessions. The gate nginx asks about every
 * protected request is lectern-gate (fcgi/gate). Settings, routes and
 * start-up live here. */
#include <stdlib.h>

#include "auth.h"
#include "core/log.h"
#include "identity/password.h"
#include "core/program.h"
#include "../token_settings.h"

struct auth_settings auth_cfg;
struct db *auth_db;
struct cache *auth_cache;
struct token_keyring *auth_keys;

static const struct cfg_var auth_vars[] = {
    TOKEN_SETTINGS_VARS(auth_cfg),
    {"LECTERN_DB_DSN", CFG_STRING, NULL, 1, 1024, CFG_REQUIRED | CFG_SECRET, &auth_cfg.db_dsn,
     "Postgres connection string of lectern_auth"},
    {"LECTERN_DB_TIMEOUT_MS", CFG_INT, "5000", 100, 600000, 0, &auth_cfg.db_timeout_ms,
     "statement timeout in milliseconds"},
    {"LECTERN_ACCESS_TTL", CFG_INT, "3600", 60, 86400, 0, &auth_cfg.access_ttl,
     "seconds an access token lives"},
    {"LECTERN_REFRESH_TTL", CFG_INT, "2592000", 300, 31536000, 0, &auth_cfg.refresh_ttl,
     "seconds a refresh token lives"},
    {"LECTERN_LOGIN_FAIL_LIMIT", CFG_INT, "10", 1, 1000000, 0, &auth_cfg.login_fail_limit,
     "failed logins per email per fail window"},
    {"LECTERN_LOGIN_FAIL_IP_LIMIT", CFG_INT, "50", 1, 1000000, 0, &auth_cfg.login_fail_ip_limit,
     "failed logins per client address per fail window"},
    {"LECTERN_LOGIN_FAIL_WINDOW", CFG_INT, "900", 1, 86400, 0, &auth_cfg.login_fail_window,
     "seconds over which failed logins are counted"},
    {"LECTERN_SCRYPT_LOG_N", CFG_INT, "15", 10, 20, 0, &auth_cfg.scrypt_log_n,
     "scrypt cost (log2 N) for new password hashes"},
};

static const struct param_spec register_params[] = {
    {"email", PARAM_BODY, PARAM_EMAIL, true, 3, 254, NULL, NULL},
    {"password", PARAM_BODY, PARAM_STRING, true, 8, 256, NULL, NULL},
    {"name", PARAM_BODY, PARAM_STRING, true, 1, 100, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec login_params[] = {
    {"email", PARAM_BODY, PARAM_EMAIL, true, 3, 254, NULL, NULL},
    {"password", PARAM_BODY, PARAM_STRING, true, 1, 256, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec refresh_params[] = {
    {"refresh_token", PARAM_BODY, PARAM_STRING, true, 1, 256, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec logout_params[] = {
    {"refresh_token", PARAM_BODY, PARAM_STRING, false, 1, 256, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

/* Auth bodies are small; nginx refuses larger ones before they reach us. */
enum { AUTH_BODY_MAX = 16384 };

static const struct route auth_routes[] = {
    {"POST", "/register", auth_register, register_params, AUTH_BODY_MAX, ROUTE_JSON},
    {"POST", "/login", auth_login, login_params, AUTH_BODY_MAX, ROUTE_JSON},
    {"POST", "/refresh", auth_refresh, refresh_params, AUTH_BODY_MAX, ROUTE_JSON},
    {"POST", "/logout", auth_logout, logout_params, AUTH_BODY_MAX,
     ROUTE_AUTH | ROUTE_JSON | ROUTE_OPTIONAL_BODY},
    {"GET", "/verify", auth_verify, NULL, 0, ROUTE_AUTH},
    {"GET", "/me", auth_me, NULL, 0, ROUTE_AUTH},
    {"GET", "/health", auth_health, NULL, 0, 0},
};

static const char *const auth_prefixes[] = {"/api/v1/auth", "/auth", NULL};

static enum err auth_worker_init(void)
{
	enum err e = token_keyring_parse(auth_cfg.jwt_keys, &auth_keys);
	if (e != ERR_OK)
		return e;
	/* Connections are made here, per worker process, and reconnect
	 * themselves; a dependency down at start is reported by /health. */
	e = db_connect(auth_cfg.db_dsn, auth_cfg.db_timeout_ms, &auth_db);
	if (e != ERR_OK && e != ERR_UNAVAILABLE)
		return e;
	e = cache_connect(auth_cfg.redis_url, auth_cfg.redis_timeout_ms, &auth_cache);
	if (e != ERR_OK && e != ERR_UNAVAILABLE)
		return e;
	return ERR_OK;
}

static void auth_worker_done(void)
{
	db_close(auth_db);
	cache_close(auth_cache);
	token_keyring_free(auth_keys);
}

static const struct service auth_service = {
    .name = "auth",
    .prefixes = auth_prefixes,
    .routes = auth_routes,
    .nroutes = sizeof(auth_routes) / sizeof(auth_routes[0]),
    .worker_init = auth_worker_init,
    .worker_done = auth_worker_done,
    .before = NULL,
};

int main(int argc, char **argv)
{
	struct program_common common;
	int status = program_start("auth", argc, argv, auth_vars, CFG_COUNT(auth_vars), &common);
	if (status != PROGRAM_CONTINUE)
		return status;
	/* The keyring is checked once here so a bad key stops the start. */
	struct token_keyring *check = NULL;
	if (token_keyring_parse(auth_cfg.jwt_keys, &check) != ERR_OK) {
		log_error("config LECTERN_JWT_KEYS: not a valid keyring; not starting");
		return 1;
	}
	token_keyring_free(check);
	struct serve_opts opts = program_serve_opts(&common);
	return serve_run(&auth_service, &opts);
}
