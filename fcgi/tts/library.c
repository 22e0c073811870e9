/* library: the voices, and the learner's syntheses: list, fetch (nginx
 * sends the bytes, Range included) and delete. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "events/outbox.h"
#include "tts.h"
#include "data/row.h"

enum err tts_voices(struct http_req *req)
{
	enum err e = tts_voices_ready(req);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < tts_voice_count(); i++) {
		const struct tts_voice *v = tts_voice_at(i);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(v->id));
		json_object_object_add(o, "name", json_object_new_string(v->name));
		json_object_object_add(o, "language", json_object_new_string(v->language));
		json_object_object_add(o, "language_name",
		                       json_object_new_string(v->language_name));
		json_object_object_add(o, "gender", json_object_new_string(v->gender));
		json_object_object_add(o, "engine",
		                       json_object_new_string(tts_engine_name(v->engine)));
		json_object_array_add(arr, o);
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(
	    o, "engine",
	    json_object_new_string(tts_cfg.engine == TTS_ENGINE_POLLY ? "polly" : "local"));
	json_object_object_add(o, "voices", arr);
	return http_send_json(req, 200, o);
}

struct json_object *tts_audio_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, TTS_COL_ID);
	enum tts_format f = TTS_MP3;
	if (!tts_format_parse(db_value(res, row, TTS_COL_FORMAT), &f))
		f = TTS_MP3;
	char url[sizeof(TTS_AUDIO_URL) + 40];
	snprintf(url, sizeof(url), TTS_AUDIO_URL "%s", id);
	double speed = 1.0;
	sscanf(db_value(res, row, TTS_COL_SPEED), "%lf", &speed);
	json_object_object_add(o, "task_id", row_str(res, row, TTS_COL_TASK));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string("completed"));
	json_object_object_add(o, "audio_url", json_object_new_string(url));
	json_object_object_add(o, "voice_id", row_str(res, row, TTS_COL_VOICE));
	json_object_object_add(o, "format", json_object_new_string(tts_format_name(f)));
	json_object_object_add(o, "content_type",
	                       json_object_new_string(tts_format_content_type(f)));
	json_object_object_add(o, "characters",
	                       json_object_new_int64(row_ll(res, row, TTS_COL_CHARS)));
	json_object_object_add(o, "duration_ms",
	                       json_object_new_int64(row_ll(res, row, TTS_COL_DURATION)));
	json_object_object_add(o, "sample_rate",
	                       json_object_new_int64(row_ll(res, row, TTS_COL_RATE)));
	json_object_object_add(o, "size", json_object_new_int64(row_ll(res, row, TTS_COL_SIZE)));
	json_object_object_add(o, "speed", json_object_new_double(speed));
	json_object_object_add(o, "text", row_str(res, row, TTS_COL_PREVIEW));
	json_object_object_add(o, "document_id", row_str(res, row, TTS_COL_DOCUMENT));
	json_object_object_add(o, "part", row_str(res, row, TTS_COL_PART));
	json_object_object_add(o, "created_at", row_str(res, row, TTS_COL_CREATED));
	return o;
}

enum err tts_send_audio(struct http_req *req, const PGresult *res, int row, bool json, bool hit)
{
	const char *id = db_value(res, row, TTS_COL_ID);
	enum err e = http_add_header(req, "X-Task-Id", db_value(res, row, TTS_COL_TASK));
	if (e == ERR_OK)
		e = http_add_header(req, "Location",
		                    pool_printf(req->pool, TTS_AUDIO_URL "%s", id));
	if (e == ERR_OK)
		e = http_add_header(req, "X-Cache", hit ? "hit" : "miss");
	if (e == ERR_OK)
		e = http_add_header(req, "X-Audio-Duration-Ms",
		                    db_value(res, row, TTS_COL_DURATION));
	if (e != ERR_OK)
		return e;
	if (json)
		return http_send_json(req, 200, tts_audio_json(res, row));
	enum tts_format f = TTS_MP3;
	if (!tts_format_parse(db_value(res, row, TTS_COL_FORMAT), &f))
		return ERR_INTERNAL;
	const char *type = tts_format_content_type(f);
	struct store_download dl;
	e = store_download_as(service_store(), db_value(res, row, TTS_COL_KEY), type, "inline",
	                      req->pool, &dl);
	if (e != ERR_OK)
		return e;
	if (dl.kind == STORE_DOWNLOAD_REDIRECT)
		return http_send_redirect(req, 302, dl.location);
	return http_send_accel(req, dl.location, type, NULL);
}

static enum err not_found(struct http_req *req)
{
	return http_error(req, ERR_NOT_FOUND, "Not found.");
}

enum err tts_list(struct http_req *req)
{
	char slimit[24], soffset[24];
	snprintf(slimit, sizeof(slimit), "%ld", http_param_int(req, "limit"));
	snprintf(soffset, sizeof(soffset), "%ld", http_param_int(req, "offset"));
	const char *params[] = {req->user_id, slimit, soffset};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(service_db(), "tts_list",
	                              "SELECT " TTS_SQL_AUDIO " FROM audio WHERE user_id = $1 "
	                              "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
	                              3, params, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(arr, tts_audio_json(res, i));
	PQclear(res);
	return http_send_json(req, 200, arr);
}

enum err tts_get(struct http_req *req)
{
	const char *params[] = {http_param(req, "id"), req->user_id};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(service_db(), "tts_get",
	                              "SELECT " TTS_SQL_AUDIO " FROM audio WHERE id = $1 AND "
	                              "user_id = $2",
	                              2, params, &res);
	if (e == ERR_OK)
		e = PQntuples(res) == 1 ? tts_send_audio(req, res, 0, false, true) : not_found(req);
	PQclear(res);
	return e;
}

enum err tts_delete(struct http_req *req)
{
	const char *id = http_param(req, "id");
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	enum err e = db_begin(service_db());
	if (e == ERR_OK)
		e = db_exec_prepared(service_db(), "tts_delete",
		                     "DELETE FROM audio WHERE id = $1 AND user_id = $2 "
		                     "RETURNING storage_key, task_id",
		                     2, params, &res);
	if (e == ERR_OK && PQntuples(res) != 1)
		e = not_found(req);
	if (e == ERR_OK) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "task_id", json_object_new_string(db_value(res, 0, 1)));
		json_object_object_add(p, "user_id", json_object_new_string(req->user_id));
		json_object_object_add(p, "audio_id", json_object_new_string(id));
		e = outbox_record(service_db(), "audio.generation.deleted", TTS_SERVICE,
		                  req->user_id, p);
	}
	e = db_end(service_db(), e);
	if (e == ERR_OK && store_delete(service_store(), db_value(res, 0, 0)) != ERR_OK)
		log_error("tts: audio %s is gone but its object %s could not be removed", id,
		          db_value(res, 0, 0));
	if (e != ERR_OK) {
		PQclear(res);
		return e;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("Audio deleted."));
	json_object_object_add(o, "task_id", json_object_new_string(db_value(res, 0, 1)));
	json_object_object_add(o, "id", json_object_new_string(id));
	PQclear(res);
	return http_send_json(req, 200, o);
}
