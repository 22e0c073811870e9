/* stt transcribe: POST /transcribe. The audio part ("audio", or "file") is
 * streamed to the store (web/upload.h) once its first bytes show an
 * accepted container; the transcription, its job and
 * audio.transcription.requested are recorded in one transaction, then the
 * request waits for the job up to `wait` seconds. */
#include <string.h>

#include "core/log.h"
#include "events/event.h"
#include "events/job.h"
#include "events/outbox.h"
#include "stt.h"
#include "web/multipart.h"
#include "web/upload.h"

/* Records the transcription, its job and the event in one transaction. */
static enum err record(struct http_req *req, const char *id, const char *language,
                       enum stt_format format, const char *key, const struct store_info *info)
{
	char size[32], job_id[EVENT_ID_LEN + 1];
	snprintf(size, sizeof(size), "%lld", info->size);
	const char *params[] = {
	    id,   req->user_id, language, stt_format_name(format), stt_format_content_type(format),
	    size, key};
	struct json_object *input = json_object_new_object();
	json_object_object_add(input, "task_id", json_object_new_string(id));
	const char *input_text = pool_strdup(req->pool, http_json_text(input, NULL));
	json_object_put(input);
	struct json_object *payload = json_object_new_object();
	json_object_object_add(payload, "task_id", json_object_new_string(id));
	json_object_object_add(payload, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(payload, "language", json_object_new_string(language));
	json_object_object_add(payload, "file_size", json_object_new_int64(info->size));
	json_object_object_add(payload, "content_type",
	                       json_object_new_string(stt_format_content_type(format)));
	enum err e = db_begin(service_db());
	if (e == ERR_OK)
		e = db_exec_prepared(service_db(), "stt_insert",
		                     "INSERT INTO transcriptions (id, user_id, language, format, "
		                     "content_type, file_size, storage_key) "
		                     "VALUES ($1, $2, $3, $4, $5, $6, $7)",
		                     7, params, NULL);
	if (e == ERR_OK)
		e = job_add_owned(service_db(), id, STT_JOB_TRANSCRIBE, req->user_id, input_text,
		                  STT_JOB_ATTEMPTS, job_id);
	if (e == ERR_OK)
		e = outbox_record(service_db(), "audio.transcription.requested", STT_SERVICE,
		                  req->user_id, payload);
	else
		json_object_put(payload);
	return db_end(service_db(), e);
}

/* 422 naming the languages the engine has. */
static enum err unknown_language(struct http_req *req, const char *language)
{
	struct json_object *o = json_object_new_object(), *details = json_object_new_array(),
	                   *d = json_object_new_object();
	const char *message =
	    pool_printf(req->pool, "The language %s is not available: the engine has %s.", language,
	                stt_languages());
	json_object_object_add(o, "error", json_object_new_string("unprocessable_entity"));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "request_id",
	                       req->request_id ? json_object_new_string(req->request_id) : NULL);
	json_object_object_add(d, "field", json_object_new_string("language"));
	json_object_object_add(d, "problem", json_object_new_string(message));
	json_object_array_add(details, d);
	json_object_object_add(o, "details", details);
	struct json_object *langs = json_object_new_array();
	/* The list, split at its commas. */
	for (const char *l = stt_languages(); *l;) {
		size_t n = strcspn(l, ",");
		json_object_array_add(langs, json_object_new_string_len(l, (int)n));
		l += n;
		while (*l == ',' || *l == ' ')
			l++;
	}
	json_object_object_add(o, "languages", langs);
	return http_send_json(req, 422, o);
}

/* Streams the audio part into the store at key; answers the client itself
 * on a failure that is the client's (returned as is). */
