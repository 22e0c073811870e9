/* lib/speech: scripts from plain text and SSML (hostile XML included), the
 * engines in their child, each encoder's output, and the limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speech/tts.h"
#include "tap.h"

static const struct tts_limits limits = {30, 60000, 1024, 600};

static void plain(void)
{
	struct pool *p = pool_new();
	struct tts_script s;
	tts_script_plain(p, "One. Two? Three!\n\nNew paragraph; with a clause", &s);
	is_long(s.n, 5, "plain: four sentences and a clause");
	is_str(s.segs[0].text, "One.", "plain: the first sentence");
	is_str(s.segs[2].text, " Three!", "plain: the third");
	ok(s.segs[2].pause_ms > 0, "plain: a blank line is a pause");
	is_long(s.characters, 44, "plain: characters counted");
	tts_script_plain(p, "caf\xc3\xa9 \x01x", &s);
	is_long(s.characters, 7, "plain: UTF-8 counted in characters");
	ok(strchr(s.segs[0].text, '\x01') == NULL, "plain: a control character is not spoken");
	char run[3000];
	memset(run, 'a', sizeof(run) - 1);
	run[sizeof(run) - 1] = '\0';
	for (size_t i = 50; i < sizeof(run) - 1; i += 50)
		run[i] = ' ';
	tts_script_plain(p, run, &s);
	bool short_enough = s.n >= 4;
	for (size_t i = 0; i < s.n; i++)
		short_enough = short_enough && strlen(s.segs[i].text) <= 700;
	ok(short_enough, "plain: a run without a full stop is cut at spaces (%zu pieces)", s.n);
	memset(run, 'b', sizeof(run) - 1);
	tts_script_plain(p, run, &s);
	ok(s.n >= 2, "plain: a run without spaces is cut too");
	tts_script_plain(p, "   \n\n  ", &s);
	is_long(s.characters, 0, "plain: blanks speak nothing");
	ok(tts_is_ssml("  <speak>x</speak>"), "SSML is recognised");
	ok(!tts_is_ssml("speak <speak>"), "text that is not SSML");
	pool_free(p);
}

static void ssml_ok(void)
{
	struct pool *p = pool_new();
	struct tts_script s;
	const char *problem = NULL;
	const char *x = "<speak version=\"1.0\" xmlns=\"http://www.w3.org/2001/10/synthesis\">"
	                "<p><s>Hello &amp; welcome.</s></p><break time=\"1.5s\"/>"
	                "<prosody rate=\"50%\">slow</prosody><say-as interpret-as=\"characters\">"
	                "ABC</say-as><!-- a comment --><break strength=\"x-strong\"/></speak>";
	enum err e = tts_script_ssml(p, x, strlen(x), &s, &problem);
	is_long(e, ERR_OK, "SSML: the subset parses");
	bool amp = false, slow = false, spell = false;
	long pauses = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct tts_seg *g = &s.segs[i];
		amp = amp || (g->text && strstr(g->text, "Hello & welcome") != NULL);
		slow = slow || (g->text && strcmp(g->text, "slow") == 0 && g->rate == 0.5);
		spell = spell || (g->text && strcmp(g->text, "ABC") == 0 && g->spell);
		pauses += g->pause_ms;
	}
	ok(amp, "SSML: the XML entity is text");
	ok(slow, "SSML: prosody rate 50%%");
	ok(spell, "SSML: say-as characters spells");
	ok(pauses >= 1500 + 1200, "SSML: breaks are pauses (%ld ms)", pauses);
	pool_free(p);
}

/* Found by t/fuzz/ssml: nested prosody multiplied past what one may ask
 * for (8 nested x-slow made audio 256 times longer); a break of "nanms"
 * cast NaN to long. */
static void ssml_fuzz_findings(void)
{
	struct pool *p = pool_new();
	struct tts_script s;
	const char *problem = NULL;
	static const struct {
		const char *xml;
		double rate;
	} nested[] = {
	    {"<speak><prosody rate=\"x-fast\"><prosody rate=\"200%\">Fast.</prosody></prosody>"
	     "</speak>",
	     2.0},
	    {"<speak><prosody rate=\"x-slow\"><prosody rate=\"x-slow\"><prosody rate=\"50%\">"
	     "Slow.</prosody></prosody></prosody></speak>",
	     0.5},
	    {"<speak><prosody rate=\"200%\"><prosody rate=\"x-slow\">Even.</prosody></prosody>"
	     "</speak>",
	     1.0},
	};
	for (size_t k = 0; k < sizeof(nested) / sizeof(*nested); k++) {
		enum err e = tts_script_ssml(p, nested[k].xml, strlen(nested[k].xml), &s, &problem);
		ok(e == ERR_OK && s.n >= 1 && s.segs[0].rate == nested[k].rate,
		   "SSML: nested prosody rates stay within 0.5..2.0 (%g)", nested[k].rate);
	}
	pool_free(p);
}

