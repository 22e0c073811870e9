/* service: settings, clients, health and the two roles of a declared service. */
#include "core/clock.h"
#include "app/service.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app/metrics.h"
#include "app/ready.h"
#include "core/log.h"
#include "events/mq.h"
#include "web/health.h"
#include "web/prefork.h"
#include "web/serve.h"
#include "web/waiters.h"

/* --- Settings every program declares once ------------------------------- */

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static struct {
	int log_level; /* enum log_level */
	const char *listen;
	long workers;
	long waiting_max; /* -1: half of workers */
	long jobs_per_user;
	const char *db_dsn;
	long db_timeout_ms;
	const char *redis_url;
	long redis_timeout_ms;
	struct store_config store;
	struct llm_config llm;
	struct aws_config aws;
	const char *ready_urls;
	long ready_timeout_ms;
	const char *kafka_bootstrap;
	const char *kafka_bootstrap_file;
	const char *consumer_group;
} S;

static const struct cfg_var log_vars[] = {
    {"LECTERN_LOG_LEVEL", CFG_ENUM, "info", 0, 0, 0, &S.log_level,
     "lowest level logged: debug, info, warn or error", log_levels},
};
static const struct cfg_var pool_vars[] = {
    {"LECTERN_LISTEN", CFG_STRING, "", 0, 256, 0, &S.listen,
     "address to listen on when no socket is inherited: unix:/path or 127.0.0.1:PORT", NULL},
    {"LECTERN_WORKERS", CFG_INT, "4", 1, PREFORK_CHILDREN_MAX, 0, &S.workers,
     "processes that serve requests", NULL},
    {"LECTERN_WAITING_MAX", CFG_INT, "-1", -1, PREFORK_CHILDREN_MAX, 0, &S.waiting_max,
     "processes that may wait for a job at once (an upload's wait; one per user); "
     "-1: half of LECTERN_WORKERS",
     NULL},
    {"LECTERN_READY_URLS", CFG_STRING, "", 0, 4096, 0, &S.ready_urls,
     "name=url,... of every service's health: this pool then answers GET /ready", NULL},
    {"LECTERN_READY_TIMEOUT_MS", CFG_INT, "2000", 100, 60000, 0, &S.ready_timeout_ms,
     "how long GET /ready waits for each service's health", NULL},
};
static const struct cfg_var job_vars[] = {
    {"LECTERN_JOBS_PER_USER", CFG_INT, "100", 0, 1000000, 0, &S.jobs_per_user,
     "unfinished jobs one user may have queued or running; more are refused with 429 "
     "(0: no bound)",
     NULL},
};
static const struct cfg_var db_vars[] = {
    {"LECTERN_DB_DSN", CFG_STRING, NULL, 1, 1024, CFG_REQUIRED | CFG_SECRET, &S.db_dsn,
     "Postgres connection string of the service's database (lectern_NAME)", NULL},
    {"LECTERN_DB_TIMEOUT_MS", CFG_INT, "5000", 100, 600000, 0, &S.db_timeout_ms,
     "statement timeout of requests, in milliseconds", NULL},
};
static const struct cfg_var cache_vars[] = {
    {"LECTERN_REDIS_URL", CFG_STRING, NULL, 1, 1024, CFG_REQUIRED | CFG_SECRET, &S.redis_url,
     "redis://[:password@]host:port[/db]", NULL},
    {"LECTERN_REDIS_TIMEOUT_MS", CFG_INT, "1000", 10, 60000, 0, &S.redis_timeout_ms,
     "Redis connect and command timeout in milliseconds", NULL},
};

/* The broker the service's worker talks to: the pool only checks that it
 * answers, for /health (the worker reads the same two settings). */
static const struct cfg_var events_vars[] = {
    {"LECTERN_KAFKA_BOOTSTRAP", CFG_STRING, "", 0, 1024, 0, &S.kafka_bootstrap,
     "host:port[,host:port...] of the Kafka brokers (checked by /health)", NULL},
    {"LECTERN_KAFKA_BOOTSTRAP_FILE", CFG_STRING, "", 0, 1024, 0, &S.kafka_bootstrap_file,
     "a file holding the bootstrap address, when LECTERN_KAFKA_BOOTSTRAP is empty", NULL},
    {"LECTERN_CONSUMER_GROUP", CFG_STRING, "", 0, 100, 0, &S.consumer_group,
     "the worker's Kafka consumer group, whose lag /metrics shows (default lectern-<service>)",
     NULL},
};

