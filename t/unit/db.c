/* Unit tests for db against a private Postgres: parameters, NULLs, error
 * mapping, timeouts, transactions, prepared statements and reconnects. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg.h"
#include "data/db.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

static long count_rows(struct db *db, const char *sql)
{
	PGresult *res = NULL;
	long n = -1;
	if (db_exec(db, sql, 0, NULL, &res) != ERR_OK || !db_value(res, 0, 0) ||
	    !cfg_parse_long(db_value(res, 0, 0), 0, LONG_MAX, &n))
		n = -1;
	PQclear(res);
	return n;
}

static long backend_pid(struct db *db)
{
	return count_rows(db, "SELECT pg_backend_pid()");
}

static bool terminate(struct db *admin, long pid)
{
	char text[32];
	snprintf(text, sizeof(text), "%ld", pid);
	const char *params[] = {text};
	PGresult *res = NULL;
	bool done =
	    db_exec(admin, "SELECT pg_terminate_backend($1::int)", 1, params, &res) == ERR_OK &&
	    db_value(res, 0, 0) && strcmp(db_value(res, 0, 0), "t") == 0;
	PQclear(res);
	return done;
}

static void test_connect_errors(struct testenv_postgres *pg)
{
	struct db *x = (struct db *)1;
	char dsn[512];
	ok(db_connect("this is = not a dsn", 0, &x) == ERR_INVALID && x == NULL,
	   "a malformed DSN is invalid");
	ok(db_connect("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2", 0, &x) ==
	           ERR_UNAVAILABLE &&
	       x != NULL,
	   "no server is unavailable, and the handle is kept to reconnect later");
	long ms = 0;
	ok(x && db_ping(x, &ms) == ERR_UNAVAILABLE, "the kept handle tries again and fails again");
	db_close(x);
	snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d dbname=t_db user=t_db password=wrong",
	         pg->port);
	ok(db_connect(dsn, 0, &x) == ERR_UNAVAILABLE && x != NULL, "a wrong password is refused");
	db_close(x);
	x = NULL;
	ok(db_connect(pg->admin_dsn, -1, &x) == ERR_INVALID, "a negative timeout is invalid");
}

static void test_params(struct db *db)
{
	static const char *const hostile[] = {
	    "O'Brien",
	    "back\\slash\\",
	    "'; DROP TABLE items; --",
	    "\"double\" quotes",
	    "$1 $2 ?",
	    "percent %s %n %%",
	    "tab\tnew\nline\r",
	    "",
	    "unicode \xc3\xbc\xe2\x82\xac",
	    "E'\\x00'",
	    "); DELETE FROM items WHERE (1=1",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char name[32];
		PGresult *res = NULL;
		snprintf(name, sizeof(name), "n%zu", i);
		const char *ins[] = {name, hostile[i]};
		ok(db_exec(db, "INSERT INTO items (name, note) VALUES ($1, $2)", 2, ins, NULL) ==
		       ERR_OK,
		   "insert hostile string %zu", i);
		const char *sel[] = {hostile[i]};
		ok(db_exec(db, "SELECT name, note FROM items WHERE note = $1", 1, sel, &res) ==
		           ERR_OK &&
		       PQntuples(res) == 1,
		   "select by hostile string %zu", i);
		is_str(db_value(res, 0, 1), hostile[i], "hostile string comes back unchanged");
		is_str(db_value(res, 0, 0), name, "its row");
		PQclear(res);
	}
	is_long(count_rows(db, "SELECT count(*) FROM items"), sizeof(hostile) / sizeof(hostile[0]),
	        "the table survived every string");

	PGresult *res = NULL;
	const char *nul[] = {"with-null", NULL};
	ok(db_exec(db, "INSERT INTO items (name, note) VALUES ($1, $2)", 2, nul, NULL) == ERR_OK,
	   "NULL parameter");
	const char *by[] = {"with-null"};
	ok(db_exec(db, "SELECT note, name FROM items WHERE name = $1", 1, by, &res) == ERR_OK,
	   "read NULL back");
	ok(db_value(res, 0, 0) == NULL, "SQL NULL is a NULL value");
	ok(db_value(res, 0, 1) != NULL, "a value is not NULL");
	ok(db_value(res, 1, 0) == NULL && db_value(res, 0, 9) == NULL &&
	       db_value(res, -1, 0) == NULL,
	   "out of range is NULL");
	ok(db_value(NULL, 0, 0) == NULL, "no result is NULL");
	PQclear(res);

	res = NULL;
	const char *upd[] = {"changed"};
	ok(db_exec(db, "UPDATE items SET note = $1 WHERE name LIKE 'n%'", 1, upd, &res) == ERR_OK,
	   "update");
	is_long(db_affected(res), sizeof(hostile) / sizeof(hostile[0]), "rows affected");
	PQclear(res);

	struct pool *pool = pool_new();
	const char *vals[2];
	ok(db_row(db, "SELECT name, note FROM items WHERE name = $1", 1, by, pool, 2, vals) ==
	       ERR_OK,
	   "db_row finds a row");
	is_str(vals[0], "with-null", "db_row value");
	ok(vals[1] == NULL, "db_row NULL");
	const char *none[] = {"nobody"};
	ok(db_row(db, "SELECT name FROM items WHERE name = $1", 1, none, pool, 1, vals) ==
	       ERR_NOT_FOUND,
	   "db_row: no row is not found");
	ok(db_row(db, "SELECT name FROM items WHERE name = $1", 1, by, pool, 2, vals) ==
	       ERR_INTERNAL,
	   "db_row: too few columns");
	pool_free(pool);
}

static void test_errors(struct db *db)
{
	static const struct {
		const char *sql;
		const char *param;
		enum err want;
		const char *state;
	} cases[] = {
	    {"INSERT INTO items (name) VALUES ($1)", "n0", ERR_CONFLICT, "23505"},
	    {"SELECT $1::int", "12abc", ERR_INVALID, "22P02"},
	    {"SELECT 1 / $1::int", "0", ERR_INVALID, "22012"},
	    {"SELECT $1::varchar(2)::char(1)", "x", ERR_OK, ""},
	    {"SELEC $1", "x", ERR_INTERNAL, "42601"},
	    {"SELECT * FROM no_such_table WHERE x = $1", "x", ERR_INTERNAL, "42P01"},
	    {"INSERT INTO items (name) VALUES ($1)", NULL, ERR_INTERNAL, "23502"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *params[] = {cases[i].param};
		is_long(db_exec(db, cases[i].sql, 1, params, NULL), cases[i].want, cases[i].sql);
		is_str(db_last_sqlstate(db), cases[i].state, "its SQLSTATE");
	}
	const char *dup[] = {"n0"};
	ok(db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, dup, NULL) == ERR_CONFLICT &&
	       strcmp(db_last_constraint(db), "items_name_key") == 0,
	   "the violated constraint is named");
	ok(db_exec(db, "SELECT 1", -1, NULL, NULL) == ERR_INTERNAL, "negative parameter count");
	ok(db_exec(db, "SELECT $1", 1, NULL, NULL) == ERR_INTERNAL, "parameters missing");
	is_long(db_err_from_sqlstate("08006"), ERR_UNAVAILABLE, "08xxx is unavailable");
	is_long(db_err_from_sqlstate("57P01"), ERR_UNAVAILABLE, "admin shutdown is unavailable");
	is_long(db_err_from_sqlstate("57014"), ERR_TIMEOUT, "query_canceled is a timeout");
	is_long(db_err_from_sqlstate(NULL), ERR_INTERNAL, "no SQLSTATE is internal");
	is_long(db_err_from_sqlstate("2"), ERR_INTERNAL, "a short SQLSTATE is internal");
}

static void test_timeout(const char *dsn)
{
	struct db *db = NULL;
	PGresult *res = NULL;
	ok(db_connect(dsn, 200, &db) == ERR_OK, "connect with a 200 ms statement timeout");
	if (!db)
		return;
	ok(db_exec(db, "SHOW statement_timeout", 0, NULL, &res) == ERR_OK, "show the timeout");
	is_str(db_value(res, 0, 0), "200ms", "statement_timeout is set");
	PQclear(res);
	is_long(db_exec(db, "SELECT pg_sleep(30)", 0, NULL, NULL), ERR_TIMEOUT,
	        "a statement past the timeout is ERR_TIMEOUT");
	is_str(db_last_sqlstate(db), "57014", "query_canceled");
	ok(db_exec(db, "SELECT 1", 0, NULL, NULL) == ERR_OK, "the connection still works");
	db_close(db);
}

static void test_transactions(struct db *db)
{
	const char *a[] = {"tx-a"}, *b[] = {"tx-b"}, *c[] = {"tx-c"};
	long before = count_rows(db, "SELECT count(*) FROM items");

	ok(db_begin(db) == ERR_OK && db_in_transaction(db), "begin");
	ok(db_begin(db) == ERR_INTERNAL, "nested begin is refused");
	ok(db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, a, NULL) == ERR_OK,
	   "insert in tx");
	db_rollback(db);
	ok(!db_in_transaction(db), "rollback ends the transaction");
	is_long(count_rows(db, "SELECT count(*) FROM items"), before, "rollback undid the insert");

	ok(db_begin(db) == ERR_OK, "begin again");
	ok(db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, b, NULL) == ERR_OK,
	   "insert in tx");
	ok(db_commit(db) == ERR_OK && !db_in_transaction(db), "commit");
	is_long(count_rows(db, "SELECT count(*) FROM items"), before + 1, "commit kept the insert");

	ok(db_begin(db) == ERR_OK, "begin a failing transaction");
	ok(db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, c, NULL) == ERR_OK,
	   "good insert");
	ok(db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, b, NULL) == ERR_CONFLICT,
	   "duplicate insert fails");
	ok(db_exec(db, "SELECT 1", 0, NULL, NULL) == ERR_INTERNAL,
	   "an aborted transaction refuses more");
	is_long(db_commit(db), ERR_CONFLICT, "commit of a failed transaction returns its error");
	ok(!db_in_transaction(db), "and ends it");
	is_long(count_rows(db, "SELECT count(*) FROM items"), before + 1, "nothing of it was kept");
	ok(db_commit(db) == ERR_INTERNAL, "commit without begin is refused");
	db_rollback(db); /* harmless outside a transaction */
	ok(!db_in_transaction(db), "rollback outside a transaction is harmless");
}

