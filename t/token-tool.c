/* token-tool: issues and verifies tokens and password hashes from the
 * command line, so tests can check them against independent implementations
 * (PyJWT, Python's hashlib.scrypt). The keyring comes from LECTERN_JWT_KEYS,
 * never from argv.
 *
 *   token-tool issue NOW TTL SUB EMAIL NAME ROLE ISS AUD   -> token
 *   token-tool verify NOW ISS AUD TOKEN   -> "ok SUB EMAIL ROLE JTI EXP" or
 *                                            "refused WHY: DETAIL" (exit 1)
 *   token-tool password-hash LOG_N PASSWORD       -> encoding
 *   token-tool password-verify PASSWORD ENCODED   -> "match" or "no match" (exit 1)
 *
 * NAME "-" leaves the name out. Exit 2 on bad usage or an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "identity/password.h"
#include "identity/token.h"

/* Latest time accepted on the command line: 9999-12-31T23:59:59Z. */
static const long tool_time_max = 253402300799L;

static int usage(void)
{
	fprintf(stderr, "usage: token-tool issue NOW TTL SUB EMAIL NAME ROLE ISS AUD\n"
	                "       token-tool verify NOW ISS AUD TOKEN\n"
	                "       token-tool password-hash LOG_N PASSWORD\n"
	                "       token-tool password-verify PASSWORD ENCODED\n");
	return 2;
}

static struct token_keyring *load_ring(void)
{
	struct token_keyring *kr = NULL;
	const char *text = getenv("LECTERN_JWT_KEYS");
	if (!text || token_keyring_parse(text, &kr) != ERR_OK) {
		fprintf(stderr, "token-tool: LECTERN_JWT_KEYS missing or invalid\n");
		return NULL;
	}
	return kr;
}

static int issue(char **argv)
{
	long now, ttl;
	if (!cfg_parse_long(argv[0], 0, tool_time_max, &now) ||
	    !cfg_parse_long(argv[1], 1, TOKEN_TTL_MAX, &ttl))
		return usage();
	struct token_keyring *kr = load_ring();
	if (!kr)
		return 2;
	struct token_claims c = {.sub = argv[2],
	                         .email = argv[3],
	                         .name = strcmp(argv[4], "-") == 0 ? NULL : argv[4],
	                         .role = argv[5],
	                         .iss = argv[6],
	                         .aud = argv[7]};
	struct pool *p = pool_new();
	const char *jwt;
	int rc = 2;
	if (token_issue(kr, &c, now, ttl, p, &jwt, NULL, NULL) == ERR_OK) {
		printf("%s\n", jwt);
		rc = 0;
	}
	pool_free(p);
	token_keyring_free(kr);
	return rc;
}

static int verify(char **argv)
{
	long now;
	if (!cfg_parse_long(argv[0], 0, tool_time_max, &now))
		return usage();
	struct token_keyring *kr = load_ring();
	if (!kr)
		return 2;
	struct pool *p = pool_new();
	struct token_claims c;
	const char *why, *detail;
	int rc = 1;
	if (token_verify_detail(kr, argv[3], argv[1], argv[2], now, p, &c, &why, &detail) ==
	    ERR_OK) {
		printf("ok %s %s %s %s %lld\n", c.sub, c.email, c.role, c.jti, c.exp);
		rc = 0;
	} else {
		printf("refused %s: %s\n", why, detail);
	}
	pool_free(p);
	token_keyring_free(kr);
	return rc;
}

static int pw_hash(char **argv)
{
	long log_n;
	char *enc;
	if (!cfg_parse_long(argv[0], PASSWORD_LOG_N_MIN, PASSWORD_LOG_N_MAX, &log_n))
		return usage();
	if (password_hash(argv[1], (int)log_n, &enc) != ERR_OK)
		return 2;
	printf("%s\n", enc);
	free(enc);
	return 0;
}

static int pw_verify(char **argv)
{
	bool match = false;
	if (password_verify(argv[0], argv[1], &match) != ERR_OK)
		return 2;
	printf("%s\n", match ? "match" : "no match");
	return match ? 0 : 1;
}

int main(int argc, char **argv)
{
	log_init("token-tool", LOG_LEVEL_WARN);
	if (argc == 10 && strcmp(argv[1], "issue") == 0)
		return issue(argv + 2);
	if (argc == 6 && strcmp(argv[1], "verify") == 0)
		return verify(argv + 2);
	if (argc == 4 && strcmp(argv[1], "password-hash") == 0)
		return pw_hash(argv + 2);
	if (argc == 4 && strcmp(argv[1], "password-verify") == 0)
		return pw_verify(argv + 2);
	return usage();
}
