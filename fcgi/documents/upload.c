/* documents upload: the multipart body streamed straight into the store.
 *
 * The multipart parser is pushed chunks read from the request; the store
 * pulls the file's bytes. read_file bridges the two: it pumps the request
 * until the parser has handed over some of the file part, so at most one
 * read chunk (plus the head kept for type detection) is ever in memory. */
#include <string.h>

#include "documents.h"
#include "events/event.h"
#include "extract/extract.h"
#include "events/job.h"
#include "core/log.h"
#include "web/multipart.h"
#include "events/outbox.h"
#include "web/valid.h"

enum {
	UPLOAD_HEADER_MAX = 8192, /* bytes of one part's headers */
	UPLOAD_PARTS_MAX = 16,    /* parts in one upload */
	UPLOAD_FIELD_MAX = 1024   /* bytes of a text field (wait) */
};

struct upload {
	struct http_req *req;
	struct multipart *mp;
	char *chunk;        /* one read from the request */
	struct buf pending; /* file bytes the store has not taken yet */
	size_t pending_pos;
	struct buf field; /* the text field being read */
	const char *field_name;
	const char *filename; /* display name of the file part */
	bool in_file, in_field, file_seen, file_done, body_done;
	enum err err;    /* the first failure; sticky */
	const char *why; /* its sentence for the client */
};

static void fail(struct upload *u, enum err e, const char *why)
{
	if (u->err == ERR_OK) {
		u->err = e;
		u->why = why;
	}
}

static enum err on_begin(void *ctx, const struct multipart_part *part)
{
	struct upload *u = ctx;
	if (!u->file_seen && strcmp(part->name, "file") == 0 && part->filename) {
		u->file_seen = u->in_file = true;
		u->filename = part->filename;
	} else if (!part->filename) {
		u->in_field = true;
		u->field_name = part->name;
		u->field.len = 0;
	}
	/* Any other file part is read past and dropped. */
	return ERR_OK;
}

static enum err on_data(void *ctx, const void *data, size_t len)
{
	struct upload *u = ctx;
	if (u->in_file)
		buf_append(&u->pending, data, len);
	else if (u->in_field)
		buf_append(&u->field, data, len);
	return ERR_OK;
}

static enum err on_end(void *ctx)
{
	struct upload *u = ctx;
	if (u->in_file) {
		u->in_file = false;
		u->file_done = true;
	} else if (u->in_field) {
		u->in_field = false;
		/* Validated against the route's PARAM_FORM entries (main.c). */
		if (http_form_field(u->req, u->field_name, u->field.data ? u->field.data : "",
		                    u->field.len) != ERR_OK)
			fail(u, ERR_INVALID, u->req->error_message);
	}
	return ERR_OK;
}

/* Reads one chunk of the body into the parser. */
static void pump(struct upload *u)
{
	if (u->body_done || u->err != ERR_OK)
		return;
	ssize_t n = http_read(u->req, u->chunk, MULTIPART_READ_CHUNK);
	enum err e = ERR_OK;
	if (n < 0) {
		fail(u, ERR_INVALID, "The request body is shorter than its Content-Length.");
		return;
	}
	if (n == 0) {
		u->body_done = true;
		e = multipart_finish(u->mp);
	} else {
		e = multipart_feed(u->mp, u->chunk, (size_t)n);
	}
	if (e != ERR_OK)
		fail(u, e,
		     multipart_error(u->mp) ? multipart_error(u->mp)
		                            : "The multipart body is malformed.");
}

/* store_read_fn: the next bytes of the file part. */
static ssize_t read_file(void *arg, void *dst, size_t cap)
{
	struct upload *u = arg;
	while (u->pending_pos == u->pending.len && !u->file_done) {
		u->pending.len = u->pending_pos = 0;
		pump(u);
		if (u->err != ERR_OK || (u->body_done && !u->file_done)) {
			fail(u, ERR_INVALID, "The multipart body ended inside the file part.");
			return -1;
		}
	}
	size_t n = u->pending.len - u->pending_pos;
	if (n > cap)
		n = cap;
	memcpy(dst, u->pending.data + u->pending_pos, n);
	u->pending_pos += n;
	return (ssize_t)n;
}

static void upload_cleanup(void *arg)
{
	struct upload *u = arg;
	buf_clear(&u->pending);
	buf_clear(&u->field);
}

/* The client's error for u's failure. */
static enum err upload_error(struct upload *u)
{
	return http_error(u->req, u->err, "%s", u->why ? u->why : err_message(u->err));
}

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
		e = job_add(service_db(), NULL, DOCS_JOB_PROCESS, input_text, DOCS_JOB_ATTEMPTS,
		            job_id);
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

	struct upload *u = pool_alloc(req->pool, sizeof(*u));
	u->req = req;
	buf_init(&u->pending);
	buf_init(&u->field);
	pool_on_free(req->pool, upload_cleanup, u);
	u->chunk = pool_alloc(req->pool, MULTIPART_READ_CHUNK);
	struct multipart_limits limits = {UPLOAD_HEADER_MAX, UPLOAD_PARTS_MAX, UPLOAD_FIELD_MAX,
	                                  (unsigned long long)docs_cfg.max_bytes +
	                                      DOCS_UPLOAD_OVERHEAD};
	struct multipart_callbacks cb = {on_begin, on_data, on_end, u};
	u->mp = multipart_new(req->pool, boundary, &limits, &cb);

	/* Read until the head of the file is in hand (or the body ended). */
	while (u->err == ERR_OK && !u->body_done && !u->file_done &&
	       u->pending.len < EXTRACT_SNIFF_MAX)
		pump(u);
	if (u->err != ERR_OK)
		return upload_error(u);
	if (!u->file_seen)
		return http_error(req, ERR_INVALID,
		                  "The upload has no `file` part with a file name.");
	if (u->pending.len == 0 && u->file_done)
		return http_error(req, ERR_INVALID, "The file is empty.");
	if (u->pending.len == 0)
		return http_error(req, ERR_INVALID,
		                  "The multipart body ended inside the file part.");
	enum extract_type type = EXTRACT_TYPE_NONE;
	size_t head = u->pending.len < EXTRACT_SNIFF_MAX ? u->pending.len : EXTRACT_SNIFF_MAX;
	e = extract_detect_named(u->filename, u->pending.data, head,
	                         u->file_done && head == u->pending.len, &type);
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
	e = store_put(service_store(), key, extract_content_type(type), read_file, u,
	              docs_cfg.max_bytes, &info);
	if (e == ERR_TOO_LARGE)
		return http_error(req, e, "The file is larger than %ld bytes.", docs_cfg.max_bytes);
	if (e != ERR_OK && u->err != ERR_OK)
		return upload_error(u);
	/* Any other failure is the store's (logged there), never the client's:
	 * refused credentials or a missing bucket must not read as 403 or 404. */
	if (e != ERR_OK)
		return e == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
	/* The rest of the body: fields after the file and the closing boundary. */
	while (u->err == ERR_OK && !u->body_done)
		pump(u);
	/* The form's `wait` first, then the query's (param_find order). */
	long wait = http_param(req, "wait") ? http_param_int(req, "wait") : DOCS_WAIT_DEFAULT_S;
	if (u->err == ERR_OK)
		e = record(req, id, u->filename, type, key, &info, job_id);
	if (u->err != ERR_OK || e != ERR_OK) {
		if (store_delete(service_store(), key) != ERR_OK)
			log_warn("upload: could not remove %s after a failed upload", key);
		return u->err != ERR_OK ? upload_error(u) : e;
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
