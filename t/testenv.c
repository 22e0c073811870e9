/* testenv: start and stop private Postgres and Redis servers for tests. */
#include "testenv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

enum { TESTENV_SLOTS = 8 };

/* Servers still to stop at exit (struct testenv_postgres / testenv_redis). */
static void *testenv_pgs[TESTENV_SLOTS];
static void *testenv_rds[TESTENV_SLOTS];
static bool testenv_hooked;

static char testenv_word_stop[] = "stop";
static char testenv_word_start[] = "start";
static char testenv_rm[] = "/bin/rm";
static char testenv_rm_flags[] = "-rf";

/* fork + exec + wait only: also used from signal handlers. */
int testenv_run(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO); /* keep the TAP stream clean */
		execv(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void testenv_remove_tree(const char *dir)
{
	if (!dir[0] || getenv("LECTERN_TEST_KEEP"))
		return;
	char path[TESTENV_PATH_MAX];
	memcpy(path, dir, strnlen(dir, sizeof(path) - 1) + 1);
	path[sizeof(path) - 1] = '\0';
	char *argv[] = {testenv_rm, testenv_rm_flags, path, NULL};
	(void)testenv_run(argv);
}

static void testenv_pg_down(struct testenv_postgres *pg)
{
	if (pg->running) {
		char *argv[] = {pg->script, testenv_word_stop, pg->dir, NULL};
		(void)testenv_run(argv);
		pg->running = false;
	}
}

static void testenv_redis_down(struct testenv_redis *r)
{
	if (r->running) {
		char *argv[] = {r->script, testenv_word_stop, r->dir, NULL};
		(void)testenv_run(argv);
		r->running = false;
	}
}

static void testenv_cleanup(void)
{
	for (int i = 0; i < TESTENV_SLOTS; i++) {
		struct testenv_postgres *pg = testenv_pgs[i];
		struct testenv_redis *r = testenv_rds[i];
		if (pg) {
			testenv_pg_down(pg);
			testenv_remove_tree(pg->dir);
			testenv_pgs[i] = NULL;
		}
		if (r) {
			testenv_redis_down(r);
			testenv_remove_tree(r->dir);
			testenv_rds[i] = NULL;
		}
	}
}

static void testenv_on_signal(int sig)
{
	testenv_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void testenv_hook(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE};
	if (testenv_hooked)
		return;
	testenv_hooked = true;
	atexit(testenv_cleanup);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], testenv_on_signal);
}

static bool testenv_register(void **slots, void *p)
{
	testenv_hook();
	for (int i = 0; i < TESTENV_SLOTS; i++)
		if (!slots[i] || slots[i] == p) {
			slots[i] = p;
			return true;
		}
	tap_diag("testenv: more than %d servers", TESTENV_SLOTS);
	return false;
}

static void testenv_unregister(void **slots, void *p)
{
	for (int i = 0; i < TESTENV_SLOTS; i++)
		if (slots[i] == p)
			slots[i] = NULL;
}

int testenv_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(sa);
	int port = -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

bool testenv_tempdir(char *out, size_t size)
{
	/* Unix socket paths are short: fall back to /tmp for a long TMPDIR. */
	const char *base = getenv("TMPDIR");
	if (!base || !*base || strlen(base) > 60)
		base = "/tmp";
	if ((size_t)snprintf(out, size, "%s/ltest.XXXXXX", base) >= size)
		return false;
	if (!mkdtemp(out)) {
		tap_diag("testenv: mkdtemp %s: %s", out, strerror(errno));
		out[0] = '\0';
		return false;
	}
	if (chmod(out, 0755) != 0)
		return false;
	return true;
}

static bool testenv_script(const char *name, char *out, size_t size)
{
	const char *src = getenv("LECTERN_SRCDIR");
	if (!src || !*src) {
		tap_diag("testenv: LECTERN_SRCDIR is not set (run through make check)");
		return false;
	}
	if ((size_t)snprintf(out, size, "%s/tools/%s", src, name) >= size ||
	    access(out, X_OK) != 0) {
		tap_diag("testenv: %s is not executable", out);
		return false;
	}
	return true;
}

/* Runs argv and reads its standard output into out (NUL-terminated, last
 * newline dropped); false unless it exits 0. */
