/* phrases: RAKE key phrases over stems, definitions and acronyms. */
#include "text/phrases.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strtab.h"
#include "text/markup.h"

#define SINGLE_WEIGHT 0.6 /* a single word's score against a phrase's */
#define VERB_WEIGHT 0.4   /* a phrase led by a word the text uses as a verb */
#include "text/text.h"

enum {
	PHRASES_FORMS_MAX = 4,                                         /* written forms kept */
	PHRASES_KEY_MAX = PHRASES_WORDS_MAX * (TEXT_WORD_MAX + 1) + 1, /* bytes of a key */
	PHRASES_WORDS_TRACKED_MAX = 64 * 1024,                         /* distinct words counted */
	PHRASES_SUBJECT_SCAN = 120, /* bytes of a sentence's start read for a defined subject */
	PHRASES_COUNT_MIN = 2,      /* occurrences of an undefined phrase to be kept */
	PHRASES_WORD_BYTES_MIN = 3, /* a shorter single word counts only as an acronym */
	PHRASES_WORD_COUNT_MIN = 3  /* occurrences of an undefined single word to be kept */
};

/* Words too general to be key terms even though they are not stop words. Sorted. */
static const char *const generic_words[] = {
    "able",       "according", "across",     "actually",  "allow",      "allowed",      "allows",
    "also",       "always",    "another",    "answer",    "answers",    "appendix",     "around",
    "back",       "based",     "become",     "best",      "better",     "big",          "call",
    "called",     "calls",     "case",       "cases",     "certain",    "chapter",      "clearly",
    "conclusion", "consider",  "considered", "contents",  "define",     "defined",      "defines",
    "describe",   "described", "different",  "does",      "due",        "each",         "easily",
    "eg",         "eight",     "end",        "etc",       "even",       "every",        "example",
    "examples",   "exercise",  "exercises",  "fact",      "figure",     "find",         "first",
    "five",       "following", "follows",    "found",     "four",       "general",      "generally",
    "get",        "gets",      "give",       "given",     "gives",      "good",         "got",
    "help",       "helps",     "high",       "higher",    "however",    "ie",           "important",
    "include",    "included",  "includes",   "including", "instead",    "introduction", "keep",
    "key",        "kind",      "kinds",      "known",     "large",      "last",         "later",
    "lead",       "leads",     "least",      "less",      "lesson",     "let",          "like",
    "likely",     "little",    "long",       "look",      "lot",        "lots",         "low",
    "lower",      "made",      "main",       "mainly",    "make",       "makes",        "many",
    "may",        "maybe",     "mean",       "meaning",   "means",      "might",        "more",
    "mostly",     "much",      "multiple",   "need",      "needs",      "never",        "new",
    "next",       "nine",      "note",       "notes",     "now",        "number",       "numbers",
    "often",      "one",       "order",      "overview",  "page",       "part",         "parts",
    "point",      "points",    "possible",   "present",   "provide",    "provides",     "put",
    "questions",  "rather",    "really",     "refer",     "references", "referred",     "refers",
    "related",    "result",    "results",    "returned",  "returns",    "review",       "said",
    "same",       "say",       "says",       "second",    "section",    "see",          "seem",
    "seems",      "seen",      "seven",      "several",   "short",      "show",         "shown",
    "shows",      "simply",    "since",      "six",       "small",      "something",    "sometimes",
    "specific",   "still",     "such",       "summary",   "table",      "take",         "taken",
    "takes",      "ten",       "term",       "terms",     "thing",      "things",       "third",
    "three",      "times",     "together",   "toward",    "try",        "turn",         "two",
    "typically",  "unit",      "use",        "used",      "uses",       "using",        "usually",
    "various",    "want",      "way",        "ways",      "well",       "whereas",      "whole",
    "year",       "years",
};

static int cmp_str(const void *key, const void *item)
{
	return strcmp(key, *(const char *const *)item);
}

bool phrases_is_generic(const char *lower)
{
	return bsearch(lower, generic_words, sizeof(generic_words) / sizeof(generic_words[0]),
	               sizeof(generic_words[0]), cmp_str) != NULL;
}

/* ---- counting tables ---- */

