/* lectern-admin: database administration from the command line.
 *
 *   lectern-admin migrate SERVICE   apply sql/SERVICE/NNN-name.sql not yet applied
 *   lectern-admin status SERVICE    list applied and pending migrations
 *   lectern-admin topics            create the event topics on a real Kafka cluster
 *
 * Settings come from the environment (LECTERN_DB_DSN, LECTERN_SQL_DIR, ...).
 * Exit status 0 on success, 1 on any failure. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"
#include "data/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "data/migrate.h"
#include "events/topics.h"

static const char *s_dsn;
static const char *s_sql_dir;
static const char *s_log_level;
static long s_timeout_ms;

static const struct cfg_var admin_vars[] = {
    {"LECTERN_DB_DSN", CFG_STRING, NULL, 1, 0, CFG_REQUIRED | CFG_SECRET | CFG_NONEMPTY, &s_dsn,
     "libpq DSN of the service's database", NULL},
    {"LECTERN_SQL_DIR", CFG_STRING, LECTERN_DATADIR "/sql", 1, 0, CFG_NONEMPTY, &s_sql_dir,
     "directory holding SERVICE/NNN-name.sql migrations", NULL},
    {"LECTERN_LOG_LEVEL", CFG_STRING, "info", 4, 5, CFG_NONEMPTY, &s_log_level,
     "debug, info, warn or error", NULL},
    {"LECTERN_MIGRATE_TIMEOUT_MS", CFG_INT, "0", 0, 86400000, 0, &s_timeout_ms,
     "statement timeout while migrating, in ms (0 = none)", NULL},
};

static const char *s_bootstrap;
static long s_replication;
static long s_topics_timeout_ms;

/* The topics command talks to Kafka, not to a database. */
static const struct cfg_var topics_vars[] = {
    {"LECTERN_KAFKA_BOOTSTRAP", CFG_STRING, NULL, 1, 0, CFG_REQUIRED | CFG_NONEMPTY, &s_bootstrap,
     "host:port[,host:port...] of the Kafka brokers", NULL},
    {"LECTERN_KAFKA_REPLICATION", CFG_INT, "3", 1, 16, 0, &s_replication,
     "replication factor of the topics created", NULL},
    {"LECTERN_KAFKA_ADMIN_TIMEOUT_MS", CFG_INT, "30000", 1000, 600000, 0, &s_topics_timeout_ms,
     "how long topic creation may take, in ms", NULL},
};

/* Creates every topic of the event table (and its dead-letter topic). */
static int admin_topics(void)
{
	if (cfg_load(topics_vars, CFG_COUNT(topics_vars)) != ERR_OK) {
		fprintf(stderr, "lectern-admin: bad settings (see the log lines above)\n");
		return 1;
	}
	enum err e = topics_create_all(s_bootstrap, (int)s_replication, (int)s_topics_timeout_ms);
	if (e != ERR_OK) {
		fprintf(stderr, "lectern-admin: creating topics failed (%s); see the log above\n",
		        err_code(e));
		return 1;
	}
	printf("lectern-admin: every topic exists\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: lectern-admin COMMAND SERVICE\n"
	           "\n"
	           "commands:\n"
	           "  migrate SERVICE   apply the service's pending migrations, in order\n"
	           "  status SERVICE    list applied and pending migrations\n"
	           "  topics            create the event topics and their .dlq topics on Kafka\n"
	           "                    (LECTERN_KAFKA_BOOTSTRAP, LECTERN_KAFKA_REPLICATION)\n"
	           "  --help            this text\n"
	           "  --version         the version\n"
	           "\n"
	           "settings (environment):\n");
	for (size_t i = 0; i < CFG_COUNT(admin_vars); i++)
		fprintf(f, "  %-28s %s%s%s%s\n", admin_vars[i].name, admin_vars[i].help,
		        admin_vars[i].fallback ? " (default: " : "",
		        admin_vars[i].fallback ? admin_vars[i].fallback : "",
		        admin_vars[i].fallback ? ")" : "");
}

