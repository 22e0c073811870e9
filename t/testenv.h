/* testenv: private Postgres and Redis servers for C tests.
 *
 * Each server runs from tools/lab-postgres or tools/lab-redis (found through
 * $LECTERN_SRCDIR, which make check sets) in a fresh temporary directory on a
 * free port. Started servers are stopped and their directories removed at
 * exit, also when the test dies of a signal (set LECTERN_TEST_KEEP=1 to keep
 * the directories for a look at the logs). */
#ifndef LECTERN_TESTENV_H
#define LECTERN_TESTENV_H

#include <stdbool.h>
#include <stddef.h>

enum { TESTENV_PATH_MAX = 256, TESTENV_DSN_MAX = 512, TESTENV_SECRET_MAX = 64 };

struct testenv_postgres {
	char dir[TESTENV_PATH_MAX];    /* the cluster's directory (data/, run/, postgres.log) */
	char script[TESTENV_PATH_MAX]; /* tools/lab-postgres */
	char port_text[16];
	int port;
	char admin_dsn[TESTENV_DSN_MAX]; /* superuser over the unix socket */
	bool running;
};

struct testenv_redis {
	char dir[TESTENV_PATH_MAX];
	char script[TESTENV_PATH_MAX]; /* tools/lab-redis */
	char port_text[16];
	int port;
	char password[TESTENV_SECRET_MAX];
	char url[TESTENV_DSN_MAX]; /* redis://:password@127.0.0.1:port */
	bool running;
};

/* Starts a fast (fsync off) cluster; false (with a diagnostic) on failure.
 * pg must stay valid until testenv_postgres_stop or exit. */
bool testenv_postgres_start(struct testenv_postgres *pg);
/* Stops and starts the cluster again on the same port. */
bool testenv_postgres_restart(struct testenv_postgres *pg);
/* Stops the cluster and removes its directory (idempotent). */
void testenv_postgres_stop(struct testenv_postgres *pg);
/* Creates role and database name (owned by the role, password password) and
 * writes a TCP DSN for it into dsn. */
bool testenv_postgres_create_db(struct testenv_postgres *pg, const char *name, const char *password,
                                char *dsn, size_t dsn_size);

/* Starts Redis with a random password; r must stay valid as for Postgres. */
bool testenv_redis_start(struct testenv_redis *r);
/* Stops and starts Redis again on the same port (its data is gone). */
bool testenv_redis_restart(struct testenv_redis *r);
void testenv_redis_stop(struct testenv_redis *r);

/* A TCP port on 127.0.0.1 that was free a moment ago; -1 on failure. */
int testenv_free_port(void);
/* A fresh temporary directory, mode 0755 (the postgres user must reach it). */
bool testenv_tempdir(char *out, size_t size);
/* Removes a directory tree unless LECTERN_TEST_KEEP is set. */
void testenv_remove_tree(const char *dir);
/* Runs argv[0] (a path) with its stdout sent to stderr; its exit status or -1. */
int testenv_run(char *const argv[]);

#endif
