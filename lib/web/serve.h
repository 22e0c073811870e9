/* serve: the FastCGI serving loop shared by every service program.
 *
 * serve_run picks the listening socket (fd 3 under systemd socket activation
 * when LISTEN_FDS/LISTEN_PID name this process, else fd 0 when spawn-fcgi
 * handed us a socket there, else the address in `listen`: "unix:/path" or
 * "127.0.0.1:9000"), forks `workers` processes that accept on it (and
 * replaces any that die), and serves until SIGTERM or SIGINT. On that signal
 * each worker finishes the request in hand and exits; the parent waits for
 * them and returns 0. */
#ifndef LECTERN_SERVE_H
#define LECTERN_SERVE_H

#include <stddef.h>

#include "core/err.h"
#include "web/http.h"

struct service {
	const char *name;            /* "auth"; names log lines and health */
	const char *const *prefixes; /* NULL-terminated URI prefixes stripped before
	                                routing: {"/api/v1/auth", "/auth", NULL} */
	const struct route *routes;
	size_t nroutes;
	/* Called once in each worker process after fork, before serving: open
	 * per-process clients (database, Redis). Nonzero error stops the worker. */
	enum err (*worker_init)(void);
	/* Called once in each worker process before it exits. */
	void (*worker_done)(void);
	/* Called before each request's handler with the request (may be NULL):
	 * per-request set-up such as timing. */
	void (*before)(struct http_req *req);
	/* Called after each request's response (may be NULL): per-request
	 * clean-up, such as ending a transaction a handler left open. */
	void (*after)(struct http_req *req);
	/* Called last, once the request is answered and logged (may be NULL):
	 * with how long it took, for metrics. */
	void (*done)(const struct http_req *req, long elapsed_us);
};

struct serve_opts {
	const char *listen;      /* address when no socket was inherited; NULL = none */
	long workers;            /* processes accepting requests (1..256) */
	long backlog;            /* listen backlog when we open the socket */
	const char *socket_mode; /* octal mode for a unix socket we create ("0660") */
};

/* Picks the listening socket as described above (systemd's fd 3, spawn-fcgi's
 * fd 0, else opts->listen); *unix_path is set when a unix socket was created
 * here, for the caller to remove at exit. -1 (logged) when there is none. */
int serve_socket(const struct serve_opts *opts, const char **unix_path);

/* Serves svc until told to stop; returns the process exit status. */
int serve_run(const struct service *svc, const struct serve_opts *opts);

/* Runs one request through routing, validation and the handler (used by
 * serve_run; exposed for tests that drive a route table directly). */
void serve_dispatch(const struct service *svc, FCGX_Request *fcgx);

/* Matches method and path against routes. Returns the route and fills
 * args with the {name} segment values (pointers into pool-owned copies);
 * NULL with *err = ERR_NOT_FOUND (no pattern matches) or ERR_METHOD (a
 * pattern matches but not the method; *allow then lists the methods). */
const struct route *route_match(const struct route *routes, size_t nroutes, const char *method,
                                const char *path, struct pool *pool,
                                const char *args[HTTP_PATH_ARGS_MAX], enum err *err,
                                const char **allow);

#endif