/* Every settings table of this program, in the order --help lists them. */
struct service_tables {
	struct cfg_table t[SERVICE_SETTINGS_MAX];
	size_t n;
};

static void tables_add(struct service_tables *ts, struct cfg_table t)
{
	if (ts->n < SERVICE_SETTINGS_MAX)
		ts->t[ts->n++] = t;
}

static void tables_collect(const struct service_def *def, bool worker, struct service_tables *ts)
{
	ts->n = 0;
	tables_add(ts, (struct cfg_table){"logging", log_vars, CFG_COUNT(log_vars)});
	if (!worker)
		tables_add(ts, (struct cfg_table){"serving", pool_vars, CFG_COUNT(pool_vars)});
	if (!worker && !def->serve)
		tables_add(ts, (struct cfg_table){"events", events_vars, CFG_COUNT(events_vars)});
	if ((def->clients & SERVICE_DB) || worker) {
		tables_add(ts, (struct cfg_table){"database", db_vars, CFG_COUNT(db_vars)});
		tables_add(ts, (struct cfg_table){"jobs", job_vars, CFG_COUNT(job_vars)});
	}
	if (def->clients & SERVICE_CACHE)
		tables_add(ts, (struct cfg_table){"redis", cache_vars, CFG_COUNT(cache_vars)});
	if (def->clients & SERVICE_STORE)
		tables_add(ts, store_config_table(&S.store));
	if ((def->clients & SERVICE_AWS) || (def->clients & SERVICE_STORE))
		tables_add(ts, aws_config_table(&S.aws));
	if (def->clients & SERVICE_LLM)
		tables_add(ts, llm_config_table(&S.llm));
	if (worker)
		tables_add(ts, worker_settings());
	for (size_t i = 0; def->settings && def->settings[i]; i++)
		tables_add(ts, *def->settings[i]);
	for (size_t i = 0; worker && def->worker_settings && def->worker_settings[i]; i++)
		tables_add(ts, *def->worker_settings[i]);
}

static void usage(const char *program, const struct service_tables *ts)
{
	printf("Usage: %s [--help | --print-config | --print-routes]\n\n"
	       "Settings come from the environment (NAME, or NAME_FILE naming a file that holds "
	       "the value):\n",
	       program);
	for (size_t t = 0; t < ts->n; t++) {
		printf("\n %s:\n", ts->t[t].title);
		for (size_t i = 0; i < ts->t[t].count; i++) {
			const struct cfg_var *v = &ts->t[t].vars[i];
			printf("  %-32s %s%s\n", v->name, v->help,
			       (v->flags & CFG_REQUIRED) ? " (required)" : "");
		}
	}
}

/* Loads every table (all of them, so every problem is logged at once) and
 * runs the checks across settings. */
static enum err load_settings(const struct service_def *def, const struct service_tables *ts)
{
	enum err e = ERR_OK;
	for (size_t t = 0; t < ts->n; t++)
		if (cfg_load(ts->t[t].vars, ts->t[t].count) != ERR_OK)
			e = ERR_INVALID;
	if (e != ERR_OK)
		return e;
	if ((def->clients & SERVICE_STORE) && store_config_check(&S.store) != ERR_OK)
		return ERR_INVALID;
	job_set_owner_limit(S.jobs_per_user);
	/* The S3 backend signs with the same AWS settings. */
	S.store.aws = S.aws;
	if (def->workers_max && S.workers > def->workers_max) {
		log_error("config LECTERN_WORKERS: at most %ld processes for %s", def->workers_max,
		          def->name);
		return ERR_INVALID;
	}
	return def->configure ? def->configure() : ERR_OK;
}

/* --- Clients ------------------------------------------------------------- */

static struct {
	const struct service_def *def;
	bool worker;
	struct db *db;
	struct cache *cache;
	struct store *store;
	struct llm_client *llm;
	struct aws_client *aws;
} C;

struct db *service_db(void)
{
	return C.db;
}

struct cache *service_cache(void)
{
	return C.cache;
}

struct store *service_store(void)
{
	return C.store;
}

struct llm_client *service_llm(void)
{
	return C.llm;
}

struct aws_client *service_aws(void)
{
	return C.aws;
}

const struct store_config *service_store_config(void)
{
	return &S.store;
}

