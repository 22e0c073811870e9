/* fcgi_mux: FastCGI records over non-blocking sockets, one epoll set.
 *
 * Each connection runs a small record parser: 8 header bytes, then the
 * content (handed on as it arrives, so a record may be split anywhere),
 * then the padding. PARAMS content is gathered whole and decoded once the
 * stream ends, so a name-value pair may span records. */
#define _GNU_SOURCE /* accept4: Linux, as epoll is */
#include "core/clock.h"
#include "web/fcgi_mux.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

/* Record types and values of the FastCGI 1.0 specification. */
enum {
	MUX_VERSION = 1,
	MUX_HEADER_LEN = 8,
	MUX_CONTENT_MAX = 65535,
	MUX_BEGIN_REQUEST = 1,
	MUX_ABORT_REQUEST = 2,
	MUX_END_REQUEST = 3,
	MUX_PARAMS = 4,
	MUX_STDIN = 5,
	MUX_STDOUT = 6,
	MUX_STDERR = 7,
	MUX_DATA = 8,
	MUX_GET_VALUES = 9,
	MUX_GET_VALUES_RESULT = 10,
	MUX_UNKNOWN_TYPE = 11,
	MUX_RESPONDER = 1,
	MUX_KEEP_CONN = 1,
	MUX_REQUEST_COMPLETE = 0,
	MUX_CANT_MPX_CONN = 1,
	MUX_UNKNOWN_ROLE = 3
};

enum {
	MUX_EVENTS_MAX = 128,  /* epoll events taken at once */
	MUX_ACCEPT_BURST = 64, /* connections accepted per wake-up */
	MUX_READ_BURST = 4,    /* reads from one connection per wake-up */
	MUX_NUMBER_MAX = 24,   /* digits of a GET_VALUES answer */
	MUX_SWEEPS = 4,        /* deadline checks per shortest timeout */
	MUX_SWEEP_MIN_MS = 5,
	MUX_SWEEP_MAX_MS = 1000
};

/* One decoded parameter: offsets into the request's text buffer. */
struct mux_pair {
	size_t name, name_len, value, value_len;
};

struct fcgi_mux_req {
	struct mux_conn *conn;
	unsigned id;
	bool keep; /* FCGI_KEEP_CONN was set */
	bool params_done;
	bool stdin_done;
	size_t stdin_len;  /* body bytes dropped so far */
	struct buf params; /* the raw PARAMS stream */
	struct buf text;   /* names and values, each NUL-terminated */
	struct mux_pair *pairs;
	size_t npairs, pairs_cap;
};

/* What a connection speaks, known from its first byte. */
enum mux_proto { MUX_PROTO_NONE, MUX_PROTO_FCGI, MUX_PROTO_HTTP };

struct mux_conn {
	struct fcgi_mux *mux;
	int fd; /* -1 once closed; the struct lives while its request is out */
	enum mux_proto proto;
	uint32_t events; /* epoll mask registered now */
	/* Record parser. */
	unsigned char hdr[MUX_HEADER_LEN];
	size_t hdr_len; /* header bytes seen; MUX_HEADER_LEN inside a record */
	unsigned type, rec_id;
	size_t clen; /* content length of the current record */
	size_t content_left, padding_left;
	struct buf rec; /* content of a small record, gathered */
	bool bad;       /* protocol error seen: drop the connection */
	/* The request. */
	bool active; /* BEGIN_REQUEST seen, not ended */
	bool ready;  /* complete, waiting on the ready list */
	bool out;    /* handed to the caller, not answered */
	struct fcgi_mux_req req;
	struct buf pending; /* input read but not parsed while a request is out */
	/* Output. */
	struct buf outb;
	size_t out_off;
	bool close_after; /* close once the output is written */
	/* Timers (monotonic ms): when the connection is closed unless it gets
	 * on; 0 while a request is out. reading: the read deadline runs (it
	 * is not pushed back by more input, only by finishing). */
	long long deadline;
	bool reading;
	/* Lists. */
	bool on_resume;
	struct mux_conn *next_ready, *next_resume;
	struct mux_conn *prev, *next;
};

struct fcgi_mux {
	int listen_fd;
	int epfd;
	size_t params_max, conns_max;
	long long read_ms, idle_ms, sweep_ms, next_sweep;
	struct fcgi_mux_stats stats;
	struct mux_conn *conns; /* every connection struct */
	struct mux_conn *ready_head, *ready_tail;
	struct mux_conn *resume_head;
	time_t refused_logged; /* last time a refusal was logged */
	unsigned char rbuf[FCGI_MUX_READ_CHUNK];
};

