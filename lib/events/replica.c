/* replica: document.processed and document.deleted into a service's copy. */
#include "events/replica.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/cfg.h"
#include "core/log.h"

/* A string member of the payload, or NULL. */
static const char *member_str(const struct event *ev, const char *name)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(ev->payload, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A whole-number member in [min, max], or -1. */
static long member_long(const struct json_object *obj, const char *name, long min, long max)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	int64_t n = json_object_get_int64(v);
	return n < min || n > max ? -1 : (long)n;
}

/* True when the document's events no longer count: it has a tombstone, or
 * it belongs to another user than the event names (never taken over). */
static enum err ignored(struct db *db, const char *id, const char *user_id, bool *out)
{
	const char *p[] = {id, user_id};
	PGresult *res = NULL;
	enum err e = db_exec(db,
	                     "SELECT deleted_at IS NOT NULL OR user_id <> $2 FROM document_replica "
	                     "WHERE document_id = $1 FOR UPDATE",
	                     2, p, &res);
	*out = e == ERR_OK && PQntuples(res) == 1 && db_value(res, 0, 0)[0] == 't';
	PQclear(res);
	return e;
}

/* Writes the document's row (text NULL for a failed one). */
static enum err store_doc(struct db *db, const struct replica_doc *d)
{
	char pages[24];
	snprintf(pages, sizeof(pages), "%ld", d->pages);
	bool failed = strcmp(d->status, "processed") != 0;
	const char *p[] = {d->id,
	                   d->user_id,
	                   d->filename,
	                   d->file_type,
	                   d->status,
	                   pages,
	                   failed ? NULL : d->text};
	return db_exec(db,
	               "INSERT INTO document_replica (document_id, user_id, filename, file_type, "
	               "status, pages, text) VALUES ($1, $2, $3, $4, $5, $6::int, $7) "
	               "ON CONFLICT (document_id) DO UPDATE SET filename = EXCLUDED.filename, "
	               "file_type = EXCLUDED.file_type, status = EXCLUDED.status, "
	               "pages = EXCLUDED.pages, text = EXCLUDED.text, updated_at = now() "
	               "WHERE document_replica.user_id = EXCLUDED.user_id",
	               7, p, NULL);
}

/* Stores one chunk; when all count are in, joins them into *text (pool). */
static enum err take_chunk(struct db *db, struct pool *pool, const char *id, long index, long count,
                           const char *chunk, const char **text, size_t *len)
{
	char idx[24], cnt[24];
	snprintf(idx, sizeof(idx), "%ld", index);
	snprintf(cnt, sizeof(cnt), "%ld", count);
	const char *p[] = {id, idx, cnt, chunk};
	enum err e = db_exec(db,
	                     "INSERT INTO document_replica_chunks (document_id, idx, count, text) "
	                     "VALUES ($1, $2::int, $3::int, $4) ON CONFLICT DO NOTHING",
	                     4, p, NULL);
	if (e != ERR_OK)
		return e;
	/* Chunks of an earlier run with another count are not this text's. */
	const char *q[] = {id, cnt};
	const char *v[2];
	e = db_row(db,
	           "SELECT count(*), coalesce(string_agg(text, '' ORDER BY idx), '') "
	           "FROM document_replica_chunks WHERE document_id = $1 AND count = $2::int",
	           2, q, pool, 2, v);
	if (e != ERR_OK)
		return e;
	*text = NULL;
	if (strcmp(v[0], cnt) != 0)
		return ERR_OK;
	*text = v[1];
	*len = strlen(v[1]);
	const char *d[] = {id};
	return db_exec(db, "DELETE FROM document_replica_chunks WHERE document_id = $1", 1, d,
	               NULL);
}

