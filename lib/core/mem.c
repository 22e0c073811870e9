/* mem: aborting allocators, arena-like pools and byte buffers. */
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mem_exhausted(size_t n)
{
	/* No logging machinery here: it may itself need memory. */
	fprintf(stderr, "level=fatal msg=\"out of memory allocating %zu bytes\"\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		mem_exhausted(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		mem_exhausted(count * size);
	return p;
}

void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);
	if (!p)
		mem_exhausted(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* A pool is a list of blocks; small allocations share a block, large ones
 * get their own. */
enum { POOL_BLOCK = 8192, POOL_ALIGN = 16 };

struct pool_block {
	struct pool_block *next;
	size_t used;
	size_t size;
	_Alignas(POOL_ALIGN) unsigned char data[];
};

struct pool_cleanup {
	struct pool_cleanup *next;
	void (*fn)(void *);
	void *arg;
};

struct pool {
	struct pool_block *blocks; /* head has free room, if any block does */
	struct pool_cleanup *cleanups;
	size_t handed_out;
};

struct pool *pool_new(void)
{
	return xcalloc(1, sizeof(struct pool));
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	while (p->cleanups) {
		struct pool_cleanup *c = p->cleanups;
		p->cleanups = c->next;
		c->fn(c->arg);
		free(c);
	}
	while (p->blocks) {
		struct pool_block *b = p->blocks;
		p->blocks = b->next;
		free(b);
	}
	free(p);
}

void *pool_alloc(struct pool *p, size_t n)
{
	size_t need = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (need < n)
		mem_exhausted(n);
	struct pool_block *b = p->blocks;
	if (!b || b->size - b->used < need) {
		size_t size = need > POOL_BLOCK / 4 ? need : POOL_BLOCK;
		b = xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		if (size == need && p->blocks) {
			/* A dedicated block goes behind the head to keep its free room. */
			b->next = p->blocks->next;
			p->blocks->next = b;
		} else {
			b->next = p->blocks;
			p->blocks = b;
		}
	}
	void *out = b->data + b->used;
	b->used += need;
	p->handed_out += n;
	memset(out, 0, n);
	return out;
}

char *pool_strdup(struct pool *p, const char *s)
{
	return pool_strndup(p, s, strlen(s));
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *out = pool_alloc(p, len + 1);
	memcpy(out, s, len);
	return out;
}

char *pool_vprintf(struct pool *p, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		mem_exhausted(0);
	char *out = pool_alloc(p, (size_t)n + 1);
	vsnprintf(out, (size_t)n + 1, fmt, again);
	va_end(again);
	return out;
}

char *pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *out = pool_vprintf(p, fmt, ap);
	va_end(ap);
	return out;
}

void pool_on_free(struct pool *p, void (*fn)(void *), void *arg)
{
	struct pool_cleanup *c = xmalloc(sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	c->next = p->cleanups;
	p->cleanups = c;
}

size_t pool_used(const struct pool *p)
{
	return p->handed_out;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_clear(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}
void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		mem_exhausted(0);
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	b->len += (size_t)n;
	va_end(again);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *buf_take(struct buf *b)
{
	char *out = b->data ? b->data : xstrdup("");
	buf_init(b);
	return out;
}
