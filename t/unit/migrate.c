/* Unit tests for migrate against a private Postgres: order, idempotence,
 * changed files refused, failing files rolled back, bad names, concurrency. */
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cfg.h"
#include "data/db.h"
#include "core/log.h"
#include "data/migrate.h"
#include "tap.h"
#include "testenv.h"

static char sql_dir[TESTENV_PATH_MAX];

static void put(const char *service, const char *name, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", sql_dir, service);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", sql_dir, service, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_diag("cannot write %s", path);
}

static void drop(const char *service, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s", sql_dir, service, name);
	unlink(path);
}

static long scalar(struct db *db, const char *sql)
{
	PGresult *res = NULL;
	long n = -1;
	if (db_exec(db, sql, 0, NULL, &res) != ERR_OK || !db_value(res, 0, 0) ||
	    !cfg_parse_long(db_value(res, 0, 0), LONG_MIN, LONG_MAX, &n))
		n = -1;
	PQclear(res);
	return n;
}

static void test_names(void)
{
	static const struct {
		const char *name;
		bool valid;
		int version;
	} cases[] = {
	    {"001-users.sql", true, 1},
	    {"010-add-index-2.sql", true, 10},
	    {"999-z.sql", true, 999},
	    {"000-zero.sql", false, 0},
	    {"1-users.sql", false, 0},
	    {"0001-users.sql", false, 0},
	    {"001_users.sql", false, 0},
	    {"001-Users.sql", false, 0},
	    {"001-.sql", false, 0},
	    {"001-x.SQL", false, 0},
	    {"001-x.sql.bak", false, 0},
	    {"001-../x.sql", false, 0},
	    {"001-x y.sql", false, 0},
	    {"001-x\n.sql", false, 0},
	    {"abc-x.sql", false, 0},
	    {"001-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sql", false, 0},
	    {"", false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int v = 0;
		char shown[96];
		bool got = migrate_parse_name(cases[i].name, &v);
		/* Control bytes would break the TAP line. */
		snprintf(shown, sizeof(shown), "%s", cases[i].name);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = '?';
		ok(got == cases[i].valid && (!got || v == cases[i].version), "name \"%s\" %s",
		   shown, cases[i].valid ? "accepted" : "refused");
	}
}

static void sha256_hex(const char *text, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char m001[] = "CREATE TABLE steps (id serial PRIMARY KEY, what text NOT NULL);\n"
                           "INSERT INTO steps (what) VALUES ('001');\n";
static const char m002[] = "CREATE TABLE items (id int PRIMARY KEY, v text);\n"
                           "INSERT INTO items VALUES (1, 'it''s; here');\n"
                           "INSERT INTO steps (what) VALUES ('002');\n";
static const char m010[] = "ALTER TABLE items ADD COLUMN w int;\n"
                           "INSERT INTO steps (what) VALUES ('010');\n";

static void test_apply(struct db *db)
{
	char want[65];
	PGresult *res = NULL;

	/* Written out of order: the version decides. */
	put("svc", "010-add-column.sql", m010);
	put("svc", "002-items.sql", m002);
	put("svc", "001-steps.sql", m001);
	put("svc", "README", "not a migration; never read\n");
	ok(migrate_run(db, sql_dir, "svc") == ERR_OK, "migrations apply");
	ok(db_exec(db, "SELECT string_agg(what, ',' ORDER BY id) FROM steps", 0, NULL, &res) ==
	       ERR_OK,
	   "read the order");
	is_str(db_value(res, 0, 0), "001,002,010", "applied in numeric order");
	PQclear(res);
	res = NULL;
	ok(db_exec(db,
	           "SELECT version, name, checksum, applied_at IS NOT NULL FROM schema_migrations "
	           "ORDER BY version",
	           0, NULL, &res) == ERR_OK &&
	       PQntuples(res) == 3,
	   "three rows in schema_migrations");
	is_str(db_value(res, 0, 1), "001-steps.sql", "name recorded");
	sha256_hex(m001, want);
	is_str(db_value(res, 0, 2), want, "checksum is the file's sha256");
	is_str(db_value(res, 2, 0), "10", "version recorded as a number");
	is_str(db_value(res, 2, 3), "t", "applied_at recorded");
	PQclear(res);

	ok(migrate_run(db, sql_dir, "svc") == ERR_OK, "a rerun succeeds");
	is_long(scalar(db, "SELECT count(*) FROM steps"), 3, "and applies nothing twice");

	struct migrate_file *files = NULL;
	size_t n = 0;
	ok(migrate_list_files(sql_dir, "svc", &files, &n) == ERR_OK && n == 3 &&
	       files[2].version == 10,
	   "files are listed in order");
	free(files);
}

static void test_failures(struct db *db)
{
	/* A failing file leaves nothing behind, and later files do not run. */
	put("svc", "011-half.sql",
	    "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELECT 1 / 0;\n");
	put("svc", "012-after.sql", "CREATE TABLE after_half (x int);\n");
	is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID,
	        "a failing migration fails (division by zero)");
	is_long(scalar(db, "SELECT count(*) FROM pg_class WHERE relname IN ('half', 'after_half')"),
	        0, "nothing of it or after it exists");
	is_long(scalar(db, "SELECT count(*) FROM schema_migrations"), 3, "and it is not recorded");
	ok(!db_in_transaction(db), "no transaction is left open");
	put("svc", "011-half.sql", "CREATE TABLE half (x int);\n");
	ok(migrate_run(db, sql_dir, "svc") == ERR_OK, "once fixed it applies");
	is_long(scalar(db, "SELECT count(*) FROM schema_migrations"), 5, "with the one after it");

	/* An applied file that changed stops everything before anything runs. */
	put("svc", "002-items.sql", "CREATE TABLE items (id int PRIMARY KEY);\n");
	put("svc", "013-new.sql", "CREATE TABLE newer (x int);\n");
	is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID, "a changed applied file is refused");
	is_long(scalar(db, "SELECT count(*) FROM pg_class WHERE relname = 'newer'"), 0,
	        "and no later file ran");
	put("svc", "002-items.sql", m002);
	drop("svc", "002-items.sql");
	put("svc", "002-renamed.sql", m002);
	is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID, "a renamed applied file is refused");
	drop("svc", "002-renamed.sql");
	put("svc", "002-items.sql", m002);
	ok(migrate_run(db, sql_dir, "svc") == ERR_OK, "restored, the new file applies");
	is_long(scalar(db, "SELECT count(*) FROM pg_class WHERE relname = 'newer'"), 1, "it ran");

	/* Bad names and directories. */
	static const char *const bad_files[] = {"14-short.sql", "014-Upper.sql", "014 space.sql"};
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		put("svc", bad_files[i], "SELECT 1;\n");
		is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID, bad_files[i]);
		drop("svc", bad_files[i]);
	}
	put("svc", "020-a.sql", "SELECT 1;\n");
	put("svc", "020-b.sql", "SELECT 1;\n");
	is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID,
	        "two files with one version are refused");
	drop("svc", "020-a.sql");
	drop("svc", "020-b.sql");
	put("svc", "021-nul.sql", "SELECT 1;\n");
	{
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/svc/021-nul.sql", sql_dir);
		int fd = open(path, O_WRONLY | O_APPEND);
		ok(fd >= 0 && write(fd, "\0x", 2) == 2, "append a NUL byte");
		close(fd);
	}
	is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID, "a file with a NUL byte is refused");
	drop("svc", "021-nul.sql");
	{
		char target[PATH_MAX], link_path[PATH_MAX];
		snprintf(target, sizeof(target), "%s/svc/013-new.sql", sql_dir);
		snprintf(link_path, sizeof(link_path), "%s/svc/022-link.sql", sql_dir);
		ok(symlink(target, link_path) == 0, "make a symlinked migration");
		is_long(migrate_run(db, sql_dir, "svc"), ERR_INVALID, "a symlink is refused");
		unlink(link_path);
	}
	static const char *const bad_services[] = {
	    "", "../svc", "svc/..", "Svc", "s v c", "a-very-long-service-name-beyond-32"};
	for (size_t i = 0; i < sizeof(bad_services) / sizeof(bad_services[0]); i++)
		is_long(migrate_run(db, sql_dir, bad_services[i]), ERR_INVALID,
		        "bad service name refused");
	is_long(migrate_run(db, sql_dir, "nosuchservice"), ERR_INVALID,
	        "a missing directory is refused");
	ok(db_begin(db) == ERR_OK, "begin");
	is_long(migrate_run(db, sql_dir, "svc"), ERR_INTERNAL,
	        "migrating inside a transaction is refused");
	db_rollback(db);
	ok(migrate_run(db, sql_dir, "svc") == ERR_OK, "after all that, still up to date");
}

