/* db: one libpq connection per process, reconnecting, with cached prepared
 * statements and tracked transactions. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include "core/clock.h"
#include "data/db.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/cfg.h"
#include "core/log.h"

enum { DB_SQLSTATE_LEN = 5, DB_LOG_SQL_MAX = 60, DB_MSG_MAX = 512 };

struct db_stmt {
	char *name;
	char *sql;
	unsigned long prepared_gen; /* connection generation it was prepared on; 0 = never */
};

struct db {
	char *dsn;
	long statement_timeout_ms;
	PGconn *conn;
	unsigned long generation; /* connections made so far */
	bool in_tx;
	bool tx_lost;    /* the connection broke inside the transaction */
	enum err tx_err; /* first failure inside the transaction */
	struct db_stmt stmts[DB_STMT_MAX];
	size_t nstmts;
	char sqlstate[DB_SQLSTATE_LEN + 1];
	char constraint[DB_STMT_NAME_MAX + 1];
};

/* libpq messages end in a newline and may span lines; keep the first line. */
static const char *db_first_line(const char *msg, char *buf, size_t size)
{
	if (!msg || !*msg)
		return "unknown error";
	size_t n = strcspn(msg, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, msg, n);
	buf[n] = '\0';
	return buf;
}

enum err db_err_from_sqlstate(const char *s)
{
	if (!s || strlen(s) != DB_SQLSTATE_LEN)
		return ERR_INTERNAL;
	if (strcmp(s, "23505") == 0)
		return ERR_CONFLICT;
	if (strcmp(s, "57014") == 0)
		return ERR_TIMEOUT;
	if (strncmp(s, "22", 2) == 0)
		return ERR_INVALID;
	/* 08: connection exceptions; 57P01-57P03: shutdown, crash, starting up. */
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P0", 4) == 0)
		return ERR_UNAVAILABLE;
	return ERR_INTERNAL;
}

static void db_set_string(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Server notices (RAISE NOTICE, warnings) go to the log, not to stderr. */
static void db_notice(void *arg, const char *message)
{
	char msg[DB_MSG_MAX];
	(void)arg;
	log_info("db: server says: %s", db_first_line(message, msg, sizeof(msg)));
}

/* How long one round trip may take on our side: the server's statement
 * timeout plus a margin. A server that cannot answer at all (stopped, a
 * dead network path) then costs seconds, never the kernel's TCP timeouts. */
static long db_deadline_ms(long statement_timeout_ms)
{
	return (statement_timeout_ms > 0 ? statement_timeout_ms : DB_NO_TIMEOUT_WAIT_MS) +
	       DB_DEADLINE_MARGIN_MS;
}

/* Collects the results of what was sent on conn, keeping the last, until
 * the deadline. NULL with *late when it passed; NULL or an error result when
 * the connection broke (PQstatus says so). */
static PGresult *db_collect(PGconn *conn, long long deadline, bool *late)
{
	PGresult *last = NULL;
	*late = false;
	for (;;) {
		while (PQisBusy(conn)) {
			long long left = deadline - clock_ms();
			if (left <= 0) {
				*late = true;
				PQclear(last);
				return NULL;
			}
			struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
			if (poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left) < 0 && errno != EINTR)
				return last;
			if (!PQconsumeInput(conn))
				break; /* broken: PQgetResult hands over the error */
		}
		PGresult *r = PQgetResult(conn);
		if (!r)
			return last;
		PQclear(last);
		last = r;
		if (PQstatus(conn) == CONNECTION_BAD)
			return last;
	}
}

/* Sends sql (no parameters: simple protocol, several statements allowed,
 * or with them: extended protocol) and collects its result in time. */
static PGresult *db_roundtrip(PGconn *conn, long timeout_ms, const char *sql, int nparams,
                              const char *const *params, bool *late)
{
	*late = false;
	int sent = nparams ? PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
	                   : PQsendQuery(conn, sql);
	if (!sent)
		return NULL;
	return db_collect(conn, clock_ms() + db_deadline_ms(timeout_ms), late);
}

/* Drops a connection that did not answer in time: it may hold a statement
 * that never finishes, and a cancel request would wait on the same server. */
