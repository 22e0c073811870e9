/* token_settings: the settings lectern-auth and lectern-gate share.
 *
 * One environment file configures both programs (the gate verifies what
 * auth issues, and both count against the same rate limit), so the names,
 * defaults and bounds are declared once. TOKEN_SETTINGS_VARS(s) expands to
 * cfg_var entries for a struct s with the fields redis_url, redis_timeout_ms,
 * jwt_keys, jwt_issuer, jwt_audience, rate_limit and rate_window. */
#ifndef LECTERN_TOKEN_SETTINGS_H
#define LECTERN_TOKEN_SETTINGS_H

#include "core/cfg.h"

#define TOKEN_SETTINGS_VARS(s)                                                                     \
	{"LECTERN_REDIS_URL",                                                                      \
	 CFG_STRING,                                                                               \
	 NULL,                                                                                     \
	 1,                                                                                        \
	 1024,                                                                                     \
	 CFG_REQUIRED | CFG_SECRET,                                                                \
	 &(s).redis_url,                                                                           \
	 "redis://[:password@]host:port[/db]"},                                                    \
	    {"LECTERN_REDIS_TIMEOUT_MS",                                                           \
	     CFG_INT,                                                                              \
	     "1000",                                                                               \
	     10,                                                                                   \
	     60000,                                                                                \
	     0,                                                                                    \
	     &(s).redis_timeout_ms,                                                                \
	     "Redis connect and command timeout in milliseconds"},                                 \
	    {"LECTERN_JWT_KEYS",                                                                   \
	     CFG_STRING,                                                                           \
	     NULL,                                                                                 \
	     1,                                                                                    \
	     65536,                                                                                \
	     CFG_REQUIRED | CFG_SECRET,                                                            \
	     &(s).jwt_keys,                                                                        \
	     "token keys, one \"KID SECRET\" line each; the first signs"},                         \
	    {"LECTERN_JWT_ISSUER",  CFG_STRING, "lectern", 1, 256, 0, &(s).jwt_issuer,             \
	     "iss of access tokens"},                                                              \
	    {"LECTERN_JWT_AUDIENCE", CFG_STRING, "lectern-api", 1, 256, 0, &(s).jwt_audience,      \
	     "aud of access tokens"},                                                              \
	    {"LECTERN_RATE_LIMIT",                                                                 \
	     CFG_INT,                                                                              \
	     "100",                                                                                \
	     1,                                                                                    \
	     1000000000,                                                                           \
	     0,                                                                                    \
	     &(s).rate_limit,                                                                      \
	     "requests per window per user, or per address when anonymous"},                       \
	{                                                                                          \
		"LECTERN_RATE_WINDOW", CFG_INT, "60", 1, 86400, 0, &(s).rate_window,               \
		    "rate-limit window in seconds"                                                 \
	}

#endif
