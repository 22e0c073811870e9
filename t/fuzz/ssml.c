/* Fuzz target: the scripts of text to speech (lib/speech/tts_ssml.c and
 * tts_script.c), what the tts service makes of a learner's text before any
 * engine sees it.
 *
 * Input: any bytes. Text that tts_is_ssml takes for SSML goes through the
 * SSML parser (libxml2 with entities, DTDs and the network off), anything
 * else that is valid UTF-8 through the plain-text splitter, as the service
 * does. Contract checked (speech/tts.h): a refusal is ERR_INVALID with its
 * sentence; a script has pieces of text (valid UTF-8, no control bytes, not
 * blank, at most a few sentence lengths) or pauses of 0..TTS_PAUSE_MAX_MS,
 * every rate is 0.5..2.0 (what prosody allows, nested or not), and
 * characters counts the characters of its text. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "speech/tts.h"
#include "web/valid.h"

enum { PIECE_MAX = 2 * 600 + 8 /* tts_script's cut, plus one character */ };

static void check_script(const struct tts_script *s)
{
	size_t chars = 0;
	fuzz_check(s->n <= s->cap, "n <= cap");
	for (size_t i = 0; i < s->n; i++) {
		const struct tts_seg *g = &s->segs[i];
		fuzz_check(isfinite(g->rate) && g->rate >= 0.5 && g->rate <= 2.0,
		           "a rate is 0.5..2.0");
		fuzz_check(g->pause_ms >= 0 && g->pause_ms <= TTS_PAUSE_MAX_MS,
		           "a pause is 0..10 s");
		if (g->text == NULL) {
			fuzz_check(g->pause_ms > 0, "a piece without text is a pause");
			continue;
		}
		size_t len = strlen(g->text);
		fuzz_check(len > 0 && len <= PIECE_MAX, "a piece of text is 1..1208 bytes");
		fuzz_check(valid_utf8(g->text, len), "a piece of text is valid UTF-8");
		bool blank = true;
		for (size_t k = 0; k < len; k++) {
			unsigned char c = (unsigned char)g->text[k];
			fuzz_check(c >= 0x20, "no control bytes are spoken");
			blank = blank && c == ' ';
			chars += (c & 0xc0) != 0x80;
		}
		fuzz_check(!blank, "a piece of text is not blank");
	}
	fuzz_check(chars == s->characters, "characters counts the text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The service's text is a JSON string: NUL-terminated, no NUL inside. */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (memchr(text, '\0', size) != NULL) {
		free(text);
		return 0;
	}
	struct pool *pool = pool_new();
	struct tts_script s;
	if (tts_is_ssml(text)) {
		const char *problem = NULL;
		enum err e = tts_script_ssml(pool, text, size, &s, &problem);
		if (e == ERR_OK) {
			fuzz_check(problem == NULL && s.characters > 0, "a script has text");
			check_script(&s);
		} else {
			fuzz_check(e == ERR_INVALID && problem != NULL, "a refusal says why");
		}
	} else if (valid_utf8(text, size)) {
		tts_script_plain(pool, text, &s);
		check_script(&s);
	}
	pool_free(pool);
	free(text);
	return 0;
}
