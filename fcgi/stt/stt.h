/* stt: the pieces of the speech-to-text service (lectern-stt) and its
 * worker (lectern-stt-worker) shared by their files.
 *
 * POST /transcribe streams the audio to the store and queues a job; the
 * worker decodes and recognises it in the sandboxed lectern-transcribe
 * (programs/transcribe.c) and stores the words. Every query names the owner
 * (req->user_id), so another user's transcription is not found, exactly as
 * a missing one. */
#ifndef LECTERN_STT_H
#define LECTERN_STT_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app/service.h"
#include "core/err.h"
#include "extract/extract.h"
#include "web/http.h"

/* RFC 3339 UTC with milliseconds, computed by Postgres. */
#define STT_SQL_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The columns of a transcription, in the order stt_json reads them. */
#define STT_SQL_COLUMNS                                                                            \
	"id, status, language, text, confidence, duration_seconds, words, error, "                 \
	"format, file_size, " STT_SQL_TIME("created_at") ", " STT_SQL_TIME(                        \
	    "completed_at") ", engine, "                                                           \
	                    "(SELECT progress FROM jobs WHERE jobs.id = transcriptions.id), "      \
	                    "speakers"

#define STT_SERVICE "stt"
#define STT_JOB_TRANSCRIBE "audio.transcribe"
#define STT_LANGUAGE_DEFAULT "en-US"

enum {
	STT_WAIT_MAX_S = 30, /* longest `wait` of POST /transcribe (CONTRACT.md section 7) */
	STT_WAIT_DEFAULT_S = 20,
	STT_UPLOAD_OVERHEAD = 64 * 1024, /* multipart framing and fields on top of the audio */
	STT_SNIFF_MAX = 4096,            /* bytes of the audio read to detect its type */
	STT_JOB_ATTEMPTS = 3,
	STT_LIST_MAX = 100,
	STT_LIST_TEXT_MAX = 200 /* characters of text in the list */
};

/* The audio containers accepted, detected from the bytes. */
enum stt_format {
	STT_FORMAT_NONE,
	STT_FORMAT_WAV,
	STT_FORMAT_MP3,
	STT_FORMAT_OGG,
	STT_FORMAT_FLAC,
	STT_FORMAT_WEBM,
	STT_FORMAT_M4A,
	STT_FORMAT_AAC
};

/* The recogniser (LECTERN_STT_ENGINE). */
enum stt_engine { STT_ENGINE_LOCAL, STT_ENGINE_TRANSCRIBE };

struct stt_settings {
	long max_bytes;       /* LECTERN_STT_MAX_BYTES */
	long retention_hours; /* LECTERN_STT_AUDIO_RETENTION_HOURS */
	int engine;           /* enum stt_engine */
};
extern struct stt_settings stt_cfg;

/* The format of audio starting with head[0..len) (len may be short when
 * complete); STT_FORMAT_NONE for anything else. */
enum stt_format stt_detect(const unsigned char *head, size_t len);
/* "wav", "mp3", ...; its media type ("audio/wav"). */
const char *stt_format_name(enum stt_format f);
const char *stt_format_content_type(enum stt_format f);
/* True when the engine has language ("en-US"); the ones it has, comma
 * separated. */
bool stt_language_known(const char *language);
const char *stt_languages(void);

/* The transcription object of the contract from row of res
 * (STT_SQL_COLUMNS); text cut to STT_LIST_TEXT_MAX characters and no words
 * when brief. The caller owns the result. */
struct json_object *stt_json(const PGresult *res, int row, bool brief);
/* Loads the caller's transcription id into *out (caller PQclear()s);
 * ERR_NOT_FOUND, with the message set, when the caller has none. */
enum err stt_load(struct http_req *req, const char *id, PGresult **out) MUST_CHECK;

/* Handlers. */
enum err stt_transcribe(struct http_req *req);
enum err stt_status(struct http_req *req);
enum err stt_list(struct http_req *req);
enum err stt_delete(struct http_req *req);

/* The worker: its settings, set-up and job. */
extern const struct cfg_table stt_worker_table;
enum err stt_worker_init(void) MUST_CHECK;
enum err stt_job_transcribe(struct db *db, const struct job *job, struct pool *pool, void *arg);
/* Its failure hook (worker_job_failed_fn): a task whose job failed for
 * good (an internal error each time, or its worker lost) is failed with a
 * sentence and audio.transcription.completed says so. */
void stt_job_transcribe_failed(struct db *db, const struct job *job, const char *why,
                               struct pool *pool, void *arg);

#endif
