/* mem: allocation that aborts on exhaustion, and per-request pools.
 *
 * Out of memory is not an error we recover from: the process aborts and its
 * supervisor starts a fresh one. A pool owns every allocation made for one
 * request (or job) and frees them all at once with pool_free. */
#ifndef LECTERN_MEM_H
#define LECTERN_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

struct pool;

/* A new empty pool; free it with pool_free. */
struct pool *pool_new(void);
/* Frees the pool, everything allocated from it, and runs its cleanups. */
void pool_free(struct pool *p);
/* Zeroed memory owned by the pool. */
void *pool_alloc(struct pool *p, size_t n);
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);
/* A formatted string owned by the pool. */
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pool_vprintf(struct pool *p, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Runs fn(arg) when the pool is freed (last registered runs first); for
 * objects of other libraries (json_object_put, PQclear). */
void pool_on_free(struct pool *p, void (*fn)(void *), void *arg);
/* Bytes handed out by the pool so far (for limits and tests). */
size_t pool_used(const struct pool *p);

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_init(struct buf *b);
void buf_clear(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the contents to the caller (who frees them) and empties the buffer. */
char *buf_take(struct buf *b);

#endif
