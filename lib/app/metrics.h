/* metrics: a pool's figures for GET /metrics, in Prometheus text format.
 *
 * A pool is several processes (prefork), and a scrape reaches one of them,
 * so the counters live in one shared anonymous memory segment that the
 * parent maps before it forks: every process adds to it with atomic
 * operations and any of them can answer. Nothing leaves the host, nothing
 * needs Redis, and the figures are the pool's since it started (a restart
 * starts them again from zero, which Prometheus counters allow).
 *
 * Per route (its method and pattern; one line for requests no route
 * matched): requests by status, and a latency histogram. Per process the
 * database and Redis errors (db_error_count, cache_error_count) are added
 * after each request. A scrape also asks the service's database for its
 * job queue (depth and oldest age per job kind) and its outbox backlog. */
#ifndef LECTERN_METRICS_H
#define LECTERN_METRICS_H

#include <stddef.h>

#include "core/err.h"
#include "data/db.h"
#include "core/mem.h"
#include "web/http.h"

enum {
	METRICS_ROUTES_MAX = 80, /* routes counted (more are counted as unmatched) */
	METRICS_STATUSES = 12    /* distinct statuses per route; more count as "other" */
};

/* Maps the shared segment for nroutes routes, in the parent before it
 * forks. ERR_INTERNAL (logged) when it cannot. */
enum err metrics_init(size_t nroutes) MUST_CHECK;

/* Counts one answered request: route is its index in the routes table, or
 * nroutes or more when none matched. Also adds this process's new database
 * and Redis errors. Does nothing before metrics_init. */
void metrics_request(size_t route, int status, long elapsed_us);

/* Writes every figure as Prometheus text into out. names[i] is route i's
 * label ("GET /documents/{id}"). db may be NULL (no queue figures). */
void metrics_write(struct buf *out, const char *service, const char *const *names, struct db *db);

/* True when addr (REMOTE_ADDR) is the host itself: 127.0.0.0/8, ::1,
 * ::ffff:127.x, or empty (a request straight to the socket). */
bool metrics_local(const char *addr);

#endif
