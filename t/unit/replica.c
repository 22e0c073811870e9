/* Unit tests for replica against a private Postgres with the real
 * migrations: chunks in any order and repeated, tombstones, ownership,
 * failed documents, hooks, malformed payloads. */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/log.h"
#include "data/migrate.h"
#include "events/replica.h"
#include "tap.h"
#include "testenv.h"

static const char *const alice = "a1a1a1a1-0000-4000-8000-000000000001";
static const char *const bob = "b0b0b0b0-0000-4000-8000-000000000002";
static const char *const doc1 = "d0c00001-0000-4000-8000-000000000001";
static const char *const doc2 = "d0c00002-0000-4000-8000-000000000002";

static int completes, deletes;
static char last_text[256];

static enum err on_complete(struct db *db, const struct replica_doc *d, void *arg)
{
	(void)db;
	(void)arg;
	completes++;
	snprintf(last_text, sizeof(last_text), "%s", d->text);
	return ERR_OK;
}

static enum err on_deleted(struct db *db, const char *id, const char *user, void *arg)
{
	(void)db;
	(void)id;
	(void)user;
	(void)arg;
	deletes++;
	return ERR_OK;
}

static const struct replica_hooks hooks = {on_complete, on_deleted, NULL};

/* Applies one document.processed chunk for user in its own transaction. */
static enum err processed(struct db *db, const char *user, const char *id, const char *status,
                          const char *text, long index, long count)
{
	struct json_object *p = json_object_new_object(), *c = json_object_new_object();
	json_object_object_add(p, "document_id", json_object_new_string(id));
	json_object_object_add(p, "user_id", json_object_new_string(user));
	json_object_object_add(p, "filename", json_object_new_string("notes.txt"));
	json_object_object_add(p, "file_type", json_object_new_string("txt"));
	json_object_object_add(p, "status", json_object_new_string(status));
	json_object_object_add(p, "pages", json_object_new_int64(1));
	json_object_object_add(p, "text", json_object_new_string(text));
	json_object_object_add(c, "index", json_object_new_int64(index));
	json_object_object_add(c, "count", json_object_new_int64(count));
	json_object_object_add(p, "chunk", c);
	struct event ev;
	enum err e = event_init(&ev, "document.processed", "documents", user, p);
	if (e == ERR_OK)
		e = db_begin(db);
	if (e == ERR_OK)
		e = db_end(db, replica_apply_processed(db, &ev, (void *)&hooks));
	event_clear(&ev);
	return e;
}

static enum err deleted(struct db *db, const char *user, const char *id)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "document_id", json_object_new_string(id));
	json_object_object_add(p, "user_id", json_object_new_string(user));
	struct event ev;
	enum err e = event_init(&ev, "document.deleted", "documents", user, p);
	if (e == ERR_OK)
		e = db_begin(db);
	if (e == ERR_OK)
		e = db_end(db, replica_apply_deleted(db, &ev, (void *)&hooks));
	event_clear(&ev);
	return e;
}

static const char *loaded(struct db *db, struct pool *pool, const char *id, const char *user)
{
	struct replica_doc d;
	return replica_load(db, pool, id, user, &d) == ERR_OK ? d.text : NULL;
}

int main(void)
{
	struct testenv_postgres pg;
	struct db *db = NULL;
	char dsn[TESTENV_DSN_MAX], sql[PATH_MAX];
	log_init("t-replica", LOG_LEVEL_WARN);
	const char *src = getenv("LECTERN_SRCDIR");
	snprintf(sql, sizeof(sql), "%s/sql", src ? src : ".");
	if (!ok(testenv_postgres_start(&pg), "private Postgres starts"))
		return tap_done();
	if (!ok(testenv_postgres_create_db(&pg, "t_replica", "t-replica-pw", dsn, sizeof(dsn)) &&
	            db_connect(dsn, 0, &db) == ERR_OK,
	        "database") ||
	    !ok(migrate_run(db, sql, "documents") == ERR_OK, "the shared migrations apply"))
		goto out;
	struct pool *pool = pool_new();

	/* Three chunks, out of order, one of them twice. */
	ok(processed(db, alice, doc1, "processed", "world.", 2, 3) == ERR_OK, "chunk 2 of 3");
	ok(!loaded(db, pool, doc1, alice), "not readable before every chunk is in");
	ok(processed(db, alice, doc1, "processed", "Hello, ", 0, 3) == ERR_OK, "chunk 0 of 3");
	ok(processed(db, alice, doc1, "processed", "Hello, ", 0, 3) == ERR_OK, "chunk 0 again");
	is_long(completes, 0, "no hook yet");
	ok(processed(db, alice, doc1, "processed", "big ", 1, 3) == ERR_OK, "chunk 1 of 3");
	is_str(loaded(db, pool, doc1, alice), "Hello, big world.", "joined in index order");
	is_long(completes, 1, "the hook ran once");
	is_str(last_text, "Hello, big world.", "with the whole text");
	ok(!loaded(db, pool, doc1, bob), "another user's document is not found");
	ok(!loaded(db, pool, "not-a-uuid", alice), "a malformed id is not found");

	/* Processed again (a new run): the text is replaced. */
	ok(processed(db, alice, doc1, "processed", "New text.", 0, 1) == ERR_OK, "reprocessed");
	is_str(loaded(db, pool, doc1, alice), "New text.", "the new text replaces the old");
	/* An event naming another owner never takes the document over. */
	int seen = completes;
	ok(processed(db, bob, doc1, "processed", "Bob's text.", 0, 1) == ERR_OK,
	   "an event from another owner applies");
	is_str(loaded(db, pool, doc1, alice), "New text.", "but changes nothing of alice's");
	ok(!loaded(db, pool, doc1, bob) && completes == seen, "and gives bob nothing");

	/* Failed documents are known but not readable. */
	ok(processed(db, alice, doc2, "failed", "", 0, 1) == ERR_OK, "a failed document");
	ok(!loaded(db, pool, doc2, alice), "is not readable");

	/* Deletion leaves a tombstone: a late chunk does not bring it back. */
	ok(deleted(db, alice, doc1) == ERR_OK, "deleted");
	is_long(deletes, 1, "the delete hook ran");
	ok(!loaded(db, pool, doc1, alice), "gone");
	int before = completes;
	ok(processed(db, alice, doc1, "processed", "Late.", 0, 1) == ERR_OK,
	   "a late event applies");
	ok(!loaded(db, pool, doc1, alice) && completes == before, "and is ignored");

	/* Malformed payloads are refused (the consumer dead-letters them). */
	ok(processed(db, alice, "nope", "processed", "x", 0, 1) == ERR_INVALID, "a bad id");
	ok(processed(db, alice, doc2, "processed", "x", 1, 1) == ERR_INVALID, "index >= count");
	ok(processed(db, alice, doc2, "processed", "x", 0, REPLICA_CHUNKS_MAX + 1) == ERR_INVALID,
	   "too many chunks");
	ok(processed(db, alice, doc2, "weird", "x", 0, 1) == ERR_INVALID, "an unknown status");
	pool_free(pool);
out:
	db_close(db);
	testenv_postgres_stop(&pg);
	return tap_done();
}
