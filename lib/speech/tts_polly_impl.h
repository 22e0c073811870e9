/* tts_polly_impl: what tts_polly.c and tts_polly_task.c share. */
#ifndef LECTERN_TTS_POLLY_IMPL_H
#define LECTERN_TTS_POLLY_IMPL_H

#include <stdbool.h>

#include "speech/tts_impl.h"
#include "storage/aws.h"

enum {
	POLLY_CHARS_MAX = 2500,      /* SSML bytes of one SynthesizeSpeech call */
	POLLY_TASK_CHARS_MAX = 90000 /* of one synthesis task (Polly takes 100000 billed) */
};

/* The PCM as it streams in (from Polly or from the store): whole samples
 * to the encoder, an odd byte kept for the next call. */
struct pcm_sink {
	struct tts_encoder *enc;
	struct tts_result *res;
	long long max; /* samples allowed */
	unsigned char odd;
	bool have_odd;
};

/* An aws_sink_fn (and store_write_fn) feeding a struct pcm_sink. */
enum err tts_polly_sink(void *arg, const void *data, size_t len);
/* The client of tts_polly_use, or NULL. */
struct aws_client *tts_polly_client(void);
/* A string member of a JSON object, or NULL. */
const char *tts_polly_jstr(struct json_object *o, const char *name);

/* True when script goes to a synthesis task (tts_polly_tasks was called
 * and SynthesizeSpeech would need more than one call). */
bool tts_polly_task_fits(const struct tts_script *script);
/* Speaks ssml in one synthesis task, finished before deadline, into s. */
enum err tts_polly_task(const struct tts_voice *v, const char *ssml, long long deadline,
                        struct pcm_sink *s) MUST_CHECK;

#endif
