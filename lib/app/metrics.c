/* metrics: shared counters of a prefork pool, written out for Prometheus. */
#include "app/metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/log.h"
#include "data/cache.h"

/* Upper bounds of the latency buckets, in microseconds (+Inf follows). */
static const long bucket_us[] = {1000,   5000,   10000,   25000,   50000,   100000,
                                 250000, 500000, 1000000, 2500000, 5000000, 10000000};
enum { BOUNDS = sizeof(bucket_us) / sizeof(bucket_us[0]), BUCKETS = BOUNDS + 1 };

struct route_figures {
	unsigned long status_code[METRICS_STATUSES]; /* 0: a free slot */
	unsigned long status_count[METRICS_STATUSES];
	unsigned long other; /* statuses beyond the slots */
	unsigned long bucket[BUCKETS];
	unsigned long count, sum_us;
};

struct figures {
	unsigned long db_errors, redis_errors;
	struct route_figures route[METRICS_ROUTES_MAX + 1]; /* the last: unmatched */
	unsigned long own[];                                /* the program's counters */
};

static struct figures *F;                 /* the shared segment */
static size_t F_routes;                   /* routes counted */
static size_t F_counters;                 /* the program's own counters */
static unsigned long seen_db, seen_redis; /* this process's errors already added */

enum err metrics_init(size_t nroutes, size_t ncounters)
{
	size_t size = sizeof(struct figures) + ncounters * sizeof(unsigned long);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_error("metrics: cannot map shared memory: %s", strerror(errno));
		return ERR_INTERNAL;
	}
	F = p; /* zero-filled */
	F_routes = nroutes < METRICS_ROUTES_MAX ? nroutes : METRICS_ROUTES_MAX;
	F_counters = ncounters;
	return ERR_OK;
}

static void add(unsigned long *at, unsigned long n)
{
	__atomic_fetch_add(at, n, __ATOMIC_RELAXED);
}

static unsigned long load(const unsigned long *at)
{
	return __atomic_load_n(at, __ATOMIC_RELAXED);
}

/* The bucket value falls in: the first bound it does not exceed, else
 * nbounds (+Inf). */
static size_t bucket_of(const long *bounds, size_t nbounds, long value)
{
	size_t b = 0;
	while (b < nbounds && value > bounds[b])
		b++;
	return b;
}

/* The route's slot for status: found, or claimed when free. */
static unsigned long *status_slot(struct route_figures *r, int status)
{
	unsigned long code = (unsigned long)status;
	for (size_t i = 0; i < METRICS_STATUSES; i++) {
		unsigned long have = __atomic_load_n(&r->status_code[i], __ATOMIC_RELAXED);
		if (have == 0) {
			unsigned long zero = 0;
			if (__atomic_compare_exchange_n(&r->status_code[i], &zero, code, false,
			                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				return &r->status_count[i];
			have = zero; /* another process took it meanwhile */
		}
		if (have == code)
			return &r->status_count[i];
	}
	return &r->other;
}

void metrics_request(size_t route, int status, long elapsed_us)
{
	if (!F)
		return;
	struct route_figures *r = &F->route[route < F_routes ? route : METRICS_ROUTES_MAX];
	add(status_slot(r, status), 1);
	add(&r->bucket[bucket_of(bucket_us, BOUNDS, elapsed_us)], 1);
	add(&r->sum_us, elapsed_us > 0 ? (unsigned long)elapsed_us : 0);
	add(&r->count, 1);
	metrics_errors();
}

void metrics_errors(void)
{
	if (!F)
		return;
	unsigned long db = db_error_count(), redis = cache_error_count();
	if (db != seen_db)
		add(&F->db_errors, db - seen_db);
	if (redis != seen_redis)
		add(&F->redis_errors, redis - seen_redis);
	seen_db = db;
	seen_redis = redis;
}

void metrics_add(size_t counter, unsigned long n)
{
	if (F && counter < F_counters)
		add(&F->own[counter], n);
}

void metrics_set(size_t counter, unsigned long v)
{
	if (F && counter < F_counters)
		__atomic_store_n(&F->own[counter], v, __ATOMIC_RELAXED);
}

unsigned long metrics_get(size_t counter)
{
	return F && counter < F_counters ? load(&F->own[counter]) : 0;
}

void metrics_observe(size_t first, const long *bounds, size_t nbounds, long value, unsigned long n)
{
	if (!F || n == 0 || first + METRICS_HISTOGRAM(nbounds) > F_counters)
		return;
	add(&F->own[first + bucket_of(bounds, nbounds, value)], n);
	add(&F->own[first + nbounds + 1], n * (value > 0 ? (unsigned long)value : 0));
}

bool metrics_local(const char *addr)
{
	return !addr || !*addr || strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strncmp(addr, "::ffff:127.", 11) == 0;
}

/* A label value: route patterns hold no quote or backslash, but a label
 * must never break the format. */
static void label(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *s == '\n' ? ' ' : *s);
	}
}