static void test_prepared(struct db *db)
{
	static const char get[] = "SELECT note FROM items WHERE name = $1";
	const char *p[] = {"with-null"};
	PGresult *res = NULL;
	ok(db_exec_prepared(db, "get_note", get, 1, p, &res) == ERR_OK && PQntuples(res) == 1,
	   "prepared statement runs");
	PQclear(res);
	ok(db_exec_prepared(db, "get_note", get, 1, p, NULL) == ERR_OK, "and runs again");
	ok(db_exec_prepared(db, "get_note", "SELECT 2", 0, NULL, NULL) == ERR_INTERNAL,
	   "a name reused for other SQL is refused");
	ok(db_exec_prepared(db, "", get, 1, p, NULL) == ERR_INTERNAL, "an empty name is refused");
	ok(db_exec_prepared(db, "bad_sql", "SELEC 1", 0, NULL, NULL) == ERR_INTERNAL,
	   "a statement that does not prepare fails");
	ok(db_exec(db, "DEALLOCATE ALL", 0, NULL, NULL) == ERR_OK, "the server forgets statements");
	ok(db_exec_prepared(db, "get_note", get, 1, p, NULL) == ERR_OK,
	   "a forgotten statement is prepared again");
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A backend that stops answering (SIGSTOP) costs the deadline, not a hang;
 * what was sent is never sent again on a new connection. */
static void test_frozen(const char *dsn, const char *admin_dsn)
{
	struct db *db = NULL;
	if (!ok(db_connect(dsn, 300, &db) == ERR_OK, "connect with a 300 ms statement timeout"))
		return;
	long pid = backend_pid(db);
	ok(pid > 0 && kill((pid_t)pid, SIGSTOP) == 0, "its backend is frozen (SIGSTOP)");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *p[] = {"frozen-insert"};
	is_long(db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, p, NULL), ERR_UNAVAILABLE,
	        "a statement to a frozen server is unavailable");
	double took = seconds_since(&t0);
	ok(took >= 2.0 && took < 10.0, "after the deadline (%.1f s: 0.3 s + the 2 s margin)", took);
	kill((pid_t)pid, SIGCONT);
	ok(db_exec(db, "SELECT 1", 0, NULL, NULL) == ERR_OK, "the next call reconnects");
	/* The thawed backend may still run the INSERT it had received; either
	 * way it is never applied a second time by us. */
	struct timespec pause = {0, 300 * 1000000L};
	nanosleep(&pause, NULL);
	ok(count_rows(db, "SELECT count(*) FROM items WHERE name = 'frozen-insert'") <= 1,
	   "the timed-out INSERT was not sent again");

	/* A write that went out and lost its connection is not repeated. */
	db_close(db);
	db = NULL;
	if (!ok(db_connect(dsn, 10000, &db) == ERR_OK, "connect with a 10 s statement timeout"))
		return;
	long victim = backend_pid(db);
	pid_t child = fork();
	if (child == 0) {
		/* Its own connection: the parent's stays untouched. */
		struct db *killer = NULL;
		nanosleep(&pause, NULL);
		char text[32];
		snprintf(text, sizeof(text), "%ld", victim);
		const char *tp[] = {text};
		enum err e = db_connect(admin_dsn, 0, &killer);
		if (e == ERR_OK)
			e = db_exec(killer, "SELECT pg_terminate_backend($1::int)", 1, tp, NULL);
		_exit(e == ERR_OK ? 0 : 1);
	}
	const char *w[] = {"lost-write"};
	is_long(db_exec(db, "INSERT INTO items (name) SELECT $1 FROM pg_sleep(2)", 1, w, NULL),
	        ERR_UNAVAILABLE, "a write whose connection broke answers unavailable");
	int status = 0;
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "its backend was terminated meanwhile");
	is_long(count_rows(db, "SELECT count(*) FROM items WHERE name = 'lost-write'"), 0,
	        "and it was not sent again on the new connection");
	db_close(db);
}

