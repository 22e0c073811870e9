/* lectern-gate: nginx's auth_request target, one event loop per process
 * over kept-alive FastCGI connections (lib/fcgi_mux).
 *
 * Each loop turn takes every complete check, verifies their tokens, asks
 * Redis about all of them in one script run, and answers them all. The
 * parent process only forks LECTERN_WORKERS loops on the shared listening
 * socket, replaces any that die, and stops them on SIGTERM or SIGINT. */
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
#include "core/program.h"
#include "../token_settings.h"

enum {
	GATE_WORKERS_MAX = 64, /* processes in one gate */
	GATE_TICK_MS = 1000,   /* longest wait of the parent and of a worker */
	GATE_BACKLOG = 1024,
	GATE_STATS_SECONDS = 60 /* how often a busy worker logs its counters */
};

static struct {
	const char *redis_url;
	long redis_timeout_ms;
	const char *jwt_keys;
	const char *jwt_issuer;
	const char *jwt_audience;
	long rate_limit;
	long rate_window;
	long conns_max;
	const char *db_dsn;
} gate_cfg;

/* The settings shared with lectern-auth (one environment file), and the gate's own. */
static const struct cfg_var gate_vars[] = {
    TOKEN_SETTINGS_VARS(gate_cfg),
    {"LECTERN_GATE_CONNECTIONS", CFG_INT, "512", 1, 100000, 0, &gate_cfg.conns_max,
     "open FastCGI connections per gate process"},
    {"LECTERN_DB_DSN", CFG_STRING, NULL, 1, 1024, CFG_REQUIRED | CFG_SECRET, &gate_cfg.db_dsn,
     "Postgres connection string of lectern_auth (the record of revocations)"},
};

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
		log_info("gate stats: checks=%lu connections=%lu open=%lu refused=%lu dropped=%lu",
		         st.requests, st.accepted, st.open, st.refused, st.dropped);
	return st.requests;
}

static int worker_main(int listen_fd)
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
	struct cache *cache = NULL;
	struct fcgi_mux *mux = NULL;
	struct gate_memo *memo = gate_memo_new();
	struct buf answer;
	buf_init(&answer);
	if (token_keyring_parse(gate_cfg.jwt_keys, &keys) != ERR_OK)
		goto out;
	/* Redis down now is retried on each batch (and answered 503 meanwhile). */
	enum err e = cache_connect(gate_cfg.redis_url, gate_cfg.redis_timeout_ms, &cache);
	if (e != ERR_OK && e != ERR_UNAVAILABLE)
		goto out;
	struct fcgi_mux_limits limits = {.conns_max = (size_t)gate_cfg.conns_max};
	if (fcgi_mux_new(listen_fd, &limits, &mux) != ERR_OK)
		goto out;
	struct gate_config cfg = {
	    .keys = keys,
	    .issuer = gate_cfg.jwt_issuer,
	    .audience = gate_cfg.jwt_audience,
	    .rate_limit = gate_cfg.rate_limit,
	    .rate_window = gate_cfg.rate_window,
	    .cache = cache,
	    .memo = memo,
	    .db_dsn = gate_cfg.db_dsn,
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
	cache_close(cache);
	token_keyring_free(keys);
	buf_clear(&answer);
	return status;
}

/* --- The parent ------------------------------------------------------------ */

static int gate_child(void *arg)
{
	return worker_main(*(const int *)arg);
}

int main(int argc, char **argv)
{
	struct program_common common;
	int status = program_start("gate", argc, argv, gate_vars, CFG_COUNT(gate_vars), &common);
	if (status != PROGRAM_CONTINUE)
		return status;
	struct token_keyring *check = NULL;
	if (token_keyring_parse(gate_cfg.jwt_keys, &check) != ERR_OK) {
		log_error("config LECTERN_JWT_KEYS: not a valid keyring; not starting");
		return 1;
	}
	token_keyring_free(check);
	if (common.workers > GATE_WORKERS_MAX) {
		log_error("config LECTERN_WORKERS: at most %d gate processes", GATE_WORKERS_MAX);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	const char *unix_path = NULL;
	struct serve_opts opts = program_serve_opts(&common);
	opts.backlog = GATE_BACKLOG;
	int fd = serve_socket(&opts, &unix_path);
	if (fd < 0)
		return 1;
	status = prefork_run("gate", common.workers, gate_child, &fd);
	if (unix_path)
		unlink(unix_path);
	close(fd);
	return status;
}
