/* documents upload: the multipart body streamed straight into the store
 * (web/upload.h), with the head of the file kept for type detection. */
#include <string.h>

#include "documents.h"
#include "events/event.h"
#include "extract/extract.h"
#include "events/job.h"
#include "core/log.h"
#include "web/multipart.h"
#include "web/upload.h"
#include "events/outbox.h"
#include "web/valid.h"

/* Records the document, its job and document.uploaded in one transaction. */
static enum err record(struct http_req *req, const char *id, const char *filename,
                       enum extract_type type, const char *key, const struct store_info *info,
                       char job_id[EVENT_ID_LEN + 1])
{
	char size[32];
	snprintf(size, sizeof(size), "%lld", info->size);
	const char *params[] = {
	    id,   req->user_id, filename, extract_type_name(type), extract_content_type(type),
	    size, info->sha256, key};
	struct json_object *input = json_object_new_object();
	json_object_object_add(input, "document_id", json_object_new_string(id));
	const char *input_text = pool_strdup(req->pool, http_json_text(input, NULL));
	json_object_put(input);
	struct json_object *payload = json_object_new_object();
	json_object_object_add(payload, "document_id", json_object_new_string(id));
	json_object_object_add(payload, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(payload, "filename", json_object_new_string(filename));
	json_object_object_add(payload, "file_type",
	                       json_object_new_string(extract_type_name(type)));
	json_object_object_add(payload, "content_type",
	                       json_object_new_string(extract_content_type(type)));
	json_object_object_add(payload, "file_size", json_object_new_int64(info->size));
	json_object_object_add(payload, "sha256", json_object_new_string(info->sha256));
	enum err e = db_begin(service_db());
	if (e == ERR_OK)
		e = db_exec_prepared(
		    service_db(), "docs_insert",
		    "INSERT INTO documents (id, user_id, filename, file_type, content_type, "
		    "file_size, sha256, storage_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		    8, params, NULL);
	if (e == ERR_OK)
		e = job_add_owned(service_db(), NULL, DOCS_JOB_PROCESS, req->user_id, input_text,
		                  DOCS_JOB_ATTEMPTS, job_id);
	if (e == ERR_OK)
		e = outbox_record(service_db(), "document.uploaded", DOCS_SERVICE, req->user_id,
		                  payload);
	else
		json_object_put(payload);
	return db_end(service_db(), e);
}

enum err docs_upload(struct http_req *req)
{
	const char *boundary = NULL;
	enum err e = multipart_boundary(req->content_type, req->pool, &boundary);
	if (e == ERR_MEDIA_TYPE)
		return http_error(req, e,
		                  "The body must be multipart/form-data with a `file` part.");
	if (e != ERR_OK)
		return http_error(req, e, "The multipart boundary is missing or not valid.");

	/* A full queue refuses before the body is read into the store. */
	e = job_owner_room(service_db(), req->user_id);
	if (e == ERR_RATE_LIMITED)
		return docs_queue_full(req);
	if (e != ERR_OK)
		return e;

	static const char *const file_parts[] = {"file", NULL};
	struct upload *u =
	    upload_new(req, boundary, file_parts,
	               (unsigned long long)docs_cfg.max_bytes + DOCS_UPLOAD_OVERHEAD);

	/* Read until the head of the file is in hand (or the body ended). */
	if (upload_head(u, EXTRACT_SNIFF_MAX) != ERR_OK)
		return upload_error(u);
	size_t have = 0;
	bool complete = false;
	const char *data = upload_head_data(u, &have, &complete);
	if (!upload_file_seen(u))
		return http_error(req, ERR_INVALID,
		                  "The upload has no `file` part with a file name.");
	if (have == 0 && complete)
		return http_error(req, ERR_INVALID, "The file is empty.");
	if (have == 0)
		return http_error(req, ERR_INVALID,
		                  "The multipart body ended inside the file part.");
	enum extract_type type = EXTRACT_TYPE_NONE;
	size_t head = have < EXTRACT_SNIFF_MAX ? have : EXTRACT_SNIFF_MAX;
	e = extract_detect_named(upload_filename(u), data, head, complete && head == have, &type);
	if (e == ERR_MEDIA_TYPE)
		return http_error(
		    req, e,
		    "This kind of file is not supported: upload a PDF, DOCX, plain text, "
		    "Markdown, PNG or JPEG file.");
	if (e != ERR_OK)
		return http_error(req, ERR_INVALID, "The file is empty.");

	char id[EVENT_ID_LEN + 1], job_id[EVENT_ID_LEN + 1];
	event_uuid(id);
	const char *key = NULL;
	/* The client's name never reaches the key: the object is "original". */
	e = store_key(req->pool, DOCS_SERVICE, req->user_id, id, "original", &key);
	if (e != ERR_OK)
		return e;
	struct store_info info;
	e = store_put(service_store(), key, extract_content_type(type), upload_read, u,
	              docs_cfg.max_bytes, &info);
	if (e == ERR_TOO_LARGE)
		return http_error(req, e, "The file is larger than %ld bytes.", docs_cfg.max_bytes);
	if (e != ERR_OK && upload_failed(u) != ERR_OK)
		return upload_error(u);
	/* Any other failure is the store's (logged there), never the client's:
	 * refused credentials or a missing bucket must not read as 403 or 404. */
	if (e != ERR_OK)
		return e == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
	/* The rest of the body: fields after the file and the closing boundary. */
	enum err body = upload_rest(u);
	/* The form's `wait` first, then the query's (param_find order). */
	long wait = http_param(req, "wait") ? http_param_int(req, "wait") : DOCS_WAIT_DEFAULT_S;
	if (body == ERR_OK)
		e = record(req, id, upload_filename(u), type, key, &info, job_id);
	if (body != ERR_OK || e != ERR_OK) {
		if (store_delete(service_store(), key) != ERR_OK)
			log_warn("upload: could not remove %s after a failed upload", key);
		if (body == ERR_OK && e == ERR_RATE_LIMITED)
			return docs_queue_full(req);
		return body != ERR_OK ? upload_error(u) : e;
	}
	log_info("uploaded document %s (%s, %lld bytes)", id, extract_type_name(type), info.size);

	struct job_status js;
	e = job_wait(service_db(), job_id, wait * 1000, req->pool, &js);
	if (e != ERR_OK && e != ERR_TIMEOUT)
		log_warn("upload: waiting for job %s failed; answering with the document as it is",
		         job_id);
	PGresult *res = NULL;
	e = docs_load(req, id, &res);
	if (e != ERR_OK)
		return e;
	e = http_add_header(req, "Location", pool_printf(req->pool, "/api/v1/documents/%s", id));
	if (e == ERR_OK)
		e = http_send_json(req, 201, docs_json(res, 0, true));
	PQclear(res);
	return e;
}
