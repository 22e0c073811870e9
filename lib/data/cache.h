/* cache: the process's one Redis connection (hiredis, synchronous), which
 * reconnects itself.
 *
 * The URL is redis://[[user]:password@]host[:port][/db] (password may be
 * %-encoded; port 6379 and db 0 by default). Connecting and every command are
 * bounded by the timeout. A command that fails on I/O (server gone, restarted,
 * timed out) reconnects and is sent once more. Connection failures are
 * ERR_UNAVAILABLE; error replies are ERR_INTERNAL, logged with Redis' message.
 * Connecting sets SIGPIPE to ignored if it was at its default, since hiredis
 * writes to sockets the server may have closed. */
#ifndef LECTERN_CACHE_H
#define LECTERN_CACHE_H

#include <hiredis/hiredis.h>
#include <stdarg.h>

#include "core/err.h"

enum {
	CACHE_URL_MAX = 1024,   /* longest URL */
	CACHE_HOST_MAX = 255,   /* longest host name */
	CACHE_SECRET_MAX = 256, /* longest user name or password */
	CACHE_TIMEOUT_MAX_MS = 60000
};

struct cache;

/* Connects, authenticates (AUTH) and selects the db. timeout_ms (1 to
 * CACHE_TIMEOUT_MAX_MS) bounds connect and each command. ERR_INVALID for a
 * malformed URL, ERR_UNAVAILABLE when the server cannot be reached or refuses
 * the password (*out is still set: it connects on its next use). Free
 * with cache_close. */
enum err cache_connect(const char *url, long timeout_ms, struct cache **out) MUST_CHECK;
/* Closes the connection and frees c (NULL is fine). */
void cache_close(struct cache *c);

/* Runs one command given as a hiredis format ("SET %s %b", key, data, len).
 * On success *out (may be NULL: reply dropped) is the reply, which the caller
 * frees with freeReplyObject. An error reply is ERR_INTERNAL. */
enum err cache_command(struct cache *c, redisReply **out, const char *fmt, ...) MUST_CHECK;
enum err cache_vcommand(struct cache *c, redisReply **out, const char *fmt, va_list ap) MUST_CHECK;
/* As cache_command, but an error reply is handed back (ERR_OK, type
 * REDIS_REPLY_ERROR) unlogged, for callers that expect some (NOSCRIPT). */
enum err cache_command_raw(struct cache *c, redisReply **out, const char *fmt, ...) MUST_CHECK;

/* Sends PING (reconnecting if needed) and reports how long it took. */
enum err cache_ping(struct cache *c, long *latency_ms) MUST_CHECK;
/* Counts connections made so far (1 after cache_connect). */
unsigned long cache_generation(const struct cache *c);
/* Failed commands and connects of this process so far, every client
 * together (an error reply asked for raw not counted). For metrics. */
unsigned long cache_error_count(void);

#endif