static void db_drop(struct db *db, const char *what)
{
	log_error("db: no answer to %s within %ld ms: connection dropped", what,
	          db_deadline_ms(db->statement_timeout_ms));
	PQfinish(db->conn);
	db->conn = NULL;
	if (db->in_tx)
		db->tx_lost = true;
}

/* Opens a fresh connection, replacing any old one. */
static unsigned long db_errors; /* db_error_count */

unsigned long db_error_count(void)
{
	return db_errors;
}

static enum err db_open(struct db *db)
{
	char msg[DB_MSG_MAX];
	char timeout[16];
	char stmt_timeout[32];
	enum err e = ERR_OK;
	PGresult *res = NULL;

	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	snprintf(timeout, sizeof(timeout), "%d", DB_CONNECT_TIMEOUT_S);
	/* Later keywords win: the DSN (last) may override the defaults. TCP
	 * keepalives notice a vanished server while waiting for a result. */
	const char *const keys[] = {"connect_timeout",
	                            "fallback_application_name",
	                            "keepalives_idle",
	                            "keepalives_interval",
	                            "keepalives_count",
	                            "dbname",
	                            NULL};
	const char *const values[] = {
	    timeout, program_invocation_short_name, "30", "10", "3", db->dsn, NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	if (!conn) {
		log_error("db: cannot allocate a connection");
		e = ERR_UNAVAILABLE;
		goto out;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		log_error("db: cannot connect: %s",
		          db_first_line(PQerrorMessage(conn), msg, sizeof(msg)));
		e = ERR_UNAVAILABLE;
		goto out;
	}
	PQsetNoticeProcessor(conn, db_notice, NULL);
	snprintf(stmt_timeout, sizeof(stmt_timeout), "%ld", db->statement_timeout_ms);
	const char *params[] = {stmt_timeout};
	bool late = false;
	res = db_roundtrip(conn, db->statement_timeout_ms,
	                   "SELECT set_config('statement_timeout', $1, false)", 1, params, &late);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("db: cannot set statement_timeout: %s",
		          db_first_line(PQerrorMessage(conn), msg, sizeof(msg)));
		e = ERR_UNAVAILABLE;
		goto out;
	}
	db->conn = conn;
	conn = NULL;
	db->generation++;
	if (db->generation > 1)
		log_info("db: reconnected");
out:
	PQclear(res);
	if (conn)
		PQfinish(conn);
	if (e != ERR_OK)
		db_errors++;
	return e;
}

enum err db_connect(const char *dsn, long statement_timeout_ms, struct db **out)
{
	enum err e = ERR_OK;
	char *errmsg = NULL;
	struct db *db = NULL;

	*out = NULL;
	if (!dsn || statement_timeout_ms < 0) {
		log_error("db: no DSN or a negative statement timeout");
		e = ERR_INVALID;
		goto out;
	}
	/* Checked apart so a typo is not reported as an unreachable server; the
	 * parser's message may quote the DSN (and a password), so it is not logged. */
	PQconninfoOption *opts = PQconninfoParse(dsn, &errmsg);
	if (!opts) {
		log_error("db: the DSN is malformed");
		e = ERR_INVALID;
		goto out;
	}
	PQconninfoFree(opts);
	db = xcalloc(1, sizeof(*db));
	db->dsn = xstrdup(dsn);
	db->statement_timeout_ms = statement_timeout_ms;
	/* A server that is down now is not fatal: the handle reconnects on its
	 * next use, so a service can start before its database. */
	e = db_open(db);
	if (e && e != ERR_UNAVAILABLE)
		goto out;
	*out = db;
	db = NULL;
out:
	PQfreemem(errmsg);
	db_close(db);
	return e;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	for (size_t i = 0; i < db->nstmts; i++) {
		free(db->stmts[i].name);
		free(db->stmts[i].sql);
	}
	/* The DSN may hold a password: do not leave it in freed memory. */
	explicit_bzero(db->dsn, strlen(db->dsn));
	free(db->dsn);
	free(db);
}

