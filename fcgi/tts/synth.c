/* synth: POST /synthesize. The same text, voice, format and speed for the
 * same user is answered from the stored audio; anything new is spoken in
 * the engine's sandboxed child and encoded into a temporary file, and its
 * bytes are streamed to the client chunk by chunk as they are encoded
 * (the JSON form waits for the end); then the file is stored. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "events/event.h"
#include "events/outbox.h"
#include "storage/aws_sigv4.h"
#include "tts.h"

enum { PREVIEW_CHARS = 200, SPEED_TEXT = 16 };

/* speed: a JSON number 0.5..2.0, 1.0 when absent. */
static enum err read_speed(struct http_req *req, double *out)
{
	*out = 1.0;
	struct json_object *v = NULL;
	if (req->body == NULL || !json_object_object_get_ex(req->body, "speed", &v) || v == NULL)
		return ERR_OK;
	enum json_type t = json_object_get_type(v);
	double d = (t == json_type_double || t == json_type_int) ? json_object_get_double(v) : NAN;
	if (!(d >= 0.5 && d <= 2.0)) {
		http_error_detail(req, "speed", "must be a number from 0.5 to 2.0");
		return http_error(req, ERR_INVALID, "The request is not valid.");
	}
	*out = round(d * 100) / 100;
	return ERR_OK;
}

/* voice_id (or voice), Joanna by default; an unknown one lists the valid. */
static enum err read_voice(struct http_req *req, const struct tts_voice **out)
{
	enum err e = tts_voices_ready(req);
	if (e != ERR_OK)
		return e;
	const char *id = http_param(req, "voice_id");
	if (id == NULL)
		id = http_param(req, "voice");
	if (id == NULL)
		id = "Joanna";
	*out = tts_voice_find(id);
	if (*out != NULL)
		return ERR_OK;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "unknown voice; valid voice ids: ");
	for (size_t i = 0; i < tts_voice_count(); i++)
		buf_printf(&b, "%s%s", i ? ", " : "", tts_voice_at(i)->id);
	http_error_detail(req, http_param(req, "voice_id") ? "voice_id" : "voice", b.data);
	buf_clear(&b);
	return http_error(req, ERR_INVALID, "Unknown voice.");
}

/* The script to speak and the text behind it. */
static enum err read_script(struct http_req *req, struct tts_script *s, const char **source)
{
	const char *doc = http_param(req, "document_id"), *text = http_param(req, "text");
	if (doc != NULL) {
		enum err e = tts_document_script(req, doc, http_param(req, "part"), s, source);
		if (e == ERR_NOT_FOUND)
			return http_error(req, e, "Not found.");
		return e;
	}
	if (text == NULL) {
		http_error_detail(req, "text",
		                  "is required (1 to 5000 characters), or document_id");
		return http_error(req, ERR_INVALID, "The request is not valid.");
	}
	*source = text;
	if (tts_is_ssml(text)) {
		const char *problem = NULL;
		if (tts_script_ssml(req->pool, text, strlen(text), s, &problem) != ERR_OK) {
			http_error_detail(req, "text", problem);
			return http_error(req, ERR_INVALID, "The SSML is not supported: %s.",
			                  problem);
		}
	} else {
		tts_script_plain(req->pool, text, s);
	}
	if (s->characters == 0) {
		http_error_detail(req, "text", "has nothing to speak");
		return http_error(req, ERR_INVALID, "The request is not valid.");
	}
	return ERR_OK;
}

static enum err load_by(struct http_req *req, const char *name, const char *where,
                        const char *value, PGresult **out)
{
	const char *params[] = {value, req->user_id};
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT " TTS_SQL_AUDIO " FROM audio WHERE %s = $1 AND user_id = $2", where);
	return db_exec_prepared(service_db(), name, sql, 2, params, out);
}

/* The first PREVIEW_CHARS characters of what is spoken (no markup). */
static const char *preview(struct pool *pool, const struct tts_script *script)
{
	struct buf b;
	buf_init(&b);
	size_t chars = 0;
	for (size_t k = 0; k < script->n && chars < PREVIEW_CHARS; k++) {
		const char *t = script->segs[k].text;
		if (t == NULL)
			continue;
		if (b.len > 0) {
			buf_putc(&b, ' ');
			chars++;
		}
		for (size_t i = 0; t[i] && chars < PREVIEW_CHARS; chars++) {
			size_t start = i++;
			while (((unsigned char)t[i] & 0xc0) == 0x80)
				i++;
			buf_append(&b, t + start, i - start);
		}
	}
	const char *out = pool_strndup(pool, b.data ? b.data : "", b.len);
	buf_clear(&b);
	return out;
}

static ssize_t file_read(void *arg, void *buf, size_t cap)
{
	FILE *f = arg;
	size_t n = fread(buf, 1, cap, f);
	return n == 0 && ferror(f) ? -1 : (ssize_t)n;
}

