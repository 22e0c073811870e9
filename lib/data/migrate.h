/* migrate: ordered SQL migrations of one service's database.
 *
 * Files are sql_dir/<service>/NNN-name.sql (NNN three digits from 001, name of
 * [a-z0-9-]); any other *.sql name there is an error, other files are ignored.
 * Each file runs in its own transaction together with its row in
 * schema_migrations(version, name, checksum = sha256 of the file, applied_at).
 * A file must not contain BEGIN/COMMIT. An applied version whose file changed
 * (checksum or name) stops everything before anything runs. Concurrent
 * migrators serialize on a transaction-level advisory lock.
 *
 * sql_dir/common holds the migrations every service database shares (the
 * events tables of the outbox, consumers and jobs: docs/design.md): they
 * run first, the same way, kept in schema_migrations_common, so no service
 * copies them. */
#ifndef LECTERN_MIGRATE_H
#define LECTERN_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "data/db.h"
#include "core/err.h"

enum {
	MIGRATE_FILES_MAX = 999,        /* versions 001..999 */
	MIGRATE_NAME_MAX = 64,          /* longest file name */
	MIGRATE_SERVICE_MAX = 32,       /* longest service name ([a-z0-9_-]) */
	MIGRATE_FILE_SIZE_MAX = 1 << 20 /* largest migration file */
};

struct migrate_file {
	int version;
	char name[MIGRATE_NAME_MAX + 1]; /* the file name, "001-users.sql" */
	char checksum[65];               /* sha256, lowercase hex */
};

/* The directory of the shared migrations. */
#define MIGRATE_COMMON "common"

/* Applies every shared, then every service migration not yet applied, in order. ERR_INVALID for a
 * bad service, file name, duplicate version or changed applied file; a failing file rolls back
 * alone and its error is returned (earlier files stay). */
enum err migrate_run(struct db *db, const char *sql_dir, const char *service) MUST_CHECK;

/* Lists the service's migration files in version order with checksums.
 * *out is malloc'd (free it); *count may be 0. */
enum err migrate_list_files(const char *sql_dir, const char *service, struct migrate_file **out,
                            size_t *count) MUST_CHECK;

/* True if name is a valid migration file name (NNN-[a-z0-9-]+.sql, NNN >= 001,
 * at most MIGRATE_NAME_MAX bytes); sets *version. */
bool migrate_parse_name(const char *name, int *version);

#endif