/* 32-bit counts and offsets: a text is at most a few MiB, and with up to
 * 64 Ki words and 64 Ki candidates tracked these tables are most of the
 * notes' memory (t/fuzz/notes: 232 bytes an entry made 30 MB of 60). */
struct form {
	const char *text; /* inside a phrase view or sentence (scratch pool) */
	uint32_t len;
	int32_t count;
};

struct entry {
	const char *key;
	const char *definition;
	const char *alias;
	double score;
	struct form forms[PHRASES_FORMS_MAX]; /* mid-sentence forms */
	struct form initial;                  /* the first form at a sentence start */
	int32_t count;                        /* a candidate's occurrences; a word's frequency */
	int32_t degree;     /* a word's: summed lengths of the candidates it is in */
	int32_t verb;       /* a word's: times written after "to" or a modal ("to release") */
	int32_t noun;       /* a word's: times written after a determiner */
	uint32_t block;     /* first seen in */
	uint32_t def_block; /* where its definition is */
	int16_t words;
	int16_t strength; /* of the definition's pattern */
	bool heading;     /* seen in a heading */
	bool dropped;
};

/* Entries numbered by their keys (core/strtab.h): v[i] is the entry of
 * keys.keys[i]. */
struct table {
	struct strtab keys;
	struct entry *v;
	size_t n, cap;
};

static struct entry *find(struct table *t, const char *key)
{
	size_t i = strtab_find(&t->keys, key);
	return i == STRTAB_NONE ? NULL : &t->v[i];
}

/* The entry of key, added when new and within the budget; NULL past it. */
static struct entry *intern(struct table *t, struct pool *pool, const char *key, int words,
                            size_t block)
{
	bool added;
	size_t i = strtab_add(&t->keys, pool, key, &added);
	if (i == STRTAB_NONE)
		return NULL;
	if (!added)
		return &t->v[i];
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	struct entry *e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->key = t->keys.keys[i];
	e->words = words;
	e->block = block;
	return e;
}

static void table_free(struct table *t)
{
	free(t->v);
	strtab_free(&t->keys);
}

/* Counts one written form; a sentence's first word or a heading's says
 * nothing by its capital, so it is kept apart. */
static void seen(struct entry *e, const char *text, size_t len, bool uncertain)
{
	if (uncertain) {
		if (!e->initial.text)
			e->initial = (struct form){text, len, 1};
		return;
	}
	for (size_t i = 0; i < PHRASES_FORMS_MAX; i++) {
		struct form *f = &e->forms[i];
		if (!f->text) {
			*f = (struct form){text, len, 1};
			return;
		}
		if (f->len == len && memcmp(f->text, text, len) == 0) {
			f->count++;
			return;
		}
	}
}

/* ---- candidates ---- */

struct word {
	const char *start; /* in the view */
	size_t len;
	bool participle; /* a phrase may not end in it */
	bool after_to;   /* written after "to" or a modal verb: used as a verb */
	bool after_det;  /* written after a determiner ("the", "an", "its"): a noun */
	char stem[TEXT_WORD_MAX + 1];
};

struct reader {
	struct pool *scratch;
	struct text_stemmer *stemmer;
	struct table cands, words;
	struct word run[PHRASES_WORDS_MAX];
	size_t nrun;
	bool overflow;    /* the run is longer than a candidate may be */
	bool run_initial; /* the run starts a sentence */
	bool heading;
	size_t block;
	bool prev_to;  /* the last token was "to" or a modal verb */
	bool prev_det; /* the last token was a determiner */
};

