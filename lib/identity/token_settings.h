/* token_settings: the token and rate-limit settings auth and the gate share.
 *
 * One environment file configures both programs (the gate verifies what
 * auth issues, and both count against the same rate limit), so the names,
 * defaults and bounds are declared here, once. */
#ifndef LECTERN_TOKEN_SETTINGS_H
#define LECTERN_TOKEN_SETTINGS_H

#include "core/cfg.h"
#include "core/err.h"

struct token_settings {
	const char *jwt_keys;     /* LECTERN_JWT_KEYS: "KID SECRET" lines, the first signs */
	const char *jwt_issuer;   /* LECTERN_JWT_ISSUER: iss of access tokens */
	const char *jwt_audience; /* LECTERN_JWT_AUDIENCE: aud of access tokens */
	long rate_limit;          /* LECTERN_RATE_LIMIT: requests per window per user or address */
	long rate_window;         /* LECTERN_RATE_WINDOW: seconds */
};

/* The values in force once the table is loaded. */
extern struct token_settings token_cfg;

/* The settings table, to name in a service's settings. */
extern const struct cfg_table token_settings;
/* Checks what the table alone cannot: the keyring parses. Call it from the
 * service's configure hook so a bad key stops the start. */
enum err token_settings_check(void) MUST_CHECK;

#endif
