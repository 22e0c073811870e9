/* tts: speech from text with the embedded engines, flite (Debian's US
 * English voices) and espeak-ng (its languages), behind one interface.
 *
 * A request becomes a script (tts_script_*): the text cut into sentences,
 * with pauses and rate changes, markup-free. tts_synthesize runs the engine
 * in a forked child with CPU-time, memory and output limits inside the
 * extraction sandbox's seccomp filter (extract/extract_sandbox.h); the
 * child sends 16-bit mono PCM through a pipe sentence by sentence, and the
 * parent encodes it as it comes (WAV, MP3 with LAME, Ogg Vorbis) into a
 * file and, chunk by chunk, to an optional tap (the service streams the
 * response with it): the whole audio is never in memory. A script of 300
 * characters or more, on a machine with two CPUs or more, is cut in two
 * halves spoken by two children at once; the second half's PCM waits in a
 * temporary file until the first is encoded. */
#ifndef LECTERN_TTS_H
#define LECTERN_TTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	TTS_TEXT_MAX = 5000,      /* characters of one request */
	TTS_VOICE_ID_MAX = 64,    /* bytes of a voice id */
	TTS_PAUSE_MAX_MS = 10000, /* one SSML break */
	TTS_REASON_MAX = 256      /* bytes of a failure's reason */
};

enum tts_engine { TTS_FLITE, TTS_ESPEAK, TTS_POLLY };
enum tts_format { TTS_MP3, TTS_WAV, TTS_OGG };

/* One voice the service offers. */
struct tts_voice {
	char id[TTS_VOICE_ID_MAX]; /* "Joanna", "slt", "espeak-de" */
	char name[96];             /* a human name */
	char language[32];         /* "en-US", "de" */
	char language_name[64];    /* "English (US)", espeak's voice name otherwise */
	const char *gender;        /* "Female", "Male" */
	enum tts_engine engine;
	char engine_voice[64]; /* flite: kal, kal16, awb, rms, slt; espeak: a voice name */
};

/* Builds the voice list once per process: the local voices (espeak-ng's
 * are read from its data; ERR_INTERNAL when it cannot be initialised), or
 * Polly's when tts_polly_use was called (speech/tts_polly.h; its errors).
 * After a failure the list is empty and a later call tries again. */
enum err tts_voices_init(void) MUST_CHECK;
/* Adds one voice to the list (the engines' listings use it). */
void tts_voice_add(const char *id, const char *name, const char *lang, const char *lang_name,
                   const char *gender, enum tts_engine engine, const char *engine_voice);
/* The voices, in the order GET /voices lists them (Polly names first). */
size_t tts_voice_count(void);
const struct tts_voice *tts_voice_at(size_t i);
/* The voice with id (exact match), or NULL. */
const struct tts_voice *tts_voice_find(const char *id);
/* "flite", "espeak-ng" or "polly". */
const char *tts_engine_name(enum tts_engine e);

/* "mp3", "wav", "ogg"; the media type; parse (false when unknown). */
const char *tts_format_name(enum tts_format f);
const char *tts_format_content_type(enum tts_format f);
bool tts_format_parse(const char *name, enum tts_format *out);

/* One piece of a script: text spoken at rate, or a pause. */
struct tts_seg {
	const char *text; /* UTF-8 without markup; NULL for a pause */
	long pause_ms;    /* silence after the text (or alone) */
	double rate;      /* 1.0 normal; multiplies the request's speed */
	bool spell;       /* say-as characters: letter by letter */
};

struct tts_script {
	struct tts_seg *segs; /* pool-owned */
	size_t n, cap;
	size_t characters; /* characters of the spoken text */
};

/* Appends text (cut into sentences) and a pause; strings are copied. */
void tts_script_add(struct pool *pool, struct tts_script *s, const char *text, size_t len,
                    double rate, bool spell, long pause_ms);
/* A plain text as a script: sentences, with a pause at blank lines. */
void tts_script_plain(struct pool *pool, const char *text, struct tts_script *out);
/* SSML as a script: <speak> with <p>, <s>, <break time|strength>,
 * <prosody rate> and <say-as interpret-as>. The XML is parsed with entity
 * substitution, DTD loading and the network off; a DOCTYPE, an entity, an
 * unknown element or attribute, or malformed XML is ERR_INVALID with
 * *problem saying what (a static string). */
enum err tts_script_ssml(struct pool *pool, const char *xml, size_t len, struct tts_script *out,
                         const char **problem) MUST_CHECK;
/* True when text looks like SSML (starts with "<speak", after spaces). */
bool tts_is_ssml(const char *text);

struct tts_limits {
	long cpu_seconds; /* RLIMIT_CPU of the engine child */
	long wall_ms;     /* the child is killed after this */
	long memory_mb;   /* RLIMIT_AS of the child (not under ASan) */
	long max_seconds; /* audio longer than this is refused (ERR_TOO_LARGE) */
};

struct tts_result {
	long sample_rate;
	long long samples;
	long duration_ms;
	long long bytes;             /* written to out */
	char reason[TTS_REASON_MAX]; /* why the engine failed, when it said; "" otherwise */
};

/* Where encoded audio goes besides the file, as it is made: write gets the
 * bytes each chunk of samples added (a sentence, or up to TTS_CHUNK_MAX
 * samples), in order. A WAV's header goes out first with its sizes unknown
 * (0xFFFFFFFF, as streamed WAV has them); only the file gets the real ones.
 * Once write fails it is not called again; the synthesis goes on into the
 * file. */
struct tts_tap {
	enum err (*write)(void *arg, const void *data, size_t len);
	void *arg;
};

/* Speaks script with voice at speed (0.5..2.0) into out as format, and to
 * tap when it is not NULL. ERR_TIMEOUT when a time limit ran out,
 * ERR_TOO_LARGE past max_seconds, ERR_INTERNAL when the engine or the
 * encoder failed (logged), ERR_UNPROCESSABLE when a Polly synthesis task
 * failed (res->reason says why); the tap may have had part of the audio
 * then. */
enum err tts_synthesize(const struct tts_voice *voice, const struct tts_script *script,
                        double speed, enum tts_format format, const struct tts_limits *limits,
                        FILE *out, const struct tts_tap *tap, struct tts_result *res) MUST_CHECK;

#endif