struct synth {
	const struct tts_voice *voice;
	enum tts_format format;
	double speed;
	const struct tts_script *script;
	const char *key, *source;
	char id[EVENT_ID_LEN + 1], task[EVENT_ID_LEN + 1];
	struct http_req *req;
	bool streamed; /* the response went out with the first bytes */
};

/* The tap of a streamed synthesis: the first chunk sends the status and
 * headers (no Content-Length). nginx keeps its buffering: it passes each
 * chunk on as its buffers fill and holds what a slow client has not read
 * yet (in a temporary file), so the engine never waits for the client and
 * its wall-clock limit is the synthesis's alone. */
static enum err stream_chunk(void *arg, const void *data, size_t len)
{
	struct synth *s = arg;
	struct http_req *req = s->req;
	if (!s->streamed) {
		enum err e = http_add_header(req, "X-Task-Id", s->task);
		if (e == ERR_OK)
			e = http_add_header(req, "Location",
			                    pool_printf(req->pool, TTS_AUDIO_URL "%s", s->id));
		if (e == ERR_OK)
			e = http_add_header(req, "X-Cache", "miss");
		if (e == ERR_OK)
			e = http_stream_begin(req, 200, tts_format_content_type(s->format));
		s->streamed = req->status != 0;
		if (e != ERR_OK)
			return e;
	}
	return http_stream_write(req, data, len);
}

static enum err record(struct http_req *req, const char *topic, struct json_object *payload)
{
	enum err e = db_begin(service_db());
	if (e == ERR_OK)
		e = outbox_record(service_db(), topic, TTS_SERVICE, req->user_id, payload);
	else
		json_object_put(payload);
	return db_end(service_db(), e);
}

static struct json_object *completed(struct http_req *req, const struct synth *s,
                                     const char *status, long duration_ms, const char *error)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "task_id", json_object_new_string(s->task));
	json_object_object_add(p, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(p, "status", json_object_new_string(status));
	json_object_object_add(
	    p, "audio_url",
	    error ? NULL
	          : json_object_new_string(pool_printf(req->pool, TTS_AUDIO_URL "%s", s->id)));
	json_object_object_add(p, "voice_id", json_object_new_string(s->voice->id));
	json_object_object_add(p, "format", json_object_new_string(tts_format_name(s->format)));
	json_object_object_add(p, "duration_ms", json_object_new_int64(duration_ms));
	json_object_object_add(p, "error", error ? json_object_new_string(error) : NULL);
	return p;
}

static const char *failure(enum err e)
{
	switch (e) {
	case ERR_TOO_LARGE:
		return "the audio would be longer than the service allows";
	case ERR_TIMEOUT:
		return "the synthesis took too long";
	default:
		return "the synthesis failed";
	}
}

static const char insert_sql[] =
    "INSERT INTO audio (id, task_id, user_id, request_key, voice_id, format, speed, "
    "characters, duration_ms, sample_rate, size, storage_key, text_preview, document_id, "
    "part) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
    "ON CONFLICT (user_id, request_key) DO NOTHING";

/* Speaks into a temporary file (and the response, when stream) and stores
 * it; the row and the completed event go in one transaction. *raced: an
 * identical request stored first. */
