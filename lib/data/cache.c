/* cache: one hiredis connection per process, with timeouts, AUTH, SELECT and
 * one reconnect per command after an I/O error. */
#include "data/cache.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"

enum { CACHE_DB_MAX = 1 << 20, CACHE_VERB_MAX = 32 };

struct cache {
	char host[CACHE_HOST_MAX + 1];
	int port;
	long db;
	char user[CACHE_SECRET_MAX + 1];     /* "" = AUTH with the password alone */
	char password[CACHE_SECRET_MAX + 1]; /* "" = no AUTH */
	struct timeval timeout;
	redisContext *ctx; /* NULL after a failure, until the next command */
	unsigned long generation;
};

static int cache_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Copies src[0..len) into dst, decoding %XX; false if malformed, too long or
 * holding a NUL. */
static bool cache_decode(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = src[i];
		if (ch == '%') {
			int hi = i + 2 < len ? cache_hex(src[i + 1]) : -1;
			int lo = hi >= 0 ? cache_hex(src[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= size)
			return false;
		dst[n++] = ch;
	}
	dst[n] = '\0';
	return true;
}

/* Parses redis://[[user]:password@]host[:port][/db] into c. */
static bool cache_parse_url(struct cache *c, const char *url)
{
	static const char scheme[] = "redis://";
	char text[CACHE_URL_MAX + 1];
	size_t len = strlen(url);

	if (len > CACHE_URL_MAX || strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		return false;
	memcpy(text, url, len + 1);
	char *p = text + sizeof(scheme) - 1;
	char *at = strrchr(p, '@');
	if (at) {
		*at = '\0';
		char *colon = strchr(p, ':');
		const char *pw = colon ? colon + 1 : p;
		if (colon && !cache_decode(c->user, sizeof(c->user), p, (size_t)(colon - p)))
			return false;
		if (!cache_decode(c->password, sizeof(c->password), pw, strlen(pw)))
			return false;
		explicit_bzero(text, (size_t)(at - text));
		p = at + 1;
	}
	char *slash = strchr(p, '/');
	c->db = 0;
	if (slash) {
		*slash = '\0';
		if (slash[1] && !cfg_parse_long(slash + 1, 0, CACHE_DB_MAX, &c->db))
			return false;
	}
	char *host = p, *port = NULL;
	if (*host == '[') {
		char *close = strchr(host, ']');
		if (!close || (close[1] != '\0' && close[1] != ':'))
			return false;
		*close = '\0';
		host++;
		port = close[1] == ':' ? close + 2 : NULL;
	} else {
		char *colon = strchr(host, ':');
		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	long portnum = 6379;
	if (port && !cfg_parse_long(port, 1, 65535, &portnum))
		return false;
	size_t hlen = strlen(host);
	if (hlen == 0 || hlen > CACHE_HOST_MAX || strpbrk(host, "?#%@ "))
		return false;
	memcpy(c->host, host, hlen + 1);
	c->port = (int)portnum;
	return true;
}

/* Opens a fresh connection: connect, AUTH, SELECT. */
static enum err cache_open(struct cache *c)
{
	enum err e = ERR_OK;
	redisReply *r = NULL;

	if (c->ctx) {
		redisFree(c->ctx);
		c->ctx = NULL;
	}
	redisContext *ctx = redisConnectWithTimeout(c->host, c->port, c->timeout);
	if (!ctx || ctx->err) {
		log_error("redis: cannot connect to %s:%d: %s", c->host, c->port,
		          ctx ? ctx->errstr : "out of memory");
		e = ERR_UNAVAILABLE;
		goto out;
	}
	if (redisSetTimeout(ctx, c->timeout) != REDIS_OK || redisEnableKeepAlive(ctx) != REDIS_OK) {
		log_error("redis: cannot set socket options: %s", ctx->errstr);
		e = ERR_UNAVAILABLE;
		goto out;
	}
	if (c->password[0]) {
		r = c->user[0] ? redisCommand(ctx, "AUTH %s %s", c->user, c->password)
		               : redisCommand(ctx, "AUTH %s", c->password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			log_error("redis: AUTH refused by %s:%d: %s", c->host, c->port,
			          r ? r->str : ctx->errstr);
			e = ERR_UNAVAILABLE;
			goto out;
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (c->db) {
		r = redisCommand(ctx, "SELECT %ld", c->db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			log_error("redis: SELECT %ld refused: %s", c->db, r ? r->str : ctx->errstr);
			e = ERR_UNAVAILABLE;
			goto out;
		}
	}
	c->ctx = ctx;
	ctx = NULL;
	c->generation++;
	if (c->generation > 1)
		log_info("redis: reconnected to %s:%d", c->host, c->port);
out:
	if (r)
		freeReplyObject(r);
	if (ctx)
		redisFree(ctx);
	return e;
}

enum err cache_connect(const char *url, long timeout_ms, struct cache **out)
{
	enum err e = ERR_OK;
	struct cache *c = NULL;
	struct sigaction old;

	*out = NULL;
	if (!url || timeout_ms < 1 || timeout_ms > CACHE_TIMEOUT_MAX_MS) {
		log_error("redis: no URL, or a timeout outside 1 to %d ms", CACHE_TIMEOUT_MAX_MS);
		e = ERR_INVALID;
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	/* The URL may hold a password: say only that it is malformed. */
	if (!cache_parse_url(c, url)) {
		log_error(
		    "redis: the URL is malformed (redis://[[user]:password@]host[:port][/db])");
		e = ERR_INVALID;
		goto out;
	}
	c->timeout.tv_sec = timeout_ms / 1000;
	c->timeout.tv_usec = (timeout_ms % 1000) * 1000;
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	/* As with the database: a server down now is retried on the next use. */
	e = cache_open(c);
	if (e && e != ERR_UNAVAILABLE)
		goto out;
	*out = c;
	c = NULL;
out:
	cache_close(c);
	return e;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	if (c->ctx)
		redisFree(c->ctx);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* The command's verb (the format up to its first space), safe to log. */
static const char *cache_verb(const char *fmt, char *buf, size_t size)
{
	size_t n = strcspn(fmt, " %");
	if (n >= size)
		n = size - 1;
	memcpy(buf, fmt, n);
	buf[n] = '\0';
	return buf;
}

static unsigned long cache_errors; /* cache_error_count */

unsigned long cache_error_count(void)
{
	return cache_errors;
}

static enum err cache_run(struct cache *c, redisReply **out, bool raw, const char *fmt, va_list ap)
{
	char verb[CACHE_VERB_MAX];
	enum err e = ERR_OK;
	redisReply *r = NULL;
	va_list again;

	va_copy(again, ap);
	if (out)
		*out = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!c->ctx && (e = cache_open(c)) != ERR_OK)
			goto out;
		if (attempt == 0)
			r = redisvCommand(c->ctx, fmt, ap);
		else
			r = redisvCommand(c->ctx, fmt, again);
		if (r)
			break;
		int kind = c->ctx->err;
		log_warn("redis: %s failed: %s", cache_verb(fmt, verb, sizeof(verb)),
		         c->ctx->errstr);
		/* A context that saw an error is unusable: start a new one. */
		redisFree(c->ctx);
		c->ctx = NULL;
		if (kind != REDIS_ERR_IO && kind != REDIS_ERR_EOF) {
			e = ERR_INTERNAL;
			goto out;
		}
		if (attempt == 1) {
			e = ERR_UNAVAILABLE;
			goto out;
		}
	}
	if (r->type == REDIS_REPLY_ERROR && !raw) {
		bool busy = strncmp(r->str, "LOADING", 7) == 0 || strncmp(r->str, "BUSY", 4) == 0 ||
		            strncmp(r->str, "MASTERDOWN", 10) == 0;
		log_error("redis: %s: %s", cache_verb(fmt, verb, sizeof(verb)), r->str);
		e = busy ? ERR_UNAVAILABLE : ERR_INTERNAL;
		goto out;
	}
	if (out) {
		*out = r;
		r = NULL;
	}
out:
	va_end(again);
	if (r)
		freeReplyObject(r);
	if (e != ERR_OK)
		cache_errors++;
	return e;
}

enum err cache_vcommand(struct cache *c, redisReply **out, const char *fmt, va_list ap)
{
	return cache_run(c, out, false, fmt, ap);
}

enum err cache_command(struct cache *c, redisReply **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum err e = cache_run(c, out, false, fmt, ap);
	va_end(ap);
	return e;
}

enum err cache_command_raw(struct cache *c, redisReply **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum err e = cache_run(c, out, true, fmt, ap);
	va_end(ap);
	return e;
}

enum err cache_ping(struct cache *c, long *latency_ms)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum err e = cache_command(c, NULL, "PING");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (latency_ms)
		*latency_ms =
		    (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
	return e;
}

unsigned long cache_generation(const struct cache *c)
{
	return c->generation;
}