static enum err receive(struct http_req *req, struct upload *u, const char *key,
                        enum stt_format *format, struct store_info *info)
{
	if (upload_head(u, STT_SNIFF_MAX) != ERR_OK)
		return upload_error(u);
	size_t have = 0;
	bool complete = false;
	const unsigned char *head = (const unsigned char *)upload_head_data(u, &have, &complete);
	if (!upload_file_seen(u))
		return http_error(req, ERR_INVALID,
		                  "The upload has no `audio` part with a file name.");
	if (have == 0 && complete)
		return http_error(req, ERR_INVALID, "The audio file is empty.");
	if (have == 0)
		return http_error(req, ERR_INVALID,
		                  "The multipart body ended inside the audio part.");
	*format = stt_detect(head, have);
	if (*format == STT_FORMAT_NONE)
		return http_error(req, ERR_MEDIA_TYPE,
		                  "This kind of file is not supported: send WAV, MP3, OGG (Vorbis "
		                  "or Opus), FLAC, WebM/Opus or M4A/AAC audio.");
	enum err e = store_put(service_store(), key, stt_format_content_type(*format), upload_read,
	                       u, stt_cfg.max_bytes, info);
	if (e == ERR_TOO_LARGE)
		return http_error(req, e, "The audio file is larger than %ld bytes.",
		                  stt_cfg.max_bytes);
	if (e != ERR_OK && upload_failed(u) != ERR_OK)
		return upload_error(u);
	/* Any other failure is the store's (logged there), never the client's. */
	if (e != ERR_OK)
		return e == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
	/* The rest of the body: fields after the file and the closing boundary. */
	if (upload_rest(u) != ERR_OK) {
		e = upload_error(u);
		if (store_delete(service_store(), key) != ERR_OK)
			log_warn("transcribe: could not remove %s after a failed upload", key);
	}
	return e;
}

/* 202 with where to poll; or 200 with the transcription once it is done. */
static enum err answer(struct http_req *req, const char *id)
{
	PGresult *res = NULL;
	enum err e = stt_load(req, id, &res);
	if (e != ERR_OK)
		return e;
	const char *status = PQgetvalue(res, 0, 1);
	const char *url = pool_printf(req->pool, "/api/v1/stt/status/%s", id);
	if (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0) {
		e = http_send_json(req, 200, stt_json(res, 0, false));
	} else {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "task_id", json_object_new_string(id));
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "status", json_object_new_string("processing"));
		json_object_object_add(o, "status_url", json_object_new_string(url));
		e = http_add_header(req, "Location", url);
		if (e == ERR_OK)
			e = http_send_json(req, 202, o);
		else
			json_object_put(o);
	}
	PQclear(res);
	return e;
}

enum err stt_transcribe(struct http_req *req)
{
	const char *boundary = NULL;
	enum err e = multipart_boundary(req->content_type, req->pool, &boundary);
	if (e == ERR_MEDIA_TYPE)
		return http_error(req, e,
		                  "The body must be multipart/form-data with an `audio` part.");
	if (e != ERR_OK)
		return http_error(req, e, "The multipart boundary is missing or not valid.");
	static const char *const parts[] = {"audio", "file", NULL};
	struct upload *u = upload_new(req, boundary, parts,
	                              (unsigned long long)stt_cfg.max_bytes + STT_UPLOAD_OVERHEAD);
	char id[EVENT_ID_LEN + 1];
	event_uuid(id);
	const char *key = NULL;
	e = store_key(req->pool, STT_SERVICE, req->user_id, id, "audio", &key);
	if (e != ERR_OK)
		return e;
	enum stt_format format = STT_FORMAT_NONE;
	struct store_info info;
	e = receive(req, u, key, &format, &info);
	if (e != ERR_OK)
		return e;
	/* The form's fields first, then the query's (param_find order). */
	const char *language =
	    http_param(req, "language") ? http_param(req, "language") : STT_LANGUAGE_DEFAULT;
	long wait = http_param(req, "wait") ? http_param_int(req, "wait") : STT_WAIT_DEFAULT_S;
	if (!stt_language_known(language)) {
		if (store_delete(service_store(), key) != ERR_OK)
			log_warn("transcribe: could not remove %s", key);
		return unknown_language(req, language);
	}
	e = record(req, id, language, format, key, &info);
	if (e != ERR_OK) {
		if (store_delete(service_store(), key) != ERR_OK)
			log_warn("transcribe: could not remove %s after a failed upload", key);
		return e;
	}
	log_info("transcription %s queued (%s, %lld bytes)", id, stt_format_name(format),
	         info.size);
	struct job_status js;
	e = job_wait(service_db(), id, wait * 1000, req->pool, &js);
	if (e != ERR_OK && e != ERR_TIMEOUT)
		log_warn("transcribe: waiting for job %s failed; answering with the task as it is",
		         id);
	return answer(req, id);
}
