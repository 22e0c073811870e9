/* Unit tests for clock and fdio: monotonic milli- and microseconds, a sleep that
 * lasts, and whole writes through a pipe (also one larger than its buffer,
 * so the writes come out short) and to a closed reader. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "tap.h"

static void test_clock(void)
{
	long long t0 = clock_ms(), u0 = clock_us();
	ok(t0 > 0, "clock_ms counts");
	clock_sleep_ms(30);
	long long t1 = clock_ms(), u1 = clock_us();
	ok(t1 - t0 >= 30, "clock_sleep_ms(30) sleeps at least 30 ms");
	ok(u1 - u0 >= 30000 && u1 / 1000 - t1 <= 1 && t1 - u1 / 1000 <= 1,
	   "clock_us counts the same time in microseconds");
	clock_sleep_ms(0);
	clock_sleep_ms(-5);
	ok(clock_ms() >= t1, "a sleep of 0 or less returns and time does not go back");
}

static void test_write_all(void)
{
	enum { BIG = 1 << 20 }; /* far more than a pipe holds */
	char *data = malloc(BIG), *got = malloc(BIG);
	if (!data || !got)
		abort();
	for (size_t i = 0; i < BIG; i++)
		data[i] = (char)(i * 31 + 7);
	int fds[2];
	if (pipe(fds) != 0)
		abort();
	pid_t kid = fork();
	if (kid == 0) {
		close(fds[0]);
		_exit(fd_write_all(fds[1], data, BIG) ? 0 : 1);
	}
	close(fds[1]);
	size_t have = 0;
	ssize_t n;
	while (have < BIG && (n = read(fds[0], got + have, BIG - have)) > 0)
		have += (size_t)n;
	close(fds[0]);
	int st = 0;
	waitpid(kid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fd_write_all writes 1 MiB through a pipe");
	ok(have == BIG && memcmp(data, got, BIG) == 0, "every byte, in order");

	if (pipe(fds) != 0)
		abort();
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	ok(!fd_write_all(fds[1], "x", 1) && errno == EPIPE,
	   "a pipe without a reader fails (EPIPE)");
	close(fds[1]);
	ok(fd_write_all(1, "", 0), "nothing to write succeeds");
	ok(!fd_write_all(-1, "x", 1) && errno == EBADF, "a bad descriptor fails (EBADF)");
	free(data);
	free(got);
}

int main(void)
{
	test_clock();
	test_write_all();
	return tap_done();
}
