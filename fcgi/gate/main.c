/* lectern-gate: nginx's auth_request target, one event loop per process
 * over kept-alive FastCGI connections (lib/fcgi_mux).
 *
 * Each loop turn takes every complete check, verifies their tokens, asks
 * Redis about all of them in one script run, and answers them all. The
 * parent process only forks LECTERN_WORKERS loops on the shared listening
 * socket, replaces any that die, and stops them on SIGTERM or SIGINT
 * (lib/app/service.h: the descriptor's serve loop). */
#include <errno.h>

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <time.h>
#include <unistd.h>

#include "web/fcgi_mux.h"
#include "gate.h"
#include "core/log.h"
#include "web/prefork.h"
#include "app/service.h"
#include "identity/token_settings.h"

enum {
	GATE_WORKERS_MAX = 64,  /* processes in one gate */
	GATE_TICK_MS = 1000,    /* longest wait of the parent and of a worker */
	GATE_STATS_SECONDS = 60 /* how often a busy worker logs its counters */
};

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

/* Answers one batch of checks. */
static void gate_answer(const struct gate_config *cfg, struct fcgi_mux *mux,
                        struct fcgi_mux_req **reqs, size_t n, struct buf *answer)
{
	const char *authorization[GATE_BATCH_MAX];
	struct gate_verdict verdicts[GATE_BATCH_MAX];
	struct pool *pool = pool_new();
	for (size_t i = 0; i < n; i++)
		authorization[i] = fcgi_mux_param(reqs[i], "HTTP_AUTHORIZATION");
	gate_decide(cfg, authorization, n, (long long)time(NULL), pool, verdicts);
	for (size_t i = 0; i < n; i++) {
		answer->len = 0;
		gate_format(&verdicts[i], answer);
		fcgi_mux_respond(mux, reqs[i], answer->data, answer->len);
	}
	pool_free(pool);
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
		time_t now = time(NULL);
		if (now >= next_stats) {
			next_stats = now + GATE_STATS_SECONDS;
			requests = gate_stats(mux, requests);
		}
	}
	gate_stats(mux, 0);
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
    .workers_max = GATE_WORKERS_MAX,
};

int main(int argc, char **argv)
{
	return service_main(&gate_service, argc, argv);
}