const struct aws_config *service_aws_config(void)
{
	return &S.aws;
}

const char *service_name(void)
{
	return C.def ? C.def->name : "";
}

bool service_is_worker(void)
{
	return C.worker;
}

/* Opens what the descriptor uses. A database or Redis that is down now is
 * not fatal: the clients reconnect, and /health says so meanwhile. */
static enum err clients_open(const struct service_def *def, bool with_db)
{
	enum err e;
	if (with_db && (def->clients & SERVICE_DB)) {
		e = db_connect(S.db_dsn, S.db_timeout_ms, &C.db);
		if (e != ERR_OK && e != ERR_UNAVAILABLE)
			return e;
	}
	if (def->clients & SERVICE_CACHE) {
		e = cache_connect(S.redis_url, S.redis_timeout_ms, &C.cache);
		if (e != ERR_OK && e != ERR_UNAVAILABLE)
			return e;
	}
	if ((def->clients & SERVICE_STORE) && (e = store_open(&S.store, &C.store)) != ERR_OK)
		return e;
	if ((def->clients & SERVICE_AWS) && (e = aws_client_new(&S.aws, &C.aws)) != ERR_OK)
		return e;
	if ((def->clients & SERVICE_LLM) && llm_configured(&S.llm) &&
	    (e = llm_client_new(&S.llm, &C.llm)) != ERR_OK)
		return e;
	return ERR_OK;
}

static void clients_close(void)
{
	llm_client_free(C.llm);
	aws_client_free(C.aws);
	store_free(C.store);
	cache_close(C.cache);
	db_close(C.db);
	C.llm = NULL;
	C.aws = NULL;
	C.store = NULL;
	C.cache = NULL;
	C.db = NULL;
}

/* --- Health -------------------------------------------------------------- */

enum { KAFKA_PROBE_MS = 1000, KAFKA_ADDR_MAX = 1024 };

/* The configured bootstrap list into line ("" when none is configured, or
 * its file is missing or empty). */
