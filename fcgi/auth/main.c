/* lectern-auth: users and sessions (docs/api.md, "Auth"). The gate nginx
 * asks about every protected request is lectern-gate (fcgi/gate). This file
 * is the service's descriptor: settings, routes and per-process state. */
#include "auth.h"
#include "core/log.h"
#include "identity/password.h"

struct auth_settings auth_cfg;
struct token_keyring *auth_keys;

static const struct cfg_var auth_vars[] = {
    {"LECTERN_ACCESS_TTL", CFG_INT, "3600", 60, 86400, 0, &auth_cfg.access_ttl,
     "seconds an access token lives", NULL},
    {"LECTERN_REFRESH_TTL", CFG_INT, "2592000", 300, 31536000, 0, &auth_cfg.refresh_ttl,
     "seconds a refresh token lives", NULL},
    {"LECTERN_LOGIN_FAIL_LIMIT", CFG_INT, "10", 1, 1000000, 0, &auth_cfg.login_fail_limit,
     "failed logins per email per fail window", NULL},
    {"LECTERN_LOGIN_FAIL_IP_LIMIT", CFG_INT, "50", 1, 1000000, 0, &auth_cfg.login_fail_ip_limit,
     "failed logins per client address per fail window", NULL},
    {"LECTERN_LOGIN_FAIL_WINDOW", CFG_INT, "900", 1, 86400, 0, &auth_cfg.login_fail_window,
     "seconds over which failed logins are counted", NULL},
    {"LECTERN_SCRYPT_LOG_N", CFG_INT, "15", 10, 20, 0, &auth_cfg.scrypt_log_n,
     "scrypt cost (log2 N) for new password hashes", NULL},
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
};

static const char *const auth_prefixes[] = {"/api/v1/auth", "/auth", NULL};
static const struct cfg_table auth_table = {"auth", auth_vars, CFG_COUNT(auth_vars)};

/* Each process keeps its own parsed keyring. */
static enum err auth_process_init(void)
{
	return token_keyring_parse(token_cfg.jwt_keys, &auth_keys);
}

static void auth_process_done(void)
{
	token_keyring_free(auth_keys);
	auth_keys = NULL;
}

static const struct service_def auth_service = {
    .name = "auth",
    .clients = SERVICE_DB | SERVICE_CACHE,
    .settings = (const struct cfg_table *const[]){&token_settings, &auth_table, NULL},
    .configure = token_settings_check,
    .prefixes = auth_prefixes,
    .routes = auth_routes,
    .nroutes = CFG_COUNT(auth_routes),
    .process_init = auth_process_init,
    .process_done = auth_process_done,
};

int main(int argc, char **argv)
{
	return service_main(&auth_service, argc, argv);
}
