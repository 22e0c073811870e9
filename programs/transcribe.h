/* transcribe: the pieces of lectern-transcribe, the sandboxed child that
 * turns one audio file into timed words (extract_run runs it, the worker
 * of the stt service calls that).
 *
 * The file is decoded with FFmpeg's libraries to 16 kHz mono 16-bit samples
 * (transcribe_decode.c), cut at silences and recognised segment by segment
 * by pocketsphinx (transcribe.c). The answer is one JSON object:
 * {duration, text, confidence, segments, words: [{word, start, end,
 * confidence}]}. */
#ifndef LECTERN_TRANSCRIBE_H
#define LECTERN_TRANSCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include <pocketsphinx.h>

#include "extract/extract_impl.h"

enum {
	TRANSCRIBE_RATE = 16000 /* samples per second given to the recogniser */
};

/* Decoded audio: n samples at TRANSCRIBE_RATE, malloc'd. */
struct transcribe_audio {
	int16_t *samples;
	size_t n, cap;
};

/* Decodes the audio file at fd (WAV, MP3, OGG Vorbis/Opus, FLAC, WebM/Opus,
 * M4A/AAC) into a. Fails with the user's sentence in o: ERR_INVALID for a
 * file FFmpeg cannot read, one that holds no audio or one shorter than its
 * header says (truncated), ERR_TOO_LARGE past l->max_media_seconds. */
enum err transcribe_decode(int fd, const struct extract_limits *l, struct transcribe_audio *a,
                           struct extract_out *o);

/* The recogniser (transcribe_recogniser.c): the general model, its log
 * silenced; NULL when the model cannot be loaded. */
ps_decoder_t *transcribe_recogniser(void);
/* pocketsphinx's name for the search of the -lm model (PS_DEFAULT_SEARCH,
 * which its public headers do not give; ps_get_search would, but leaks its
 * hash iterator at every call). */
#define TRANSCRIBE_DEFAULT_SEARCH "_default"

/* Tunes ps to the course files at prefix (transcribe_course.c), weight
 * (0-1) being the course model's share of the interpolation: the number
 * of words added to the dictionary, or -1 when the files cannot be used
 * (ps is then as it was, or its search is the general one). */
long transcribe_course(ps_decoder_t *ps, const char *prefix, double weight);

#endif