/* --- Name-value pairs --------------------------------------------------- */

/* Reads one length (1 byte below 128, else 4 bytes with the top bit set). */
static bool nv_length(const unsigned char *p, size_t n, size_t *off, size_t *out)
{
	if (*off >= n)
		return false;
	if (p[*off] < 0x80) {
		*out = p[(*off)++];
		return true;
	}
	if (n - *off < 4)
		return false;
	*out = ((size_t)(p[*off] & 0x7f) << 24) | ((size_t)p[*off + 1] << 16) |
	       ((size_t)p[*off + 2] << 8) | (size_t)p[*off + 3];
	*off += 4;
	return true;
}

/* The next pair at *off; false at the end or when malformed (*off < n). */
static bool nv_next(const unsigned char *p, size_t n, size_t *off, size_t *name, size_t *nlen,
                    size_t *value, size_t *vlen)
{
	if (!nv_length(p, n, off, nlen) || !nv_length(p, n, off, vlen))
		return false;
	if (*nlen > n - *off || *vlen > n - *off - *nlen)
		return false;
	*name = *off;
	*value = *off + *nlen;
	*off += *nlen + *vlen;
	return true;
}

static void nv_put_length(struct buf *b, size_t len)
{
	if (len < 0x80) {
		buf_putc(b, (char)len);
		return;
	}
	unsigned char l[4] = {(unsigned char)(0x80 | (len >> 24)), (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8), (unsigned char)len};
	buf_append(b, l, 4);
}

/* Decodes the PARAMS stream into text and pairs; false when malformed. */
static bool req_decode(struct fcgi_mux_req *r)
{
	const unsigned char *p = (const unsigned char *)r->params.data;
	size_t n = r->params.len, off = 0, name, nlen, value, vlen;
	r->text.len = 0;
	r->npairs = 0;
	while (off < n) {
		if (!nv_next(p, n, &off, &name, &nlen, &value, &vlen))
			return false;
		if (r->npairs == r->pairs_cap) {
			r->pairs_cap = r->pairs_cap ? r->pairs_cap * 2 : 32;
			r->pairs = xrealloc(r->pairs, r->pairs_cap * sizeof(*r->pairs));
		}
		struct mux_pair *pair = &r->pairs[r->npairs++];
		pair->name = r->text.len;
		pair->name_len = nlen;
		buf_append(&r->text, p + name, nlen);
		buf_putc(&r->text, '\0');
		pair->value = r->text.len;
		pair->value_len = vlen;
		buf_append(&r->text, p + value, vlen);
		buf_putc(&r->text, '\0');
	}
	return true;
}

const char *fcgi_mux_param(const struct fcgi_mux_req *r, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < r->npairs; i++) {
		const struct mux_pair *pair = &r->pairs[i];
		if (pair->name_len != len || memcmp(r->text.data + pair->name, name, len) != 0)
			continue;
		const char *v = r->text.data + pair->value;
		return memchr(v, '\0', pair->value_len) ? NULL : v;
	}
	return NULL;
}

unsigned fcgi_mux_req_id(const struct fcgi_mux_req *r)
{
	return r->id;
}

/* --- Output ------------------------------------------------------------- */

static void put_record(struct mux_conn *c, unsigned type, unsigned id, const void *data, size_t len)
{
	unsigned char h[MUX_HEADER_LEN] = {MUX_VERSION,
	                                   (unsigned char)type,
	                                   (unsigned char)(id >> 8),
	                                   (unsigned char)id,
	                                   (unsigned char)(len >> 8),
	                                   (unsigned char)len,
	                                   0,
	                                   0};
	buf_append(&c->outb, h, sizeof(h));
	buf_append(&c->outb, data, len);
}

static void put_end(struct mux_conn *c, unsigned id, unsigned protocol_status)
{
	unsigned char body[8] = {0, 0, 0, 0, (unsigned char)protocol_status, 0, 0, 0};
	put_record(c, MUX_END_REQUEST, id, body, sizeof(body));
}

/* --- Timers -------------------------------------------------------------- */

/* Sets the connection's deadline from its state after some I/O. */
static void conn_arm(struct mux_conn *c, long long now)
{
	struct fcgi_mux *m = c->mux;
	if (c->fd < 0)
		return;
	if (c->ready || c->out) {
		c->deadline = 0;
		c->reading = false;
		return;
	}
	bool begun = c->hdr_len > 0 || c->active || c->pending.len > 0 || c->out_off < c->outb.len;
	if (!begun) {
		c->reading = false;
		c->deadline = now + m->idle_ms;
	} else if (!c->reading) {
		c->reading = true;
		c->deadline = now + m->read_ms;
	}
}