/* Prints applied and pending migrations; false if a file changed or failed. */
static bool admin_status(struct db *db, const char *service)
{
	struct migrate_file *files = NULL;
	size_t n = 0, pending = 0, changed = 0;
	PGresult *res = NULL;
	bool good = false;
	struct pool *pool = pool_new();

	if (migrate_list_files(s_sql_dir, service, &files, &n) != ERR_OK)
		goto out;
	const char *exists[1];
	if (db_row(
	        db,
	        "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN NULL ELSE 't' END",
	        0, NULL, pool, 1, exists) != ERR_OK)
		goto out;
	/* No table yet: nothing applied. */
	if (exists[0] &&
	    db_exec(db,
	            "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
	            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations ORDER BY version",
	            0, NULL, &res) != ERR_OK)
		goto out;
	int rows = res ? PQntuples(res) : 0;
	for (int r = 0; r < rows; r++) {
		const char *state = "applied";
		bool found = false;
		for (size_t i = 0; i < n; i++) {
			char v[16];
			snprintf(v, sizeof(v), "%d", files[i].version);
			if (strcmp(v, db_value(res, r, 0)) != 0)
				continue;
			found = true;
			if (strcmp(files[i].name, db_value(res, r, 1)) != 0 ||
			    strcmp(files[i].checksum, db_value(res, r, 2)) != 0) {
				state = "CHANGED";
				changed++;
			}
		}
		if (!found)
			state = "no-file";
		printf("%-8s %s  %s  sha256:%.12s\n", state, db_value(res, r, 1),
		       db_value(res, r, 3), db_value(res, r, 2));
	}
	for (size_t i = 0; i < n; i++) {
		bool applied = false;
		char v[16];
		snprintf(v, sizeof(v), "%d", files[i].version);
		for (int r = 0; r < rows && !applied; r++)
			applied = strcmp(v, db_value(res, r, 0)) == 0;
		if (!applied) {
			printf("%-8s %s  -  sha256:%.12s\n", "pending", files[i].name,
			       files[i].checksum);
			pending++;
		}
	}
	printf("%s: %d applied, %zu pending, %zu changed\n", service, rows, pending, changed);
	good = changed == 0;
out:
	PQclear(res);
	free(files);
	pool_free(pool);
	return good;
}

int main(int argc, char **argv)
{
	struct db *db = NULL;
	int status = 1;

	log_init("admin", LOG_LEVEL_INFO);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("lectern-admin %s\n", LECTERN_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "topics") == 0)
		return admin_topics();
	if (argc != 3 || (strcmp(argv[1], "migrate") != 0 && strcmp(argv[1], "status") != 0)) {
		usage(stderr);
		return 1;
	}
	const char *command = argv[1], *service = argv[2];
	if (cfg_load(admin_vars, CFG_COUNT(admin_vars)) != ERR_OK) {
		fprintf(stderr, "lectern-admin: bad settings (see the log lines above)\n");
		goto out;
	}
	int level = log_level_parse(s_log_level);
	if (level < 0) {
		fprintf(stderr,
		        "lectern-admin: LECTERN_LOG_LEVEL must be debug, info, warn or error\n");
		goto out;
	}
	log_init("admin", (enum log_level)level);
	if (db_connect(s_dsn, s_timeout_ms, &db) != ERR_OK) {
		fprintf(stderr, "lectern-admin: cannot connect to the database (see the log)\n");
		goto out;
	}
	if (strcmp(command, "migrate") == 0) {
		enum err e = migrate_run(db, s_sql_dir, service);
		if (e) {
			fprintf(stderr,
			        "lectern-admin: migrating %s failed (%s); see the log above\n",
			        service, err_code(e));
			goto out;
		}
		printf("lectern-admin: %s is up to date\n", service);
	} else if (!admin_status(db, service)) {
		fprintf(stderr, "lectern-admin: status of %s failed or found changed files\n",
		        service);
		goto out;
	}
	status = 0;
out:
	db_close(db);
	return status;
}