/* Records and logs a failed statement once; returns its error. */
static enum err db_fail(struct db *db, const PGresult *res, const char *what, const char *sql)
{
	char msg[DB_MSG_MAX];
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!primary)
		primary = db_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn),
		                        msg, sizeof(msg));
	if (res && PQresultStatus(res) != PGRES_FATAL_ERROR &&
	    PQresultStatus(res) != PGRES_NONFATAL_ERROR)
		primary = "unexpected kind of result";
	db_set_string(db->sqlstate, sizeof(db->sqlstate), state);
	db_set_string(db->constraint, sizeof(db->constraint),
	              res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL);
	enum err e = db_err_from_sqlstate(state);
	if (e != ERR_CONFLICT)
		db_errors++;
	enum log_level level = e == ERR_CONFLICT  ? LOG_LEVEL_INFO
	                       : e == ERR_TIMEOUT ? LOG_LEVEL_WARN
	                                          : LOG_LEVEL_ERROR;
	log_write(level, "db: %s (SQLSTATE %s, %s %.*s)", primary, state ? state : "none", what,
	          DB_LOG_SQL_MAX, sql);
	if (db->in_tx && db->tx_err == ERR_OK)
		db->tx_err = e;
	return e;
}

static struct db_stmt *db_stmt_find(struct db *db, const char *name, const char *sql, enum err *e)
{
	size_t len = strlen(name);
	*e = ERR_OK;
	if (len == 0 || len > DB_STMT_NAME_MAX) {
		log_error("db: statement name of %zu bytes (1 to %d)", len, DB_STMT_NAME_MAX);
		*e = ERR_INTERNAL;
		return NULL;
	}
	for (size_t i = 0; i < db->nstmts; i++) {
		if (strcmp(db->stmts[i].name, name) != 0)
			continue;
		if (strcmp(db->stmts[i].sql, sql) != 0) {
			log_error("db: statement %s is used for two different SQL texts", name);
			*e = ERR_INTERNAL;
			return NULL;
		}
		return &db->stmts[i];
	}
	if (db->nstmts == DB_STMT_MAX) {
		log_error("db: more than %d prepared statements", DB_STMT_MAX);
		*e = ERR_INTERNAL;
		return NULL;
	}
	struct db_stmt *st = &db->stmts[db->nstmts++];
	st->name = xstrdup(name);
	st->sql = xstrdup(sql);
	st->prepared_gen = 0;
	return st;
}

/* Sends one statement on the current connection, preparing st first if
 * this connection has not seen it, and collects its result in time. *sent
 * says whether the statement itself went out (if not, sending it again
 * cannot apply it twice); *late that the deadline passed. */
static PGresult *db_send(struct db *db, struct db_stmt *st, const char *sql, int nparams,
                         const char *const *params, bool *sent, bool *late)
{
	long long deadline = clock_ms() + db_deadline_ms(db->statement_timeout_ms);
	*sent = *late = false;
	if (st && st->prepared_gen != db->generation) {
		if (!PQsendPrepare(db->conn, st->name, st->sql, 0, NULL))
			return NULL;
		PGresult *res = db_collect(db->conn, deadline, late);
		if (*late || PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		st->prepared_gen = db->generation;
	}
	int ok = st ? PQsendQueryPrepared(db->conn, st->name, nparams, params, NULL, NULL, 0)
	            : PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!ok)
		return NULL;
	*sent = true;
	return db_collect(db->conn, deadline, late);
}

/* Whether running sql twice is harmless: BEGIN, or a plain SELECT (db.h). */
static bool db_repeatable(const char *sql)
{
	while (*sql == ' ' || *sql == '\t' || *sql == '\n')
		sql++;
	if (strcasecmp(sql, "BEGIN") == 0)
		return true;
	return strncasecmp(sql, "SELECT", 6) == 0 && strcasestr(sql, "FOR UPDATE") == NULL &&
	       strcasestr(sql, "nextval") == NULL;
}

