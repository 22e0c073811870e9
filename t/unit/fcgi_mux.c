/* Unit tests for fcgi_mux over a real unix socket, in one process: the test
 * writes records as a client would, turns the mux's loop, and reads what
 * it answered. Records split at every byte, requests one after another on
 * a kept-alive connection and pipelined, padding, long name-value lengths
 * split across records, ABORT_REQUEST, GET_VALUES, other roles, a second
 * request id, hostile input (bad version, application records, oversize
 * params, an oversize body), a client that goes away mid-record or before
 * its answer, the connection ceiling, and the timers: a stalled peer (part
 * of a record, then nothing), a trickling one, a silent one, a kept-alive
 * one gone quiet, and a request out for longer than both timeouts. HTTP/1.1
 * (what nginx's auth_request speaks to the gate): kept alive, split at every
 * byte, headers as HTTP_* parameters, and hostile requests (a body, chunked,
 * folded or oversize headers, a bad request line, '_' in a name). */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "web/fcgi_mux.h"
#include "core/log.h"
#include "core/mem.h"
#include "tap.h"
#include "testenv.h"

enum {
	T_BEGIN = 1,
	T_ABORT = 2,
	T_END = 3,
	T_PARAMS = 4,
	T_STDIN = 5,
	T_STDOUT = 6,
	T_GET_VALUES = 9,
	T_GET_VALUES_RESULT = 10,
	T_UNKNOWN_TYPE = 11,
	T_KEEP = 1,
	T_TURNS = 20,
	T_READ_MAX = 65536
};

static char sock_path[TESTENV_PATH_MAX + 16];

/* --- Building client input ------------------------------------------------ */

static void rec(struct buf *b, int type, unsigned id, const void *data, size_t len, unsigned pad)
{
	unsigned char h[8] = {1,
	                      (unsigned char)type,
	                      (unsigned char)(id >> 8),
	                      (unsigned char)id,
	                      (unsigned char)(len >> 8),
	                      (unsigned char)len,
	                      (unsigned char)pad,
	                      0};
	buf_append(b, h, 8);
	buf_append(b, data, len);
	for (unsigned i = 0; i < pad; i++)
		buf_putc(b, 'P');
}

static void nv_len(struct buf *b, size_t n)
{
	if (n < 128) {
		buf_putc(b, (char)n);
		return;
	}
	unsigned char l[4] = {(unsigned char)(0x80 | (n >> 24)), (unsigned char)(n >> 16),
	                      (unsigned char)(n >> 8), (unsigned char)n};
	buf_append(b, l, 4);
}

static void nv(struct buf *b, const char *name, const char *value, size_t vlen)
{
	nv_len(b, strlen(name));
	nv_len(b, vlen);
	buf_puts(b, name);
	buf_append(b, value, vlen);
}

static void begin(struct buf *b, unsigned id, unsigned role, bool keep)
{
	unsigned char body[8] = {(unsigned char)(role >> 8), (unsigned char)role,
	                         keep ? T_KEEP : 0};
	rec(b, T_BEGIN, id, body, 8, 0);
}

/* A whole request whose params are NAME=value and A=a<id>. */
static void request(struct buf *b, unsigned id, bool keep, const char *value)
{
	struct buf p;
	buf_init(&p);
	nv(&p, "NAME", value, strlen(value));
	char a[16];
	snprintf(a, sizeof(a), "a%u", id);
	nv(&p, "A", a, strlen(a));
	begin(b, id, 1, keep);
	rec(b, T_PARAMS, id, p.data, p.len, 3);
	rec(b, T_PARAMS, id, NULL, 0, 0);
	rec(b, T_STDIN, id, NULL, 0, 0);
	buf_clear(&p);
}

/* --- Talking --------------------------------------------------------------- */

