/* Fuzz target: sentence splitting, words and stems of arbitrary text
 * (lib/text/text.c), what notes and quizzes are built from.
 *
 * Input: any bytes, as an extractor might hand them on. The run gives each
 * input a time limit (t/fuzz/run), so a quadratic blow-up is a finding.
 * Contract checked (text.h): text_clean gives valid UTF-8 without NUL or
 * CR; every sentence is trimmed, has single spaces, is valid UTF-8 of
 * len == strlen bytes, at most TEXT_SENTENCE_MAX, and headings have levels
 * 0..6; every word lies inside the text given and its lower-cased form is
 * at most TEXT_WORD_MAX bytes; stems fit their buffer. */
#include <string.h>

#include "core/mem.h"
#include "fuzz.h"
#include "text/text.h"
#include "web/valid.h"

enum { SENTENCES_MAX = 4000, WORDS_MAX = 256 };

static struct text_stemmer *stemmer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (text_stemmer_new(&stemmer) != ERR_OK)
		abort();
	return 0;
}

static void check_sentence(struct pool *pool, const struct text_sentence *t)
{
	fuzz_check(t->text && t->len == strlen(t->text), "len is strlen(text)");
	fuzz_check(t->len > 0 && t->len <= TEXT_SENTENCE_MAX, "a sentence is 1..2048 bytes");
	fuzz_check(valid_utf8(t->text, t->len), "a sentence is valid UTF-8");
	fuzz_check(t->text[0] != ' ' && t->text[0] != '\t' && t->text[t->len - 1] != ' ' &&
	               t->text[t->len - 1] != '\t',
	           "a sentence is trimmed");
	fuzz_check(!strstr(t->text, "  "), "spaces collapsed");
	fuzz_check(t->kind == TEXT_SENTENCE || t->kind == TEXT_HEADING || t->kind == TEXT_ITEM ||
	               t->kind == TEXT_TABLE,
	           "a known kind");
	if (t->kind == TEXT_HEADING)
		fuzz_check(t->level >= 0 && t->level <= TEXT_HEADING_LEVEL_MAX, "heading level");

	struct text_word *w = NULL;
	size_t nw = text_words(pool, t->text, t->len, WORDS_MAX, &w);
	fuzz_check(nw <= WORDS_MAX, "at most max words");
	for (size_t i = 0; i < nw; i++) {
		size_t lower = strlen(w[i].lower);
		fuzz_check(lower > 0 && lower <= TEXT_WORD_MAX, "a word is 1..64 bytes");
		fuzz_check(w[i].start >= t->text && w[i].len <= t->len &&
		               (size_t)(w[i].start - t->text) <= t->len - w[i].len,
		           "a word lies inside its sentence");
		char stem[TEXT_WORD_MAX + 1];
		size_t sn = text_stem(stemmer, w[i].lower, lower, stem, sizeof(stem));
		fuzz_check(sn < sizeof(stem) && strlen(stem) == sn, "a stem fits");
		(void)text_is_stop_word(w[i].lower);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_new();
	const char *text = (const char *)data;
	size_t clen = 0;
	char *clean = text_clean(pool, text, size, &clen);
	fuzz_check(clean && strlen(clean) == clen, "clean text has no NUL");
	fuzz_check(valid_utf8(clean, clen), "clean text is valid UTF-8");
	fuzz_check(!memchr(clean, '\r', clen), "clean text has no CR");

	struct text_sentence *s = NULL;
	size_t n = text_split(pool, text, size, SENTENCES_MAX, &s);
	fuzz_check(n <= SENTENCES_MAX, "at most max sentences");
	for (size_t i = 0; i < n; i++)
		check_sentence(pool, &s[i]);
	if (size)
		(void)text_starts_upper(text, size);
	pool_free(pool);
	return 0;
}
