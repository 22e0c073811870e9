/* documents: reading, listing, downloading and deleting one's documents. */
#include <stdio.h>
#include <string.h>

#include "app/owned.h"
#include "documents.h"
#include "events/event.h"
#include "events/job.h"
#include "core/log.h"
#include "events/outbox.h"
#include "data/row.h"
#include "web/page.h"

struct json_object *docs_json(const PGresult *res, int row, bool with_content)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, 0);
	const char *pages = db_value(res, row, 8);
	const char *summary = db_value(res, row, 9);
	json_object_object_add(o, "document_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "filename", row_str(res, row, 1));
	json_object_object_add(o, "file_type", row_str(res, row, 2));
	json_object_object_add(o, "content_type", row_str(res, row, 3));
	json_object_object_add(o, "file_size", json_object_new_int64(row_ll(res, row, 4)));
	json_object_object_add(o, "sha256", row_str(res, row, 5));
	json_object_object_add(o, "status", row_str(res, row, 6));
	json_object_object_add(o, "error", row_str(res, row, 7));
	json_object_object_add(o, "pages",
	                       pages ? json_object_new_int64(row_ll(res, row, 8)) : NULL);
	struct json_object *meta = json_object_new_object();
	json_object_object_add(meta, "filename", row_str(res, row, 1));
	json_object_object_add(meta, "size", json_object_new_int64(row_ll(res, row, 4)));
	json_object_object_add(meta, "type", row_str(res, row, 2));
	json_object_object_add(meta, "pages",
	                       pages ? json_object_new_int64(row_ll(res, row, 8)) : NULL);
	json_object_object_add(o, "metadata", meta);
	/* The client shows these as text: "" until the worker has them. */
	if (with_content) {
		const char *content = db_value(res, row, DOCS_COL_CONTENT);
		json_object_object_add(o, "content",
		                       json_object_new_string(content ? content : ""));
	}
	json_object_object_add(o, "summary", json_object_new_string(summary ? summary : ""));
	const char *ng = db_value(res, row, 10);
	json_object_object_add(o, "notes_generated", json_object_new_boolean(ng && ng[0] == 't'));
	json_object_object_add(o, "created_at", row_str(res, row, 11));
	json_object_object_add(o, "updated_at", row_str(res, row, 12));
	return o;
}

struct json_object *docs_note_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, 0);
	json_object_object_add(o, "note_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "document_id", row_str(res, row, 1));
	json_object_object_add(o, "content", row_str(res, row, 2));
	json_object_object_add(o, "format", json_object_new_string("markdown"));
	json_object_object_add(o, "generator", row_str(res, row, 3));
	json_object_object_add(o, "created_at", row_str(res, row, 4));
	return o;
}

enum err docs_load(struct http_req *req, const char *id, PGresult **out)
{
	return owned_row(req, "docs_get",
	                 "SELECT " DOCS_SQL_FULL " FROM documents WHERE id = $1 AND user_id = $2",
	                 id, out);
}

static struct json_object *list_item(const PGresult *res, int row)
{
	return docs_json(res, row, false);
}

enum err docs_list(struct http_req *req)
{
	static const struct owned_list list = {
	    .stmt = "docs_list",
	    .sql = "SELECT " DOCS_SQL_SUMMARY " FROM documents WHERE user_id = $1 "
	           "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
	    .count_stmt = "docs_count",
	    .count_sql = "SELECT count(*) FROM documents WHERE user_id = $1",
	    .url = "/api/v1/documents",
	    .json = list_item,
	};
	return owned_list_send(req, &list);
}

enum err docs_get(struct http_req *req)
{
	const char *id = http_param(req, "id");
	PGresult *res = NULL;
	enum err e = docs_load(req, id, &res);
	if (e != ERR_OK)
		return e;
	e = http_send_json(req, 200, docs_json(res, 0, true));
	PQclear(res);
	return e;
}

/* Loads the columns named in sql (with $1 id, $2 owner) into values. */
static enum err owned_columns(struct http_req *req, const char *id, const char *sql, int ncols,
                              const char **values)
{
	const char *params[] = {id, req->user_id};
	enum err e = db_row(service_db(), sql, 2, params, req->pool, ncols, values);
	return e == ERR_NOT_FOUND ? owned_not_found(req) : e;
}

enum err docs_download(struct http_req *req)
{
	const char *id = http_param(req, "id"), *v[3];
	enum err e = owned_columns(req, id,
	                           "SELECT storage_key, filename, content_type FROM documents "
	                           "WHERE id = $1 AND user_id = $2",
	                           3, v);
	if (e != ERR_OK)
		return e;
	struct store_download dl;
	e = store_download_as(service_store(), v[0], v[2],
	                      http_content_disposition(req->pool, v[1]), req->pool, &dl);
	if (e != ERR_OK)
		return e;
	if (dl.kind == STORE_DOWNLOAD_REDIRECT)
		return http_send_redirect(req, 302, dl.location);
	return http_send_accel(req, dl.location, v[2], v[1]);
}

/* Queues a job of kind for document id (input adds note_id when given). */
static enum err queue(struct http_req *req, const char *kind, const char *id, const char *note_id,
                      char job_id[EVENT_ID_LEN + 1])
{
	struct json_object *in = json_object_new_object();
	json_object_object_add(in, "document_id", json_object_new_string(id));
	if (note_id)
		json_object_object_add(in, "note_id", json_object_new_string(note_id));
	const char *text = pool_strdup(req->pool, http_json_text(in, NULL));
	json_object_put(in);
	enum err e =
	    job_add_owned(service_db(), NULL, kind, req->user_id, text, DOCS_JOB_ATTEMPTS, job_id);
	return e == ERR_RATE_LIMITED ? docs_queue_full(req) : e;
}

