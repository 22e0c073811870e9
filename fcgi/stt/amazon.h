/* amazon: Amazon Transcribe as the stt worker's engine
 * (LECTERN_STT_ENGINE=transcribe), through the signed AWS helper
 * (storage/aws.h).
 *
 * The audio is already in the S3 store: StartTranscriptionJob names it
 * (s3://bucket/key) and asks for the transcript in the same bucket beside
 * it; GetTranscriptionJob is polled until the job ends; the transcript JSON
 * is read from the store, turned into the answer lectern-transcribe gives
 * (duration, text, confidence, words with times, plus the speakers), and
 * removed with the job. The terms of the learner's course go to the job as
 * a custom vocabulary (CreateVocabulary from a table beside the audio,
 * GetVocabulary until READY, Settings.VocabularyName), removed with it. */
#ifndef LECTERN_STT_AMAZON_H
#define LECTERN_STT_AMAZON_H

#include <stdbool.h>

#include "core/err.h"
#include "core/mem.h"
#include "extract/extract.h"
#include "storage/aws.h"
#include "storage/store.h"

enum {
	AMAZON_TRANSCRIPT_MAX = 64 * 1024 * 1024, /* bytes of a transcript JSON read */
	AMAZON_SPEAKERS_MAX = 30,                 /* MaxSpeakerLabels' ceiling */
	AMAZON_VOCABULARY_MAX = 50000             /* bytes of a vocabulary table (50 KB) */
};

struct amazon_settings {
	struct aws_client *aws;
	struct store *store;
	const char *bucket;
	long poll_ms, timeout_ms;
	long speakers;           /* MaxSpeakerLabels, 2-30; 0: no speaker labels */
	long vocabulary_wait_ms; /* longest wait for a vocabulary (then none is used) */
};

/* One transcription. */
struct amazon_job {
	const char *id;         /* the task's: the job and vocabulary are "lectern-ID" */
	const char *key;        /* the audio in the bucket, "stt/USER/ID/audio" */
	const char *format;     /* stt's container name: "wav", "mp3", ... */
	const char *language;   /* "en-US" */
	const char *vocabulary; /* a vocabulary table (course_terms), NULL or "": none */
	double duration;        /* the audio's, in seconds, measured before; < 0: unknown */
	bool last;              /* the task's last attempt: nothing is kept for another */
};

/* True for a language Transcribe takes ("en-US", "de-DE", ...); the list
 * of them, comma separated, for messages. */
bool amazon_language_known(const char *language);
const char *amazon_languages(void);

/* Transcribes job's audio as job "lectern-ID". On success r->text is the
 * answer's JSON. Errors: ERR_INVALID when Transcribe cannot read the audio
 * (r->error says why, for the user), ERR_TIMEOUT past timeout_ms, else
 * aws_json_call's (ERR_UNAVAILABLE, ERR_FORBIDDEN, ...), r->error set in
 * every case. A vocabulary Transcribe will not take is left out (logged).
 * After ERR_TIMEOUT or ERR_UNAVAILABLE the job, its transcript and its
 * vocabulary are kept for the next attempt, unless job->last. */
enum err amazon_transcribe(const struct amazon_settings *a, const struct amazon_job *job,
                           struct pool *pool, struct extract_result *r) MUST_CHECK;

/* The answer of a transcript JSON text (Transcribe's output format) into
 * out (JSON text, in pool); its duration is duration when >= 0, else the
 * last word's end. False when it is not a transcript. */
bool amazon_answer(const char *transcript, size_t len, double duration, struct pool *pool,
                   const char **out);

#endif