static bool ascii_letter(char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Counts the candidates run[from, to) for every to up to nrun (with
 * first_only, only those starting at run[0]): every contiguous part of a
 * run is a candidate, so that "light energy" is counted inside
 * "photosynthesis converts light energy". */
static void count_parts(struct reader *r, bool first_only)
{
	for (size_t from = 0; from < (first_only ? 1 : r->nrun); from++) {
		char key[PHRASES_KEY_MAX];
		size_t kl = 0;
		for (size_t to = from + 1; to <= r->nrun; to++) {
			const struct word *w = &r->run[to - 1];
			size_t sl = strlen(w->stem);
			if (kl)
				key[kl++] = ' ';
			memcpy(key + kl, w->stem, sl + 1);
			kl += sl;
			if (w->participle)
				continue; /* a phrase does not end in one */
			struct entry *e =
			    intern(&r->cands, r->scratch, key, (int)(to - from), r->block);
			if (!e)
				continue;
			e->count++;
			e->heading |= r->heading;
			const char *a = r->run[from].start;
			seen(e, a, (size_t)(w->start + w->len - a),
			     (from == 0 && r->run_initial) || r->heading);
		}
	}
}

static void end_run(struct reader *r)
{
	long degree = (long)(r->overflow ? PHRASES_WORDS_MAX : r->nrun);
	for (size_t k = 0; k < r->nrun; k++) {
		struct entry *w = intern(&r->words, r->scratch, r->run[k].stem, 1, r->block);
		if (w) {
			w->count++;
			w->degree += degree;
			w->verb += r->run[k].after_to;
			w->noun += r->run[k].after_det;
		}
	}
	count_parts(r, false);
	r->nrun = 0;
	r->overflow = false;
}

/* Lower-cases an ASCII-cased word into dst (a curly apostrophe made
 * straight); false when it is not a word at all. */
static bool lower_word(const char *s, size_t n, char *dst, size_t cap)
{
	size_t o = 0;
	bool letter = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i + 2 < n && c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0x99) {
			c = '\'';
			i += 2;
		} else if (c == 0xe2) {
			return false; /* U+2000-U+2FFF: punctuation, arrows, symbols, box drawing */
		} else if (c >= 0x80) {
			letter = true;
		} else if (ascii_letter((char)c)) {
			letter = true;
			c = (unsigned char)(c | 0x20);
		} else if (!(c >= '0' && c <= '9') && c != '-' && c != '\'') {
			return false; /* a symbol: code, a path, an address */
		}
		if (o + 1 >= cap)
			return false;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return letter && o > 0;
}

/* Nouns that end like adverbs. Sorted. */
static const char *const ly_nouns[] = {"anomaly", "assembly", "butterfly", "family",
                                       "italy",   "monopoly", "reply",     "supply"};
/* Nouns that end like past participles. Sorted. */
static const char *const ed_nouns[] = {"bleed", "breed",   "creed",   "embed",
                                       "greed", "hundred", "kindred", "speed"};

static bool in_sorted(const char *w, const char *const *list, size_t n)
{
	return bsearch(w, list, n, sizeof(*list), cmp_str) != NULL;
}

/* Words after which a verb follows. Sorted. */
static const char *const verb_markers[] = {"can",   "cannot", "could", "may",  "might", "must",
                                           "shall", "should", "to",    "will", "would"};

/* Words before a noun. Sorted. */
static const char *const determiners[] = {"a",     "an",    "any",  "each",  "every", "her",  "his",
                                          "its",   "my",    "no",   "our",   "some",  "that", "the",
                                          "their", "these", "this", "those", "your"};

/* An adverb ("purely", "automatically"): never part of a key phrase. */
static bool adverb(const char *lower, size_t n)
{
	return n >= 5 && strcmp(lower + n - 2, "ly") == 0 &&
	       !in_sorted(lower, ly_nouns, sizeof(ly_nouns) / sizeof(ly_nouns[0]));
}

/* A past participle ("emitted", "added"): a phrase does not end in one. */
static bool participle(const char *lower, size_t n)
{
	return n >= 5 && strcmp(lower + n - 2, "ed") == 0 &&
	       !in_sorted(lower, ed_nouns, sizeof(ed_nouns) / sizeof(ed_nouns[0]));
}

