/* migrate: applies sql/<service>/NNN-name.sql files in order, one transaction each. */
#include "data/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"

/* The advisory lock every migrator of a database takes ("lectern" in hex). */
static const char migrate_lock_key[] = "30510775313724014";

static bool migrate_valid_service(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MIGRATE_SERVICE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

bool migrate_parse_name(const char *name, int *version)
{
	static const char suffix[] = ".sql";
	size_t n = strlen(name), slen = sizeof(suffix) - 1;
	/* "NNN-" + at least one name byte + ".sql" */
	if (n > MIGRATE_NAME_MAX || n < 4 + 1 + slen || strcmp(name + n - slen, suffix) != 0)
		return false;
	for (int i = 0; i < 3; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	if (name[3] != '-')
		return false;
	for (size_t i = 4; i < n - slen; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	int v = (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
	if (v < 1)
		return false;
	*version = v;
	return true;
}

/* Reads one migration file (a regular file, no symlink, no NUL byte, at most
 * MIGRATE_FILE_SIZE_MAX) and its sha256. *text is malloc'd. */
static enum err migrate_read(const char *dir, const char *name, char **text, char checksum[65])
{
	char path[PATH_MAX];
	enum err e = ERR_OK;
	char *data = NULL;
	struct stat st;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	*text = NULL;
	int fd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		log_error("migrate: path too long in %s", dir);
		e = ERR_INVALID;
		goto out;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_error("migrate: cannot open %s: %s", path, strerror(errno));
		e = ERR_INVALID;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MIGRATE_FILE_SIZE_MAX) {
		log_error("migrate: %s is not a regular file of at most %d bytes", path,
		          MIGRATE_FILE_SIZE_MAX);
		e = ERR_INVALID;
		goto out;
	}
	size_t size = (size_t)st.st_size, got = 0;
	data = xmalloc(size + 1);
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			log_error("migrate: cannot read %s: %s", path,
			          r < 0 ? strerror(errno) : "short file");
			e = ERR_INVALID;
			goto out;
		}
		got += (size_t)r;
	}
	data[size] = '\0';
	if (memchr(data, '\0', size)) {
		log_error("migrate: %s contains a NUL byte", path);
		e = ERR_INVALID;
		goto out;
	}
	if (!EVP_Digest(data, size, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		log_error("migrate: sha256 failed");
		e = ERR_INTERNAL;
		goto out;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(checksum + 2 * i, 3, "%02x", md[i]);
	*text = data;
	data = NULL;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return e;
}

static int migrate_cmp(const void *a, const void *b)
{
	const struct migrate_file *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

static enum err migrate_dir(const char *sql_dir, const char *service, char *dir, size_t size)
{
	if (!migrate_valid_service(service)) {
		log_error("migrate: invalid service name (1 to %d of [a-z0-9_-])",
		          MIGRATE_SERVICE_MAX);
		return ERR_INVALID;
	}
	if ((size_t)snprintf(dir, size, "%s/%s", sql_dir, service) >= size) {
		log_error("migrate: the SQL directory path is too long");
		return ERR_INVALID;
	}
	return ERR_OK;
}

enum err migrate_list_files(const char *sql_dir, const char *service, struct migrate_file **out,
                            size_t *count)
{
	char dir[PATH_MAX];
	enum err e = ERR_OK;
	struct migrate_file *files = NULL;
	size_t n = 0;
	DIR *d = NULL;

	*out = NULL;
	*count = 0;
	e = migrate_dir(sql_dir, service, dir, sizeof(dir));
	if (e)
		goto out;
	d = opendir(dir);
	if (!d) {
		log_error("migrate: cannot open %s: %s", dir, strerror(errno));
		e = ERR_INVALID;
		goto out;
	}
	files = xcalloc(MIGRATE_FILES_MAX, sizeof(*files));
	struct dirent *ent;
	while ((errno = 0, ent = readdir(d)) != NULL) {
		const char *name = ent->d_name;
		size_t len = strlen(name);
		int version;
		if (name[0] == '.')
			continue;
		bool is_sql = len >= 4 && strcmp(name + len - 4, ".sql") == 0;
		if (!is_sql)
			continue; /* READMEs and the like are not ours to read */
		if (!migrate_parse_name(name, &version)) {
			log_error("migrate: %s/%s is not named NNN-[a-z0-9-]+.sql", dir, name);
			e = ERR_INVALID;
			goto out;
		}
		if (n == MIGRATE_FILES_MAX) {
			log_error("migrate: more than %d files in %s", MIGRATE_FILES_MAX, dir);
			e = ERR_INVALID;
			goto out;
		}
		files[n].version = version;
		memcpy(files[n].name, name, len + 1);
		n++;
	}
	if (errno) {
		log_error("migrate: cannot list %s: %s", dir, strerror(errno));
		e = ERR_INVALID;
		goto out;
	}
	qsort(files, n, sizeof(*files), migrate_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && files[i].version == files[i - 1].version) {
			log_error("migrate: %s and %s have the same version", files[i - 1].name,
			          files[i].name);
			e = ERR_INVALID;
			goto out;
		}
		char *text = NULL;
		e = migrate_read(dir, files[i].name, &text, files[i].checksum);
		free(text);
		if (e)
			goto out;
	}
	*out = files;
	*count = n;
	files = NULL;
out:
	if (d)
		closedir(d);
	free(files);
	return e;
}

static enum err migrate_lock(struct db *db)
{
	const char *params[] = {migrate_lock_key};
	return db_exec(db, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, NULL);
}

/* The bookkeeping tables: one for the service's own files, one for the
 * shared ones (sql/common), so their version numbers never meet. */
static const char *const migrate_tables[] = {"schema_migrations", "schema_migrations_common"};

static enum err migrate_ensure_table(struct db *db, const char *table)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "CREATE TABLE IF NOT EXISTS %s ("
	         " version int PRIMARY KEY,"
	         " name text NOT NULL,"
	         " checksum text NOT NULL,"
	         " applied_at timestamptz NOT NULL DEFAULT now())",
	         table);
	enum err e = db_begin(db);
	if (e)
		return e;
	e = migrate_lock(db);
	/* Quiet the "already exists, skipping" notice of every later run. */
	if (!e)
		e = db_exec(db, "SET LOCAL client_min_messages = warning", 0, NULL, NULL);
	if (!e)
		e = db_exec(db, sql, 0, NULL, NULL);
	if (e) {
		db_rollback(db);
		return e;
	}
	return db_commit(db);
}

/* Compares an applied row with its file; ERR_INVALID when they differ. */
static enum err migrate_same(const struct migrate_file *f, const char *name, const char *checksum)
{
	if (name && checksum && strcmp(f->name, name) == 0 && strcmp(f->checksum, checksum) == 0)
		return ERR_OK;
	log_error("migrate: version %d was applied as %s (sha256 %.12s) but the file is now %s "
	          "(sha256 %.12s); refusing to continue",
	          f->version, name ? name : "?", checksum ? checksum : "?", f->name, f->checksum);
	return ERR_INVALID;
}

/* Applies one file in its own transaction, unless another migrator did. */
static enum err migrate_apply(struct db *db, const char *dir, const char *table,
                              const struct migrate_file *f)
{
	char version[16], sql[256];
	char checksum[65];
	char *text = NULL;
	PGresult *res = NULL;
	bool began = false;

	enum err e = migrate_read(dir, f->name, &text, checksum);
	if (e)
		goto out;
	if (strcmp(checksum, f->checksum) != 0) {
		log_error("migrate: %s changed while migrating", f->name);
		e = ERR_INVALID;
		goto out;
	}
	snprintf(version, sizeof(version), "%d", f->version);
	e = db_begin(db);
	if (e)
		goto out;
	began = true;
	e = migrate_lock(db);
	if (e)
		goto out;
	const char *p1[] = {version};
	snprintf(sql, sizeof(sql), "SELECT name, checksum FROM %s WHERE version = $1::int", table);
	e = db_exec(db, sql, 1, p1, &res);
	if (e)
		goto out;
	if (PQntuples(res) > 0) {
		e = migrate_same(f, db_value(res, 0, 0), db_value(res, 0, 1));
		goto out;
	}
	e = db_exec_script(db, text);
	if (e)
		goto out;
	if (PQtransactionStatus(db_conn(db)) != PQTRANS_INTRANS) {
		log_error(
		    "migrate: %s ended its transaction itself (no BEGIN/COMMIT in migrations)",
		    f->name);
		e = ERR_INVALID;
		goto out;
	}
	const char *p2[] = {version, f->name, f->checksum};
	snprintf(sql, sizeof(sql),
	         "INSERT INTO %s (version, name, checksum) VALUES ($1::int, $2, $3)", table);
	e = db_exec(db, sql, 3, p2, NULL);
	if (e)
		goto out;
	e = db_commit(db);
	began = false;
	if (!e)
		log_info("migrate: applied %s/%s", dir, f->name);
out:
	if (began) {
		if (e)
			db_rollback(db);
		else if ((e = db_commit(db)) != ERR_OK)
			log_error("migrate: cannot commit the check of %s", f->name);
	}
	if (e && e != ERR_INVALID)
		log_error("migrate: %s failed and was rolled back", f->name);
	PQclear(res);
	free(text);
	return e;
}

/* Applies the files of sql_dir/<service>, kept in table. */
static enum err migrate_one(struct db *db, const char *sql_dir, const char *service,
                            const char *table)
{
	char dir[PATH_MAX], sql[256];
	struct migrate_file *files = NULL;
	size_t n = 0;
	PGresult *res = NULL;
	size_t applied = 0;

	enum err e = migrate_dir(sql_dir, service, dir, sizeof(dir));
	if (e)
		goto out;
	if (db_in_transaction(db)) {
		log_error("migrate: called inside a transaction");
		e = ERR_INTERNAL;
		goto out;
	}
	e = migrate_list_files(sql_dir, service, &files, &n);
	if (e)
		goto out;
	e = migrate_ensure_table(db, table);
	if (e)
		goto out;
	snprintf(sql, sizeof(sql), "SELECT version, name, checksum FROM %s ORDER BY version",
	         table);
	e = db_exec(db, sql, 0, NULL, &res);
	if (e)
		goto out;
	/* Check every applied file first: a changed history stops everything. */
	bool *done = xcalloc(MIGRATE_FILES_MAX + 1, sizeof(bool));
	for (int r = 0; r < PQntuples(res) && !e; r++) {
		long v = 0;
		if (!cfg_parse_long(db_value(res, r, 0), 1, MIGRATE_FILES_MAX, &v)) {
			log_error("migrate: %s holds version %s", table, db_value(res, r, 0));
			e = ERR_INVALID;
			break;
		}
		const struct migrate_file *f = NULL;
		for (size_t i = 0; i < n && !f; i++)
			if (files[i].version == v)
				f = &files[i];
		if (!f) {
			log_warn("migrate: version %ld (%s) is applied but has no file in %s", v,
			         db_value(res, r, 1), dir);
			continue;
		}
		e = migrate_same(f, db_value(res, r, 1), db_value(res, r, 2));
		done[f->version] = true;
	}
	for (size_t i = 0; i < n && !e; i++) {
		if (done[files[i].version])
			continue;
		e = migrate_apply(db, dir, table, &files[i]);
		if (!e)
			applied++;
	}
	free(done);
	if (!e)
		log_info("migrate: %s is up to date (%zu file(s), %zu applied now)", service, n,
		         applied);
out:
	PQclear(res);
	free(files);
	return e;
}

enum err migrate_run(struct db *db, const char *sql_dir, const char *service)
{
	if (strcmp(service, MIGRATE_COMMON) == 0) {
		log_error("migrate: \"%s\" is not a service", service);
		return ERR_INVALID;
	}
	/* A tree without shared migrations (a test's) has nothing to share. */
	char common[PATH_MAX];
	struct stat st;
	enum err e = ERR_OK;
	snprintf(common, sizeof(common), "%s/%s", sql_dir, MIGRATE_COMMON);
	if (stat(common, &st) == 0)
		e = migrate_one(db, sql_dir, MIGRATE_COMMON, migrate_tables[1]);
	return e ? e : migrate_one(db, sql_dir, service, migrate_tables[0]);
}
