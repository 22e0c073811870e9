/* auth: the bearer token and the rate-limit plumbing the auth routes share.
 *
 * The answer to nginx's auth_request is lectern-gate's (fcgi/gate/check.c),
 * the one implementation of that decision. */
#include <stdio.h>
#include <strings.h>

#include "auth.h"

const char *auth_bearer(const struct http_req *req)
{
	return token_bearer(http_env(req, "HTTP_AUTHORIZATION"));
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
	enum err e = ratelimit_hit(service_cache(), key, NULL, token_cfg.rate_limit,
	                           token_cfg.rate_window, &rl);
	if (e != ERR_OK)
		return e;
	e = auth_rate_headers(req, &rl);
	if (e != ERR_OK)
		return e;
	if (!rl.allowed)
		return http_error(req, ERR_RATE_LIMITED, "Too many requests; try again later.");
	return ERR_OK;
}
