/* tts_voices: the voice list and the formats.
 *
 * The familiar Amazon Polly ids map to the closest local voice:
 *   Joanna (en-US, female)  flite slt
 *   Matthew (en-US, male)   flite rms
 *   Ivy (en-US, female)     espeak-ng en-us, female variant f5
 *   Amy (en-GB, female)     espeak-ng en-gb, female variant f3
 *   Emma (en-GB, female)    espeak-ng en-gb, female variant f4
 *   Brian (en-GB, male)     espeak-ng en-gb
 * (espeak-ng voices are named by their file, "gmw/en" for en-gb), then
 * flite's five voices by their names (kal, kal16, awb, rms, slt) and
 * one voice per language espeak-ng has, "espeak-<language>" (its first). */
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "speech/tts.h"
#include "speech/tts_polly.h"

#define add tts_voice_add

enum { VOICES_MAX = 256 };

static struct tts_voice voices[VOICES_MAX];
static size_t nvoices;

void tts_voice_add(const char *id, const char *name, const char *lang, const char *lang_name,
                   const char *gender, enum tts_engine engine, const char *engine_voice)
{
	if (nvoices >= VOICES_MAX)
		return;
	struct tts_voice *v = &voices[nvoices++];
	snprintf(v->id, sizeof(v->id), "%s", id);
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->language, sizeof(v->language), "%s", lang);
	snprintf(v->language_name, sizeof(v->language_name), "%s", lang_name);
	v->gender = gender;
	v->engine = engine;
	snprintf(v->engine_voice, sizeof(v->engine_voice), "%s", engine_voice);
}

static bool have_id(const char *id)
{
	return tts_voice_find(id) != NULL;
}

/* espeak-ng's voices: one per language (its first), named espeak-<lang>. */
static void add_espeak(void)
{
	const espeak_VOICE **list = espeak_ListVoices(NULL);
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		const espeak_VOICE *ev = list[i];
		if (ev->languages == NULL || ev->languages[0] == '\0' || ev->name == NULL)
			continue;
		const char *lang = ev->languages + 1; /* a priority byte, then the name */
		char id[TTS_VOICE_ID_MAX];
		if ((size_t)snprintf(id, sizeof(id), "espeak-%s", lang) >= sizeof(id) ||
		    strspn(lang, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(lang) ||
		    have_id(id))
			continue;
		add(id, ev->name, lang, ev->name, ev->gender == 2 ? "Female" : "Male", TTS_ESPEAK,
		    ev->identifier ? ev->identifier : lang);
	}
}

enum err tts_voices_init(void)
{
	if (nvoices > 0)
		return ERR_OK;
	if (tts_polly_enabled())
		return tts_polly_voices();
	if (espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT) <= 0) {
		log_error("tts: espeak-ng could not be initialised (is espeak-ng-data installed?)");
		return ERR_INTERNAL;
	}
	add("Joanna", "Joanna (flite slt)", "en-US", "US English", "Female", TTS_FLITE, "slt");
	add("Matthew", "Matthew (flite rms)", "en-US", "US English", "Male", TTS_FLITE, "rms");
	add("Ivy", "Ivy (espeak-ng en-us f5)", "en-US", "US English", "Female", TTS_ESPEAK,
	    "gmw/en-US+f5");
	add("Amy", "Amy (espeak-ng en-gb f3)", "en-GB", "British English", "Female", TTS_ESPEAK,
	    "gmw/en+f3");
	add("Emma", "Emma (espeak-ng en-gb f4)", "en-GB", "British English", "Female", TTS_ESPEAK,
	    "gmw/en+f4");
	add("Brian", "Brian (espeak-ng en-gb)", "en-GB", "British English", "Male", TTS_ESPEAK,
	    "gmw/en");
	add("kal", "Kal (flite, 8 kHz)", "en-US", "US English", "Male", TTS_FLITE, "kal");
	add("kal16", "Kal (flite, 16 kHz)", "en-US", "US English", "Male", TTS_FLITE, "kal16");
	add("awb", "AWB (flite, Scottish)", "en-US", "US English", "Male", TTS_FLITE, "awb");
	add("rms", "RMS (flite)", "en-US", "US English", "Male", TTS_FLITE, "rms");
	add("slt", "SLT (flite)", "en-US", "US English", "Female", TTS_FLITE, "slt");
	add_espeak();
	return ERR_OK;
}

size_t tts_voice_count(void)
{
	return nvoices;
}

const struct tts_voice *tts_voice_at(size_t i)
{
	return i < nvoices ? &voices[i] : NULL;
}

const struct tts_voice *tts_voice_find(const char *id)
{
	for (size_t i = 0; id != NULL && i < nvoices; i++)
		if (strcmp(voices[i].id, id) == 0)
			return &voices[i];
	return NULL;
}

const char *tts_engine_name(enum tts_engine e)
{
	return e == TTS_FLITE ? "flite" : e == TTS_ESPEAK ? "espeak-ng" : "polly";
}

static const char *const format_names[] = {"mp3", "wav", "ogg"};
static const char *const format_types[] = {"audio/mpeg", "audio/wav", "audio/ogg"};

const char *tts_format_name(enum tts_format f)
{
	return format_names[f];
}

const char *tts_format_content_type(enum tts_format f)
{
	return format_types[f];
}

bool tts_format_parse(const char *name, enum tts_format *out)
{
	for (size_t i = 0; name != NULL && i < 3; i++)
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum tts_format)i;
			return true;
		}
	return false;
}
