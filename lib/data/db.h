/* db: the process's one Postgres connection (libpq), which reconnects itself.
 *
 * Every statement takes text parameters ($1, $2, ...; NULL is SQL NULL) and
 * goes through the extended protocol, so values never become SQL text.
 * After a lost connection the next call reconnects. A statement that failed
 * because the connection broke is sent once more only outside a transaction
 * (inside one the transaction is gone and the caller must roll back), and
 * only when that cannot apply it twice: it never went out, or it is BEGIN or
 * a plain SELECT (not FOR UPDATE, no nextval). Anything else answers
 * ERR_UNAVAILABLE: it may have committed. A connection the server closed
 * while idle (a restart) is noticed before a statement goes out, and made
 * anew first.
 * Every round trip has a deadline on our side, the statement timeout plus
 * DB_DEADLINE_MARGIN_MS: a server that does not answer at all (stopped,
 * frozen, unreachable) costs that long, then the connection is dropped and
 * the call answers ERR_UNAVAILABLE (a JSON 503), never a hang.
 * Errors map to enum err:
 *   23505 unique_violation           -> ERR_CONFLICT
 *   57014 query_canceled (timeout)   -> ERR_TIMEOUT
 *   22xxx data exceptions            -> ERR_INVALID
 *   lost connection, 08xxx, 57P0x    -> ERR_UNAVAILABLE
 *   anything else                    -> ERR_INTERNAL
 * The server's message is logged once, where the error happens. */
#ifndef LECTERN_DB_H
#define LECTERN_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	DB_CONNECT_TIMEOUT_S = 5,      /* default connect_timeout unless the DSN has one */
	DB_STMT_MAX = 256,             /* prepared statement names per process */
	DB_STMT_NAME_MAX = 63,         /* longest statement name (Postgres' NAMEDATALEN - 1) */
	DB_PARAMS_MAX = 1000,          /* parameters of one statement */
	DB_ROW_COLS_MAX = 64,          /* columns db_row copies */
	DB_DEADLINE_MARGIN_MS = 2000,  /* our wait beyond the statement timeout */
	DB_NO_TIMEOUT_WAIT_MS = 600000 /* our wait when there is no statement timeout */
};

struct db;

/* Connects with a libpq DSN ("host=... dbname=..." or "postgresql://...").
 * statement_timeout_ms (0 = none) is SET on every (re)connect; the program's
 * name is the fallback application_name. ERR_UNAVAILABLE when the server
 * cannot be reached (*out is still set: it connects on its next use), ERR_INVALID for a malformed
 * DSN. Free with db_close. */
enum err db_connect(const char *dsn, long statement_timeout_ms, struct db **out) MUST_CHECK;
/* Closes the connection and frees db (NULL is fine). */
void db_close(struct db *db);

/* Runs one statement. out may be NULL; otherwise the caller PQclear()s *out
 * (set only on success). */
enum err db_exec(struct db *db, const char *sql, int nparams, const char *const *params,
                 PGresult **out) MUST_CHECK;
/* As db_exec, through a statement prepared under name on first use on each
 * connection (and again after a reconnect). A name always stands for the same
 * sql; reusing a name for other sql is ERR_INTERNAL. */
enum err db_exec_prepared(struct db *db, const char *name, const char *sql, int nparams,
                          const char *const *params, PGresult **out) MUST_CHECK;
/* Runs text that may hold several statements and no parameters (simple query
 * protocol; migrations). Never retried. */
enum err db_exec_script(struct db *db, const char *sql) MUST_CHECK;
/* Runs one statement that must return a row, and copies its first row's ncols
 * values into the pool (NULL for SQL NULL). ERR_NOT_FOUND when no row,
 * ERR_INTERNAL when the row has fewer than ncols columns. */
enum err db_row(struct db *db, const char *sql, int nparams, const char *const *params,
                struct pool *pool, int ncols, const char **values) MUST_CHECK;

/* Transactions: BEGIN, COMMIT and ROLLBACK with the state tracked. A commit
 * of a transaction in which a statement failed rolls back and returns that
 * statement's error. db_rollback always leaves db outside a transaction. */
enum err db_begin(struct db *db) MUST_CHECK;
enum err db_commit(struct db *db) MUST_CHECK;
void db_rollback(struct db *db);
/* Ends the transaction db_begin started: commits when e is ERR_OK, else
 * rolls back. Returns e, or the commit's error. The one tail of every
 * "begin, change, finish" sequence. */
enum err db_end(struct db *db, enum err e) MUST_CHECK;
/* True between db_begin and db_commit/db_rollback. */
bool db_in_transaction(const struct db *db);

/* The live connection (for LISTEN/NOTIFY and PQsocket); it changes after a
 * reconnect, when db_generation changes too (LISTEN again then). */
PGconn *db_conn(struct db *db);
/* Counts connections made so far (1 after db_connect). */
unsigned long db_generation(const struct db *db);
/* Runs SELECT 1 (reconnecting if needed) and reports how long it took. */
enum err db_ping(struct db *db, long *latency_ms) MUST_CHECK;
/* Errors of this process so far, every connection together: failed
 * connects and failed statements (conflicts, which callers expect, not
 * counted). For metrics. */
unsigned long db_error_count(void);

/* The SQLSTATE and constraint name of the last failed statement ("" if none). */
const char *db_last_sqlstate(const struct db *db);
const char *db_last_constraint(const struct db *db);

/* A value of a result; NULL for SQL NULL or out of range. Owned by res. */
const char *db_value(const PGresult *res, int row, int col);
/* Rows touched by an INSERT/UPDATE/DELETE (PQcmdTuples), 0 if none. */
long db_affected(const PGresult *res);

/* The enum err for a SQLSTATE (see above). */
enum err db_err_from_sqlstate(const char *sqlstate);

#endif
