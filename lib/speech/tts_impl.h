/* tts_impl: what the parts of lib/speech share (not for services). */
#ifndef LECTERN_TTS_IMPL_H
#define LECTERN_TTS_IMPL_H

#include <stdint.h>

#include "speech/tts.h"

enum {
	TTS_FRAME_MAGIC = 0x4c545453, /* "LTTS": the child's first word */
	TTS_CHUNK_MAX = 32768,        /* samples in one chunk from the child */
	TTS_CHILD_FD = 3              /* the answer pipe in the child */
};

/* The child's first message; then chunks: an int32 count and that many
 * samples, until a count of 0 (done) or a negative -enum err (failed). */
struct tts_hello {
	uint32_t magic;
	int32_t sample_rate;
};

/* In the forked child: speaks script into TTS_CHILD_FD; never returns. */
_Noreturn void tts_child_run(const struct tts_voice *voice, const struct tts_script *script,
                             double speed, const struct tts_limits *limits);

/* An encoder writing one format into a FILE (and tap) as samples arrive. */
struct tts_encoder;
/* NULL when the encoder could not start (logged); tap may be NULL. */
struct tts_encoder *tts_encoder_new(enum tts_format format, long sample_rate, FILE *out,
                                    const struct tts_tap *tap);
/* Encodes n mono samples; false on a write or encoder failure. */
bool tts_encoder_write(struct tts_encoder *enc, const int16_t *pcm, size_t n);
/* Flushes and finishes the file (WAV's sizes, MP3's last frame, Ogg's end
 * of stream); false on failure. Frees enc either way. */
bool tts_encoder_finish(struct tts_encoder *enc);
/* Frees enc without finishing. */
void tts_encoder_free(struct tts_encoder *enc);

#endif