static void kafka_bootstrap(char line[KAFKA_ADDR_MAX])
{
	line[0] = '\0';
	if (S.kafka_bootstrap && *S.kafka_bootstrap) {
		snprintf(line, KAFKA_ADDR_MAX, "%s", S.kafka_bootstrap);
	} else if (S.kafka_bootstrap_file && *S.kafka_bootstrap_file) {
		FILE *f = fopen(S.kafka_bootstrap_file, "r");
		if (!f)
			return;
		if (!fgets(line, KAFKA_ADDR_MAX, f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\r\n \t")] = '\0';
}

/* The first broker of the configured bootstrap list into host and port;
 * false when none is configured (or its file is missing or empty). */
static bool kafka_address(char *host, size_t host_len, char *port, size_t port_len)
{
	char line[KAFKA_ADDR_MAX];
	kafka_bootstrap(line);
	line[strcspn(line, ",")] = '\0';
	char *h = line, *colon;
	if (*h == '[') { /* [v6]:port */
		char *close = strchr(h, ']');
		if (!close || close[1] != ':')
			return false;
		*close = '\0';
		h++;
		colon = close + 1;
	} else {
		colon = strrchr(h, ':');
	}
	if (!*h || !colon || !colon[1])
		return false;
	*colon = '\0';
	snprintf(host, host_len, "%s", h);
	snprintf(port, port_len, "%s", colon + 1);
	return true;
}

/* Whether the broker accepts a TCP connection within KAFKA_PROBE_MS: the
 * pool never speaks Kafka itself (its worker does), so an answering
 * listener is what it can vouch for. */
static bool kafka_probe(const char *host, const char *port, const char **error)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
		*error = "the broker's address does not resolve";
		return false;
	}
	bool ok = false;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r == 0) {
			ok = true;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int soerr = 0;
			socklen_t len = sizeof(soerr);
			ok = poll(&p, 1, KAFKA_PROBE_MS) == 1 &&
			     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	if (!ok)
		*error = "the broker does not answer";
	return ok;
}

/* One check per client the service uses; returns how many (at most 4). */
static size_t service_checks(struct health_check *checks)
{
	const struct service_def *def = C.def;
	size_t n = 0;
	if (def->clients & SERVICE_DB) {
		struct health_check *c = &checks[n++];
		*c = (struct health_check){.name = "database", .required = true};
		c->ok = db_ping(C.db, &c->latency_ms) == ERR_OK;
		c->error = c->ok ? NULL : "the database does not answer";
	}
	if (def->clients & SERVICE_CACHE) {
		struct health_check *c = &checks[n++];
		*c = (struct health_check){.name = "redis", .required = true};
		c->ok = cache_ping(C.cache, &c->latency_ms) == ERR_OK;
		c->error = c->ok ? NULL : "redis does not answer";
	}
	if (def->clients & SERVICE_STORE) {
		struct health_check *c = &checks[n++];
		*c = (struct health_check){.name = "storage", .required = true};
		/* A stat of a key that never exists: "not found" is an answer. */
		char probe[SERVICE_NAME_MAX + 32];
		snprintf(probe, sizeof(probe), "%s/health/probe/none", def->name);
		struct store_info info;
		long long t0 = clock_ms();
		enum err e = store_stat(C.store, probe, &info);
		c->latency_ms = (long)(clock_ms() - t0);
		c->ok = e == ERR_OK || e == ERR_NOT_FOUND;
		c->error = c->ok ? NULL : "the store does not answer";
	}
	/* Every service's worker relays its outbox to Kafka. Requests go on
	 * without it (the outbox keeps the events): down is "degraded". */
	char host[KAFKA_ADDR_MAX], port[32];
	if (kafka_address(host, sizeof(host), port, sizeof(port))) {
		struct health_check *c = &checks[n++];
		*c = (struct health_check){.name = "kafka", .required = false};
		long long t0 = clock_ms();
		c->ok = kafka_probe(host, port, &c->error);
		c->latency_ms = (long)(clock_ms() - t0);
		if (c->ok)
			c->error = NULL;
	}
	return n;
}

enum err service_health(struct http_req *req)
{
	struct health_check checks[4];
	size_t n = service_checks(checks);
	return health_send(req, C.def->name, checks, n);
}

/* GET /ready: only the pool given LECTERN_READY_URLS answers it. */
static enum err service_ready(struct http_req *req)
{
	if (!S.ready_urls || !*S.ready_urls)
		return http_error(req, ERR_NOT_FOUND, "This pool does not answer /ready.");
	struct health_check checks[4];
	size_t n = service_checks(checks);
	bool down = false;
	struct json_object *self = health_doc(C.def->name, checks, n, &down);
	return ready_answer(req, S.ready_urls, S.ready_timeout_ms, C.def->name, self, down);
}

/* --- Metrics ------------------------------------------------------------- */

/* The pool's routes (lib's first) and their labels for metrics. */
static struct route pool_routes[SERVICE_ROUTES_MAX];
static const char *route_names[SERVICE_ROUTES_MAX];
static size_t pool_nroutes;

enum { LAG_TIMEOUT_MS = 1000, LAG_TOPICS_MAX = 16 };

/* lectern_consumer_lag: how far the service's worker is behind on each
 * topic it consumes, asked of the broker at scrape time (the worker keeps
 * its offsets there, not in the database). */
static void consumer_lag(struct buf *out, const struct service_def *def)
{
	const char *names[LAG_TOPICS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < def->nconsumers && n < LAG_TOPICS_MAX; i++) {
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen |= strcmp(names[k], def->consumers[i].topic) == 0;
		if (!seen)
			names[n++] = def->consumers[i].topic;
	}
	char bootstrap[KAFKA_ADDR_MAX];
	kafka_bootstrap(bootstrap);
	if (n == 0 || !*bootstrap)
		return;
	char group[128];
	if (S.consumer_group && *S.consumer_group)
		snprintf(group, sizeof(group), "%s", S.consumer_group);
	else
		snprintf(group, sizeof(group), "lectern-%s", def->name);
	long long lags[LAG_TOPICS_MAX];
	struct mq_opts opts = {.bootstrap = bootstrap, .client_id = def->name};
	bool up = mq_group_lag(&opts, group, names, n, LAG_TIMEOUT_MS, lags) == ERR_OK;
	buf_printf(out,
	           "# HELP lectern_consumer_lag_up Whether the broker told the lag below.\n"
	           "# TYPE lectern_consumer_lag_up gauge\n"
	           "lectern_consumer_lag_up{service=\"%s\"} %d\n",
	           def->name, up ? 1 : 0);
	if (!up)
		return;
	buf_puts(out, "# HELP lectern_consumer_lag Events published and not yet applied by the "
	              "service's worker, by topic.\n# TYPE lectern_consumer_lag gauge\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(out,
		           "lectern_consumer_lag{service=\"%s\",group=\"%s\",topic=\"%s\"} %lld\n",
		           def->name, group, names[i], lags[i]);
}

/* GET /metrics: the pool's figures (app/metrics.h), to the host only. */
static enum err service_metrics(struct http_req *req)
{
	if (!metrics_local(req->remote_addr))
		return http_error(req, ERR_FORBIDDEN, "Metrics are answered to the host only.");
	struct buf out;
	buf_init(&out);
	metrics_write(&out, C.def->name, route_names, C.db);
	consumer_lag(&out, C.def);
	enum err e = http_send_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	                             out.data ? out.data : "", out.len);
	buf_clear(&out);
	return e;
}

