/* health: the health answer of docs/api.md, "Health", shared by every service. */
#ifndef LECTERN_HEALTH_H
#define LECTERN_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "web/http.h"

/* One dependency's state as a service sees it. */
struct health_check {
	const char *name;  /* "database", "redis", "kafka", "storage", "engine" */
	bool ok;           /* it answered */
	long latency_ms;   /* how long it took to answer (or to fail) */
	const char *error; /* a short reason when not ok (no secrets), or NULL */
	bool required;     /* the service cannot work without it: down -> 503 */
};

/* Writes {service, status, version, checks} with 200, or 503 when a required
 * check is down ("down"); an optional one down makes it "degraded". */
/* The same document as an object (the caller owns it); *down says whether
 * a required check is down. */
struct json_object *health_doc(const char *service, const struct health_check *checks, size_t count,
                               bool *down);
enum err health_send(struct http_req *req, const char *service, const struct health_check *checks,
                     size_t count);

#endif
