/* stt tasks: a transcription's status, the list and deletion. */
#include <stdio.h>
#include <string.h>

#include "app/owned.h"
#include "core/log.h"
#include "events/outbox.h"
#include "stt.h"
#include "data/row.h"
#include "web/page.h"

static struct json_object *num_or_null(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	double d = 0;
	return v && sscanf(v, "%lf", &d) == 1 ? json_object_new_double(d) : NULL;
}

/* The first max characters of s (UTF-8), copied. */
static struct json_object *cut_text(const char *s, size_t max)
{
	size_t i = 0, chars = 0;
	while (s[i] && chars < max) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return json_object_new_string_len(s, (int)i);
}

struct json_object *stt_json(const PGresult *res, int row, bool brief)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, 0), *text = db_value(res, row, 3);
	json_object_object_add(o, "task_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "status", row_str(res, row, 1));
	json_object_object_add(o, "language", row_str(res, row, 2));
	struct json_object *t = NULL;
	if (text)
		t = brief ? cut_text(text, STT_LIST_TEXT_MAX) : json_object_new_string(text);
	json_object_object_add(o, "text", t);
	json_object_object_add(o, "transcript", t ? json_object_get(t) : NULL);
	json_object_object_add(o, "confidence", num_or_null(res, row, 4));
	json_object_object_add(o, "duration_seconds", num_or_null(res, row, 5));
	const char *words = db_value(res, row, 6);
	if (!brief) {
		struct json_object *w = words ? http_json_parse(words, strlen(words)) : NULL;
		json_object_object_add(o, "words", w ? w : json_object_new_array());
	}
	/* The speakers' turns when the engine labels them (Transcribe), else null. */
	const char *speakers = db_value(res, row, 14);
	json_object_object_add(
	    o, "speakers", speakers && !brief ? http_json_parse(speakers, strlen(speakers)) : NULL);
	json_object_object_add(o, "error", row_str(res, row, 7));
	json_object_object_add(o, "format", row_str(res, row, 8));
	json_object_object_add(o, "file_size", json_object_new_int64(row_ll(res, row, 9)));
	json_object_object_add(o, "created_at", row_str(res, row, 10));
	json_object_object_add(o, "completed_at", row_str(res, row, 11));
	/* "pocketsphinx", or "pocketsphinx+course" when tuned to the learner's
	 * documents (not in the contract; null until done). */
	json_object_object_add(o, "engine", row_str(res, row, 12));
	/* How far the job got (0-100); 100 once done, whatever the job says. */
	const char *status = db_value(res, row, 1);
	long long progress = row_ll(res, row, 13);
	if (status && (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0))
		progress = 100;
	json_object_object_add(o, "progress", json_object_new_int64(progress));
	return o;
}

enum err stt_load(struct http_req *req, const char *id, PGresult **out)
{
	return owned_row(req, "stt_get",
	                 "SELECT " STT_SQL_COLUMNS
	                 " FROM transcriptions WHERE id = $1 AND user_id = $2",
	                 id, out);
}

enum err stt_status(struct http_req *req)
{
	PGresult *res = NULL;
	enum err e = stt_load(req, http_param(req, "task_id"), &res);
	if (e != ERR_OK)
		return e;
	e = http_send_json(req, 200, stt_json(res, 0, false));
	PQclear(res);
	return e;
}

static struct json_object *list_item(const PGresult *res, int row)
{
	return stt_json(res, row, true);
}

enum err stt_list(struct http_req *req)
{
	static const struct owned_list list = {
	    .stmt = "stt_list",
	    .sql = "SELECT " STT_SQL_COLUMNS " FROM transcriptions "
	           "WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
	    .count_stmt = "stt_count",
	    .count_sql = "SELECT count(*) FROM transcriptions WHERE user_id = $1",
	    .url = "/api/v1/stt/transcriptions",
	    .json = list_item,
	};
	return owned_list_send(req, &list);
}

enum err stt_delete(struct http_req *req)
{
	const char *id = http_param(req, "id");
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	/* The row first; its audio once that committed. A job still queued or
	 * running finds no row and does nothing. */
	enum err e = db_exec_prepared(service_db(), "stt_delete",
	                              "DELETE FROM transcriptions WHERE id = $1 AND user_id = $2 "
	                              "RETURNING storage_key",
	                              2, params, &res);
	if (e == ERR_OK && PQntuples(res) != 1)
		e = owned_not_found(req);
	const char *key = e == ERR_OK ? db_value(res, 0, 0) : NULL;
	if (key && store_delete(service_store(), key) != ERR_OK)
		log_error("delete: transcription %s is gone but its audio %s could not be removed",
		          id, key);
	PQclear(res);
	if (e != ERR_OK)
		return e;
	log_info("deleted transcription %s", id);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("Transcription deleted."));
	json_object_object_add(o, "task_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	return http_send_json(req, 200, o);
}
