/* amazon: Amazon Transcribe as the stt worker's engine
 * (LECTERN_STT_ENGINE=transcribe), through the signed AWS helper
 * (storage/aws.h).
 *
 * The audio is already in the S3 store: StartTranscriptionJob names it
 * (s3://bucket/key) and asks for the transcript in the same bucket beside
 * it; GetTranscriptionJob is polled until the job ends; the transcript JSON
 * is read from the store, turned into the answer lectern-transcribe gives
 * (duration, text, confidence, words with times, plus the speakers), and
 * removed with the job. */
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
	AMAZON_SPEAKERS_MAX = 30                  /* MaxSpeakerLabels' ceiling */
};

struct amazon_settings {
	struct aws_client *aws;
	struct store *store;
	const char *bucket;
	long poll_ms, timeout_ms;
	long speakers; /* MaxSpeakerLabels, 2-30; 0: no speaker labels */
};

/* True for a language Transcribe takes ("en-US", "de-DE", ...); the list
 * of them, comma separated, for messages. */
bool amazon_language_known(const char *language);
const char *amazon_languages(void);

/* Transcribes the audio at key (format "wav", "mp3", ...; language
 * "en-US") as job "lectern-ID". On success r->text is the answer's JSON.
 * Errors: ERR_INVALID when Transcribe cannot read the audio (r->error says
 * why, for the user), ERR_TIMEOUT past timeout_ms, else aws_json_call's
 * (ERR_UNAVAILABLE, ERR_FORBIDDEN, ...), r->error set in every case. */
enum err amazon_transcribe(const struct amazon_settings *a, const char *id, const char *key,
                           const char *format, const char *language, struct pool *pool,
                           struct extract_result *r) MUST_CHECK;

/* The answer of a transcript JSON text (Transcribe's output format) into
 * out (JSON text, in pool); false when it is not one. */
bool amazon_answer(const char *transcript, size_t len, struct pool *pool, const char **out);

#endif
