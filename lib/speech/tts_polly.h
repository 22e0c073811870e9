/* tts_polly: Amazon Polly behind the same interface as the local engines
 * (speech/tts.h), through the signed AWS helper (storage/aws.h). */
#ifndef LECTERN_TTS_POLLY_H
#define LECTERN_TTS_POLLY_H

#include <stdbool.h>
#include <stdio.h>

#include "speech/tts.h"
#include "storage/aws.h"
#include "storage/store.h"

/* Makes Polly the engine of this process (c stays the caller's); from then
 * on tts_voices_init lists Polly's voices instead of the local ones. */
void tts_polly_use(struct aws_client *c);
/* Long texts (more than one SynthesizeSpeech call) go to Polly's
 * asynchronous StartSpeechSynthesisTask instead: Polly writes 16 kHz PCM
 * into bucket under prefix (which ends in '/'), the task is polled with
 * GetSpeechSynthesisTask every poll_ms until it is completed or failed,
 * and the object is read back from store (the same bucket) into the
 * encoder and deleted. Only with an S3 store; store and the strings stay
 * the caller's. */
void tts_polly_tasks(struct store *store, const char *bucket, const char *prefix, long poll_ms);
/* True after tts_polly_use. */
bool tts_polly_enabled(void);
/* Adds Polly's voices (DescribeVoices) to the list; errors as aws_json_call
 * (ERR_FORBIDDEN for refused credentials, ERR_UNAVAILABLE, ERR_TIMEOUT). */
enum err tts_polly_voices(void) MUST_CHECK;
/* tts_synthesize for a Polly voice: SynthesizeSpeech (or, for a long text
 * with tts_polly_tasks, a synthesis task) as 16 kHz PCM into the encoder
 * of format. Errors as aws_json_call, ERR_TOO_LARGE past
 * limits->max_seconds, ERR_INTERNAL when encoding failed, ERR_TIMEOUT when
 * a task outlived limits->wall_ms, ERR_UNPROCESSABLE with res->reason when
 * a task failed. */
enum err tts_polly_synthesize(const struct tts_voice *voice, const struct tts_script *script,
                              double speed, enum tts_format format, const struct tts_limits *limits,
                              FILE *out, const struct tts_tap *tap,
                              struct tts_result *res) MUST_CHECK;

#endif
