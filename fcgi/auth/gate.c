/* auth gate: the answer to nginx's auth_request for every protected request,
 * and the rate-limit plumbing the auth routes share.
 *
 * nginx only understands 2xx (allow), 401 and 403 from an auth subrequest,
 * so a rate-limit refusal travels as 403 with X-Auth-Error: rate_limited and
 * nginx turns it into the JSON 429. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "health.h"
#include "log.h"

const char *auth_bearer(const struct http_req *req)
{
	const char *h = http_env(req, "HTTP_AUTHORIZATION");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

enum err auth_rate_headers(struct http_req *req, const struct ratelimit_result *rl)
{
	char limit[24], remaining[24], reset[24], retry[24];
	snprintf(limit, sizeof(limit), "%ld", rl->limit);
	snprintf(remaining, sizeof(remaining), "%ld", rl->remaining);
	snprintf(reset, sizeof(reset), "%ld", rl->reset);
	snprintf(retry, sizeof(retry), "%ld", rl->retry_after > 0 ? rl->retry_after : 1);
	if (http_add_header(req, "X-RateLimit-Limit", limit) != ERR_OK ||
	    http_add_header(req, "X-RateLimit-Remaining", remaining) != ERR_OK ||
	    http_add_header(req, "X-RateLimit-Reset", reset) != ERR_OK ||
	    (!rl->allowed && http_add_header(req, "Retry-After", retry) != ERR_OK))
		return ERR_INTERNAL;
	return ERR_OK;
}

enum err auth_limit_address(struct http_req *req)
{
	struct ratelimit_result rl;
	const char *key = pool_printf(req->pool, "rl:a:%s", req->remote_addr);
	enum err e = ratelimit_hit(auth_cache, key, NULL, auth_cfg.rate_limit, auth_cfg.rate_window, &rl);
	if (e != ERR_OK)
		return e;
	e = auth_rate_headers(req, &rl);
	if (e != ERR_OK)
		return e;
	if (!rl.allowed)
		return http_error(req, ERR_RATE_LIMITED, "Too many requests; try again later.");
	return ERR_OK;
}

/* Refuses the subrequest with 401 (or 403 for the rate limit) and a reason
 * nginx turns into the JSON body. */
static enum err gate_refuse(struct http_req *req, int status, const char *reason)
{
	if (http_add_header(req, "X-Auth-Error", reason) != ERR_OK)
		return ERR_INTERNAL;
	return http_send_empty(req, status);
}

enum err auth_gate(struct http_req *req)
{
	const char *jwt = auth_bearer(req);
	if (!jwt)
		return gate_refuse(req, 401, "missing");
	struct token_claims claims;
	const char *why = NULL;
	if (token_verify(auth_keys, jwt, auth_cfg.jwt_issuer, auth_cfg.jwt_audience,
	                 (long long)time(NULL), req->pool, &claims, &why) != ERR_OK) {
		log_info("gate refused a token: %s", why ? why : "invalid");
		return gate_refuse(req, 401, why && strcmp(why, "expired") == 0 ? "expired" : "invalid");
	}
	/* One Redis round trip: revocation check and the user's count together. */
	struct ratelimit_result rl;
	const char *key = pool_printf(req->pool, "rl:u:%s", claims.sub);
	const char *revoked = pool_printf(req->pool, "revoked:%s", claims.jti);
	enum err e = ratelimit_hit(auth_cache, key, revoked, auth_cfg.rate_limit, auth_cfg.rate_window, &rl);
	if (e != ERR_OK)
		return e;
	if (rl.blocked)
		return gate_refuse(req, 401, "revoked");
	e = auth_rate_headers(req, &rl);
	if (e != ERR_OK)
		return e;
	if (!rl.allowed)
		return gate_refuse(req, 403, "rate_limited");
	if (http_add_header(req, "X-User-Id", claims.sub) != ERR_OK ||
	    http_add_header(req, "X-User-Email", claims.email ? claims.email : "") != ERR_OK ||
	    http_add_header(req, "X-User-Role", claims.role ? claims.role : "user") != ERR_OK)
		return ERR_INTERNAL;
	return http_send_empty(req, 204);
}

enum err auth_health(struct http_req *req)
{
	struct health_check checks[2] = {
		{.name = "database", .required = true},
		{.name = "redis", .required = true},
	};
	checks[0].ok = db_ping(auth_db, &checks[0].latency_ms) == ERR_OK;
	checks[0].error = checks[0].ok ? NULL : "database unreachable";
	checks[1].ok = cache_ping(auth_cache, &checks[1].latency_ms) == ERR_OK;
	checks[1].error = checks[1].ok ? NULL : "redis unreachable";
	return health_send(req, "auth", checks, 2);
}