static enum err speak(struct http_req *req, struct synth *s, bool stream, bool *raced)
{
	struct tts_limits lim = {tts_cfg.cpu_seconds, tts_cfg.wall_ms, tts_cfg.memory_mb,
	                         tts_cfg.max_seconds};
	struct tts_result r = {0};
	const char *skey = NULL;
	FILE *f = tmpfile();
	if (f == NULL) {
		log_error("tts: no temporary file");
		return ERR_INTERNAL;
	}
	struct tts_tap tap = {stream_chunk, s};
	enum err e = tts_synthesize(s->voice, s->script, s->speed, s->format, &lim, f,
	                            stream ? &tap : NULL, &r);
	if (e == ERR_OK)
		e = store_key(req->pool, TTS_SERVICE, req->user_id, s->id,
		              pool_printf(req->pool, "audio.%s", tts_format_name(s->format)),
		              &skey);
	if (e == ERR_OK && fseek(f, 0, SEEK_SET) != 0)
		e = ERR_INTERNAL;
	struct store_info info;
	if (e == ERR_OK)
		e = store_put(service_store(), skey, tts_format_content_type(s->format), file_read,
		              f, r.bytes, &info);
	fclose(f);
	if (e != ERR_OK) {
		/* The engine's own reason (a failed Polly task) says most. */
		const char *why = r.reason[0] ? r.reason : failure(e);
		if (record(req, "audio.generation.completed",
		           completed(req, s, "failed", 0, why)) != ERR_OK)
			log_warn("tts: the failure of task %s was not recorded", s->task);
		/* Part of the audio went out: the client must not take it
		 * for the whole, so the response ends without its end. */
		if (s->streamed) {
			log_warn("tts: task %s failed after streaming began: %s", s->task, why);
			http_stream_abort(req);
			return e;
		}
		if (e == ERR_TOO_LARGE || e == ERR_TIMEOUT)
			return http_error(req, e, "The %s.", why);
		if (r.reason[0])
			return http_error(req, e, "%s", r.reason);
		return e;
	}
	char speed[SPEED_TEXT], chars[24], dur[24], rate[24], size[24];
	snprintf(speed, sizeof(speed), "%.2f", s->speed);
	snprintf(chars, sizeof(chars), "%zu", s->script->characters);
	snprintf(dur, sizeof(dur), "%ld", r.duration_ms);
	snprintf(rate, sizeof(rate), "%ld", r.sample_rate);
	snprintf(size, sizeof(size), "%lld", r.bytes);
	const char *doc = http_param(req, "document_id");
	const char *params[] = {s->id,
	                        s->task,
	                        req->user_id,
	                        s->key,
	                        s->voice->id,
	                        tts_format_name(s->format),
	                        speed,
	                        chars,
	                        dur,
	                        rate,
	                        size,
	                        skey,
	                        preview(req->pool, s->script),
	                        doc,
	                        doc ? http_param(req, "part") : NULL};
	PGresult *res = NULL;
	e = db_begin(service_db());
	if (e == ERR_OK)
		e = db_exec_prepared(service_db(), "tts_insert", insert_sql, 15, params, &res);
	*raced = e == ERR_OK && db_affected(res) == 0;
	PQclear(res);
	res = NULL;
	/* A streamed response already named this id in Location: it is kept,
	 * under a key no request makes (the identical one is the cache). */
	if (*raced && s->streamed) {
		params[3] = pool_printf(req->pool, "%s:%s", s->key, s->id);
		e = db_exec_prepared(service_db(), "tts_insert", insert_sql, 15, params, &res);
		*raced = e == ERR_OK && db_affected(res) == 0;
		PQclear(res);
	}
	if (e == ERR_OK && !*raced)
		e = outbox_record(service_db(), "audio.generation.completed", TTS_SERVICE,
		                  req->user_id,
		                  completed(req, s, "completed", r.duration_ms, NULL));
	e = db_end(service_db(), e);
	if (e != ERR_OK && s->streamed)
		http_stream_abort(req); /* its Location would name nothing */
	if ((e != ERR_OK || *raced) && store_delete(service_store(), skey) != ERR_OK)
		log_warn("tts: the audio %s was left in the store", skey);
	if (e == ERR_OK && !*raced)
		log_info("tts: %s %s %zu characters, %ld ms of audio", s->voice->id,
		         tts_format_name(s->format), s->script->characters, r.duration_ms);
	return e;
}

/* The cache key: what makes two requests the same. */
static const char *request_key(struct http_req *req, const struct synth *s)
{
	struct buf b;
	buf_init(&b);
	const char *doc = http_param(req, "document_id");
	buf_printf(&b, "%s\n%s\n%.2f\n%s\n%s\n", s->voice->id, tts_format_name(s->format), s->speed,
	           doc ? doc : "", doc ? http_param(req, "part") : "");
	buf_puts(&b, s->source);
	char hex[AWS_SHA256_HEX_LEN + 1];
	aws_sha256_hex(b.data, b.len, hex);
	buf_clear(&b);
	return pool_strdup(req->pool, hex);
}

enum err tts_synthesize_route(struct http_req *req)
{
	struct synth s = {.req = req};
	struct tts_script script;
	enum err e = read_speed(req, &s.speed);
	if (e == ERR_OK)
		e = read_voice(req, &s.voice);
	if (e != ERR_OK)
		return e;
	if (!tts_format_parse(http_param(req, "format"), &s.format))
		return ERR_INVALID;
	e = read_script(req, &script, &s.source);
	if (e != ERR_OK)
		return e;
	s.script = &script;
	s.key = request_key(req, &s);
	bool json = strcmp(http_param(req, "response"), "json") == 0;
	PGresult *res = NULL;
	e = load_by(req, "tts_by_key", "request_key", s.key, &res);
	if (e == ERR_OK && PQntuples(res) == 1) {
		e = tts_send_audio(req, res, 0, json, true);
		PQclear(res);
		return e;
	}
	PQclear(res);
	res = NULL;
	if (e != ERR_OK)
		return e;
	event_uuid(s.id);
	event_uuid(s.task);
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "task_id", json_object_new_string(s.task));
	json_object_object_add(p, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(p, "text_length", json_object_new_int64((long)script.characters));
	json_object_object_add(p, "voice_id", json_object_new_string(s.voice->id));
	json_object_object_add(p, "format", json_object_new_string(tts_format_name(s.format)));
	e = record(req, "audio.generation.requested", p);
	bool raced = false;
	if (e == ERR_OK)
		e = speak(req, &s, !json, &raced);
	if (s.streamed) /* the client has the audio and its headers */
		return e;
	if (e == ERR_OK)
		e = raced ? load_by(req, "tts_by_key", "request_key", s.key, &res)
		          : load_by(req, "tts_by_id", "id", s.id, &res);
	if (e == ERR_OK && PQntuples(res) != 1)
		e = ERR_INTERNAL;
	if (e == ERR_OK)
		e = tts_send_audio(req, res, 0, json, raced);
	PQclear(res);
	return e;
}