/* Reads one token [a, a+n) of a view. */
static void token(struct reader *r, const char *a, size_t n, bool *sentence_start)
{
	static const char openers[] = "\"'([{*";
	static const char closers[] = "\"')]}.,;:!?*";
	bool start = *sentence_start;
	if (a[0] == '{' || a[n - 1] == '}' || a[0] == '<' || a[n - 1] == '>') {
		end_run(r); /* a type annotation or a placeholder: code */
		return;
	}
	size_t lead = 0;
	while (lead < n && strchr(openers, a[lead]))
		lead++;
	while (lead + 2 < n && (unsigned char)a[lead] == 0xe2 &&
	       (unsigned char)a[lead + 1] == 0x80 &&
	       ((unsigned char)a[lead + 2] == 0x9c || (unsigned char)a[lead + 2] == 0x98))
		lead += 3;
	if (lead)
		end_run(r);
	a += lead, n -= lead;
	size_t z = n;
	bool stop = false, ends = false;
	for (;;) {
		if (z && strchr(closers, a[z - 1])) {
			stop = true;
			ends |= a[z - 1] == '.' || a[z - 1] == '!' || a[z - 1] == '?';
			z--;
		} else if (z >= 3 && (unsigned char)a[z - 3] == 0xe2 &&
		           (unsigned char)a[z - 2] == 0x80 &&
		           ((unsigned char)a[z - 1] == 0x9d || (unsigned char)a[z - 1] == 0x99)) {
			stop = true;
			z -= 3;
		} else {
			break;
		}
	}
	if (z >= 2 && a[z - 2] == '\'' && (a[z - 1] | 0x20) == 's') { /* possessive */
		z -= 2;
		stop = true;
	}
	*sentence_start = ends;
	char lower[TEXT_WORD_MAX + 1];
	bool after_to = r->prev_to;
	bool word = z > 0 && lower_word(a, z, lower, sizeof(lower));
	r->prev_to = word && !stop &&
	             in_sorted(lower, verb_markers, sizeof(verb_markers) / sizeof(verb_markers[0]));
	bool after_det = r->prev_det;
	r->prev_det = word && !stop &&
	              in_sorted(lower, determiners, sizeof(determiners) / sizeof(determiners[0]));
	if (!word || strlen(lower) < 2 || text_is_stop_word(lower) || phrases_is_generic(lower) ||
	    lower[0] == '-' || lower[strlen(lower) - 1] == '-' || adverb(lower, strlen(lower))) {
		end_run(r);
		return;
	}
	if (r->nrun == 0)
		r->run_initial = start;
	if (r->nrun == PHRASES_WORDS_MAX) {
		r->overflow = true;
		/* The run goes on: the word it drops, and the parts it starts, are
		 * counted now. */
		count_parts(r, true);
		r->run_initial = false;
		struct entry *old = intern(&r->words, r->scratch, r->run[0].stem, 1, r->block);
		if (old) {
			old->count++;
			old->degree += PHRASES_WORDS_MAX;
		}
		memmove(r->run, r->run + 1, (PHRASES_WORDS_MAX - 1) * sizeof(r->run[0]));
		r->nrun--;
	}
	struct word *w = &r->run[r->nrun++];
	w->start = a;
	w->len = z;
	w->participle = participle(lower, strlen(lower));
	w->after_to = after_to;
	w->after_det = after_det;
	text_stem(r->stemmer, lower, strlen(lower), w->stem, sizeof(w->stem));
	if (stop)
		end_run(r);
}

/* Reads a block: its text with code turned into phrase breaks. */
static void read_block(struct reader *r, const struct doc_block *b, size_t index)
{
	size_t n;
	const char *v = markup_strip(r->scratch, b->raw, b->raw_len, MARKUP_CODE_BREAK, &n);
	r->heading = b->kind == DOC_HEADING;
	r->block = index;
	bool sentence_start = true;
	for (size_t i = 0; i < n;) {
		while (i < n && v[i] == ' ')
			i++;
		size_t a = i;
		while (i < n && v[i] != ' ')
			i++;
		if (i > a)
			token(r, v + a, i - a, &sentence_start);
	}
	end_run(r);
}

/* ---- definitions ---- */

/* The key of the words of s (n bytes): one to PHRASES_WORDS_MAX words after
 * an optional article, none a stop word; false otherwise. */
static bool subject_key(struct reader *r, const char *s, size_t n, char *key)
{
	struct text_word *w = NULL;
	size_t nw = text_words(r->scratch, s, n, PHRASES_WORDS_MAX + 2, &w);
	size_t k = 0;
	if (nw && (strcmp(w[0].lower, "a") == 0 || strcmp(w[0].lower, "an") == 0 ||
	           strcmp(w[0].lower, "the") == 0))
		k = 1;
	if (nw == k || nw - k > PHRASES_WORDS_MAX)
		return false;
	if ((size_t)(w[nw - 1].start + w[nw - 1].len - s) != n) /* nothing after the words */
		return false;
	size_t kl = 0;
	for (size_t j = k; j < nw; j++) {
		if (text_is_stop_word(w[j].lower) || phrases_is_generic(w[j].lower))
			return false;
		if (j > k && w[j].start != w[j - 1].start + w[j - 1].len + 1)
			return false; /* words joined by anything but one space */
		char stem[TEXT_WORD_MAX + 1];
		size_t sl =
		    text_stem(r->stemmer, w[j].lower, strlen(w[j].lower), stem, sizeof(stem));
		if (kl)
			key[kl++] = ' ';
		memcpy(key + kl, stem, sl + 1);
		kl += sl;
	}
	return kl > 0;
}

