/* course_terms: the terms of the learner's documents as a custom vocabulary
 * table of Amazon Transcribe (course.h). A term is a word the general
 * dictionary of pocketsphinx's model lacks ("glycolysis"), as for the local
 * engine: Transcribe already knows common words, and a vocabulary of them
 * would only bend its choices. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "course.h"

#ifndef COURSE_DICTIONARY
#define COURSE_DICTIONARY "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
#endif

enum { TERM_MIN = 4 }; /* shorter words are rarely terms */

struct term {
	char *lower, *form; /* form: as written; lower case once seen so */
	long count;
};

/* The dictionary's words, sorted; read once (the worker keeps them). */
static char **known;
static size_t nknown;

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* False when the dictionary cannot be read (logged): no word is then a
 * term, rather than every word. */
static bool dictionary(void)
{
	if (known)
		return true;
	FILE *f = fopen(COURSE_DICTIONARY, "r");
	if (f == NULL) {
		log_warn("stt: cannot read %s: no course terms for Transcribe", COURSE_DICTIONARY);
		return false;
	}
	size_t cap = 0;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, " (\t\n");
		if (n == 0 || line[n] == '(')
			continue; /* "read(2)": a second pronunciation */
		if (nknown == cap) {
			cap = cap ? cap * 2 : 65536;
			known = xrealloc(known, cap * sizeof(*known));
		}
		known[nknown++] = xstrndup(line, n);
	}
	fclose(f);
	if (nknown == 0)
		return false;
	qsort(known, nknown, sizeof(*known), by_string);
	return true;
}

static bool is_known(const char *word)
{
	return bsearch(&word, known, nknown, sizeof(*known), by_string) != NULL;
}

static int by_lower(const void *a, const void *b)
{
	return strcmp(((const struct term *)a)->lower, ((const struct term *)b)->lower);
}

static int by_count(const void *a, const void *b)
{
	const struct term *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->lower, y->lower);
}

/* A word of the vocabulary: letters only, one capital at most (an acronym
 * would need Transcribe's dotted spelling, which says how it is spoken). */
static bool usable(const char *w, size_t n)
{
	size_t capitals = 0;
	for (size_t i = 0; i < n; i++)
		capitals += w[i] >= 'A' && w[i] <= 'Z';
	return n >= TERM_MIN && n <= COURSE_WORD_MAX && capitals <= 1;
}

/* The runs of ASCII letters in text that touch no digit, apostrophe or
 * other byte of a word ("café", "x2", "don't" are not terms). */
static struct term *words(const char *text, size_t len, size_t *count)
{
	size_t n = 0, cap = 0;
	struct term *t = NULL;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
		if (!letter && !(c >= '0' && c <= '9') && c != '\'' && c < 0x80) {
			i++;
			continue;
		}
		size_t start = i;
		bool clean = true;
		for (; i < len; i++) {
			c = (unsigned char)text[i];
			if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
				continue;
			if ((c >= '0' && c <= '9') || c == '\'' || c >= 0x80)
				clean = false;
			else
				break;
		}
		if (!clean || !usable(text + start, i - start))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			t = xrealloc(t, cap * sizeof(*t));
		}
		char *form = xstrndup(text + start, i - start), *lower = xstrdup(form);
		for (char *p = lower; *p; p++)
			*p = (char)(*p | 0x20);
		t[n++] = (struct term){lower, form, 1};
	}
	*count = n;
	return t;
}

long course_terms(const char *text, size_t len, size_t max, struct buf *out)
{
	static const char header[] = "Phrase\tSoundsLike\tIPA\tDisplayAs\n";
	if (!dictionary())
		return 0;
	size_t n = 0, kept = 0;
	struct term *t = words(text, len, &n);
	if (n > 0)
		qsort(t, n, sizeof(*t), by_lower);
	/* One entry a word: counted, lower case if ever written so. */
	for (size_t i = 0; i < n; i++) {
		if (kept > 0 && strcmp(t[kept - 1].lower, t[i].lower) == 0) {
			struct term *k = &t[kept - 1];
			k->count++;
			if (strcmp(t[i].form, t[i].lower) == 0)
				memcpy(k->form, t[i].lower,
				       strlen(t[i].lower) + 1); /* same length */
			free(t[i].lower);
			free(t[i].form);
			continue;
		}
		t[kept++] = t[i];
	}
	if (kept > 0)
		qsort(t, kept, sizeof(*t), by_count);
	size_t at = out->len;
	long terms = 0;
	for (size_t i = 0; i < kept; i++) {
		size_t line = 2 * strlen(t[i].form) + 4;
		bool fits = (terms ? out->len - at : sizeof(header) - 1) + line <= max;
		if (fits && !is_known(t[i].lower)) {
			if (terms++ == 0)
				buf_puts(out, header);
			buf_printf(out, "%s\t\t\t%s\n", t[i].form, t[i].form);
		}
		free(t[i].lower);
		free(t[i].form);
	}
	free(t);
	return terms;
}