/* Two migrators at once on a fresh database: each file applies once. */
/* sql/common is applied to every service first, in its own table. */
static void test_common(struct db *db)
{
	put("common", "001-shared.sql",
	    "CREATE TABLE IF NOT EXISTS shared_first (n int);\n"
	    "INSERT INTO shared_first VALUES (1);\n");
	put("second", "001-uses-shared.sql", "INSERT INTO shared_first VALUES (2);\n");
	ok(migrate_run(db, sql_dir, "second") == ERR_OK, "a service after the shared files");
	is_long(scalar(db, "SELECT count(*) FROM shared_first WHERE n = 1"), 1,
	        "the shared file ran");
	is_long(scalar(db, "SELECT count(*) FROM shared_first"), 2,
	        "before the service's own file, which needs its table");
	is_long(scalar(db, "SELECT count(*) FROM schema_migrations_common"), 1,
	        "recorded in schema_migrations_common");
	ok(migrate_run(db, sql_dir, "second") == ERR_OK &&
	       scalar(db, "SELECT count(*) FROM shared_first") == 2,
	   "and not run again");
	ok(migrate_run(db, sql_dir, "common") == ERR_INVALID, "common is not a service");
	drop("common", "001-shared.sql");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/common", sql_dir);
	rmdir(path);
}