/* A definition's text: no closing period, at most PHRASES_DEFINITION_MAX. */
static const char *definition_text(struct pool *pool, const char *s, size_t n)
{
	while (n && (s[n - 1] == '.' || s[n - 1] == ' ' || s[n - 1] == ';' || s[n - 1] == ':'))
		n--;
	if (n <= PHRASES_DEFINITION_MAX)
		return pool_strndup(pool, s, n);
	size_t cut = PHRASES_DEFINITION_MAX;
	while (cut > 0 && s[cut] != ' ')
		cut--;
	return pool_printf(pool, "%.*s\xe2\x80\xa6", (int)cut, s);
}

/* Gives the phrase of key (added if new) a definition of strength. */
static void define(struct reader *r, const char *key, const char *subject, size_t slen,
                   const char *def, int strength, size_t block)
{
	struct entry *e = find(&r->cands, key);
	if (!e) {
		int words = 1;
		for (const char *c = key; *c; c++)
			words += *c == ' ';
		e = intern(&r->cands, r->scratch, key, words, block);
		if (!e)
			return;
		e->block = block;
		seen(e, subject, slen, true);
	}
	if (def && *def && strength > e->strength) {
		e->definition = def;
		e->strength = strength;
		e->def_block = block;
	}
}

struct pattern {
	const char *text; /* lower-case, after the subject */
	int strength;     /* a stronger pattern replaces a weaker definition */
	size_t keep;      /* bytes of the pattern kept at the definition's start ("a ") */
};

static const struct pattern patterns[] = {
    {" is defined as ", 4, 0},  {" are defined as ", 4, 0}, {" refers to ", 4, 0},
    {" refer to ", 4, 0},       {" means ", 3, 0},          {", also called ", 3, 0},
    {", also known as ", 3, 0}, {" is a ", 2, 2},           {" is an ", 2, 3},
    {" is the ", 2, 4},         {" are a ", 1, 2},          {" are an ", 1, 3},
    {" are the ", 1, 4},        {", which is ", 1, 0},      {", which are ", 1, 0},
};

/* "X is a ...", "X refers to ...", "... called X". */
static void sentence_definition(struct reader *r, const struct doc_sentence *s)
{
	size_t scan = s->len < PHRASES_SUBJECT_SCAN ? s->len : PHRASES_SUBJECT_SCAN;
	char *low = pool_strndup(r->scratch, s->text, s->len);
	for (char *c = low; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	const struct pattern *best = NULL;
	size_t at = 0;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const char *f = strstr(low, patterns[i].text);
		if (f && (size_t)(f - low) < scan && (!best || (size_t)(f - low) < at)) {
			best = &patterns[i];
			at = (size_t)(f - low);
		}
	}
	char key[PHRASES_KEY_MAX];
	if (best && subject_key(r, s->text, at, key)) {
		size_t from = at + strlen(best->text) - best->keep;
		if (from >= s->len || s->lead_in || s->question)
			return;
		if (strstr(best->text, "also")) { /* "X, also called Y, is a Z" */
			const char *rest = s->text + from;
			const char *comma = memchr(rest, ',', s->len - from);
			size_t alen = comma ? (size_t)(comma - rest) : s->len - from;
			const char *def = NULL;
			static const char *const verbs[] = {", is a ", ", is an ", ", is the "};
			for (size_t i = 0; comma && i < 3 && !def; i++)
				if (strncmp(low + (comma - s->text), verbs[i], strlen(verbs[i])) ==
				    0) {
					size_t off = (size_t)(comma - s->text) + 5; /* ", is " */
					def = definition_text(r->scratch, s->text + off,
					                      s->len - off);
				}
			define(r, key, s->text, at, def, best->strength, s->block);
			struct entry *e = find(&r->cands, key);
			if (e && !e->alias && alen)
				e->alias = definition_text(r->scratch, rest, alen);
			return;
		}
		define(r, key, s->text, at,
		       definition_text(r->scratch, s->text + from, s->len - from), best->strength,
		       s->block);
		return;
	}
	static const char *const namers[] = {" called ", " known as ", " termed "};
	for (size_t i = 0; i < sizeof(namers) / sizeof(namers[0]); i++) {
		const char *f = strstr(low, namers[i]);
		if (!f)
			continue;
		size_t a = (size_t)(f - low) + strlen(namers[i]), z = a;
		while (z < s->len && !strchr(".,;:!?()\"", s->text[z]))
			z++;
		if (z > a && subject_key(r, s->text + a, z - a, key) && !s->question)
			define(r, key, s->text + a, z - a,
			       definition_text(r->scratch, s->text, s->len), 1, s->block);
		return;
	}
}