static void pool_request_done(const struct http_req *req, long elapsed_us)
{
	size_t route = req->route ? (size_t)(req->route - pool_routes) : pool_nroutes;
	metrics_request(route, req->status, elapsed_us);
}

/* --- The pool ------------------------------------------------------------ */

static enum err pool_process_init(void)
{
	enum err e = clients_open(C.def, true);
	if (e == ERR_OK && C.def->process_init)
		e = C.def->process_init();
	return e;
}

static void pool_process_done(void)
{
	if (C.def->process_done)
		C.def->process_done();
	clients_close();
}

/* The request in hand: whose wait job_wait's gate admits. */
static const struct http_req *pool_req;

static void pool_before_request(struct http_req *req)
{
	pool_req = req;
}

static bool pool_wait_take(void)
{
	return waiters_take(pool_req ? pool_req->user_id : NULL);
}

/* A handler that left its transaction open would poison every later
 * request of this process: end it here, and say so, since it is a bug. */
static void pool_after_request(struct http_req *req)
{
	waiters_release();
	pool_req = NULL;
	if (C.db && db_in_transaction(C.db)) {
		log_error("bug: %s %s left a transaction open; rolled back", req->method,
		          req->route ? req->route->pattern : req->uri);
		db_rollback(C.db);
	}
}

struct custom_loop {
	int (*serve)(int listen_fd);
	int fd;
};

static int custom_child(void *arg)
{
	const struct custom_loop *l = arg;
	if (pool_process_init() != ERR_OK)
		return 1;
	int status = l->serve(l->fd);
	pool_process_done();
	return status;
}

static int run_pool(const struct service_def *def)
{
	struct serve_opts opts = {
	    .listen = S.listen[0] ? S.listen : NULL,
	    .workers = S.workers,
	    .backlog = 1024,
	    .socket_mode = "0660",
	};
	if (def->serve) {
		signal(SIGPIPE, SIG_IGN);
		/* Mapped here, in the parent, so that every process shares it. */
		if (metrics_init(0, def->metrics_counters) != ERR_OK)
			return 1;
		const char *unix_path = NULL;
		int fd = serve_socket(&opts, &unix_path);
		if (fd < 0)
			return 1;
		struct custom_loop loop = {def->serve, fd};
		int status = prefork_run(def->name, S.workers, custom_child, &loop);
		if (unix_path)
			unlink(unix_path);
		close(fd);
		return status;
	}
	if (def->nroutes + 3 > SERVICE_ROUTES_MAX) {
		log_error("%s: at most %d routes", def->name, SERVICE_ROUTES_MAX - 3);
		return 1;
	}
	/* GET /health, /metrics and /ready first, so that no pattern such as
	 * /{id} takes them. */
	struct route *routes = pool_routes;
	routes[0] = (struct route){"GET", "/health", service_health, NULL, 0, 0};
	routes[1] = (struct route){"GET", "/metrics", service_metrics, NULL, 0, 0};
	routes[2] = (struct route){"GET", "/ready", service_ready, NULL, 0, 0};
	memcpy(routes + 3, def->routes, def->nroutes * sizeof(*routes));
	pool_nroutes = def->nroutes + 3;
	for (size_t i = 0; i < pool_nroutes; i++) {
		size_t len = strlen(routes[i].method) + strlen(routes[i].pattern) + 2;
		char *name = xmalloc(len);
		snprintf(name, len, "%s %s", routes[i].method, routes[i].pattern);
		route_names[i] = name; /* for the life of the program */
	}
	if (metrics_init(pool_nroutes, 0) != ERR_OK)
		return 1;
	static char api_prefix[SERVICE_NAME_MAX + 16];
	static const char *prefixes[2];
	if (!def->prefixes) {
		snprintf(api_prefix, sizeof(api_prefix), "/api/v1/%s", def->name);
		prefixes[0] = api_prefix;
	}
	/* Waits for jobs hold a process each: at most this many at once. */
	long waiting = S.waiting_max >= 0 ? S.waiting_max : S.workers / 2;
	if (waiters_init(waiting > S.workers ? S.workers : waiting) != ERR_OK)
		return 1;
	job_set_wait_gate(pool_wait_take, waiters_release);
	const struct service svc = {
	    .name = def->name,
	    .prefixes = def->prefixes ? def->prefixes : prefixes,
	    .routes = routes,
	    .nroutes = pool_nroutes,
	    .worker_init = pool_process_init,
	    .worker_done = pool_process_done,
	    .before = pool_before_request,
	    .after = pool_after_request,
	    .done = pool_request_done,
	};
	return serve_run(&svc, &opts);
}