static bool db_alive(const struct db *db)
{
	return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

/* Makes sure a usable connection exists before a statement. */
static enum err db_ready(struct db *db)
{
	if (db->tx_lost) {
		log_error("db: the transaction was lost with its connection; roll back first");
		return ERR_UNAVAILABLE;
	}
	/* Outside a transaction, notice a connection the server already closed
	 * (a restart, an idle timeout) before a statement goes out on it: one
	 * that went out cannot always be sent again (see db_run). */
	if (db_alive(db) && !db->in_tx && !PQconsumeInput(db->conn))
		log_info("db: the server closed the connection; reconnecting");
	if (db_alive(db))
		return ERR_OK;
	if (db->in_tx) {
		db->tx_lost = true;
		log_error("db: the connection was lost inside a transaction");
		return ERR_UNAVAILABLE;
	}
	return db_open(db);
}

static enum err db_run(struct db *db, struct db_stmt *st, const char *sql, int nparams,
                       const char *const *params, PGresult **out)
{
	char msg[DB_MSG_MAX];
	const char *what = st ? st->name : "sql";

	if (out)
		*out = NULL;
	if (nparams < 0 || nparams > DB_PARAMS_MAX || (nparams > 0 && !params)) {
		log_error("db: %d parameters (0 to %d) for %s", nparams, DB_PARAMS_MAX, what);
		return ERR_INTERNAL;
	}
	for (int attempt = 0;; attempt++) {
		enum err e = db_ready(db);
		if (e)
			return e;
		bool sent = false, late = false;
		PGresult *res = db_send(db, st, sql, nparams, params, &sent, &late);
		if (late) {
			db_drop(db, what);
			return ERR_UNAVAILABLE;
		}
		ExecStatusType status = PQresultStatus(res);
		if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
			db->sqlstate[0] = db->constraint[0] = '\0';
			if (out)
				*out = res;
			else
				PQclear(res);
			return ERR_OK;
		}
		if (PQstatus(db->conn) == CONNECTION_BAD) {
			log_warn("db: connection lost: %s",
			         db_first_line(res ? PQresultErrorMessage(res)
			                           : PQerrorMessage(db->conn),
			                       msg, sizeof(msg)));
			PQclear(res);
			if (db->in_tx) {
				db->tx_lost = true;
				return ERR_UNAVAILABLE;
			}
			/* Again only what cannot be applied twice: a statement that
			 * went out may have committed before the connection broke. */
			if (attempt == 0 && (!sent || db_repeatable(st ? st->sql : sql)))
				continue;
			return ERR_UNAVAILABLE;
		}
		/* 26000: the server forgot the statement (DISCARD ALL by a pooler). */
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (st && attempt == 0 && !db->in_tx && state && strcmp(state, "26000") == 0) {
			PQclear(res);
			st->prepared_gen = 0;
			continue;
		}
		e = db_fail(db, res, what, st ? st->sql : sql);
		PQclear(res);
		return e;
	}
}

enum err db_exec(struct db *db, const char *sql, int nparams, const char *const *params,
                 PGresult **out)
{
	return db_run(db, NULL, sql, nparams, params, out);
}

enum err db_exec_prepared(struct db *db, const char *name, const char *sql, int nparams,
                          const char *const *params, PGresult **out)
{
	enum err e;
	if (out)
		*out = NULL;
	struct db_stmt *st = db_stmt_find(db, name, sql, &e);
	if (!st)
		return e;
	return db_run(db, st, sql, nparams, params, out);
}

enum err db_exec_script(struct db *db, const char *sql)
{
	enum err e = db_ready(db);
	if (e)
		return e;
	bool late = false;
	PGresult *res = db_roundtrip(db->conn, db->statement_timeout_ms, sql, 0, NULL, &late);
	if (late) {
		db_drop(db, "a script");
		return ERR_UNAVAILABLE;
	}
	ExecStatusType status = PQresultStatus(res);
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
	    status == PGRES_EMPTY_QUERY) {
		db->sqlstate[0] = db->constraint[0] = '\0';
		e = ERR_OK;
	} else if (PQstatus(db->conn) == CONNECTION_BAD) {
		log_warn("db: connection lost while running a script");
		if (db->in_tx)
			db->tx_lost = true;
		e = ERR_UNAVAILABLE;
	} else {
		e = db_fail(db, res, "script", sql);
	}
	PQclear(res);
	return e;
}

enum err db_row(struct db *db, const char *sql, int nparams, const char *const *params,
                struct pool *pool, int ncols, const char **values)
{
	PGresult *res = NULL;
	enum err e = ERR_OK;

