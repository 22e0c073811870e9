/* sessions: a learner's chat sessions (create, list, get, delete). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/owned.h"
#include "chat.h"
#include "events/event.h"
#include "web/valid.h"

/* Postgres' text form of a uuid[] ("{a,b}") as a JSON array. */
static struct json_object *ids_json(const char *v)
{
	struct json_object *arr = json_object_new_array();
	if (!v || v[0] != '{')
		return arr;
	const char *p = v + 1;
	while (*p && *p != '}') {
		const char *end = p + strcspn(p, ",}");
		json_object_array_add(arr, json_object_new_string_len(p, (int)(end - p)));
		p = *end == ',' ? end + 1 : end;
	}
	return arr;
}

struct json_object *chat_session_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, 0);
	json_object_object_add(o, "session_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "title", json_object_new_string(db_value(res, row, 1)));
	json_object_object_add(o, "document_ids", ids_json(db_value(res, row, 2)));
	json_object_object_add(o, "message_count",
	                       json_object_new_int64(strtol(db_value(res, row, 3), NULL, 10)));
	json_object_object_add(o, "created_at", json_object_new_string(db_value(res, row, 4)));
	json_object_object_add(o, "updated_at", json_object_new_string(db_value(res, row, 5)));
	return o;
}

enum err chat_session_load(struct http_req *req, const char *id, PGresult **out)
{
	return owned_row(req, "chat_session_get",
	                 "SELECT " CHAT_SQL_SESSION " FROM sessions WHERE id = $1 AND user_id = $2",
	                 id, out);
}

enum err chat_doc_ids(struct http_req *req, const char **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	struct json_object *arr = NULL;
	if (!req->body || !json_object_object_get_ex(req->body, "document_ids", &arr) || !arr)
		return ERR_OK;
	if (!json_object_is_type(arr, json_type_array)) {
		http_error_detail(req, "document_ids", "must be an array of document ids");
		return http_error(req, ERR_INVALID, "The request is not valid.");
	}
	size_t n = json_object_array_length(arr);
	if (n > CHAT_DOCS_MAX) {
		http_error_detail(req, "document_ids", "at most 100 documents");
		return http_error(req, ERR_INVALID, "The request is not valid.");
	}
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	enum err e = ERR_OK;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		char id[VALID_UUID_LEN + 1];
		if (!v || !json_object_is_type(v, json_type_string)) {
			http_error_detail(req, "document_ids", "must be an array of document ids");
			e = http_error(req, ERR_INVALID, "The request is not valid.");
			goto out;
		}
		/* A malformed id names no document: 404 like another user's. */
		if (!valid_uuid(json_object_get_string(v), id)) {
			e = owned_not_found(req);
			goto out;
		}
		buf_printf(&b, "%s%s", i ? "," : "", id);
	}
	buf_putc(&b, '}');
	const char *p[] = {req->user_id, b.data};
	const char *v[2];
	/* Distinct ids that are the caller's, against distinct ids given. */
	e = db_row(service_db(),
	           "SELECT (SELECT count(DISTINCT x) FROM unnest($2::uuid[]) x), "
	           "(SELECT count(*) FROM document_replica WHERE user_id = $1 "
	           "AND deleted_at IS NULL AND document_id = ANY ($2::uuid[]))",
	           2, p, req->pool, 2, v);
	if (e != ERR_OK)
		goto out;
	if (strcmp(v[0], v[1]) != 0) {
		e = owned_not_found(req);
		goto out;
	}
	*out = pool_strdup(req->pool, b.data);
	*count = n;
out:
	buf_clear(&b);
	return e;
}

enum err chat_session_create(struct http_req *req)
{
	const char *title = http_param(req, "title"), *docs = NULL;
	size_t ndocs = 0;
	enum err e = chat_doc_ids(req, &docs, &ndocs);
	if (e != ERR_OK)
		return e;
	bool automatic = !title;
	char id[EVENT_ID_LEN + 1];
	event_uuid(id);
	const char *p[] = {id, req->user_id, automatic ? "New chat" : title, automatic ? "t" : "f",
	                   docs ? docs : "{}"};
	PGresult *res = NULL;
	e = db_exec_prepared(
	    service_db(), "chat_session_create",
	    "INSERT INTO sessions (id, user_id, title, title_auto, document_ids) "
	    "VALUES ($1, $2, $3, $4::boolean, $5::uuid[]) RETURNING " CHAT_SQL_SESSION,
	    5, p, &res);
	if (e != ERR_OK)
		return e;
	char location[128];
	snprintf(location, sizeof(location), "/api/v1/chat/sessions/%s", id);
	e = http_add_header(req, "Location", location);
	if (e == ERR_OK)
		e = http_send_json(req, 201, chat_session_json(res, 0));
	PQclear(res);
	return e;
}

enum err chat_session_list(struct http_req *req)
{
	const char *p[] = {req->user_id};
	PGresult *res = NULL;
	enum err e =
	    db_exec_prepared(service_db(), "chat_session_list",
	                     "SELECT " CHAT_SQL_SESSION " FROM sessions WHERE user_id = $1 "
	                     "ORDER BY updated_at DESC, id DESC",
	                     1, p, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(arr, chat_session_json(res, i));
	PQclear(res);
	return http_send_json(req, 200, arr);
}

enum err chat_session_get(struct http_req *req)
{
	PGresult *res = NULL;
	enum err e = chat_session_load(req, http_param(req, "id"), &res);
	if (e != ERR_OK)
		return e;
	e = http_send_json(req, 200, chat_session_json(res, 0));
	PQclear(res);
	return e;
}

enum err chat_session_delete(struct http_req *req)
{
	const char *id = http_param(req, "id");
	const char *p[] = {id, req->user_id};
	PGresult *res = NULL;
	enum err e =
	    db_exec_prepared(service_db(), "chat_session_delete",
	                     "DELETE FROM sessions WHERE id = $1 AND user_id = $2", 2, p, &res);
	if (e != ERR_OK)
		return e;
	long n = db_affected(res);
	PQclear(res);
	if (n != 1)
		return owned_not_found(req);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("Session deleted."));
	json_object_object_add(o, "session_id", json_object_new_string(id));
	return http_send_json(req, 200, o);
}