/* --- The worker ---------------------------------------------------------- */

static int run_worker(const struct service_def *def)
{
	int status = 1;
	/* The worker's loop keeps its own database connections. */
	if (clients_open(def, false) != ERR_OK)
		goto out;
	if (def->worker_init && def->worker_init() != ERR_OK)
		goto out;
	struct worker_def w = {
	    .service = def->name,
	    .handlers = def->consumers,
	    .nhandlers = def->nconsumers,
	    .jobs = def->jobs,
	    .njobs = def->njobs,
	};
	status = worker_run(&w, S.db_dsn);
	if (def->worker_done)
		def->worker_done();
out:
	clients_close();
	return status;
}

/* --- Start-up ------------------------------------------------------------ */

/* Whether argv[0] names the worker: its file name ends in "worker", as
 * lectern-NAME-worker does (in any directory). */
static bool named_worker(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	size_t n = strlen(base), k = sizeof("worker") - 1;
	return n >= k && strcmp(base + n - k, "worker") == 0;
}

/* --print-routes: "METHOD PATH" per route and URI prefix, GET /health
 * first, as the pool would serve them (t/integration/openapi.t checks each
 * against docs/openapi.json). Needs no settings. */
static void print_routes(const struct service_def *def)
{
	char api_prefix[SERVICE_NAME_MAX + 16];
	const char *own[] = {api_prefix, NULL};
	snprintf(api_prefix, sizeof(api_prefix), "/api/v1/%s", def->name);
	const char *const *prefixes = def->prefixes ? def->prefixes : own;
	for (size_t p = 0; prefixes[p] && def->nroutes; p++) {
		printf("GET %s/health\n", prefixes[p]);
		for (size_t i = 0; i < def->nroutes; i++) {
			const char *pattern = def->routes[i].pattern;
			/* The bare prefix is the path "/". */
			bool bare = strcmp(pattern, "/") == 0 && prefixes[p][0];
			printf("%s %s%s\n", def->routes[i].method, prefixes[p],
			       bare ? "" : pattern);
		}
	}
}

int service_main(const struct service_def *def, int argc, char **argv)
{
	C.def = def;
	C.worker = argc > 0 && named_worker(argv[0]);
	char logname[SERVICE_NAME_MAX + 8];
	snprintf(logname, sizeof(logname), "%s%s", def->name, C.worker ? "-worker" : "");
	char program[SERVICE_NAME_MAX + 16];
	snprintf(program, sizeof(program), "lectern-%s", logname);
	log_init(logname, LOG_LEVEL_INFO);
	struct service_tables ts;
	tables_collect(def, C.worker, &ts);
	bool print = argc > 1 && strcmp(argv[1], "--print-config") == 0;
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(program, &ts);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--print-routes") == 0) {
		print_routes(def);
		return 0;
	}
	if (argc > 1 && !print) {
		fprintf(stderr, "%s: unknown argument (try --help)\n", program);
		return 2;
	}
	if (load_settings(def, &ts) != ERR_OK) {
		log_error("config: not starting");
		return 1;
	}
	log_init(logname, (enum log_level)S.log_level);
	if (print) {
		for (size_t t = 0; t < ts.n; t++)
			cfg_print(ts.t[t].vars, ts.t[t].count, STDOUT_FILENO);
		return 0;
	}
	return C.worker ? run_worker(def) : run_pool(def);
}