/* "Application Programming Interface (API)": the expansion is a phrase
 * and the acronym its short form (the alias). */
static void acronyms(struct reader *r, const struct doc_sentence *s)
{
	for (const char *p = memchr(s->text, '(', s->len); p;
	     p = memchr(p + 1, '(', s->len - (size_t)(p + 1 - s->text))) {
		size_t i = (size_t)(p - s->text) + 1, k = i;
		while (k < s->len && k - i <= PHRASES_ACRONYM_MAX && s->text[k] >= 'A' &&
		       s->text[k] <= 'Z')
			k++;
		size_t letters = k - i;
		if (k < s->len && s->text[k] == 's')
			k++;
		if (letters < 2 || letters > PHRASES_ACRONYM_MAX || k >= s->len ||
		    s->text[k] != ')')
			continue;
		/* Match the letters backwards against the words' initials. */
		const char *w = p;
		size_t need = letters, skipped = 0;
		const char *first = NULL;
		while (need > 0 && w > s->text && skipped <= 2) {
			const char *e = w;
			while (e > s->text && e[-1] == ' ')
				e--;
			const char *b = e;
			while (b > s->text && b[-1] != ' ')
				b--;
			if (b == e)
				break;
			char initial = (char)(*b | 0x20),
			     want = (char)(s->text[i + need - 1] | 0x20);
			if (initial == want) {
				need--;
				first = b;
			} else if (first) {
				char lw[TEXT_WORD_MAX + 1];
				if (!lower_word(b, (size_t)(e - b), lw, sizeof(lw)) ||
				    !text_is_stop_word(lw))
					break;
				skipped++;
			} else {
				break;
			}
			w = b;
		}
		if (need || !first)
			continue;
		size_t elen = (size_t)(p - first);
		while (elen && first[elen - 1] == ' ')
			elen--;
		char key[PHRASES_KEY_MAX];
		if (!subject_key(r, first, elen, key))
			continue;
		define(r, key, first, elen, NULL, 0, s->block);
		struct entry *e = find(&r->cands, key);
		if (e && !e->alias) {
			e->alias = pool_strndup(r->scratch, s->text + i, letters);
			char lower[PHRASES_ACRONYM_MAX + 1], stem[TEXT_WORD_MAX + 1];
			for (size_t j = 0; j < letters; j++)
				lower[j] = (char)(s->text[i + j] | 0x20);
			lower[letters] = '\0';
			text_stem(r->stemmer, lower, letters, stem, sizeof(stem));
			struct entry *a = find(&r->cands, stem);
			if (a && a != e) { /* the acronym's uses are the expansion's */
				e->count += a->count;
				a->dropped = true;
			}
		}
	}
}

static bool is_alpha_start(const char *s)
{
	return ascii_letter(s[0]) || (unsigned char)s[0] >= 0xc0;
}