static int client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock_path, strlen(sock_path));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		tap_diag("connect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* A test must never hang: reads give up after a while. */
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/* Turns the loop until a request is out (or a few turns passed). */
static size_t turn(struct fcgi_mux *m, struct fcgi_mux_req **reqs, size_t max)
{
	size_t n = 0;
	for (int i = 0; i < T_TURNS && n == 0; i++)
		n = fcgi_mux_poll(m, i < 3 ? 0 : 10, reqs, max);
	return n;
}

/* Turns the loop a few times expecting nothing out. */
static size_t idle(struct fcgi_mux *m, struct fcgi_mux_req **reqs, size_t max)
{
	size_t n = 0;
	for (int i = 0; i < 3; i++)
		n += fcgi_mux_poll(m, 5, reqs, max);
	return n;
}

struct answer {
	struct buf out; /* STDOUT content */
	int end_status; /* protocolStatus of END_REQUEST, -1 if none */
	unsigned end_id;
	int other_type;   /* the type of a management answer, or 0 */
	struct buf other; /* its content */
	bool eof;         /* the server closed the connection */
};

static void answer_free(struct answer *a)
{
	buf_clear(&a->out);
	buf_clear(&a->other);
}

/* Reads records until END_REQUEST or one management record, or EOF. */
static void read_answer(int fd, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	a->end_status = -1;
	for (;;) {
		unsigned char h[8];
		size_t got = 0;
		while (got < 8) {
			ssize_t r = recv(fd, h + got, 8 - got, 0);
			if (r <= 0) {
				a->eof = true;
				return;
			}
			got += (size_t)r;
		}
		size_t len = (size_t)h[4] << 8 | h[5], total = len + h[6];
		char *body = xmalloc(total + 1);
		got = 0;
		while (got < total) {
			ssize_t r = recv(fd, body + got, total - got, 0);
			if (r <= 0) {
				free(body);
				a->eof = true;
				return;
			}
			got += (size_t)r;
		}
		unsigned id = (unsigned)h[2] << 8 | h[3];
		if (h[1] == T_STDOUT) {
			buf_append(&a->out, body, len);
		} else if (h[1] == T_END) {
			a->end_status = len >= 5 ? (unsigned char)body[4] : -2;
			a->end_id = id;
			free(body);
			return;
		} else {
			a->other_type = h[1];
			buf_append(&a->other, body, len);
			free(body);
			return;
		}
		free(body);
	}
}

/* True when the server closed fd (nothing more comes; a reset when it
 * left our input unread). */
static bool closed_by_server(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, 0);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

static void answer_with(struct fcgi_mux *m, struct fcgi_mux_req *r, const char *text)
{
	fcgi_mux_respond(m, r, text, strlen(text));
}

/* --- Cases ------------------------------------------------------------------ */

static void test_split_everywhere(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	struct fcgi_mux_stats before, after;
	fcgi_mux_stats(m, &before);
	int fd = client();
	struct buf b;
	buf_init(&b);
	request(&b, 7, true, "split value");
	size_t good = 0;
	/* The same request at every split point, all on one connection. */
	for (size_t k = 1; k < b.len; k++) {
		send_all(fd, b.data, k);
		size_t early = idle(m, reqs, 4);
		send_all(fd, b.data + k, b.len - k);
		size_t n = turn(m, reqs, 4);
		const char *v = n == 1 ? fcgi_mux_param(reqs[0], "NAME") : NULL;
		bool fine = early == 0 && n == 1 && v && strcmp(v, "split value") == 0 &&
		            fcgi_mux_req_id(reqs[0]) == 7;
		if (n == 1)
			answer_with(m, reqs[0], "Status: 204\r\n\r\n");
		struct answer a;
		read_answer(fd, &a);
		fine = fine && a.end_status == 0 && a.end_id == 7 && a.out.len == 15;
		answer_free(&a);
		if (fine)
			good++;
		else
			tap_diag("split at byte %zu failed", k);
	}
	is_long(good, b.len - 1, "a request split at any byte is whole");
	/* And one byte at a time. */
	for (size_t k = 0; k < b.len; k++) {
		send_all(fd, b.data + k, 1);
		if (k + 1 < b.len && idle(m, reqs, 4) != 0)
			break;
	}
	size_t n = turn(m, reqs, 4);
	ok(n == 1, "a request sent byte by byte is whole");
	if (n == 1)
		answer_with(m, reqs[0], "Status: 200\r\n\r\nbody");
	struct answer a;
	read_answer(fd, &a);
	ok(a.out.len == 19 && memcmp(a.out.data + 15, "body", 4) == 0, "its answer comes back");
	answer_free(&a);
	fcgi_mux_stats(m, &after);
	is_long(after.accepted - before.accepted, 1, "all of it on one kept-alive connection");
	buf_clear(&b);
	close(fd);
}

static void test_long_pairs(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	char big[300], nul[5] = {'a', 'b', '\0', 'c', 'd'};
	memset(big, 'x', sizeof(big));
	struct buf p, b;
	buf_init(&p);
	buf_init(&b);
	nv(&p, "BIG", big, sizeof(big));
	nv(&p, "EMPTY", "", 0);
	nv(&p, "NUL", nul, sizeof(nul));
	/* PARAMS cut inside the 4-byte length and inside the value. */
	begin(&b, 1, 1, true);
	rec(&b, T_PARAMS, 1, p.data, 3, 0);
	rec(&b, T_PARAMS, 1, p.data + 3, 150, 7);
	rec(&b, T_PARAMS, 1, p.data + 153, p.len - 153, 0);
	rec(&b, T_PARAMS, 1, NULL, 0, 0);
	rec(&b, T_STDIN, 1, "ignored body", 12, 4);
	rec(&b, T_STDIN, 1, NULL, 0, 0);
	int fd = client();
	send_all(fd, b.data, b.len);
	size_t n = turn(m, reqs, 4);
	ok(n == 1, "a request with long pairs across records");
	if (n == 1) {
		const char *v = fcgi_mux_param(reqs[0], "BIG");
		ok(v && strlen(v) == sizeof(big) && v[299] == 'x',
		   "a 300-byte value (4-byte length)");
		ok(fcgi_mux_param(reqs[0], "EMPTY") && !*fcgi_mux_param(reqs[0], "EMPTY"),
		   "an empty value");
		ok(!fcgi_mux_param(reqs[0], "NUL"), "a value with a NUL byte is not handed out");
		ok(!fcgi_mux_param(reqs[0], "MISSING"), "an absent name");
		ok(!fcgi_mux_param(reqs[0], "big"), "names are exact");
		answer_with(m, reqs[0], "Status: 204\r\n\r\n");
	}
	struct answer a;
	read_answer(fd, &a);
	is_long(a.end_status, 0, "answered");
	answer_free(&a);
	buf_clear(&p);
	buf_clear(&b);
	close(fd);
}

static void test_pipelined(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	struct buf b;
	buf_init(&b);
	request(&b, 1, true, "first");
	request(&b, 1, true, "second");
	request(&b, 2, false, "third");
	int fd = client();
	send_all(fd, b.data, b.len);
	size_t n = turn(m, reqs, 4);
	ok(n == 1 && strcmp(fcgi_mux_param(reqs[0], "NAME"), "first") == 0,
	   "pipelined: the first comes alone");
	is_long(idle(m, reqs + 1, 3), 0, "the next waits for its answer");
	if (n == 1)
		answer_with(m, reqs[0], "Status: 200\r\n\r\n1");
	n = turn(m, reqs, 4);
	ok(n == 1 && strcmp(fcgi_mux_param(reqs[0], "NAME"), "second") == 0, "then the second");
	if (n == 1)
		answer_with(m, reqs[0], "Status: 200\r\n\r\n2");
	n = turn(m, reqs, 4);
	ok(n == 1 && strcmp(fcgi_mux_param(reqs[0], "NAME"), "third") == 0, "then the third");
	if (n == 1)
		answer_with(m, reqs[0], "Status: 200\r\n\r\n3");
	const char *want[] = {"1", "2", "3"};
	for (int i = 0; i < 3; i++) {
		struct answer a;
		read_answer(fd, &a);
		ok(a.end_status == 0 && a.out.len > 0 && a.out.data[a.out.len - 1] == want[i][0],
		   "answer %d in order", i + 1);
		answer_free(&a);
	}
	ok(closed_by_server(fd), "without KEEP_CONN the connection closes after the answer");
	buf_clear(&b);
	close(fd);
}

static void test_management(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	struct buf b;
	buf_init(&b);
	struct buf q;
	buf_init(&q);
	nv(&q, "FCGI_MPXS_CONNS", "", 0);
	nv(&q, "FCGI_MAX_CONNS", "", 0);
	nv(&q, "SOMETHING_ELSE", "", 0);
	rec(&b, T_GET_VALUES, 0, q.data, q.len, 0);
	int fd = client();
	send_all(fd, b.data, b.len);
	is_long(idle(m, reqs, 4), 0, "GET_VALUES is no request");
	struct answer a;
	read_answer(fd, &a);
	is_long(a.other_type, T_GET_VALUES_RESULT, "GET_VALUES_RESULT comes back");
	ok(a.other.data && memmem(a.other.data, a.other.len, "FCGI_MPXS_CONNS0", 16) != NULL,
	   "FCGI_MPXS_CONNS is 0");
	ok(a.other.data && memmem(a.other.data, a.other.len, "FCGI_MAX_CONNS", 14) != NULL,
	   "FCGI_MAX_CONNS");
	ok(a.other.data && !memmem(a.other.data, a.other.len, "SOMETHING_ELSE", 14),
	   "unknown names left out");
	answer_free(&a);

	b.len = 0;
	rec(&b, 42, 0, "zz", 2, 0);
	send_all(fd, b.data, b.len);
	idle(m, reqs, 4);
	read_answer(fd, &a);
	ok(a.other_type == T_UNKNOWN_TYPE && a.other.len == 8 &&
	       (unsigned char)a.other.data[0] == 42,
	   "an unknown management type gets UNKNOWN_TYPE");
	answer_free(&a);

	b.len = 0;
	begin(&b, 3, 2, true); /* AUTHORIZER */
	send_all(fd, b.data, b.len);
	idle(m, reqs, 4);
	read_answer(fd, &a);
	ok(a.end_status == 3 && a.end_id == 3, "another role gets UNKNOWN_ROLE");
	answer_free(&a);

	/* A second request id while one is open: CANT_MPX_CONN for it. */
	b.len = 0;
	begin(&b, 4, 1, true);
	begin(&b, 5, 1, true);
	send_all(fd, b.data, b.len);
	idle(m, reqs, 4);
	read_answer(fd, &a);
	ok(a.end_status == 1 && a.end_id == 5, "a second request id gets CANT_MPX_CONN");
	answer_free(&a);

	/* ABORT_REQUEST of the open one ends it; the connection goes on. */
	b.len = 0;
	rec(&b, T_PARAMS, 4,
	    "\x01\x01"
	    "AB",
	    4, 0);
	rec(&b, T_ABORT, 4, NULL, 0, 0);
	send_all(fd, b.data, b.len);
	is_long(idle(m, reqs, 4), 0, "an aborted request is not handed out");
	read_answer(fd, &a);
	ok(a.end_status == 0 && a.end_id == 4, "ABORT_REQUEST is answered with END_REQUEST");
	answer_free(&a);
	b.len = 0;
	request(&b, 4, true, "after abort");
	send_all(fd, b.data, b.len);
	size_t n = turn(m, reqs, 4);
	ok(n == 1 && strcmp(fcgi_mux_param(reqs[0], "NAME"), "after abort") == 0,
	   "the id can be used again after the abort");
	if (n == 1)
		answer_with(m, reqs[0], "Status: 204\r\n\r\n");
	read_answer(fd, &a);
	is_long(a.end_status, 0, "and is answered");
	answer_free(&a);
	buf_clear(&q);
	buf_clear(&b);
	close(fd);
}

/* Each hostile input closes its own connection only. */
static void test_hostile(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	size_t ncases = 0;
	struct buf big;
	buf_init(&big);
	for (int i = 0; i < 200; i++)
		buf_puts(&big, "0123456789");

	/* Each case is the bytes a hostile client sends. */
	struct buf inputs[8];
	for (size_t i = 0; i < 8; i++)
		buf_init(&inputs[i]);
	const char *names[8];
	/* wrong version */
	request(&inputs[ncases], 1, true, "v");
	inputs[ncases].data[0] = 2;
	names[ncases++] = "a wrong version";
	/* a record only an application sends */
	rec(&inputs[ncases], T_STDOUT, 1, "x", 1, 0);
	names[ncases++] = "a STDOUT record from the client";
	/* params over the ceiling (1 KiB in this mux) */
	begin(&inputs[ncases], 1, 1, true);
	struct buf p;
	buf_init(&p);
	nv(&p, "BIG", big.data, big.len);
	rec(&inputs[ncases], T_PARAMS, 1, p.data, p.len, 0);
	buf_clear(&p);
	names[ncases++] = "params over the ceiling";
	/* a malformed pair: a length past the end */
	begin(&inputs[ncases], 1, 1, true);
	rec(&inputs[ncases], T_PARAMS, 1,
	    "\x05\x7f"
	    "ab",
	    4, 0);
	rec(&inputs[ncases], T_PARAMS, 1, NULL, 0, 0);
	names[ncases++] = "a malformed name-value pair";
	/* a body over the ceiling */
	begin(&inputs[ncases], 1, 1, true);
	for (int i = 0; i < 40; i++)
		rec(&inputs[ncases], T_STDIN, 1, big.data, big.len, 0);
	names[ncases++] = "a body over the ceiling";
	/* BEGIN_REQUEST with request id 0 */
	begin(&inputs[ncases], 0, 1, true);
	names[ncases++] = "BEGIN_REQUEST with id 0";

	for (size_t i = 0; i < ncases; i++) {
		struct fcgi_mux_stats before, after;
		fcgi_mux_stats(m, &before);
		int bystander = client();
		int fd = client();
		send_all(fd, inputs[i].data, inputs[i].len);
		ok(idle(m, reqs, 4) == 0, "%s: no request", names[i]);
		ok(closed_by_server(fd), "%s: the connection is closed", names[i]);
		fcgi_mux_stats(m, &after);
		ok(after.dropped - before.dropped == 1, "%s: counted as dropped", names[i]);
		struct buf b;
		buf_init(&b);
		request(&b, 9, true, "still here");
		send_all(bystander, b.data, b.len);
		size_t n = turn(m, reqs, 4);
		ok(n == 1, "%s: another connection is still served", names[i]);
		if (n == 1)
			answer_with(m, reqs[0], "Status: 204\r\n\r\n");
		struct answer a;
		read_answer(bystander, &a);
		answer_free(&a);
		buf_clear(&b);
		close(fd);
		close(bystander);
	}
	for (size_t i = 0; i < 8; i++)
		buf_clear(&inputs[i]);
	buf_clear(&big);
}

static void test_gone(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	struct fcgi_mux_stats before, after;
	idle(m, reqs, 4); /* earlier tests' closes are noticed */
	fcgi_mux_stats(m, &before);
	/* Closed in the middle of a record. */
	struct buf b;
	buf_init(&b);
	request(&b, 1, true, "cut short");
	int fd = client();
	send_all(fd, b.data, 13);
	close(fd);
	is_long(idle(m, reqs, 4), 0, "a client gone mid-record leaves no request");
	/* Gone before its answer. */
	fd = client();
	send_all(fd, b.data, b.len);
	size_t n = turn(m, reqs, 4);
	ok(n == 1, "a request whose client then goes");
	close(fd);
	idle(m, reqs + 1, 3);
	if (n == 1)
		answer_with(m, reqs[0], "Status: 204\r\n\r\n");
	fcgi_mux_stats(m, &after);
	is_long(after.open, before.open, "both connections are closed");
	is_long(after.dropped, before.dropped, "a client going away is not bad input");
	buf_clear(&b);
}

static void test_ceiling(const char *path, int lfd)
{
	(void)path;
	struct fcgi_mux *m = NULL;
	struct fcgi_mux_limits lim = {.conns_max = 2, .params_max = 0};
	struct fcgi_mux_req *reqs[4];
	ok(fcgi_mux_new(lfd, &lim, &m) == ERR_OK, "a mux of 2 connections");
	int a = client(), b = client(), c = client();
	idle(m, reqs, 4);
	struct fcgi_mux_stats st;
	fcgi_mux_stats(m, &st);
	is_long(st.open, 2, "two are open");
	is_long(st.refused, 1, "the third is refused");
	ok(closed_by_server(c), "and closed");
	close(a);
	close(b);
	close(c);
	idle(m, reqs, 4);
	fcgi_mux_stats(m, &st);
	is_long(st.open, 0, "closed connections are counted out");
	fcgi_mux_free(m);
}

/* --- HTTP ------------------------------------------------------------------- */

/* Reads one HTTP answer's head (up to the blank line) into out; false on
 * EOF before it. */
static bool read_http_head(int fd, struct buf *out)
{
	out->len = 0;
	while (!out->len || !memmem(out->data, out->len, "\r\n\r\n", 4)) {
		char ch;
		if (recv(fd, &ch, 1, 0) != 1)
			return false;
		buf_putc(out, ch);
	}
	buf_putc(out, '\0');
	return true;
}

static void test_http(struct fcgi_mux *m)
{
	struct fcgi_mux_req *reqs[4];
	struct buf head;
	buf_init(&head);
	const char *get = "GET /_lectern/gate HTTP/1.1\r\nHost: gate\r\n"
	                  "Authorization: Bearer abc.def\r\nX-Request-ID: r1\r\n"
	                  "X_Request_ID: forged\r\n\r\n";
	int fd = client();
	/* Split at every byte: the request comes out once it is whole. */
	size_t len = strlen(get), n = 0;
	for (size_t i = 0; i < len; i++) {
		send_all(fd, get + i, 1);
		n += fcgi_mux_poll(m, 0, reqs, 4);
	}
	if (n == 0)
		n = turn(m, reqs, 4);
	ok(n == 1, "an HTTP request sent byte by byte is whole");
	if (n == 1) {
		is_str(fcgi_mux_param(reqs[0], "REQUEST_METHOD"), "GET", "its method");
		is_str(fcgi_mux_param(reqs[0], "REQUEST_URI"), "/_lectern/gate", "its target");
		is_str(fcgi_mux_param(reqs[0], "HTTP_AUTHORIZATION"), "Bearer abc.def",
		       "a header as HTTP_AUTHORIZATION");
		is_str(fcgi_mux_param(reqs[0], "HTTP_X_REQUEST_ID"), "r1",
		       "a name with '_' does not stand in for one with '-'");
		answer_with(m, reqs[0], "Status: 204 No Content\r\nX-User-Id: u1\r\n\r\n");
	}
	ok(read_http_head(fd, &head), "an HTTP answer");
	ok(strncmp(head.data ? head.data : "", "HTTP/1.1 204 No Content\r\n", 25) == 0,
	   "its status line comes from Status:");
	ok(head.data && strstr(head.data, "\r\nX-User-Id: u1\r\n"), "its headers");
	ok(head.data && !strstr(head.data, "Content-Length") && !strstr(head.data, "Status:"),
	   "a 204 gets no length and no Status header");
	/* The same connection carries the next one; a body gets its length. */
	const char *second = "GET /x HTTP/1.1\r\nHost: gate\r\n\r\n";
	send_all(fd, second, strlen(second));
	n = turn(m, reqs, 4);
	ok(n == 1, "a second request on the kept-alive connection");
	ok(n == 1 && !fcgi_mux_param(reqs[0], "HTTP_AUTHORIZATION"),
	   "nothing carried over from the first");
	if (n == 1)
		answer_with(m, reqs[0],
		            "Status: 401 Unauthorized\r\nX-Auth-Error: missing\r\n\r\nno");
	ok(read_http_head(fd, &head) && strstr(head.data, "HTTP/1.1 401 Unauthorized\r\n") &&
	       strstr(head.data, "Content-Length: 2\r\n"),
	   "a 401 with its body's length");
	char body[3] = {0};
	ok(recv(fd, body, 2, MSG_WAITALL) == 2 && strcmp(body, "no") == 0, "and its body");
	close(fd);

	/* Connection: close and HTTP/1.0 end the connection after the answer. */
	const char *closing[] = {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
	                         "GET / HTTP/1.0\r\n\r\n"};
	for (size_t i = 0; i < 2; i++) {
		fd = client();
		send_all(fd, closing[i], strlen(closing[i]));
		n = turn(m, reqs, 4);
		if (n == 1)
			answer_with(m, reqs[0], "Status: 204 No Content\r\n\r\n");
		ok(n == 1 && read_http_head(fd, &head) && strstr(head.data, "Connection: close"),
		   "%s: answered with Connection: close", i ? "HTTP/1.0" : "Connection: close");
		idle(m, reqs, 4);
		ok(closed_by_server(fd), "%s: then closed", i ? "HTTP/1.0" : "Connection: close");
		close(fd);
	}

	/* Hostile requests close their own connection. */
	struct buf big;
	buf_init(&big);
	buf_puts(&big, "GET / HTTP/1.1\r\nX-Big: ");
	for (int i = 0; i < 120; i++)
		buf_puts(&big, "0123456789");
	buf_puts(&big, "\r\n\r\n");
	buf_putc(&big, '\0');
	const char *hostile[][2] = {
	    {"a body", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"},
	    {"a chunked body", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	    {"a folded header", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"},
	    {"no version", "GET /\r\n\r\n"},
	    {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n"},
	    {"a lower-case method", "get / HTTP/1.1\r\n\r\n"},
	    {"a control byte in a value", "GET / HTTP/1.1\r\nAuthorization: a\x01b\r\n\r\n"},
	    {"a space in a name", "GET / HTTP/1.1\r\nX A: b\r\n\r\n"},
	    {"a first byte that is neither protocol", "\x7fGET / HTTP/1.1\r\n\r\n"},
	    {"headers over the ceiling", big.data},
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		fd = client();
		send_all(fd, hostile[i][1], strlen(hostile[i][1]));
		n = idle(m, reqs, 4);
		ok(n == 0, "HTTP with %s: no request", hostile[i][0]);
		ok(closed_by_server(fd), "HTTP with %s: closed", hostile[i][0]);
		close(fd);
	}
	buf_clear(&big);
	buf_clear(&head);
}

/* --- Timers ----------------------------------------------------------------- */

enum { T_READ_MS = 200, T_IDLE_MS = 600 };

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Turns the loop for ms; returns the requests that came out. */
static size_t spin(struct fcgi_mux *m, long ms, struct fcgi_mux_req **reqs, size_t max)
{
	size_t got = 0;
	long long end = mono_ms() + ms;
	while (mono_ms() < end && got < max)
		got += fcgi_mux_poll(m, 10, reqs + got, max - got);
	return got;
}

static unsigned long open_now(struct fcgi_mux *m)
{
	struct fcgi_mux_stats st;
	fcgi_mux_stats(m, &st);
	return st.open;
}

static void test_timers(int lfd)
{
	struct fcgi_mux *m = NULL;
	struct fcgi_mux_limits lim = {.read_timeout_ms = T_READ_MS, .idle_timeout_ms = T_IDLE_MS};
	struct fcgi_mux_req *reqs[4];
	struct fcgi_mux_stats st;
	struct buf b;
	buf_init(&b);
	request(&b, 1, true, "slow");
	ok(fcgi_mux_new(lfd, &lim, &m) == ERR_OK,
	   "a mux with a 200 ms read and 600 ms idle timeout");

	/* Stalled: part of a record, then nothing. */
	int fd = client();
	send_all(fd, b.data, 13);
	spin(m, 20, reqs, 4);
	is_long(open_now(m), 1, "a peer that sent part of a record holds its connection for now");
	is_long(spin(m, T_READ_MS * 3, reqs, 4), 0, "its request never comes out");
	ok(closed_by_server(fd), "the stalled peer is closed after the read timeout");
	is_long(open_now(m), 0, "and its slot is free");
	fcgi_mux_stats(m, &st);
	is_long(st.timed_out, 1, "counted as timed out");
	close(fd);

	/* Trickling: a byte now and then does not push the deadline back. */
	fd = client();
	bool closed = false;
	for (size_t i = 0; i < b.len && !closed; i++) {
		send_all(fd, b.data + i, 1);
		spin(m, T_READ_MS / 4, reqs, 4);
		closed = open_now(m) == 0;
	}
	ok(closed, "a peer trickling a byte every 50 ms is closed too");
	close(fd);

	/* Silent: connected, says nothing: the idle timeout, not the read one. */
	fd = client();
	spin(m, T_READ_MS + T_READ_MS / 2, reqs, 4);
	is_long(open_now(m), 1, "a silent connection outlives the read timeout");
	spin(m, T_IDLE_MS * 2, reqs, 4);
	ok(closed_by_server(fd), "and is closed after the idle timeout");
	close(fd);

	/* A request out is the caller's time; its kept-alive connection then
	 * goes quiet and is closed as idle. */
	fd = client();
	send_all(fd, b.data, b.len);
	size_t n = turn(m, reqs, 4);
	ok(n == 1, "a whole request comes out");
	is_long(spin(m, T_IDLE_MS + T_READ_MS, reqs + 1, 3), 0, "nothing else meanwhile");
	is_long(open_now(m), 1, "a request out is not timed");
	if (n == 1)
		answer_with(m, reqs[0], "Status: 204\r\n\r\n");
	struct answer a;
	read_answer(fd, &a);
	is_long(a.end_status, 0, "answered late, it still gets its answer");
	answer_free(&a);
	spin(m, T_IDLE_MS * 2, reqs, 4);
	ok(closed_by_server(fd), "the kept-alive connection is closed once idle");
	close(fd);
	fcgi_mux_stats(m, &st);
	is_long(st.timed_out, 4, "four timeouts in all");
	is_long(st.open, 0, "no connection left open");
	fcgi_mux_free(m);
	buf_clear(&b);
}

int main(void)
{
	char dir[TESTENV_PATH_MAX];
	if (!testenv_tempdir(dir, sizeof(dir)))
		tap_skip_all("no temporary directory");
	snprintf(sock_path, sizeof(sock_path), "%s/mux.sock", dir);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock_path, strlen(sock_path));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0)
		tap_skip_all("cannot listen on a unix socket");
	log_init("test", LOG_LEVEL_ERROR);

	struct fcgi_mux *m = NULL;
	struct fcgi_mux_limits lim = {.params_max = 1024, .conns_max = 0};
	ok(fcgi_mux_new(lfd, &lim, &m) == ERR_OK, "a mux on the socket");
	test_split_everywhere(m);
	test_long_pairs(m);
	test_pipelined(m);
	test_management(m);
	test_hostile(m);
	test_gone(m);
	test_http(m);
	fcgi_mux_free(m);
	test_ceiling(sock_path, lfd);
	test_timers(lfd);
	close(lfd);
	unlink(sock_path);
	testenv_remove_tree(dir);
	return tap_done();
}
