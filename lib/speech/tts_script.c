/* tts_script: text cut into sentences for the engines, one at a time. */
#include <string.h>

#include "speech/tts.h"

enum {
	SENTENCE_MAX = 600,      /* bytes; a longer run is cut at a space */
	PARAGRAPH_PAUSE_MS = 400 /* a blank line in plain text */
};

static void push(struct pool *pool, struct tts_script *s, const char *text, double rate, bool spell,
                 long pause_ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct tts_seg *segs = pool_alloc(pool, cap * sizeof(*segs));
		if (s->n)
			memcpy(segs, s->segs, s->n * sizeof(*segs));
		s->segs = segs;
		s->cap = cap;
	}
	s->segs[s->n++] = (struct tts_seg){text, pause_ms, rate, spell};
}

/* Spaces and control bytes only (controls are spoken as spaces). */
static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] > ' ')
			return false;
	return true;
}

/* One sentence: controls become spaces; counted in characters. */
static void sentence(struct pool *pool, struct tts_script *s, const char *p, size_t n, double rate,
                     bool spell)
{
	if (n == 0 || blank(p, n))
		return;
	char *t = pool_strndup(pool, p, n);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)t[i] < 0x20)
			t[i] = ' ';
		if (((unsigned char)t[i] & 0xc0) != 0x80)
			s->characters++;
	}
	push(pool, s, t, rate, spell, 0);
}

void tts_script_add(struct pool *pool, struct tts_script *s, const char *text, size_t len,
                    double rate, bool spell, long pause_ms)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		bool end = ((c == '.' || c == '!' || c == '?' || c == ';') &&
		            (i + 1 == len || text[i + 1] == ' ' || text[i + 1] == '\n')) ||
		           c == '\n';
		/* A run with no full stop is cut at a space (never inside a character). */
		if (!end && i - start >= SENTENCE_MAX && c == ' ')
			end = true;
		if (!end && i - start >= 2 * SENTENCE_MAX && i + 1 < len &&
		    ((unsigned char)text[i + 1] & 0xc0) != 0x80)
			end = true;
		if (end) {
			sentence(pool, s, text + start, i + 1 - start, rate, spell);
			start = i + 1;
		}
	}
	sentence(pool, s, text + start, len - start, rate, spell);
	if (pause_ms > 0) {
		if (s->n > 0 && s->segs[s->n - 1].text != NULL && s->segs[s->n - 1].pause_ms == 0)
			s->segs[s->n - 1].pause_ms = pause_ms;
		else
			push(pool, s, NULL, 1.0, false, pause_ms);
	}
}

void tts_script_plain(struct pool *pool, const char *text, struct tts_script *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = text;
	while (*p) {
		const char *para = strstr(p, "\n\n");
		size_t n = para ? (size_t)(para - p) : strlen(p);
		tts_script_add(pool, out, p, n, 1.0, false, para ? PARAGRAPH_PAUSE_MS : 0);
		p += n;
		while (*p == '\n')
			p++;
	}
}

bool tts_is_ssml(const char *text)
{
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	return strncmp(text, "<speak", 6) == 0 || strncmp(text, "<?xml", 5) == 0;
}
