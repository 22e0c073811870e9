/* Unit tests for mem: pools, cleanups and buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "tap.h"

static int cleaned;
static void count_cleanup(void *arg)
{
	cleaned += *(int *)arg;
}

int main(void)
{
	struct pool *p = pool_new();
	char *a = pool_strdup(p, "hello");
	is_str(a, "hello", "pool_strdup copies");
	char *big = pool_alloc(p, 100000);
	ok(big[0] == 0 && big[99999] == 0, "large allocations are zeroed");
	char *b = pool_strndup(p, "abcdef", 3);
	is_str(b, "abc", "pool_strndup cuts");
	is_str(a, "hello", "earlier allocations survive a large one");
	ok(((uintptr_t)pool_alloc(p, 3) % 16) == 0, "allocations are aligned");
	is_str(pool_printf(p, "%d-%s", 42, "x"), "42-x", "pool_printf formats");
	for (int i = 0; i < 10000; i++)
		pool_alloc(p, 37);
	ok(pool_used(p) >= 370000, "pool counts what it hands out");
	static int one = 1, ten = 10;
	pool_on_free(p, count_cleanup, &one);
	pool_on_free(p, count_cleanup, &ten);
	pool_free(p);
	is_long(cleaned, 11, "cleanups run when the pool is freed");
	/* In a child, so that a crash is a failed check, not a lost test. */
	pid_t child = fork();
	if (child == 0) {
		pool_free(NULL);
		_exit(cleaned == 11 ? 0 : 1);
	}
	int status = 0;
	ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0,
	   "pool_free(NULL) is harmless (a child that calls it exits cleanly)");

	struct buf buf;
	buf_init(&buf);
	buf_puts(&buf, "ab");
	buf_putc(&buf, 'c');
	buf_printf(&buf, "%05d", 7);
	buf_append(&buf, "\0z", 2);
	is_long(buf.len, 10, "buffer length counts NUL bytes");
	ok(memcmp(buf.data, "abc00007\0z", 10) == 0, "buffer holds every byte");
	char *taken = buf_take(&buf);
	ok(buf.data == NULL && buf.len == 0, "buf_take empties the buffer");
	free(taken);
	char *empty = buf_take(&buf);
	is_str(empty, "", "taking an empty buffer gives an empty string");
	free(empty);
	return tap_done();
}