/* A definition list's or glossary's term with its definition. */
static void listed_definition(struct reader *r, const struct doc *d, size_t i)
{
	const struct doc_block *b = &d->blocks[i];
	size_t tl = strlen(b->term);
	char key[PHRASES_KEY_MAX];
	if (!subject_key(r, b->term, tl, key))
		return;
	const char *def = b->text;
	size_t n = b->len;
	if (n > tl && memcmp(def, b->term, tl) == 0) { /* "Term: definition" */
		def += tl, n -= tl;
		while (n && strchr(":-* ", *def))
			def++, n--;
		while (n >= 3 && (unsigned char)def[0] == 0xe2 && (unsigned char)def[1] == 0x80)
			def += 3, n -= 3;
		while (n && *def == ' ')
			def++, n--;
	}
	size_t words = 1;
	for (size_t k = 0; k < n; k++)
		words += def[k] == ' ';
	if (n && words >= 3 && (is_alpha_start(def) || (def[0] >= '0' && def[0] <= '9')))
		define(r, key, b->term, tl, definition_text(r->scratch, def, n), 5, i);
}

/* ---- scoring ---- */

/* The form a phrase is shown in: its most common mid-sentence form, else
 * its first form with capitals that only start a word lowered. */
static const char *display(const struct entry *e, struct pool *pool)
{
	const struct form *best = NULL;
	for (size_t i = 0; i < PHRASES_FORMS_MAX && e->forms[i].text; i++)
		if (!best || e->forms[i].count > best->count)
			best = &e->forms[i];
	if (best)
		return pool_strndup(pool, best->text, best->len);
	if (!e->initial.text)
		return pool_strdup(pool, e->key);
	/* Written in title case or at a sentence's start: a capital that only
	 * starts a word is lowered ("Binary Data" gives "binary data"); words
	 * with other capitals ("API", "OpenSSL") stay as written. */
	char *s = pool_strndup(pool, e->initial.text, e->initial.len);
	for (size_t i = 0; s[i]; i++) {
		if ((i > 0 && s[i - 1] != ' ') || !(s[i] >= 'A' && s[i] <= 'Z'))
			continue;
		bool other = false;
		for (size_t k = i + 1; s[k] && s[k] != ' '; k++)
			other = other || (s[k] >= 'A' && s[k] <= 'Z');
		if (!other)
			s[i] = (char)(s[i] + 32);
	}
	return s;
}

/* Whether a form is written in capitals ("API", "DNA"). */
static bool capitals(const struct form *f)
{
	return f->text && f->len >= 2 && f->text[0] >= 'A' && f->text[0] <= 'Z' &&
	       f->text[1] >= 'A' && f->text[1] <= 'Z';
}

static void score(struct reader *r)
{
	for (size_t i = 0; i < r->cands.n; i++) {
		struct entry *e = &r->cands.v[i];
		bool caps = capitals(&e->initial);
		for (size_t k = 0; k < PHRASES_FORMS_MAX && !caps; k++)
			caps = capitals(&e->forms[k]);
		bool known = e->definition || e->alias;
		long least = e->words == 1 ? PHRASES_WORD_COUNT_MIN : PHRASES_COUNT_MIN;
		struct entry *alone = e->words == 1 ? find(&r->words, e->key) : NULL;
		bool noun = caps || known || e->words > 1 || (alone && alone->noun > 0);
		if (e->dropped || (!known && e->count < least) || !noun ||
		    (e->words == 1 && strlen(e->key) < PHRASES_WORD_BYTES_MIN && !caps)) {
			e->dropped = true;
			continue;
		}
		double rake = 0;
		long rarest = 0; /* occurrences of its rarest word: cohesion is count/rarest */
		bool verb_led = false; /* its first word is used as a verb ("release energy") */
		const char *k = e->key;
		for (int w = 0; w < e->words; w++) {
			const char *sp = strchr(k, ' ');
			size_t kl = sp ? (size_t)(sp - k) : strlen(k);
			char stem[TEXT_WORD_MAX + 1];
			memcpy(stem, k, kl);
			stem[kl] = '\0';
			struct entry *ws = find(&r->words, stem);
			rake += ws && ws->count ? (double)ws->degree / (double)ws->count : 1.0;
			if (ws && ws->count && (rarest == 0 || ws->count < rarest))
				rarest = ws->count;
			if (w == 0 && ws && ws->verb && e->words > 1)
				verb_led = true;
			k = sp ? sp + 1 : k + kl;
		}
		if (e->words == 1) /* degree says nothing of a word alone */
			rake = 1.0;
		e->score = rake * log2(1.0 + (double)e->count) * (e->heading ? 1.5 : 1.0) *
		           (known ? 2.0 : 1.0) * (e->words == 1 && !caps ? SINGLE_WEIGHT : 1.0) *
		           (e->words > 1 ? fmin(1.0, (double)e->count / (double)rarest) : 1.0) *
		           (verb_led ? VERB_WEIGHT : 1.0);
	}
}