/* Found by t/fuzz/ssml: a run of control bytes (vertical tabs) became a
 * piece of blank text, counted as characters to speak. */
static void plain_controls(void)
{
	struct pool *p = pool_new();
	struct tts_script s;
	tts_script_plain(p, "Hello there. \v\v\f\x01\x02 \v", &s);
	ok(s.n == 1 && strcmp(s.segs[0].text, "Hello there.") == 0,
	   "plain: control bytes alone are no sentence (%zu pieces)", s.n);
	tts_script_plain(p, "\v\f\x01", &s);
	is_long(s.characters, 0, "plain: only control bytes is nothing to speak");
	pool_free(p);
}

static void ssml_bad(const char *x, const char *name)
{
	struct pool *p = pool_new();
	struct tts_script s;
	const char *problem = NULL;
	enum err e = tts_script_ssml(p, x, strlen(x), &s, &problem);
	ok(e == ERR_INVALID && problem != NULL, "SSML refused: %s (%s)", name,
	   problem ? problem : "-");
	pool_free(p);
}

static void ssml_hostile(void)
{
	ssml_bad(
	    "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">"
	    "]><speak>&c;</speak>",
	    "a billion laughs");
	ssml_bad("<!DOCTYPE speak [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><speak>&x;</speak>",
	         "an external entity");
	ssml_bad("<!DOCTYPE speak SYSTEM \"http://example.com/x.dtd\"><speak>x</speak>",
	         "an external DTD");
	ssml_bad("<speak>&x;</speak>", "an undeclared entity");
	ssml_bad("<speak><audio src=\"x\"/>hi</speak>", "an unknown element");
	ssml_bad("<speak><p class=\"x\">hi</p></speak>", "an unknown attribute");
	ssml_bad("<speak><break time=\"soon\"/>hi</speak>", "a bad time");
	ssml_bad("<speak><break strength=\"huge\"/>hi</speak>", "a bad strength");
	ssml_bad("<speak><prosody rate=\"10%\">hi</prosody></speak>", "a rate out of range");
	ssml_bad("<speak><say-as>hi</say-as></speak>", "say-as without interpret-as");
	ssml_bad("<speak>hi", "malformed XML");
	ssml_bad("<voice>hi</voice>", "another root");
	ssml_bad("<speak></speak>", "nothing to say");
	ssml_bad("<speak><?pi x?>hi</speak>", "a processing instruction");
	ssml_bad("<speak><o:p xmlns:o=\"urn:x\">hi</o:p></speak>", "another namespace");
	char deep[1024];
	size_t n = 0;
	memcpy(deep, "<speak>", 7);
	for (n = 7; n + 3 < 200; n += 3)
		memcpy(deep + n, "<s>", 3);
	deep[n] = '\0';
	ssml_bad(deep, "deep nesting");
	ssml_bad("<speak><break time=\"nanms\"/>Hi</speak>", "a break of nan ms");
	ssml_bad("<speak><break time=\"nans\"/>Hi</speak>", "a break of nan s");
	ssml_bad("<speak><break time=\"infs\"/>Hi</speak>", "a break of inf s");
}

/* Synthesises text with voice id into a temporary file; returns its bytes'
 * first four in head. */
static enum err speak(const char *id, const char *text, enum tts_format f, double speed,
                      const struct tts_limits *l, struct tts_result *r, char head[5])
{
	struct pool *p = pool_new();
	struct tts_script s;
	tts_script_plain(p, text, &s);
	FILE *out = tmpfile();
	enum err e = tts_synthesize(tts_voice_find(id), &s, speed, f, l, out, NULL, r);
	memset(head, 0, 5);
	rewind(out);
	if (fread(head, 1, 4, out) != 4)
		head[0] = '\0';
	fclose(out);
	pool_free(p);
	return e;
}