static void route_labels(struct buf *out, const char *service, const char *route)
{
	buf_puts(out, "service=\"");
	label(out, service);
	buf_puts(out, "\",route=\"");
	label(out, route);
	buf_putc(out, '"');
}

/* v / unit with at most six decimals and no trailing zeros: "0.00005",
 * "2.5", "10". */
static void put_scaled(struct buf *out, long v, double unit)
{
	char s[64];
	int n = snprintf(s, sizeof(s), "%.6f", (double)v / unit);
	if (n <= 0 || (size_t)n >= sizeof(s))
		return;
	while (n > 1 && s[n - 1] == '0')
		n--;
	if (s[n - 1] == '.')
		n--;
	s[n] = '\0';
	buf_puts(out, s);
}

/* One histogram's series: bucket[0 .. nbounds] counts per bucket (the last
 * +Inf); the count is their total, so it always equals the +Inf bucket. */
static void write_histogram(struct buf *out, const char *name, const char *labels,
                            const unsigned long *bucket, const long *bounds, size_t nbounds,
                            unsigned long sum, double unit)
{
	unsigned long cumulative = 0;
	for (size_t b = 0; b <= nbounds; b++) {
		cumulative += load(&bucket[b]);
		buf_printf(out, "%s_bucket{%s,le=\"", name, labels);
		if (b < nbounds)
			put_scaled(out, bounds[b], unit);
		else
			buf_puts(out, "+Inf");
		buf_printf(out, "\"} %lu\n", cumulative);
	}
	if (unit == 1)
		buf_printf(out, "%s_sum{%s} %lu\n", name, labels, sum);
	else
		buf_printf(out, "%s_sum{%s} %.6f\n", name, labels, (double)sum / unit);
	buf_printf(out, "%s_count{%s} %lu\n", name, labels, cumulative);
}

static void write_requests(struct buf *out, const char *service, const char *const *names)
{
	buf_puts(out, "# HELP lectern_http_requests_total Requests answered, by route and status.\n"
	              "# TYPE lectern_http_requests_total counter\n");
	for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++) {
		if (i >= F_routes && i != METRICS_ROUTES_MAX)
			continue;
		const struct route_figures *r = &F->route[i];
		const char *name = i < F_routes ? names[i] : "unmatched";
		for (size_t k = 0; k < METRICS_STATUSES; k++) {
			unsigned long code = load(&r->status_code[k]);
			if (!code)
				continue;
			buf_puts(out, "lectern_http_requests_total{");
			route_labels(out, service, name);
			buf_printf(out, ",status=\"%lu\"} %lu\n", code, load(&r->status_count[k]));
		}
		if (load(&r->other)) {
			buf_puts(out, "lectern_http_requests_total{");
			route_labels(out, service, name);
			buf_printf(out, ",status=\"other\"} %lu\n", load(&r->other));
		}
	}
	buf_puts(out, "# HELP lectern_http_request_duration_seconds Time from a request's "
	              "arrival at the pool to its answer.\n"
	              "# TYPE lectern_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++) {
		if (i >= F_routes && i != METRICS_ROUTES_MAX)
			continue;
		const struct route_figures *r = &F->route[i];
		const char *name = i < F_routes ? names[i] : "unmatched";
		if (load(&r->count) == 0)
			continue; /* a series appears once it has something to say */
		struct buf labels;
		buf_init(&labels);
		route_labels(&labels, service, name);
		write_histogram(out, "lectern_http_request_duration_seconds", labels.data,
		                r->bucket, bucket_us, BOUNDS, load(&r->sum_us), 1e6);
		buf_clear(&labels);
	}
}

/* Job queue and outbox figures from the service's database; a database
 * that does not answer leaves them out (and lectern_metrics_db_up says 0). */