static int cmp_score(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a,
	                   *y = *(const struct entry *const *)b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Whether the words of key a appear in a, contiguous, inside key b. */
static bool inside(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (al >= bl)
		return false;
	for (const char *f = strstr(b, a); f; f = strstr(f + 1, a))
		if ((f == b || f[-1] == ' ') && (f[al] == '\0' || f[al] == ' '))
			return true;
	return false;
}

enum err phrases_extract(struct pool *pool, const struct doc *d, const struct doc_sentence *s,
                         size_t ns, size_t max, struct phrase **out, size_t *count)
{
	struct reader r = {.scratch = pool_new()};
	strtab_init(&r.cands.keys, PHRASES_TRACKED_MAX);
	strtab_init(&r.words.keys, PHRASES_WORDS_TRACKED_MAX);
	*out = NULL;
	*count = 0;
	enum err e = text_stemmer_new(&r.stemmer);
	if (e)
		goto out;
	for (size_t i = 0; i < d->count; i++)
		if (d->blocks[i].kind == DOC_HEADING || doc_is_prose(&d->blocks[i]))
			read_block(&r, &d->blocks[i], i);
	for (size_t i = 0; i < d->count; i++)
		if (d->blocks[i].term)
			listed_definition(&r, d, i);
	for (size_t i = 0; i < ns; i++) {
		sentence_definition(&r, &s[i]);
		acronyms(&r, &s[i]);
	}
	score(&r);
	struct entry **c = pool_alloc(r.scratch, (r.cands.n + 1) * sizeof(*c));
	size_t nc = 0;
	for (size_t i = 0; i < r.cands.n; i++)
		if (!r.cands.v[i].dropped)
			c[nc++] = &r.cands.v[i];
	qsort(c, nc, sizeof(*c), cmp_score);
	/* Best first; nested phrases resolved against those already chosen. */
	struct entry **pick = pool_alloc(r.scratch, (max + 1) * sizeof(*pick));
	size_t np = 0;
	for (size_t i = 0; i < nc && np < max; i++) {
		struct entry *x = c[i];
		bool skip = false;
		for (size_t k = 0; k < np && !skip; k++) {
			struct entry *y = pick[k];
			if (inside(y->key, x->key)) { /* x is longer than y */
				if (x->count * 4 >= y->count && !y->definition)
					pick[k] = x,
					skip = true; /* the longer replaces the shorter */
				else
					skip = !x->definition;
			} else if (inside(x->key, y->key)) { /* x is shorter than y */
				skip = !x->definition && x->count < 4 * y->count;
			}
		}
		if (skip)
			continue;
		pick[np++] = x;
	}
	/* A replacement may have left the same phrase twice. */
	size_t u = 0;
	for (size_t i = 0; i < np; i++) {
		bool dup = false;
		for (size_t k = 0; k < u && !dup; k++)
			dup = pick[k] == pick[i];
		if (!dup)
			pick[u++] = pick[i];
	}
	np = u;
	struct phrase *v = pool_alloc(pool, (np + 1) * sizeof(*v));
	for (size_t i = 0; i < np; i++) {
		const struct entry *x = pick[i];
		size_t at = x->definition ? x->def_block : x->block;
		if (at >= d->count)
			at = x->block;
		v[i] = (struct phrase){
		    .text = display(x, pool),
		    .key = pool_strdup(pool, x->key),
		    .words = x->words,
		    .count = x->count,
		    .score = x->score,
		    .definition = x->definition ? pool_strdup(pool, x->definition) : NULL,
		    .alias = x->alias ? pool_strdup(pool, x->alias) : NULL,
		    .block = at,
		    .page = d->blocks[at].page,
		    .section = d->blocks[at].kind == DOC_HEADING ? (long)at : d->blocks[at].section,
		};
	}
	*out = v;
	*count = np;
out:
	text_stemmer_free(r.stemmer);
	table_free(&r.cands);
	table_free(&r.words);
	pool_free(r.scratch);
	return e;
}
