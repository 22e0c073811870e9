/* token_settings: the shared token and rate-limit settings. */
#include "identity/token_settings.h"

#include "core/log.h"
#include "identity/token.h"

struct token_settings token_cfg;

static const struct cfg_var token_vars[] = {
    {"LECTERN_JWT_KEYS", CFG_STRING, NULL, 1, 65536, CFG_REQUIRED | CFG_SECRET, &token_cfg.jwt_keys,
     "token keys, one \"KID SECRET\" line each; the first signs", NULL},
    {"LECTERN_JWT_ISSUER", CFG_STRING, "lectern", 1, 256, 0, &token_cfg.jwt_issuer,
     "iss of access tokens", NULL},
    {"LECTERN_JWT_AUDIENCE", CFG_STRING, "lectern-api", 1, 256, 0, &token_cfg.jwt_audience,
     "aud of access tokens", NULL},
    {"LECTERN_RATE_LIMIT", CFG_INT, "100", 1, 1000000000, 0, &token_cfg.rate_limit,
     "requests per window per user, or per address when anonymous", NULL},
    {"LECTERN_RATE_WINDOW", CFG_INT, "60", 1, 86400, 0, &token_cfg.rate_window,
     "rate-limit window in seconds", NULL},
};

const struct cfg_table token_settings = {"tokens (shared by lectern-auth and lectern-gate)",
                                         token_vars, CFG_COUNT(token_vars)};

enum err token_settings_check(void)
{
	struct token_keyring *check = NULL;
	if (token_keyring_parse(token_cfg.jwt_keys, &check) != ERR_OK) {
		log_error("config LECTERN_JWT_KEYS: not a valid keyring");
		return ERR_INVALID;
	}
	token_keyring_free(check);
	return ERR_OK;
}
