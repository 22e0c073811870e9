/* lectern-gate: nginx's auth_request target, one event loop per process
 * over kept-alive FastCGI connections (lib/fcgi_mux).
 *
 * Each loop turn takes every complete check, verifies their tokens, asks
 * Redis about all of them in one script run, and answers them all. The
 * parent process only forks LECTERN_WORKERS loops on the shared listening
 * socket, replaces any that die, and stops them on SIGTERM or SIGINT
 * (lib/app/service.h: the descriptor's serve loop).
 *
 * A request for GATE_METRICS_PATH is not a check: it gets the figures of
 * every process (figures.c), to the host only. */
#include <errno.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <time.h>
#include <unistd.h>

#include "web/fcgi_mux.h"
#include "gate.h"
#include "core/clock.h"
#include "core/log.h"
#include "web/prefork.h"
#include "app/service.h"
#include "identity/token_settings.h"

enum {
	GATE_TICK_MS = 1000,    /* longest wait of the parent and of a worker */
	GATE_STATS_SECONDS = 60 /* how often a busy worker logs its counters */
};

/* The path nginx sends a scrape with (lectern.conf.in rewrites it so). */
static const char GATE_METRICS_PATH[] = "/api/v1/gate/metrics";

static long gate_conns_max, gate_read_timeout_ms, gate_idle_timeout_s;

static const struct cfg_var gate_vars[] = {
    {"LECTERN_GATE_CONNECTIONS", CFG_INT, "512", 1, 100000, 0, &gate_conns_max,
     "open FastCGI connections per gate process", NULL},
    {"LECTERN_GATE_READ_TIMEOUT_MS", CFG_INT, "5000", 10, 600000, 0, &gate_read_timeout_ms,
     "a FastCGI record or request begun must be whole within this many milliseconds", NULL},
    {"LECTERN_GATE_IDLE_TIMEOUT_S", CFG_INT, "120", 1, 86400, 0, &gate_idle_timeout_s,
     "a FastCGI connection with nothing begun is closed after this many seconds", NULL},
};
static const struct cfg_table gate_table = {"gate", gate_vars, CFG_COUNT(gate_vars)};

/* --- One worker --------------------------------------------------------- */

static volatile sig_atomic_t gate_stop;

static void on_stop(int sig)
{
	(void)sig;
	gate_stop = 1;
}

/* This process's connection figures as last added to the shared ones. */
static struct fcgi_mux_stats gate_seen;

/* Adds what this process's connections and clients did to the figures. */
static void gate_sync(const struct fcgi_mux *mux)
{
	struct fcgi_mux_stats st;
	fcgi_mux_stats(mux, &st);
	gate_figures_mux(prefork_slot(), &st, &gate_seen);
	metrics_errors();
}

/* The contract's JSON error, as a CGI answer; headers ("" or lines that
 * end in CRLF) go with it. */