static void test_concurrent(const char *dsn)
{
	enum { FILES = 6, RUNNERS = 3 };
	put("conc", "001-log.sql", "CREATE TABLE runs (what text);\n");
	for (int i = 2; i <= FILES; i++) {
		char name[32], text[128];
		snprintf(name, sizeof(name), "%03d-step.sql", i);
		snprintf(text, sizeof(text),
		         "SELECT pg_sleep(0.05);\nINSERT INTO runs VALUES ('%d');\n", i);
		put("conc", name, text);
	}
	pid_t pids[RUNNERS];
	for (int r = 0; r < RUNNERS; r++) {
		pids[r] = fork();
		if (pids[r] == 0) {
			struct db *db = NULL;
			enum err e = db_connect(dsn, 0, &db);
			if (!e)
				e = migrate_run(db, sql_dir, "conc");
			db_close(db);
			_exit(e == ERR_OK ? 0 : 1);
		}
	}
	int good = 0;
	for (int r = 0; r < RUNNERS; r++) {
		int status = 0;
		if (pids[r] > 0 && waitpid(pids[r], &status, 0) == pids[r] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			good++;
	}
	is_long(good, RUNNERS, "concurrent migrators all succeed");
	struct db *db = NULL;
	if (db_connect(dsn, 0, &db) == ERR_OK) {
		is_long(scalar(db, "SELECT count(*) FROM runs"), FILES - 1,
		        "each file ran exactly once");
		is_long(scalar(db, "SELECT count(*) FROM schema_migrations"), FILES,
		        "each file recorded once");
	}
	db_close(db);
}

int main(void)
{
	struct testenv_postgres pg;
	struct db *db = NULL;
	char dsn[TESTENV_DSN_MAX], dsn2[TESTENV_DSN_MAX], dsn3[TESTENV_DSN_MAX];
	struct db *db3 = NULL;

	log_init("t-migrate", LOG_LEVEL_INFO);
	test_names();
	if (!ok(testenv_tempdir(sql_dir, sizeof(sql_dir)), "SQL directory") ||
	    !ok(testenv_postgres_start(&pg), "private Postgres starts"))
		return tap_done();
	if (!ok(testenv_postgres_create_db(&pg, "t_migrate", "t-migrate-pw", dsn, sizeof(dsn)) &&
	            testenv_postgres_create_db(&pg, "t_conc", "t-conc-pw", dsn2, sizeof(dsn2)) &&
	            testenv_postgres_create_db(&pg, "t_common", "t-common-pw", dsn3, sizeof(dsn3)),
	        "databases created") ||
	    !ok(db_connect(dsn, 0, &db) == ERR_OK && db_connect(dsn3, 0, &db3) == ERR_OK,
	        "connect"))
		goto out;
	test_apply(db);
	test_failures(db);
	test_common(db3);
	test_concurrent(dsn2);
out:
	db_close(db);
	db_close(db3);
	testenv_postgres_stop(&pg);
	testenv_remove_tree(sql_dir);
	return tap_done();
}