enum err replica_apply_processed(struct db *db, const struct event *ev, void *arg)
{
	const struct replica_hooks *hooks = arg;
	struct json_object *chunk = NULL;
	struct replica_doc d = {
	    .id = member_str(ev, "document_id"),
	    .user_id = ev->user_id,
	    .filename = member_str(ev, "filename"),
	    .file_type = member_str(ev, "file_type"),
	    .status = member_str(ev, "status"),
	    .pages = member_long(ev->payload, "pages", 0, 1000000),
	    .text = member_str(ev, "text"),
	};
	json_object_object_get_ex(ev->payload, "chunk", &chunk);
	long count = chunk ? member_long(chunk, "count", 1, REPLICA_CHUNKS_MAX) : -1;
	long index = chunk ? member_long(chunk, "index", 0, REPLICA_CHUNKS_MAX - 1) : -1;
	if (!d.id || !event_is_uuid(d.id) || !*d.user_id || !d.status || !d.text || d.pages < 0 ||
	    count < 0 || index < 0 || index >= count ||
	    (strcmp(d.status, "processed") != 0 && strcmp(d.status, "failed") != 0)) {
		log_warn("replica: event %s: not a document.processed payload", ev->id);
		return ERR_INVALID;
	}
	if (!d.filename)
		d.filename = "";
	if (!d.file_type)
		d.file_type = "";
	bool gone = false;
	enum err e = ignored(db, d.id, d.user_id, &gone);
	if (e != ERR_OK || gone)
		return e;
	struct pool *pool = pool_new();
	if (strcmp(d.status, "processed") == 0) {
		const char *whole = NULL;
		e = take_chunk(db, pool, d.id, index, count, d.text, &whole, &d.text_len);
		if (e != ERR_OK || !whole)
			goto out;
		d.text = whole;
	} else {
		d.text = "";
		d.text_len = 0;
	}
	e = store_doc(db, &d);
	if (e == ERR_OK && hooks && hooks->complete)
		e = hooks->complete(db, &d, hooks->arg);
out:
	pool_free(pool);
	return e;
}

enum err replica_apply_deleted(struct db *db, const struct event *ev, void *arg)
{
	const struct replica_hooks *hooks = arg;
	const char *id = member_str(ev, "document_id");
	if (!id || !event_is_uuid(id) || !*ev->user_id) {
		log_warn("replica: event %s: not a document.deleted payload", ev->id);
		return ERR_INVALID;
	}
	const char *p[] = {id, ev->user_id};
	enum err e = db_exec(db,
	                     "INSERT INTO document_replica (document_id, user_id, status, "
	                     "deleted_at) VALUES ($1, $2, 'deleted', now()) "
	                     "ON CONFLICT (document_id) DO UPDATE SET text = NULL, "
	                     "status = 'deleted', deleted_at = now(), updated_at = now() "
	                     "WHERE document_replica.user_id = EXCLUDED.user_id",
	                     2, p, NULL);
	const char *d[] = {id};
	if (e == ERR_OK)
		e = db_exec(db, "DELETE FROM document_replica_chunks WHERE document_id = $1", 1, d,
		            NULL);
	if (e == ERR_OK && hooks && hooks->deleted)
		e = hooks->deleted(db, id, ev->user_id, hooks->arg);
	return e;
}

enum err replica_load(struct db *db, struct pool *pool, const char *id, const char *user_id,
                      struct replica_doc *out)
{
	if (!event_is_uuid(id))
		return ERR_NOT_FOUND;
	const char *p[] = {id, user_id};
	const char *v[5];
	enum err e = db_row(db,
	                    "SELECT filename, file_type, status, pages::text, text "
	                    "FROM document_replica WHERE document_id = $1 AND user_id = $2 "
	                    "AND deleted_at IS NULL AND status = 'processed' AND text IS NOT NULL",
	                    2, p, pool, 5, v);
	if (e != ERR_OK)
		return e;
	*out = (struct replica_doc){
	    .id = pool_strdup(pool, id),
	    .user_id = pool_strdup(pool, user_id),
	    .filename = v[0],
	    .file_type = v[1],
	    .status = v[2],
	    .text = v[4],
	    .text_len = strlen(v[4]),
	};
	cfg_parse_long(v[3], 0, 1000000, &out->pages);
	return ERR_OK;
}