static void write_queues(struct buf *out, const char *service, struct db *db)
{
	PGresult *jobs = NULL, *outbox = NULL;
	bool up =
	    db &&
	    db_exec(db,
	            "SELECT kind, count(*) FILTER (WHERE state = 'queued'),"
	            " count(*) FILTER (WHERE state = 'running'),"
	            " coalesce(extract(epoch FROM now() - min(created_at)"
	            "  FILTER (WHERE state = 'queued')), 0)"
	            " FROM jobs WHERE state IN ('queued', 'running') GROUP BY kind ORDER BY kind",
	            0, NULL, &jobs) == ERR_OK &&
	    db_exec(db,
	            "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
	            " FROM outbox WHERE sent_at IS NULL",
	            0, NULL, &outbox) == ERR_OK;
	buf_printf(out,
	           "# HELP lectern_metrics_db_up Whether the queue figures below could be read.\n"
	           "# TYPE lectern_metrics_db_up gauge\nlectern_metrics_db_up{service=\"%s\"} %d\n",
	           service, up ? 1 : 0);
	if (up) {
		buf_puts(out, "# HELP lectern_jobs_queued Jobs waiting to run, by kind.\n"
		              "# TYPE lectern_jobs_queued gauge\n"
		              "# HELP lectern_jobs_running Jobs running now, by kind.\n"
		              "# TYPE lectern_jobs_running gauge\n"
		              "# HELP lectern_jobs_oldest_queued_seconds Age of the oldest waiting "
		              "job, by kind.\n"
		              "# TYPE lectern_jobs_oldest_queued_seconds gauge\n");
		for (int i = 0; i < PQntuples(jobs); i++) {
			const char *kind = PQgetvalue(jobs, i, 0);
			struct buf l;
			buf_init(&l);
			buf_printf(&l, "{service=\"%s\",kind=\"", service);
			label(&l, kind);
			buf_puts(&l, "\"}");
			buf_printf(out, "lectern_jobs_queued%s %s\n", l.data,
			           PQgetvalue(jobs, i, 1));
			buf_printf(out, "lectern_jobs_running%s %s\n", l.data,
			           PQgetvalue(jobs, i, 2));
			buf_printf(out, "lectern_jobs_oldest_queued_seconds%s %s\n", l.data,
			           PQgetvalue(jobs, i, 3));
			buf_clear(&l);
		}
		buf_printf(
		    out,
		    "# HELP lectern_outbox_backlog Events written and not yet sent to Kafka.\n"
		    "# TYPE lectern_outbox_backlog gauge\n"
		    "lectern_outbox_backlog{service=\"%s\"} %s\n"
		    "# HELP lectern_outbox_oldest_seconds Age of the oldest unsent event.\n"
		    "# TYPE lectern_outbox_oldest_seconds gauge\n"
		    "lectern_outbox_oldest_seconds{service=\"%s\"} %s\n",
		    service, PQgetvalue(outbox, 0, 0), service, PQgetvalue(outbox, 0, 1));
	}
	PQclear(jobs);
	PQclear(outbox);
}

void metrics_write(struct buf *out, const char *service, const char *const *names, struct db *db)
{
	if (!F)
		return;
	write_requests(out, service, names);
	metrics_write_errors(out, service);
	write_queues(out, service, db);
}

void metrics_write_histogram(struct buf *out, const char *name, const char *help,
                             const char *labels, size_t first, const long *bounds, size_t nbounds,
                             double unit)
{
	if (!F || first + METRICS_HISTOGRAM(nbounds) > F_counters)
		return;
	buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	write_histogram(out, name, labels, &F->own[first], bounds, nbounds,
	                load(&F->own[first + nbounds + 1]), unit);
}

void metrics_write_errors(struct buf *out, const char *service)
{
	if (!F)
		return;
	buf_printf(out,
	           "# HELP lectern_db_errors_total Failed database connects and statements.\n"
	           "# TYPE lectern_db_errors_total counter\n"
	           "lectern_db_errors_total{service=\"%s\"} %lu\n"
	           "# HELP lectern_redis_errors_total Failed Redis connects and commands.\n"
	           "# TYPE lectern_redis_errors_total counter\n"
	           "lectern_redis_errors_total{service=\"%s\"} %lu\n",
	           service, load(&F->db_errors), service, load(&F->redis_errors));
}