static void test_reconnect(struct testenv_postgres *pg, struct db *db, struct db *admin)
{
	static const char get[] = "SELECT note FROM items WHERE name = $1";
	const char *p[] = {"with-null"};
	long pid = backend_pid(db);
	unsigned long gen = db_generation(db);

	ok(terminate(admin, pid), "backend terminated");
	ok(db_exec_prepared(db, "get_note", get, 1, p, NULL) == ERR_OK,
	   "a prepared statement works after the backend was killed");
	ok(db_generation(db) == gen + 1, "one reconnect happened");
	ok(backend_pid(db) != pid, "on a new backend");

	ok(db_begin(db) == ERR_OK, "begin before a kill");
	ok(terminate(admin, backend_pid(db)), "backend terminated inside a transaction");
	is_long(db_exec(db, "SELECT 1", 0, NULL, NULL), ERR_UNAVAILABLE,
	        "a lost transaction is unavailable, not retried");
	is_long(db_exec(db, "SELECT 1", 0, NULL, NULL), ERR_UNAVAILABLE, "until it is ended");
	is_long(db_commit(db), ERR_UNAVAILABLE, "its commit fails");
	ok(!db_in_transaction(db), "and ends it");
	ok(db_exec(db, "SELECT 1", 0, NULL, NULL) == ERR_OK, "then statements work again");

	ok(testenv_postgres_restart(pg), "server restarted");
	const char *w[] = {"after-restart"};
	ok(db_begin(db) == ERR_OK &&
	       db_exec(db, "INSERT INTO items (name) VALUES ($1)", 1, w, NULL) == ERR_OK &&
	       db_commit(db) == ERR_OK,
	   "a write after a server restart goes out on a new connection");
	ok(db_exec_prepared(db, "get_note", get, 1, p, NULL) == ERR_OK,
	   "prepared statement after a server restart");
	long ms = -1;
	ok(db_ping(admin, &ms) == ERR_OK && ms >= 0, "the admin connection also recovers (ping)");
	ok(db_conn(db) != NULL && PQstatus(db_conn(db)) == CONNECTION_OK, "db_conn is live");

	testenv_postgres_stop(pg);
	is_long(db_exec(db, "SELECT 1", 0, NULL, NULL), ERR_UNAVAILABLE,
	        "a stopped server is unavailable");
	is_long(db_ping(db, &ms), ERR_UNAVAILABLE, "ping says so too");
}