/* --- Connections -------------------------------------------------------- */

static void conn_free(struct mux_conn *c)
{
	struct fcgi_mux *m = c->mux;
	if (c->prev)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buf_clear(&c->rec);
	buf_clear(&c->req.params);
	buf_clear(&c->req.text);
	free(c->req.pairs);
	buf_clear(&c->pending);
	buf_clear(&c->outb);
	free(c);
}

/* Closes the socket; the struct goes now unless a list or the caller still
 * holds it (whoever lets go of it last frees it). */
static void conn_close(struct mux_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd); /* also leaves the epoll set */
		c->fd = -1;
		c->mux->stats.open--;
	}
	if (!c->out && !c->ready && !c->on_resume)
		conn_free(c);
}

static void conn_drop(struct mux_conn *c, const char *why)
{
	log_warn("fastcgi: closing a connection: %s", why);
	c->mux->stats.dropped++;
	conn_close(c);
}

/* Registers the events the connection wants: input unless it was paused
 * while busy (paused lazily, only when input shows up then), output while
 * some is waiting. */
static bool conn_events(struct mux_conn *c, bool pause_in)
{
	bool busy = c->ready || c->out;
	uint32_t want = c->events & EPOLLIN;
	if (pause_in)
		want = 0;
	else if (!busy)
		want = EPOLLIN;
	if (c->out_off < c->outb.len)
		want |= EPOLLOUT;
	if (want == c->events)
		return true;
	struct epoll_event ev = {.events = want, .data.ptr = c};
	if (epoll_ctl(c->mux->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		log_error("fastcgi: epoll_ctl: %s", strerror(errno));
		conn_close(c);
		return false;
	}
	c->events = want;
	return true;
}

/* Writes what it can; false when the connection was closed. */
static bool conn_flush(struct mux_conn *c)
{
	while (c->out_off < c->outb.len) {
		ssize_t n =
		    send(c->fd, c->outb.data + c->out_off, c->outb.len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* The peer went away; nothing more to say to it. */
		log_debug("fastcgi: write: %s", n < 0 ? strerror(errno) : "no progress");
		conn_close(c);
		return false;
	}
	if (c->out_off == c->outb.len) {
		c->outb.len = 0;
		c->out_off = 0;
		if (c->close_after) {
			conn_close(c);
			return false;
		}
	}
	return conn_events(c, false);
}

static void request_reset(struct fcgi_mux_req *r, unsigned id, bool keep)
{
	r->id = id;
	r->keep = keep;
	r->params_done = false;
	r->stdin_done = false;
	r->stdin_len = 0;
	r->params.len = 0;
	r->text.len = 0;
	r->npairs = 0;
}

static void ready_push(struct mux_conn *c)
{
	struct fcgi_mux *m = c->mux;
	c->ready = true;
	c->next_ready = NULL;
	if (m->ready_tail)
		m->ready_tail->next_ready = c;
	else
		m->ready_head = c;
	m->ready_tail = c;
}

/* Answers GET_VALUES with the values we know. */
static void get_values(struct mux_conn *c)
{
	const unsigned char *p = (const unsigned char *)c->rec.data;
	size_t n = c->rec.len, off = 0, name, nlen, value, vlen;
	struct buf answer;
	buf_init(&answer);
	while (off < n) {
		if (!nv_next(p, n, &off, &name, &nlen, &value, &vlen)) {
			c->bad = true;
			break;
		}
		char number[MUX_NUMBER_MAX];
		const char *v = NULL;
		if (nlen == 14 && memcmp(p + name, "FCGI_MAX_CONNS", 14) == 0) {
			snprintf(number, sizeof(number), "%zu", c->mux->conns_max);
			v = number;
		} else if (nlen == 13 && memcmp(p + name, "FCGI_MAX_REQS", 13) == 0) {
			snprintf(number, sizeof(number), "%zu", c->mux->conns_max);
			v = number;
		} else if (nlen == 15 && memcmp(p + name, "FCGI_MPXS_CONNS", 15) == 0) {
			v = "0";
		}
		if (!v)
			continue;
		nv_put_length(&answer, nlen);
		nv_put_length(&answer, strlen(v));
		buf_append(&answer, p + name, nlen);
		buf_puts(&answer, v);
	}
	if (!c->bad && answer.len <= MUX_CONTENT_MAX)
		put_record(c, MUX_GET_VALUES_RESULT, 0, answer.data, answer.len);
	buf_clear(&answer);
}

/* --- HTTP/1.x requests ----------------------------------------------------- */

/* Adds a decoded parameter (value NUL-terminated like a FastCGI one). */
static void pair_add(struct fcgi_mux_req *r, const char *name, size_t nlen, const char *value,
                     size_t vlen)
{
	if (r->npairs == r->pairs_cap) {
		r->pairs_cap = r->pairs_cap ? r->pairs_cap * 2 : 32;
		r->pairs = xrealloc(r->pairs, r->pairs_cap * sizeof(*r->pairs));
	}
	struct mux_pair *pair = &r->pairs[r->npairs++];
	pair->name = r->text.len;
	pair->name_len = nlen;
	buf_append(&r->text, name, nlen);
	buf_putc(&r->text, '\0');
	pair->value = r->text.len;
	pair->value_len = vlen;
	buf_append(&r->text, value, vlen);
	buf_putc(&r->text, '\0');
}

/* RFC 9110 token characters, which a header name is made of. */
static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool http_token_eq(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* One header line: becomes HTTP_NAME (upper case, '-' as '_'), as a
 * FastCGI server would pass it. False when malformed or not acceptable. */
static bool http_header_line(struct fcgi_mux_req *r, const char *p, size_t n, bool *keep)
{
	const char *colon = memchr(p, ':', n);
	if (!colon || colon == p)
		return false;
	size_t nlen = (size_t)(colon - p);
	char name[5 + 128];
	if (nlen > sizeof(name) - 5)
		return false;
	memcpy(name, "HTTP_", 5);
	bool underscore = false;
	for (size_t i = 0; i < nlen; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (!is_tchar(ch))
			return false;
		underscore |= ch == '_';
		name[5 + i] = ch == '-' ? '_' : (char)toupper(ch);
	}
	const char *v = colon + 1, *end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *q = v; q < end; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return false;
	size_t vlen = (size_t)(end - v);
	/* No body is read: a request that announces one is refused, so no
	 * byte of a body is ever taken for the next request. */
	if (http_token_eq(p, nlen, "Transfer-Encoding"))
		return false;
	if (http_token_eq(p, nlen, "Content-Length") && !(vlen == 1 && v[0] == '0'))
		return false;
	if (http_token_eq(p, nlen, "Connection")) {
		if (vlen >= 5 && strncasecmp(v, "close", 5) == 0)
			*keep = false;
		else if (vlen >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
			*keep = true;
	}
	/* A name with '_' would read the same as one with '-': dropped, as
	 * nginx drops them, so neither can stand in for the other. */
	if (!underscore)
		pair_add(r, name, 5 + nlen, v, vlen);
	return true;
}

/* Decodes the request line and headers held in r->params (up to and
 * including the blank line); false when malformed. */
static bool http_decode(struct fcgi_mux_req *r)
{
	const char *p = r->params.data, *end = p + r->params.len - 2; /* the last CRLF */
	r->text.len = 0;
	r->npairs = 0;
	const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	if (!eol)
		return false;
	/* METHOD SP target SP HTTP/1.x */
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1 || eol - sp2 - 1 != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
		return false;
	for (const char *q = p; q < sp1; q++)
		if (*q < 'A' || *q > 'Z')
			return false;
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return false;
	bool keep = sp2[8] == '1';
	pair_add(r, "REQUEST_METHOD", 14, p, (size_t)(sp1 - p));
	pair_add(r, "REQUEST_URI", 11, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	pair_add(r, "SERVER_PROTOCOL", 15, sp2 + 1, 8);
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		if (!eol || *p == ' ' || *p == '\t') /* no folded lines */
			return false;
		if (!http_header_line(r, p, (size_t)(eol - p), &keep))
			return false;
	}
	r->keep = keep;
	return true;
}

/* HTTP input: gathered up to the blank line that ends the headers. Returns
 * the bytes used; the rest is the next request's. */
static size_t http_feed(struct mux_conn *c, const unsigned char *p, size_t n)
{
	struct fcgi_mux_req *r = &c->req;
	if (!c->active) {
		c->active = true;
		request_reset(r, 1, true);
	}
	size_t old = r->params.len;
	buf_append(&r->params, p, n);
	size_t from = old > 3 ? old - 3 : 0;
	const char *end = memmem(r->params.data + from, r->params.len - from, "\r\n\r\n", 4);
	size_t head = end ? (size_t)(end - r->params.data) + 4 : r->params.len;
	if (head > c->mux->params_max) {
		c->bad = true;
		return n;
	}
	if (!end)
		return n;
	r->params.len = head;
	if (!http_decode(r)) {
		c->bad = true;
		return n;
	}
	r->params_done = true;
	r->stdin_done = true;
	ready_push(c);
	return head - old;
}

/* A record's header is complete. */
static void record_begin(struct mux_conn *c)
{
	const unsigned char *h = c->hdr;
	c->type = h[1];
	c->rec_id = (unsigned)h[2] << 8 | h[3];
	c->clen = (size_t)h[4] << 8 | h[5];
	c->content_left = c->clen;
	c->padding_left = h[6];
	c->rec.len = 0;
	if (h[0] != MUX_VERSION)
		c->bad = true;
	/* Records only an application sends have no business coming in. */
	switch (c->type) {
	case MUX_END_REQUEST:
	case MUX_STDOUT:
	case MUX_STDERR:
	case MUX_GET_VALUES_RESULT:
	case MUX_UNKNOWN_TYPE:
		c->bad = true;
		break;
	default:
		break;
	}
}

static bool is_current(const struct mux_conn *c)
{
	return c->active && c->rec_id == c->req.id;
}

/* Some of the current record's content. */
static void record_content(struct mux_conn *c, const unsigned char *p, size_t n)
{
	struct fcgi_mux_req *r = &c->req;
	switch (c->type) {
	case MUX_PARAMS:
		if (!is_current(c) || r->params_done)
			return;
		if (r->params.len + n > c->mux->params_max) {
			c->bad = true;
			return;
		}
		buf_append(&r->params, p, n);
		return;
	case MUX_STDIN:
		if (!is_current(c))
			return;
		r->stdin_len += n;
		if (r->stdin_len > FCGI_MUX_STDIN_MAX)
			c->bad = true;
		return;
	case MUX_BEGIN_REQUEST:
	case MUX_ABORT_REQUEST:
	case MUX_GET_VALUES:
		if (c->rec.len + n > FCGI_MUX_MGMT_MAX) {
			c->bad = true;
			return;
		}
		buf_append(&c->rec, p, n);
		return;
	default:
		return; /* DATA and unknown types: dropped */
	}
}

/* The current record's content is complete. */
static void record_end(struct mux_conn *c)
{
	struct fcgi_mux_req *r = &c->req;
	const unsigned char *b = (const unsigned char *)c->rec.data;
	switch (c->type) {
	case MUX_BEGIN_REQUEST: {
		if (c->rec_id == 0 || c->rec.len != 8) {
			c->bad = true;
			return;
		}
		unsigned role = (unsigned)b[0] << 8 | b[1];
		bool keep = b[2] & MUX_KEEP_CONN;
		if (c->active) {
			if (c->rec_id == r->id)
				c->bad = true;
			else
				put_end(c, c->rec_id, MUX_CANT_MPX_CONN);
			return;
		}
		if (role != MUX_RESPONDER) {
			put_end(c, c->rec_id, MUX_UNKNOWN_ROLE);
			if (!keep)
				c->close_after = true;
			return;
		}
		c->active = true;
		request_reset(r, c->rec_id, keep);
		return;
	}
	case MUX_ABORT_REQUEST:
		if (!is_current(c))
			return;
		put_end(c, r->id, MUX_REQUEST_COMPLETE);
		c->active = false;
		if (!r->keep)
			c->close_after = true;
		return;
	case MUX_PARAMS:
		if (!is_current(c) || r->params_done || c->clen != 0)
			break;
		r->params_done = true;
		if (!req_decode(r))
			c->bad = true;
		break;
	case MUX_STDIN:
		if (!is_current(c) || c->clen != 0)
			break;
		r->stdin_done = true;
		break;
	case MUX_GET_VALUES:
		if (c->rec_id == 0)
			get_values(c);
		return;
	case MUX_DATA:
		return;
	default:
		if (c->rec_id == 0) {
			unsigned char body[8] = {(unsigned char)c->type, 0, 0, 0, 0, 0, 0, 0};
			put_record(c, MUX_UNKNOWN_TYPE, 0, body, sizeof(body));
		}
		return;
	}
	if (!c->bad && c->active && r->params_done && r->stdin_done)
		ready_push(c);
}

/* Parses n bytes; stops early once a request is complete or the
 * connection is to close. Returns the bytes used. */
static size_t conn_feed(struct mux_conn *c, const unsigned char *p, size_t n)
{
	size_t used = 0;
	/* FastCGI starts with its version byte, HTTP with a method's capital;
	 * anything else is neither. */
	if (c->proto == MUX_PROTO_NONE && n > 0) {
		c->proto = p[0] == MUX_VERSION ? MUX_PROTO_FCGI : MUX_PROTO_HTTP;
		if (c->proto == MUX_PROTO_HTTP && (p[0] < 'A' || p[0] > 'Z'))
			c->bad = true;
	}
	if (c->proto == MUX_PROTO_HTTP)
		return n == 0 || c->bad || c->ready || c->close_after ? 0 : http_feed(c, p, n);
	for (;;) {
		if (c->hdr_len == MUX_HEADER_LEN && c->content_left == 0 && c->padding_left == 0)
			c->hdr_len = 0; /* the record is done: the next one starts */
		if (used == n || c->bad || c->ready || c->close_after)
			break;
		if (c->hdr_len < MUX_HEADER_LEN) {
			size_t take = MUX_HEADER_LEN - c->hdr_len;
			if (take > n - used)
				take = n - used;
			memcpy(c->hdr + c->hdr_len, p + used, take);
			c->hdr_len += take;
			used += take;
			if (c->hdr_len == MUX_HEADER_LEN) {
				record_begin(c);
				if (!c->bad && c->content_left == 0)
					record_end(c);
			}
		} else if (c->content_left > 0) {
			size_t take = c->content_left < n - used ? c->content_left : n - used;
			record_content(c, p + used, take);
			c->content_left -= take;
			used += take;
			if (!c->bad && c->content_left == 0)
				record_end(c);
		} else {
			size_t take = c->padding_left < n - used ? c->padding_left : n - used;
			c->padding_left -= take;
			used += take;
		}
	}
	return used;
}

/* Parses input and writes what parsing produced. Returns the bytes used,
 * or -1 when the connection was closed. */
static ssize_t conn_input(struct mux_conn *c, const unsigned char *p, size_t n)
{
	size_t used = conn_feed(c, p, n);
	if (c->bad) {
		conn_drop(c, "malformed or oversize FastCGI input");
		return -1;
	}
	if (c->outb.len > c->out_off && !conn_flush(c))
		return -1;
	if (c->close_after && c->outb.len == 0) {
		conn_close(c);
		return -1;
	}
	return (ssize_t)used;
}

/* Reads what arrived; false when the connection was closed. */
static bool conn_read(struct mux_conn *c)
{
	struct fcgi_mux *m = c->mux;
	for (int i = 0; i < MUX_READ_BURST && !c->ready && !c->close_after; i++) {
		ssize_t n = recv(c->fd, m->rbuf, sizeof(m->rbuf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			/* End of input: the client is done with the connection (or
			 * went away in the middle of a record, which is the same). */
			if (n < 0)
				log_debug("fastcgi: read: %s", strerror(errno));
			conn_close(c);
			return false;
		}
		ssize_t used = conn_input(c, m->rbuf, (size_t)n);
		if (used < 0)
			return false;
		if ((size_t)used < (size_t)n)
			buf_append(&c->pending, m->rbuf + used, (size_t)n - (size_t)used);
	}
	return true;
}

/* Parses input kept while the previous request was out. */
static void conn_resume(struct mux_conn *c)
{
	c->on_resume = false;
	if (c->fd < 0) {
		if (!c->out && !c->ready)
			conn_free(c);
		return;
	}
	ssize_t used = conn_input(c, (const unsigned char *)c->pending.data, c->pending.len);
	if (used < 0)
		return;
	memmove(c->pending.data, c->pending.data + used, c->pending.len - (size_t)used);
	c->pending.len -= (size_t)used;
	if (conn_events(c, false))
		conn_arm(c, clock_ms());
}

static void accept_all(struct fcgi_mux *m)
{
	for (int i = 0; i < MUX_ACCEPT_BURST; i++) {
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_error("fastcgi: accept: %s", strerror(errno));
			return;
		}
		if (m->stats.open >= m->conns_max) {
			time_t now = time(NULL);
			if (now != m->refused_logged) {
				log_warn(
				    "fastcgi: %zu connections open, the ceiling: refusing more",
				    m->conns_max);
				m->refused_logged = now;
			}
			m->stats.refused++;
			close(fd);
			continue;
		}
		struct mux_conn *c = xcalloc(1, sizeof(*c));
		c->mux = m;
		c->fd = fd;
		c->req.conn = c;
		c->events = EPOLLIN;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			log_error("fastcgi: epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->next = m->conns;
		if (m->conns)
			m->conns->prev = c;
		m->conns = c;
		m->stats.accepted++;
		m->stats.open++;
		c->deadline = clock_ms() + m->idle_ms;
	}
}

/* --- The mux ------------------------------------------------------------ */

enum err fcgi_mux_new(int listen_fd, const struct fcgi_mux_limits *limits, struct fcgi_mux **out)
{
	enum err e = ERR_OK;
	struct fcgi_mux *m = xcalloc(1, sizeof(*m));
	m->listen_fd = listen_fd;
	m->epfd = -1;
	m->params_max = limits && limits->params_max ? limits->params_max : FCGI_MUX_PARAMS_MAX;
	m->conns_max = limits && limits->conns_max ? limits->conns_max : FCGI_MUX_CONNS_MAX;
	m->read_ms = limits && limits->read_timeout_ms > 0 ? limits->read_timeout_ms
	                                                   : FCGI_MUX_READ_TIMEOUT_MS;
	m->idle_ms = limits && limits->idle_timeout_ms > 0 ? limits->idle_timeout_ms
	                                                   : FCGI_MUX_IDLE_TIMEOUT_MS;
	long long shortest = m->read_ms < m->idle_ms ? m->read_ms : m->idle_ms;
	m->sweep_ms = shortest / MUX_SWEEPS;
	if (m->sweep_ms < MUX_SWEEP_MIN_MS)
		m->sweep_ms = MUX_SWEEP_MIN_MS;
	if (m->sweep_ms > MUX_SWEEP_MAX_MS)
		m->sweep_ms = MUX_SWEEP_MAX_MS;
	m->next_sweep = clock_ms() + m->sweep_ms;
	*out = NULL;
	int flags = fcntl(listen_fd, F_GETFL);
	if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		log_error("fastcgi: cannot make the listening socket non-blocking: %s",
		          strerror(errno));
		e = ERR_INTERNAL;
		goto out;
	}
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0) {
		log_error("fastcgi: epoll_create1: %s", strerror(errno));
		e = ERR_INTERNAL;
		goto out;
	}
	/* Processes sharing the socket: only one of them wakes per connection. */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
		log_error("fastcgi: epoll_ctl on the listening socket: %s", strerror(errno));
		e = ERR_INTERNAL;
		goto out;
	}
	*out = m;
	m = NULL;
out:
	fcgi_mux_free(m);
	return e;
}

void fcgi_mux_free(struct fcgi_mux *m)
{
	if (!m)
		return;
	while (m->conns) {
		struct mux_conn *c = m->conns;
		if (c->fd >= 0)
			close(c->fd);
		conn_free(c);
	}
	if (m->epfd >= 0)
		close(m->epfd);
	free(m);
}

/* Closes every connection past its deadline. */
static void sweep(struct fcgi_mux *m, long long now)
{
	struct mux_conn *next;
	for (struct mux_conn *c = m->conns; c; c = next) {
		next = c->next;
		if (c->fd < 0 || c->deadline == 0 || now < c->deadline)
			continue;
		log_info("fastcgi: closing a connection: %s timeout", c->reading ? "read" : "idle");
		m->stats.timed_out++;
		conn_close(c);
	}
}

size_t fcgi_mux_poll(struct fcgi_mux *m, int timeout_ms, struct fcgi_mux_req **reqs, size_t max)
{
	/* Input that waited for an answer comes first. */
	while (m->resume_head) {
		struct mux_conn *c = m->resume_head;
		m->resume_head = c->next_resume;
		conn_resume(c);
	}
	/* The wait ends in time for the next deadline check. */
	long long until_sweep = m->next_sweep - clock_ms();
	if (until_sweep < 0)
		until_sweep = 0;
	if (m->ready_head)
		timeout_ms = 0;
	else if (timeout_ms < 0 || timeout_ms > until_sweep)
		timeout_ms = (int)until_sweep;
	struct epoll_event events[MUX_EVENTS_MAX];
	int n = epoll_wait(m->epfd, events, MUX_EVENTS_MAX, timeout_ms);
	if (n < 0 && errno != EINTR)
		log_error("fastcgi: epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		struct mux_conn *c = events[i].data.ptr;
		uint32_t ev = events[i].events;
		if (!c) {
			accept_all(m);
			continue;
		}
		if (c->fd < 0)
			continue;
		if (ev & EPOLLERR) {
			conn_close(c);
			continue;
		}
		if ((ev & EPOLLOUT) && !conn_flush(c))
			continue;
		if (!(ev & (EPOLLIN | EPOLLHUP))) {
			conn_arm(c, clock_ms());
			continue;
		}
		if (c->ready || c->out) {
			/* Busy: the input waits for the answer; a hang-up means the
			 * answer will have nobody to go to. */
			if (ev & EPOLLHUP)
				conn_close(c);
			else
				conn_events(c, true);
			continue;
		}
		if (conn_read(c))
			conn_arm(c, clock_ms());
	}
	long long now = clock_ms();
	if (now >= m->next_sweep) {
		m->next_sweep = now + m->sweep_ms;
		sweep(m, now);
	}
	size_t got = 0;
	while (got < max && m->ready_head) {
		struct mux_conn *c = m->ready_head;
		m->ready_head = c->next_ready;
		if (!m->ready_head)
			m->ready_tail = NULL;
		c->ready = false;
		if (c->fd < 0) {
			if (!c->on_resume)
				conn_free(c);
			continue;
		}
		c->out = true;
		c->deadline = 0;
		m->stats.requests++;
		reqs[got++] = &c->req;
	}
	return got;
}

/* The CGI answer as an HTTP/1.1 response: its Status header becomes the
 * status line, and a Content-Length is added when it has none (so the
 * connection can carry the next request). */
static void http_answer(struct mux_conn *c, const char *data, size_t len)
{
	const char *sep = memmem(data, len, "\r\n\r\n", 4);
	size_t head = sep ? (size_t)(sep - data) + 2 : len, body = sep ? len - head - 2 : 0;
	const char *status = "200 OK";
	size_t status_len = 6;
	bool has_length = false;
	struct buf lines;
	buf_init(&lines);
	for (const char *p = data, *end = data + head; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n > 7 && strncasecmp(p, "Status:", 7) == 0) {
			status = p + 7;
			while (*status == ' ')
				status++;
			status_len = (size_t)(p + n - status);
		} else if (n > 0) {
			has_length |= n > 15 && strncasecmp(p, "Content-Length:", 15) == 0;
			buf_append(&lines, p, n);
			buf_puts(&lines, "\r\n");
		}
		p += n + 2;
	}
	bool no_body =
	    status_len >= 3 && (memcmp(status, "204", 3) == 0 || memcmp(status, "304", 3) == 0);
	buf_puts(&c->outb, "HTTP/1.1 ");
	buf_append(&c->outb, status, status_len);
	buf_puts(&c->outb, "\r\n");
	buf_append(&c->outb, lines.data, lines.len);
	if (!has_length && !no_body)
		buf_printf(&c->outb, "Content-Length: %zu\r\n", body);
	if (!c->req.keep)
		buf_puts(&c->outb, "Connection: close\r\n");
	buf_puts(&c->outb, "\r\n");
	if (!no_body && sep)
		buf_append(&c->outb, sep + 4, body);
	buf_clear(&lines);
}

void fcgi_mux_respond(struct fcgi_mux *m, struct fcgi_mux_req *r, const void *data, size_t len)
{
	struct mux_conn *c = r->conn;
	if (!c->out) {
		log_error("fastcgi: an answer for a request that is not out");
		return;
	}
	c->out = false;
	c->active = false;
	if (c->fd < 0) {
		conn_free(c);
		return;
	}
	if (len > FCGI_MUX_RESPONSE_MAX) {
		log_error("fastcgi: an answer of %zu bytes cut to %d", len, FCGI_MUX_RESPONSE_MAX);
		len = FCGI_MUX_RESPONSE_MAX;
	}
	if (c->proto == MUX_PROTO_HTTP) {
		http_answer(c, data, len);
	} else {
		const unsigned char *p = data;
		while (len > 0) {
			size_t chunk = len > MUX_CONTENT_MAX ? MUX_CONTENT_MAX : len;
			put_record(c, MUX_STDOUT, r->id, p, chunk);
			p += chunk;
			len -= chunk;
		}
		put_record(c, MUX_STDOUT, r->id, NULL, 0);
		put_end(c, r->id, MUX_REQUEST_COMPLETE);
	}
	if (!r->keep)
		c->close_after = true;
	if (!conn_flush(c))
		return;
	conn_arm(c, clock_ms());
	if (c->pending.len > 0 && !c->on_resume) {
		c->on_resume = true;
		c->next_resume = m->resume_head;
		m->resume_head = c;
	}
}

void fcgi_mux_stats(const struct fcgi_mux *m, struct fcgi_mux_stats *out)
{
	*out = m->stats;
}
