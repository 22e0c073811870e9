/* tts_engine: the child's side. It loads its engine, confines itself with
 * the extraction sandbox's filter and speaks the script sentence by
 * sentence into the pipe. Runs only in a forked child. */
#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <flite/flite.h>
#include <string.h>
#include <unistd.h>

#include "core/fdio.h"
#include "extract/extract_sandbox.h"
#include "speech/tts_impl.h"

/* flite's voices (libflite_cmu_us_*); their headers are not installed. */
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);

enum {
	FLITE_MLSA_SPEED = 5, /* cepstral terms the MLSA filter leaves out (flite: 5..15) */
	ESPEAK_WPM = 175,
	ESPEAK_WPM_MIN = 80,
	ESPEAK_WPM_MAX = 450,
	SILENCE_CHUNK = 4096
};

struct child {
	long rate;
	long long samples, max_samples;
	bool failed;
	int error; /* enum err when failed */
};

static struct child ch;

static _Noreturn void finish(int code)
{
	int32_t end = code == ERR_OK ? 0 : -code;
	_exit(fd_write_all(TTS_CHILD_FD, &end, sizeof(end)) && code == ERR_OK ? 0 : 1);
}

/* Sends n samples in chunks; past the output limit the child stops. */
static void send_pcm(const short *pcm, long long n)
{
	if (ch.samples + n > ch.max_samples)
		finish(ERR_TOO_LARGE);
	ch.samples += n;
	while (n > 0) {
		int32_t k = n > TTS_CHUNK_MAX ? TTS_CHUNK_MAX : (int32_t)n;
		if (!fd_write_all(TTS_CHILD_FD, &k, sizeof(k)) ||
		    !fd_write_all(TTS_CHILD_FD, pcm, (size_t)k * sizeof(*pcm)))
			_exit(1);
		pcm += k;
		n -= k;
	}
}

static void send_silence(long ms)
{
	static const short zeros[SILENCE_CHUNK];
	long long n = (long long)ms * ch.rate / 1000;
	while (n > 0) {
		long long k = n > SILENCE_CHUNK ? SILENCE_CHUNK : n;
		send_pcm(zeros, k);
		n -= k;
	}
}

/* say-as characters: "ABC" becomes "A B C" (UTF-8 kept whole). */
static const char *spelled(const char *t, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; t[i] && o + 8 < cap; i++) {
		if (t[i] == ' ')
			continue;
		if (o > 0 && ((unsigned char)t[i] & 0xc0) != 0x80)
			out[o++] = ' ';
		out[o++] = t[i];
	}
	out[o] = '\0';
	return out;
}

static int espeak_sink(short *wav, int n, espeak_EVENT *events)
{
	(void)events;
	if (wav != NULL && n > 0)
		send_pcm(wav, n);
	return 0;
}

static cst_voice *flite_voice(const char *name)
{
	if (strcmp(name, "kal") == 0)
		return register_cmu_us_kal(NULL);
	if (strcmp(name, "kal16") == 0)
		return register_cmu_us_kal16(NULL);
	if (strcmp(name, "awb") == 0)
		return register_cmu_us_awb(NULL);
	if (strcmp(name, "rms") == 0)
		return register_cmu_us_rms(NULL);
	return register_cmu_us_slt(NULL);
}

/* The sample rate of a flite voice: the one its registration declares, or
 * (a voice without) synthesise nothing much and look. */
static long flite_rate(cst_voice *v)
{
	int declared = get_param_int(v->features, "sample_rate", 0);
	if (declared > 0)
		return declared;
	cst_wave *w = flite_text_to_wave("a", v);
	long rate = w ? w->sample_rate : 16000;
	delete_wave(w);
	return rate;
}

_Noreturn void tts_child_run(const struct tts_voice *voice, const struct tts_script *script,
                             double speed, const struct tts_limits *limits)
{
	cst_voice *fv = NULL;
	if (voice->engine == TTS_FLITE) {
		flite_init();
		fv = flite_voice(voice->engine_voice);
		/* slt and rms are clustergen voices, most of whose time is the
		 * MLSA filter: leaving out the highest cepstral terms costs
		 * little of the voice and about a quarter of the time (bench). */
		if (fv != NULL)
			feat_set_int(fv->features, "mlsa_speed_param", FLITE_MLSA_SPEED);
		ch.rate = fv ? flite_rate(fv) : 0;
	} else {
		ch.rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, 0);
		if (ch.rate > 0) {
			espeak_SetSynthCallback(espeak_sink);
			if (espeak_SetVoiceByName(voice->engine_voice) != EE_OK)
				ch.rate = 0;
		}
	}
	if (ch.rate <= 0)
		_exit(2);
	/* The engine's data is loaded: from here on only the pipe and stderr. */
	if (!extract_sandbox_confine())
		_exit(3);
	ch.max_samples = (long long)limits->max_seconds * ch.rate;
	struct tts_hello hello = {TTS_FRAME_MAGIC, (int32_t)ch.rate};
	if (!fd_write_all(TTS_CHILD_FD, &hello, sizeof(hello)))
		_exit(1);
	char spell[4 * 1024];
	for (size_t i = 0; i < script->n; i++) {
		const struct tts_seg *s = &script->segs[i];
		double r = speed * s->rate;
		if (s->text != NULL) {
			const char *t = s->spell ? spelled(s->text, spell, sizeof(spell)) : s->text;
			if (fv != NULL) {
				feat_set_float(fv->features, "duration_stretch", (float)(1.0 / r));
				cst_wave *w = flite_text_to_wave(t, fv);
				if (w == NULL)
					finish(ERR_INTERNAL);
				send_pcm(w->samples, w->num_samples);
				delete_wave(w);
			} else {
				long wpm = (long)(ESPEAK_WPM * r);
				wpm = wpm < ESPEAK_WPM_MIN ? ESPEAK_WPM_MIN : wpm;
				wpm = wpm > ESPEAK_WPM_MAX ? ESPEAK_WPM_MAX : wpm;
				espeak_SetParameter(espeakRATE, (int)wpm, 0);
				if (espeak_Synth(t, strlen(t) + 1, 0, POS_CHARACTER, 0,
				                 espeakCHARS_UTF8, NULL, NULL) != EE_OK)
					finish(ERR_INTERNAL);
			}
		}
		if (s->pause_ms > 0)
			send_silence(s->pause_ms);
	}
	finish(ERR_OK);
}