int main(void)
{
	struct testenv_postgres pg;
	struct db *db = NULL, *admin = NULL;
	char dsn[TESTENV_DSN_MAX];
	PGresult *res = NULL;

	log_init("t-db", LOG_LEVEL_INFO);
	if (!ok(testenv_postgres_start(&pg), "private Postgres starts"))
		return tap_done();
	if (!ok(testenv_postgres_create_db(&pg, "t_db", "t-db-password", dsn, sizeof(dsn)),
	        "database created") ||
	    !ok(db_connect(dsn, 5000, &db) == ERR_OK, "connect as the service role") ||
	    !ok(db_connect(pg.admin_dsn, 0, &admin) == ERR_OK, "connect as the superuser"))
		goto out;
	ok(db_generation(db) == 1, "first connection");
	ok(db_exec(db, "SELECT current_setting('application_name')", 0, NULL, &res) == ERR_OK,
	   "read application_name");
	is_str(db_value(res, 0, 0), "db", "application_name is the program's name");
	PQclear(res);
	ok(db_exec(
	       db,
	       "CREATE TABLE items (id serial PRIMARY KEY, name text UNIQUE NOT NULL, note text)",
	       0, NULL, NULL) == ERR_OK,
	   "create a table");
	test_connect_errors(&pg);
	test_params(db);
	test_errors(db);
	test_timeout(dsn);
	test_transactions(db);
	test_prepared(db);
	test_frozen(dsn, pg.admin_dsn);
	test_reconnect(&pg, db, admin);
out:
	db_close(db);
	db_close(admin);
	testenv_postgres_stop(&pg);
	return tap_done();
}
