/* quiz grading: a short answer matched leniently against the right one. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "text/quiz.h"
#include "text/text.h"

enum {
	GRADE_WORDS_MAX = 32,   /* words of an answer compared */
	GRADE_TYPO_WORD_MIN = 6 /* letters a word needs for a typo to be forgiven */
};

struct norm {
	char words[GRADE_WORDS_MAX][TEXT_WORD_MAX]; /* lower-case, numbers as digits */
	char stems[GRADE_WORDS_MAX][TEXT_WORD_MAX];
	size_t n;
};

static int number_word(const char *w)
{
	static const char *const small[] = {
	    "zero",     "one",     "two",     "three",     "four",     "five",     "six",
	    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",   "thirteen",
	    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", NULL};
	static const char *const tens[] = {"twenty",  "thirty", "forty",  "fifty", "sixty",
	                                   "seventy", "eighty", "ninety", NULL};
	for (int i = 0; small[i]; i++)
		if (strcmp(w, small[i]) == 0)
			return i;
	for (int i = 0; tens[i]; i++)
		if (strcmp(w, tens[i]) == 0)
			return 20 + 10 * i;
	return -1;
}

static bool is_article(const char *w)
{
	return strcmp(w, "a") == 0 || strcmp(w, "an") == 0 || strcmp(w, "the") == 0;
}

/* The answer's words: articles dropped, number words as digits, stems. */
static void normalise(struct pool *pool, struct text_stemmer *st, const char *s, size_t len,
                      struct norm *out)
{
	struct text_word *w = NULL;
	size_t nw = text_words(pool, s, len, GRADE_WORDS_MAX * 2, &w);
	out->n = 0;
	for (size_t i = 0; i < nw && out->n < GRADE_WORDS_MAX; i++) {
		if (is_article(w[i].lower))
			continue;
		int v = number_word(w[i].lower);
		if (v >= 20 && v % 10 == 0 && i + 1 < nw) {
			int u = number_word(w[i + 1].lower);
			if (u > 0 && u < 10) {
				v += u;
				i++;
			}
		}
		char *dst = out->words[out->n];
		if (v >= 0)
			snprintf(dst, TEXT_WORD_MAX, "%d", v);
		else
			snprintf(dst, TEXT_WORD_MAX, "%s", w[i].lower);
		text_stem(st, dst, strlen(dst), out->stems[out->n], TEXT_WORD_MAX);
		out->n++;
	}
}

/* Whether a and b differ by one edit: a letter added, dropped, changed, or
 * two neighbours swapped. */
static bool one_typo(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la < lb) {
		const char *t = a;
		a = b;
		b = t;
		size_t tl = la;
		la = lb;
		lb = tl;
	}
	if (la - lb > 1)
		return false;
	size_t i = 0;
	while (i < lb && a[i] == b[i])
		i++;
	if (i == lb)
		return la == lb + 1 || la == lb;
	if (la == lb + 1)
		return strcmp(a + i + 1, b + i) == 0;
	if (strcmp(a + i + 1, b + i + 1) == 0)
		return true;
	return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	       strcmp(a + i + 2, b + i + 2) == 0;
}

bool quiz_answer_matches(const char *expected, const char *given, size_t given_len)
{
	static struct text_stemmer *st; /* one per process (not thread-safe) */
	if (!st && text_stemmer_new(&st) != ERR_OK)
		return false;
	if (given_len > QUIZ_ANSWER_MAX)
		return false;
	struct pool *pool = pool_new();
	struct norm *a = pool_alloc(pool, sizeof(*a)), *b = pool_alloc(pool, sizeof(*b));
	normalise(pool, st, expected, strlen(expected), a);
	normalise(pool, st, given, given_len, b);
	bool ok = a->n > 0 && a->n == b->n;
	int typos = 0;
	for (size_t i = 0; ok && i < a->n; i++) {
		if (strcmp(a->stems[i], b->stems[i]) == 0 || strcmp(a->words[i], b->words[i]) == 0)
			continue;
		if (typos == 0 && strlen(a->words[i]) >= GRADE_TYPO_WORD_MIN &&
		    one_typo(a->words[i], b->words[i]))
			typos++;
		else
			ok = false;
	}
	pool_free(pool);
	return ok;
}