	if (ncols < 1 || ncols > DB_ROW_COLS_MAX) {
		log_error("db: %d columns asked of a row (1 to %d)", ncols, DB_ROW_COLS_MAX);
		return ERR_INTERNAL;
	}
	e = db_exec(db, sql, nparams, params, &res);
	if (e)
		goto out;
	if (PQntuples(res) == 0) {
		e = ERR_NOT_FOUND;
		goto out;
	}
	if (PQnfields(res) < ncols) {
		log_error("db: %d columns asked of a row of %d (%.*s)", ncols, PQnfields(res),
		          DB_LOG_SQL_MAX, sql);
		e = ERR_INTERNAL;
		goto out;
	}
	for (int i = 0; i < ncols; i++)
		values[i] = PQgetisnull(res, 0, i) ? NULL
		                                   : pool_strndup(pool, PQgetvalue(res, 0, i),
		                                                  (size_t)PQgetlength(res, 0, i));
out:
	PQclear(res);
	return e;
}

enum err db_begin(struct db *db)
{
	if (db->in_tx) {
		log_error("db: BEGIN inside a transaction");
		return ERR_INTERNAL;
	}
	enum err e = db_exec(db, "BEGIN", 0, NULL, NULL);
	if (e)
		return e;
	db->in_tx = true;
	db->tx_lost = false;
	db->tx_err = ERR_OK;
	return ERR_OK;
}

static void db_tx_end(struct db *db)
{
	db->in_tx = false;
	db->tx_lost = false;
	db->tx_err = ERR_OK;
}

enum err db_commit(struct db *db)
{
	enum err e = ERR_OK;
	PGresult *res = NULL;

	if (!db->in_tx) {
		log_error("db: COMMIT outside a transaction");
		return ERR_INTERNAL;
	}
	if (db->tx_lost) {
		db_tx_end(db);
		return ERR_UNAVAILABLE;
	}
	if (db->tx_err || PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
		/* Postgres would answer COMMIT of a failed transaction with ROLLBACK. */
		e = db->tx_err ? db->tx_err : ERR_INTERNAL;
		log_warn("db: COMMIT of a failed transaction: rolled back");
		db_rollback(db);
		return e;
	}
	e = db_exec(db, "COMMIT", 0, NULL, &res);
	if (e == ERR_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_error("db: COMMIT answered %s", PQcmdStatus(res));
		e = ERR_INTERNAL;
	}
	PQclear(res);
	/* Whatever COMMIT answered, the transaction is over. */
	db_tx_end(db);
	return e;
}

void db_rollback(struct db *db)
{
	if (db_alive(db) && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		bool late = false;
		PGresult *res =
		    db_roundtrip(db->conn, db->statement_timeout_ms, "ROLLBACK", 0, NULL, &late);
		if (late)
			db_drop(db, "ROLLBACK");
		else if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		         PQstatus(db->conn) != CONNECTION_BAD)
			log_warn("db: ROLLBACK failed: %s", PQresultErrorMessage(res));
		PQclear(res);
	}
	db_tx_end(db);
}

enum err db_end(struct db *db, enum err e)
{
	if (e == ERR_OK)
		return db_commit(db);
	db_rollback(db);
	return e;
}

bool db_in_transaction(const struct db *db)
{
	return db->in_tx;
}

PGconn *db_conn(struct db *db)
{
	if (!db->in_tx && !db_alive(db) && db_open(db) != ERR_OK)
		return NULL;
	return db->conn;
}

unsigned long db_generation(const struct db *db)
{
	return db->generation;
}

enum err db_ping(struct db *db, long *latency_ms)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum err e = db_exec(db, "SELECT 1", 0, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (latency_ms)
		*latency_ms =
		    (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
	return e;
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}
const char *db_last_constraint(const struct db *db)
{
	return db->constraint;
}

const char *db_value(const PGresult *res, int row, int col)
{
	if (!res || row < 0 || col < 0 || row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

long db_affected(const PGresult *res)
{
	long n = 0;
	/* PQcmdTuples takes a non-const result in libpq 15. */
	const char *text = res ? PQcmdTuples((PGresult *)res) : "";
	if (!*text || !cfg_parse_long(text, 0, LONG_MAX, &n))
		return 0;
	return n;
}
