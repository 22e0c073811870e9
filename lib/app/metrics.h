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
 * job queue (depth and oldest age per job kind) and its outbox backlog.
 *
 * A program with its own loop instead of routes (the gate) asks for
 * counters of its own in the same segment: plain counters, gauges and
 * histograms it lays out itself and writes with the helpers below. */
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

/* The counters a histogram of nbounds bounds takes: one per bucket (the
 * last is +Inf), then its sum (its count is the buckets' total). */
#define METRICS_HISTOGRAM(nbounds) ((nbounds) + 2)

/* Maps the shared segment for nroutes routes and ncounters counters of the
 * program's own (0 for a pool), in the parent before it forks.
 * ERR_INTERNAL (logged) when it cannot. */
enum err metrics_init(size_t nroutes, size_t ncounters) MUST_CHECK;

/* Counts one answered request: route is its index in the routes table, or
 * nroutes or more when none matched. Also adds this process's new database
 * and Redis errors. Does nothing before metrics_init. */
void metrics_request(size_t route, int status, long elapsed_us);

/* Adds this process's database and Redis errors since its last call (or
 * metrics_request's): for a loop that counts no requests. */
void metrics_errors(void);

/* The program's own counters, 0 .. ncounters - 1 (others are ignored, as
 * is everything before metrics_init). metrics_add adds n, atomically; a
 * gauge goes down by adding (unsigned long)-k. metrics_set stores v (a
 * gauge only one process writes). metrics_get reads. */
void metrics_add(size_t counter, unsigned long n);
void metrics_set(size_t counter, unsigned long v);
unsigned long metrics_get(size_t counter);

/* Counts value n times in the histogram at counters first ..
 * first + METRICS_HISTOGRAM(nbounds) - 1, whose bucket upper bounds are
 * bounds (ascending, nbounds of them). */
void metrics_observe(size_t first, const long *bounds, size_t nbounds, long value, unsigned long n);

/* Writes every figure as Prometheus text into out. names[i] is route i's
 * label ("GET /documents/{id}"). db may be NULL (no queue figures). */
void metrics_write(struct buf *out, const char *service, const char *const *names, struct db *db);

/* Writes lectern_db_errors_total and lectern_redis_errors_total (part of
 * what metrics_write writes), for a program without routes. */
void metrics_write_errors(struct buf *out, const char *service);

/* Writes the histogram at first (see metrics_observe) as the series
 * NAME_bucket, NAME_sum and NAME_count with labels (`service="gate"`,
 * already escaped), bounds and sum divided by unit (1e6: microseconds
 * written as seconds; 1: whole numbers). help is its # HELP text. */
void metrics_write_histogram(struct buf *out, const char *name, const char *help,
                             const char *labels, size_t first, const long *bounds, size_t nbounds,
                             double unit);

/* True when addr (REMOTE_ADDR) is the host itself: 127.0.0.0/8, ::1,
 * ::ffff:127.x, or empty (a request straight to the socket). */
bool metrics_local(const char *addr);

#endif