enum err docs_queue_full(struct http_req *req)
{
	char retry[32];
	snprintf(retry, sizeof(retry), "%d", JOB_RETRY_AFTER_S);
	if (http_add_header(req, "Retry-After", retry) != ERR_OK)
		return ERR_INTERNAL;
	return http_error(req, ERR_RATE_LIMITED,
	                  "You have %ld documents waiting to be processed; try again when some "
	                  "are done.",
	                  job_owner_limit());
}

enum err docs_process(struct http_req *req)
{
	const char *id = http_param(req, "id");
	char job_id[EVENT_ID_LEN + 1];
	enum err e;
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	e = db_begin(service_db());
	if (e == ERR_OK)
		e = db_exec_prepared(service_db(), "docs_reprocess",
		                     "UPDATE documents SET status = 'processing', error = NULL, "
		                     "updated_at = now() WHERE id = $1 AND user_id = $2",
		                     2, params, &res);
	if (e == ERR_OK && db_affected(res) != 1)
		e = owned_not_found(req);
	if (e == ERR_OK)
		e = queue(req, DOCS_JOB_PROCESS, id, NULL, job_id);
	e = db_end(service_db(), e);
	PQclear(res);
	if (e != ERR_OK)
		return e;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "document_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "job_id", json_object_new_string(job_id));
	json_object_object_add(o, "status", json_object_new_string("processing"));
	json_object_object_add(o, "message", json_object_new_string("Processing has started."));
	return http_send_json(req, 202, o);
}

enum err docs_notes(struct http_req *req)
{
	const char *id = http_param(req, "id"), *v[1];
	enum err e =
	    owned_columns(req, id, "SELECT id FROM documents WHERE id = $1 AND user_id = $2", 1, v);
	if (e != ERR_OK)
		return e;
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	e = db_exec_prepared(service_db(), "docs_notes",
	                     "SELECT " DOCS_SQL_NOTE
	                     " FROM notes WHERE document_id = $1 AND user_id = $2 "
	                     "ORDER BY created_at DESC, id DESC",
	                     2, params, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(arr, docs_note_json(res, i));
	PQclear(res);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "document_id", json_object_new_string(id));
	json_object_object_add(o, "notes", arr);
	return http_send_json(req, 200, o);
}

enum err docs_regenerate_notes(struct http_req *req)
{
	const char *id = http_param(req, "id"), *v[2];
	char job_id[EVENT_ID_LEN + 1], note_id[EVENT_ID_LEN + 1];
	enum err e =
	    owned_columns(req, id,
	                  "SELECT status, content IS NOT NULL AND content <> '' FROM documents "
	                  "WHERE id = $1 AND user_id = $2",
	                  2, v);
	if (e != ERR_OK)
		return e;
	if (strcmp(v[0], "processed") != 0 || v[1][0] != 't')
		return http_error(req, ERR_CONFLICT,
		                  "The document has no extracted text yet; process it first.");
	event_uuid(note_id);
	e = queue(req, DOCS_JOB_NOTES, id, note_id, job_id);
	if (e != ERR_OK)
		return e;
	long wait = http_param(req, "wait") ? http_param_int(req, "wait") : DOCS_WAIT_DEFAULT_S;
	struct job_status js;
	const char *status = "processing";
	e = job_wait(service_db(), job_id, wait * 1000, req->pool, &js);
	if (e == ERR_OK)
		status = strcmp(js.state, "completed") == 0 ? "completed" : "failed";
	else if (e != ERR_TIMEOUT)
		log_warn("regenerate-notes: waiting for job %s failed", job_id);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "document_id", json_object_new_string(id));
	json_object_object_add(o, "note_id", json_object_new_string(note_id));
	json_object_object_add(o, "job_id", json_object_new_string(job_id));
	json_object_object_add(o, "status", json_object_new_string(status));
	return http_send_json(req, 200, o);
}

enum err docs_delete(struct http_req *req)
{
	const char *id = http_param(req, "id");
	enum err e;
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	struct json_object *payload = json_object_new_object();
	json_object_object_add(payload, "document_id", json_object_new_string(id));
	json_object_object_add(payload, "user_id", json_object_new_string(req->user_id));
	/* Notes go with the row (ON DELETE CASCADE); the file after the commit. */
	e = db_begin(service_db());
	if (e == ERR_OK)
		e = db_exec_prepared(service_db(), "docs_delete",
		                     "DELETE FROM documents WHERE id = $1 AND user_id = $2 "
		                     "RETURNING storage_key",
		                     2, params, &res);
	if (e == ERR_OK && PQntuples(res) != 1)
		e = owned_not_found(req);
	if (e == ERR_OK)
		e = outbox_record(service_db(), "document.deleted", DOCS_SERVICE, req->user_id,
		                  payload);
	else
		json_object_put(payload);
	e = db_end(service_db(), e);
	if (e == ERR_OK && store_delete(service_store(), db_value(res, 0, 0)) != ERR_OK)
		log_error("delete: document %s is gone but its file %s could not be removed", id,
		          db_value(res, 0, 0));
	PQclear(res);
	if (e != ERR_OK)
		return e;
	log_info("deleted document %s", id);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("Document deleted."));
	json_object_object_add(o, "document_id", json_object_new_string(id));
	return http_send_json(req, 200, o);
}
