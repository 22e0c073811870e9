/* fcgi_mux: a FastCGI responder for many kept-alive connections in one
 * event loop (epoll, non-blocking sockets), written from the FastCGI 1.0
 * specification; it also answers HTTP/1.x on the same socket (a
 * connection's first byte tells which), because nginx reuses HTTP
 * connections for auth_request and never FastCGI ones (docs/design.md).
 *
 * HTTP: a request without a body (GET, Content-Length: 0; a body or
 * Transfer-Encoding closes the connection) whose request line and headers
 * fit params_max. Its method, target and protocol come out as
 * REQUEST_METHOD, REQUEST_URI and SERVER_PROTOCOL, each header as HTTP_NAME
 * (upper case, '-' as '_'; a name holding '_' is dropped, so it cannot pass
 * for one with '-'); folded lines, control bytes and a malformed request
 * line close the connection. The caller's CGI answer becomes an HTTP/1.1
 * response (Status: gives the status line; a Content-Length is added).
 * Connections are kept alive unless the client says Connection: close or
 * speaks HTTP/1.0 without keep-alive.
 *
 * fcgi_mux_poll accepts connections, reads what arrived and parses it
 * incrementally (a record or a name-value pair may be split anywhere), and
 * hands back every request that is complete: BEGIN_REQUEST (role RESPONDER),
 * its PARAMS stream and its STDIN stream ended. The caller answers each one
 * with fcgi_mux_respond (STDOUT, its end, END_REQUEST; written without
 * blocking, the rest when the socket drains), in any order and in batches.
 *
 * - A connection carries one request at a time (FCGI_MPXS_CONNS is 0): a
 *   BEGIN_REQUEST for another id while one is open is refused with
 *   CANT_MPX_CONN. Bytes that arrive while a request is out wait unread
 *   until it is answered, so a client may pipeline requests.
 * - FCGI_KEEP_CONN is honoured: without it the connection closes after the
 *   answer. ABORT_REQUEST of a request not yet handed out ends it at once.
 * - GET_VALUES is answered (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS);
 *   another management record gets UNKNOWN_TYPE; other roles UNKNOWN_ROLE.
 * - A request body (STDIN) is read and dropped; the responder has no use
 *   for one.
 * - Bad input (wrong version, a record only an application sends, params
 *   over the ceiling or malformed, a body over its ceiling) closes only that
 *   connection. A connection over the ceiling is accepted and closed at once.
 * - Timers: a connection that has begun a record or a request must finish
 *   it (or drain an answer it is sent) within read_timeout_ms of when it
 *   began, and one with nothing begun is closed after idle_timeout_ms
 *   without input. A request handed to the caller is not timed: that is
 *   the caller's time. So a peer that sends part of a record, or opens a
 *   connection and says nothing, cannot hold a slot for ever. Deadlines
 *   are checked each poll, at most a few times per shortest timeout.
 * One struct fcgi_mux is used by one thread. */
#ifndef LECTERN_FCGI_MUX_H
#define LECTERN_FCGI_MUX_H

#include <stddef.h>

#include "core/err.h"

enum {
	FCGI_MUX_PARAMS_MAX = 32768,        /* default bytes of one request's PARAMS stream */
	FCGI_MUX_CONNS_MAX = 1024,          /* default open connections per mux */
	FCGI_MUX_STDIN_MAX = 65536,         /* body bytes dropped before the connection is */
	FCGI_MUX_MGMT_MAX = 4096,           /* bytes of a management record's content */
	FCGI_MUX_RESPONSE_MAX = 65535 * 16, /* bytes of one answer */
	FCGI_MUX_READ_CHUNK = 16384,        /* bytes read from a socket at once */
	FCGI_MUX_READ_TIMEOUT_MS = 10000,   /* default: a begun record or request */
	FCGI_MUX_IDLE_TIMEOUT_MS = 120000   /* default: a connection with nothing begun */
};

struct fcgi_mux;
struct fcgi_mux_req;

struct fcgi_mux_limits {
	size_t params_max;    /* bytes of PARAMS per request; 0 = FCGI_MUX_PARAMS_MAX */
	size_t conns_max;     /* open connections; 0 = FCGI_MUX_CONNS_MAX */
	long read_timeout_ms; /* 0 = FCGI_MUX_READ_TIMEOUT_MS */
	long idle_timeout_ms; /* 0 = FCGI_MUX_IDLE_TIMEOUT_MS */
};

struct fcgi_mux_stats {
	unsigned long accepted;  /* connections accepted since the start */
	unsigned long refused;   /* connections closed at once: over conns_max */
	unsigned long requests;  /* requests handed out */
	unsigned long dropped;   /* connections closed for bad input */
	unsigned long open;      /* connections open now */
	unsigned long timed_out; /* connections closed by a read or idle timeout */
};

/* Serves the listening socket listen_fd (made non-blocking; several
 * processes may share it: each waits on it with EPOLLEXCLUSIVE). limits
 * may be NULL. ERR_INTERNAL (logged) when epoll cannot be set up. Free
 * with fcgi_mux_free, which does not close listen_fd. */
enum err fcgi_mux_new(int listen_fd, const struct fcgi_mux_limits *limits,
                      struct fcgi_mux **out) MUST_CHECK;
/* Closes every connection and frees m (NULL is fine); requests not yet
 * answered are gone with it. */
void fcgi_mux_free(struct fcgi_mux *m);

/* Waits up to timeout_ms (-1: no limit; 0: not at all) for something to
 * happen, does all the I/O that is ready, and stores up to max complete
 * requests in reqs. Returns how many (0 after a timeout or a signal). */
size_t fcgi_mux_poll(struct fcgi_mux *m, int timeout_ms, struct fcgi_mux_req **reqs, size_t max);

/* The value of a request's parameter ("HTTP_AUTHORIZATION"), or NULL when
 * it is absent or its value holds a NUL byte. Valid until the answer. */
const char *fcgi_mux_param(const struct fcgi_mux_req *r, const char *name);
/* The request's id on its connection (for tests and debug logs). */
unsigned fcgi_mux_req_id(const struct fcgi_mux_req *r);

/* Answers r with data, the CGI response ("Status: 204\r\n...\r\n\r\n" and
 * a body; at most FCGI_MUX_RESPONSE_MAX bytes, longer is cut), then ends
 * it. r is released: do not use it again. Safe when its connection has
 * gone meanwhile (the answer is dropped). */
void fcgi_mux_respond(struct fcgi_mux *m, struct fcgi_mux_req *r, const void *data, size_t len);

/* Counters since fcgi_mux_new. */
void fcgi_mux_stats(const struct fcgi_mux *m, struct fcgi_mux_stats *out);

#endif