static void engines(void)
{
	is_long(tts_voices_init(), ERR_OK, "voices: espeak-ng initialises");
	ok(tts_voice_count() > 100, "voices: %zu", tts_voice_count());
	ok(tts_voice_find("Joanna") && tts_voice_find("espeak-de") && !tts_voice_find("joanna"),
	   "voices: exact ids");
	const char *para = "The theory of plate tectonics explains how the outer shell of the "
	                   "planet moves. It builds on continental drift.";
	struct tts_result r, r2;
	char head[5];
	static const char *const magic[] = {"", "RIFF", "OggS"};
	for (int f = TTS_MP3; f <= TTS_OGG; f++) {
		enum err e = speak("Joanna", para, (enum tts_format)f, 1.0, &limits, &r, head);
		is_long(e, ERR_OK, tts_format_name((enum tts_format)f));
		ok(f == TTS_MP3
		       ? ((unsigned char)head[0] == 0xff && ((unsigned char)head[1] & 0xe0) == 0xe0)
		       : strcmp(head, magic[f]) == 0,
		   "%s: the file starts as one", tts_format_name((enum tts_format)f));
		ok(r.bytes > 1000 && r.duration_ms > 3000 && r.sample_rate == 16000,
		   "%s: %lld bytes, %ld ms at %ld Hz", tts_format_name((enum tts_format)f), r.bytes,
		   r.duration_ms, r.sample_rate);
	}
	is_long(speak("Joanna", "Short.", TTS_WAV, 1.0, &limits, &r2, head), ERR_OK, "a word");
	ok(r2.duration_ms * 4 < r.duration_ms, "duration grows with the text (%ld < %ld ms)",
	   r2.duration_ms, r.duration_ms);
	is_long(r2.bytes, 44 + r2.samples * 2, "wav: header and samples");
	is_long(speak("Joanna", para, TTS_WAV, 2.0, &limits, &r2, head), ERR_OK, "speed 2");
	ok(r2.duration_ms < r.duration_ms * 7 / 10, "speed 2 is faster (%ld ms)", r2.duration_ms);
	is_long(speak("kal", "Hello there.", TTS_OGG, 1.0, &limits, &r, head), ERR_OK, "kal");
	is_long(r.sample_rate, 8000, "kal: 8 kHz");
	is_long(speak("Brian", "Hello there.", TTS_MP3, 1.0, &limits, &r, head), ERR_OK, "Brian");
	is_long(r.sample_rate, 22050, "espeak-ng: 22.05 kHz");
	struct tts_limits l = limits;
	l.max_seconds = 1;
	is_long(speak("Joanna", para, TTS_MP3, 1.0, &l, &r, head), ERR_TOO_LARGE,
	        "audio past max_seconds is refused");
	l = limits;
	l.wall_ms = 1;
	is_long(speak("Matthew", para, TTS_WAV, 0.5, &l, &r, head), ERR_TIMEOUT,
	        "the wall clock stops a synthesis");
}

/* A script of 300 characters or more is spoken by two children at once:
 * the audio holds every sentence, in full (flite and espeak-ng speak each
 * sentence alone, so its length hardly depends on the others). */
static void split(void)
{
	static const char *const sentences[] = {
	    "The theory of plate tectonics explains how the outer shell of the planet moves.",
	    "It builds on the older idea of continental drift.",
	    "Oceanic crust is made at ridges and taken back into the mantle at trenches.",
	    "Earthquakes and volcanoes mostly happen where two plates meet.",
	    "The plates move a few centimetres every year."};
	for (int v = 0; v < 2; v++) {
		const char *voice = v ? "Brian" : "Joanna";
		struct tts_result r;
		char head[5], all[1024] = "";
		long long sum = 0;
		for (size_t i = 0; i < sizeof(sentences) / sizeof(*sentences); i++) {
			enum err e = speak(voice, sentences[i], TTS_WAV, 1.0, &limits, &r, head);
			sum += e == ERR_OK ? r.samples : -1000000;
			size_t len = strlen(all);
			snprintf(all + len, sizeof(all) - len, "%s ", sentences[i]);
		}
		ok(strlen(all) >= 300, "split: %zu characters", strlen(all));
		enum err e = speak(voice, all, TTS_WAV, 1.0, &limits, &r, head);
		/* espeak-ng carries a little state from one sentence to the next. */
		long long slack = v ? sum / 100 : 0;
		ok(e == ERR_OK && llabs(r.samples - sum) <= slack && r.bytes == 44 + r.samples * 2,
		   "split: %s speaks every sentence in full, in one WAV (%lld of %lld samples)",
		   voice, r.samples, sum);
	}
}