static bool testenv_capture(char *const argv[], char *out, size_t size)
{
	int fds[2];
	if (pipe(fds) != 0)
		return false;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(fds[0], out + n, size - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	close(fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool testenv_pg_up(struct testenv_postgres *pg)
{
	char *argv[] = {pg->script, testenv_word_start, pg->dir, pg->port_text, NULL};
	int rc = testenv_run(argv);
	if (rc != 0) {
		tap_diag("testenv: lab-postgres start failed (%d); see %s/postgres.log", rc,
		         pg->dir);
		return false;
	}
	pg->running = true;
	return true;
}

bool testenv_postgres_start(struct testenv_postgres *pg)
{
	static char word_dsn[] = "admin-dsn";
	memset(pg, 0, sizeof(*pg));
	if (!testenv_script("lab-postgres", pg->script, sizeof(pg->script)) ||
	    !testenv_register(testenv_pgs, pg) || !testenv_tempdir(pg->dir, sizeof(pg->dir)))
		return false;
	pg->port = testenv_free_port();
	if (pg->port < 0)
		return false;
	snprintf(pg->port_text, sizeof(pg->port_text), "%d", pg->port);
	setenv("LAB_PG_FAST", "1", 1);
	if (!testenv_pg_up(pg))
		return false;
	char *argv[] = {pg->script, word_dsn, pg->dir, pg->port_text, NULL};
	if (!testenv_capture(argv, pg->admin_dsn, sizeof(pg->admin_dsn))) {
		tap_diag("testenv: lab-postgres admin-dsn failed");
		return false;
	}
	return true;
}

bool testenv_postgres_restart(struct testenv_postgres *pg)
{
	testenv_pg_down(pg);
	return testenv_pg_up(pg);
}

void testenv_postgres_stop(struct testenv_postgres *pg)
{
	testenv_pg_down(pg);
	testenv_remove_tree(pg->dir);
	testenv_unregister(testenv_pgs, pg);
}

bool testenv_postgres_create_db(struct testenv_postgres *pg, const char *name, const char *password,
                                char *dsn, size_t dsn_size)
{
	static char word_create[] = "create-db";
	char n[64], p[TESTENV_SECRET_MAX];
	snprintf(n, sizeof(n), "%s", name);
	snprintf(p, sizeof(p), "%s", password);
	char *argv[] = {pg->script, word_create, pg->dir, pg->port_text, n, p, NULL};
	if (testenv_run(argv) != 0) {
		tap_diag("testenv: lab-postgres create-db %s failed", name);
		return false;
	}
	return (size_t)snprintf(dsn, dsn_size,
	                        "host=127.0.0.1 port=%d dbname=%s user=%s password=%s", pg->port,
	                        name, name, password) < dsn_size;
}

static bool testenv_redis_up(struct testenv_redis *r)
{
	char *argv[] = {r->script, testenv_word_start, r->dir, r->port_text, r->password, NULL};
	int rc = testenv_run(argv);
	if (rc != 0) {
		tap_diag("testenv: lab-redis start failed (%d); see %s/redis.log", rc, r->dir);
		return false;
	}
	r->running = true;
	return true;
}

bool testenv_redis_start(struct testenv_redis *r)
{
	unsigned char raw[12];
	memset(r, 0, sizeof(*r));
	if (!testenv_script("lab-redis", r->script, sizeof(r->script)) ||
	    !testenv_register(testenv_rds, r) || !testenv_tempdir(r->dir, sizeof(r->dir)))
		return false;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(r->password + 2 * i, 3, "%02x", raw[i]);
	r->port = testenv_free_port();
	if (r->port < 0)
		return false;
	snprintf(r->port_text, sizeof(r->port_text), "%d", r->port);
	snprintf(r->url, sizeof(r->url), "redis://:%s@127.0.0.1:%d", r->password, r->port);
	return testenv_redis_up(r);
}

bool testenv_redis_restart(struct testenv_redis *r)
{
	testenv_redis_down(r);
	return testenv_redis_up(r);
}

void testenv_redis_stop(struct testenv_redis *r)
{
	testenv_redis_down(r);
	testenv_remove_tree(r->dir);
	testenv_unregister(testenv_rds, r);
}