static void gate_error(struct buf *answer, const char *status, const char *headers,
                       const char *code, const char *message, const char *request_id)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "request_id",
	                       request_id ? json_object_new_string(request_id) : NULL);
	buf_printf(answer, "Status: %s\r\n%sContent-Type: application/json\r\n\r\n%s\n", status,
	           headers, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* Answers a scrape: the figures, to the host only. nginx asks over HTTP
 * and says who asked in X-Real-IP (it has the client's address; the gate
 * sees only its own socket's peer); a FastCGI client says REMOTE_ADDR,
 * which is taken first, as a client's X-Real-IP would come as
 * HTTP_X_REAL_IP. Neither (a request straight to the socket) is the host,
 * as for the pools (metrics_local). */
static void gate_scrape(struct fcgi_mux *mux, struct fcgi_mux_req *r, struct buf *answer)
{
	const char *addr = fcgi_mux_param(r, "REMOTE_ADDR");
	if (!addr)
		addr = fcgi_mux_param(r, "HTTP_X_REAL_IP");
	const char *method = fcgi_mux_param(r, "REQUEST_METHOD");
	const char *request_id = fcgi_mux_param(r, "HTTP_X_REQUEST_ID");
	answer->len = 0;
	if (!metrics_local(addr)) {
		log_warn("gate: metrics refused to another address than the host's");
		gate_error(answer, "403 Forbidden", "", "forbidden",
		           "Metrics are answered to the host only.", request_id);
	} else if (!method || strcmp(method, "GET") != 0) {
		gate_error(answer, "405 Method Not Allowed", "Allow: GET\r\n", "method_not_allowed",
		           "This method is not allowed here.", request_id);
	} else {
		gate_sync(mux);
		buf_puts(answer, "Status: 200 OK\r\n"
		                 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n\r\n");
		gate_figures_write(answer);
	}
	fcgi_mux_respond(mux, r, answer->data, answer->len);
}

/* One string compare per request tells a scrape from a check. */
static bool gate_is_scrape(const struct fcgi_mux_req *r)
{
	const char *uri = fcgi_mux_param(r, "REQUEST_URI");
	return uri && strcmp(uri, GATE_METRICS_PATH) == 0;
}

/* Answers one batch: its checks, decided together and counted once their
 * answers are ready (so a scrape that follows an answer sees it), then any
 * scrape. */
static void gate_answer(const struct gate_config *cfg, struct fcgi_mux *mux,
                        struct fcgi_mux_req **reqs, size_t n, struct buf *answer)
{
	long long t0 = clock_us();
	const char *authorization[GATE_BATCH_MAX];
	struct gate_verdict verdicts[GATE_BATCH_MAX];
	struct fcgi_mux_req *checks[GATE_BATCH_MAX], *scrapes[GATE_BATCH_MAX];
	size_t at[GATE_BATCH_MAX + 1]; /* where each check's answer begins */
	size_t nchecks = 0, nscrapes = 0;
	for (size_t i = 0; i < n; i++) {
		if (gate_is_scrape(reqs[i])) {
			scrapes[nscrapes++] = reqs[i];
			continue;
		}
		authorization[nchecks] = fcgi_mux_param(reqs[i], "HTTP_AUTHORIZATION");
		checks[nchecks++] = reqs[i];
	}
	if (nchecks > 0) {
		struct pool *pool = pool_new();
		gate_decide(cfg, authorization, nchecks, (long long)time(NULL), pool, verdicts);
		answer->len = 0;
		for (size_t i = 0; i < nchecks; i++) {
			at[i] = answer->len;
			gate_format(&verdicts[i], answer);
		}
		at[nchecks] = answer->len;
		gate_figures_batch(verdicts, nchecks, (long)(clock_us() - t0));
		for (size_t i = 0; i < nchecks; i++)
			fcgi_mux_respond(mux, checks[i], answer->data + at[i], at[i + 1] - at[i]);
		pool_free(pool);
	}
	for (size_t i = 0; i < nscrapes; i++)
		gate_scrape(mux, scrapes[i], answer);
}

/* One line with the counters, when there was traffic since the last one
 * (since < the count); returns the count of checks so far. */
static unsigned long gate_stats(const struct fcgi_mux *mux, unsigned long since)
{
	struct fcgi_mux_stats st;
	fcgi_mux_stats(mux, &st);
	if (st.requests > since || since == 0)
		log_info("gate stats: checks=%lu connections=%lu open=%lu refused=%lu dropped=%lu "
		         "timed_out=%lu",
		         st.requests, st.accepted, st.open, st.refused, st.dropped, st.timed_out);
	return st.requests;
}

/* One process: its event loop over the shared listening socket. */
static int gate_loop(int listen_fd)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	int status = 1;
	struct token_keyring *keys = NULL;
	struct fcgi_mux *mux = NULL;
	struct gate_memo *memo = gate_memo_new();
	struct buf answer;
	buf_init(&answer);
	/* Redis down at start is retried on each batch (503 meanwhile). */
	if (token_keyring_parse(token_cfg.jwt_keys, &keys) != ERR_OK)
		goto out;
	struct fcgi_mux_limits limits = {.conns_max = (size_t)gate_conns_max,
	                                 .read_timeout_ms = gate_read_timeout_ms,
	                                 .idle_timeout_ms = gate_idle_timeout_s * 1000};
	if (fcgi_mux_new(listen_fd, &limits, &mux) != ERR_OK)
		goto out;
	struct gate_config cfg = {
	    .keys = keys,
	    .issuer = token_cfg.jwt_issuer,
	    .audience = token_cfg.jwt_audience,
	    .rate_limit = token_cfg.rate_limit,
	    .rate_window = token_cfg.rate_window,
	    .cache = service_cache(),
	    .memo = memo,
	    .db = service_db(),
	};
	struct fcgi_mux_req *reqs[GATE_BATCH_MAX];
	unsigned long requests = 0;
	time_t next_stats = time(NULL) + GATE_STATS_SECONDS;
	while (!gate_stop) {
		size_t n = fcgi_mux_poll(mux, GATE_TICK_MS, reqs, GATE_BATCH_MAX);
		if (n > 0)
			gate_answer(&cfg, mux, reqs, n, &answer);
		gate_sync(mux);
		time_t now = time(NULL);
		if (now >= next_stats) {
			next_stats = now + GATE_STATS_SECONDS;
			requests = gate_stats(mux, requests);
		}
	}
	gate_stats(mux, 0);
	/* Its connections close with it. */
	struct fcgi_mux_stats last;
	fcgi_mux_stats(mux, &last);
	last.open = 0;
	gate_figures_mux(prefork_slot(), &last, &gate_seen);
	status = 0;
out:
	fcgi_mux_free(mux);
	gate_memo_free(memo);
	token_keyring_free(keys);
	buf_clear(&answer);
	return status;
}

/* --- The descriptor ------------------------------------------------------ */

static const struct service_def gate_service = {
    .name = "gate",
    .clients = SERVICE_CACHE | SERVICE_DB, /* Postgres: the record of revocations */
    .settings = (const struct cfg_table *const[]){&token_settings, &gate_table, NULL},
    .configure = token_settings_check,
    .serve = gate_loop,
    .metrics_counters = GATE_FIGURES,
    .workers_max = GATE_WORKERS_MAX,
};

int main(int argc, char **argv)
{
	return service_main(&gate_service, argc, argv);
}
