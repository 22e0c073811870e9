/* tts: what the files of lectern-tts share (docs/api.md, "Text to speech"). */
#ifndef LECTERN_FCGI_TTS_H
#define LECTERN_FCGI_TTS_H

#include "app/service.h"
#include "speech/tts.h"

#define TTS_SERVICE "tts"
#define TTS_AUDIO_URL "/api/v1/tts/audio/"

/* The columns tts_audio_json reads, in order. */
#define TTS_SQL_AUDIO                                                                              \
	"id, task_id, voice_id, format, characters, duration_ms, storage_key, "                    \
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), size, "      \
	"text_preview, document_id, part, speed, sample_rate"

enum {
	TTS_COL_ID,
	TTS_COL_TASK,
	TTS_COL_VOICE,
	TTS_COL_FORMAT,
	TTS_COL_CHARS,
	TTS_COL_DURATION,
	TTS_COL_KEY,
	TTS_COL_CREATED,
	TTS_COL_SIZE,
	TTS_COL_PREVIEW,
	TTS_COL_DOCUMENT,
	TTS_COL_PART,
	TTS_COL_SPEED,
	TTS_COL_RATE,
	TTS_LIST_MAX = 100
};

struct tts_settings {
	long cpu_seconds, wall_ms, memory_mb, max_seconds;
	long polly_poll_ms; /* between two polls of a Polly synthesis task */
	int engine;         /* LECTERN_TTS_ENGINE: TTS_ENGINE_LOCAL or TTS_ENGINE_POLLY */
};
enum { TTS_ENGINE_LOCAL, TTS_ENGINE_POLLY };
extern struct tts_settings tts_cfg;

/* The voice list, made again when it is empty (Polly was down at start):
 * ERR_UNAVAILABLE with a sentence when there is none. */
enum err tts_voices_ready(struct http_req *req) MUST_CHECK;

/* Handlers (synth.c, library.c). */
enum err tts_voices(struct http_req *req);
enum err tts_synthesize_route(struct http_req *req);
enum err tts_list(struct http_req *req);
enum err tts_get(struct http_req *req);
enum err tts_delete(struct http_req *req);

/* One row of TTS_SQL_AUDIO as the contract's JSON. */
struct json_object *tts_audio_json(const PGresult *res, int row);
/* Sends the audio of row (its bytes through nginx, or the JSON form) with
 * X-Task-Id, Location and X-Cache (hit or miss). */
enum err tts_send_audio(struct http_req *req, const PGresult *res, int row, bool json, bool hit);

/* Read aloud (aloud.c): the script of part ("summary", "notes", "content")
 * of the user's document id, headings as pauses, markup never spoken;
 * *source gets the text it came from (for the cache key). ERR_NOT_FOUND
 * when the document (or its notes) is not the user's or not there. */
enum err tts_document_script(struct http_req *req, const char *id, const char *part,
                             struct tts_script *out, const char **source) MUST_CHECK;
/* notes.generated into notes_replica (a consumer of the worker). */
enum err tts_apply_notes(struct db *db, const struct event *ev, void *arg);
/* document.deleted: the document's notes go too (a replica hook). */
enum err tts_forget_notes(struct db *db, const char *document_id, const char *user_id, void *arg);

#endif
