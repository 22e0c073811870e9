/* auth: the rate-limit plumbing the auth routes share, and health.
 *
 * The answer to nginx's auth_request is lectern-gate's (fcgi/gate/check.c),
 * the one implementation of that decision. */
#include <stdio.h>
#include <strings.h>

#include "auth.h"
#include "web/health.h"

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
	enum err e =
	    ratelimit_hit(auth_cache, key, NULL, auth_cfg.rate_limit, auth_cfg.rate_window, &rl);
	if (e != ERR_OK)
		return e;
	e = auth_rate_headers(req, &rl);
	if (e != ERR_OK)
		return e;
	if (!rl.allowed)
		return http_error(req, ERR_RATE_LIMITED, "Too many requests; try again later.");
	return ERR_OK;
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