/* A tap that keeps what it is given; fail_at: the call that fails (0: none). */
struct tap_log {
	struct buf bytes;
	size_t calls, first, fail_at;
};

static enum err tap_keep(void *arg, const void *data, size_t len)
{
	struct tap_log *t = arg;
	if (++t->calls == t->fail_at)
		return ERR_UNAVAILABLE;
	if (t->calls == 1)
		t->first = len;
	buf_append(&t->bytes, data, len);
	return ERR_OK;
}

/* The whole file of a synthesis with a tap. */
static enum err tapped(enum tts_format f, struct tap_log *t, struct buf *file, struct tts_result *r)
{
	const char *text = "The first sentence is spoken. The second one follows it. "
	                   "A third closes the paragraph.";
	struct pool *p = pool_new();
	struct tts_script s;
	tts_script_plain(p, text, &s);
	FILE *out = tmpfile();
	struct tts_tap tap = {tap_keep, t};
	enum err e = tts_synthesize(tts_voice_find("Joanna"), &s, 1.0, f, &limits, out, &tap, r);
	rewind(out);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), out)) > 0)
		buf_append(file, chunk, n);
	fclose(out);
	pool_free(p);
	return e;
}

/* The tap gets the audio sentence by sentence, the same bytes as the file
 * (a WAV's header says "size unknown"), and a failing tap stops only itself. */
static void streaming(void)
{
	for (int f = TTS_MP3; f <= TTS_OGG; f++) {
		const char *name = tts_format_name((enum tts_format)f);
		struct tap_log t = {.calls = 0};
		struct buf file;
		buf_init(&t.bytes);
		buf_init(&file);
		struct tts_result r;
		ok(tapped((enum tts_format)f, &t, &file, &r) == ERR_OK, "tap %s: synthesised",
		   name);
		ok(t.calls >= 3, "tap %s: one call per sentence at least (%zu)", name, t.calls);
		ok(t.first > 0 && t.first < file.len / 2,
		   "tap %s: the first chunk (%zu bytes) comes before most of the audio (%zu)", name,
		   t.first, file.len);
		ok(t.bytes.len == file.len, "tap %s: as many bytes as the file (%zu, %zu)", name,
		   t.bytes.len, file.len);
		if (f == TTS_WAV && t.bytes.len >= 44 && file.len >= 44) {
			ok(memcmp(t.bytes.data + 4, "\xff\xff\xff\xff", 4) == 0 &&
			       memcmp(t.bytes.data + 40, "\xff\xff\xff\xff", 4) == 0,
			   "tap wav: the streamed header leaves the sizes unknown");
			uint32_t data = (uint32_t)(unsigned char)file.data[40] |
			                (uint32_t)(unsigned char)file.data[41] << 8 |
			                (uint32_t)(unsigned char)file.data[42] << 16 |
			                (uint32_t)(unsigned char)file.data[43] << 24;
			is_long(data, r.samples * 2,
			        "tap wav: the file's header has the real size");
			ok(memcmp(t.bytes.data + 44, file.data + 44, file.len - 44) == 0,
			   "tap wav: the same samples");
		} else {
			ok(t.bytes.len == file.len &&
			       memcmp(t.bytes.data, file.data, file.len) == 0,
			   "tap %s: the same bytes as the file", name);
		}
		size_t whole = file.len;
		buf_clear(&t.bytes);
		buf_clear(&file);
		/* The client leaves after the first chunk: the file is still whole. */
		struct tap_log gone = {.fail_at = 2};
		struct buf file2;
		buf_init(&gone.bytes);
		buf_init(&file2);
		struct tts_result r2;
		ok(tapped((enum tts_format)f, &gone, &file2, &r2) == ERR_OK,
		   "tap %s: a failing tap does not stop the synthesis", name);
		ok(gone.calls == 2, "tap %s: ... and is not called again (%zu)", name, gone.calls);
		ok(r2.samples == r.samples && file2.len == whole,
		   "tap %s: ... and the file has all the audio", name);
		buf_clear(&gone.bytes);
		buf_clear(&file2);
	}
}

int main(void)
{
	plain();
	ssml_ok();
	ssml_fuzz_findings();
	plain_controls();
	ssml_hostile();
	engines();
	split();
	streaming();
	return tap_done();
}
