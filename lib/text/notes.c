/* notes: extractive study notes (TextRank summary, key terms, outline). */
#include "text/notes.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "text/text.h"

enum {
	NOTES_SURFACES_MAX = 4,     /* written forms remembered per term */
	NOTES_PHRASE_WORDS_MAX = 3, /* longest phrase counted as a term */
	NOTES_KEY_MAX = NOTES_PHRASE_WORDS_MAX * (TEXT_WORD_MAX + 1), /* bytes of a term's key */
	NOTES_SUBJECT_WORDS_MAX = 3,   /* words of a defined subject (after its article) */
	NOTES_CANDIDATE_WORDS_MIN = 6, /* words of a sentence fit for the summary */
	NOTES_CANDIDATE_WORDS_MAX = 60,
	NOTES_SUMMARY_SCAN = 10,  /* ranked sentences tried for the plain summary */
	NOTES_TERM_BYTES_MIN = 3, /* shorter words are terms only as acronyms */
	/* Distinct terms counted at most: a fixed budget, so that a text of
	 * nothing but distinct words costs a bounded table (about 16 MiB)
	 * rather than one ~200-byte term per word and phrase. Phrases stop
	 * being counted first, leaving the rest of the budget to words. */
	NOTES_TERMS_TRACKED_MAX = 64 * 1024,
	NOTES_PHRASES_TRACKED_MAX = 48 * 1024
};

#define NOTES_DAMPING 0.85
#define NOTES_CONVERGED 1e-5

/* Words too general to be key terms even though they are not stop words. Sorted. */
static const char *const weak_words[] = {
    "able",       "according", "across",    "actually",     "allow",     "allows",     "also",
    "another",    "answer",    "answers",   "appendix",     "around",    "back",       "based",
    "become",     "best",      "better",    "big",          "call",      "called",     "calls",
    "case",       "cases",     "certain",   "chapter",      "clearly",   "conclusion", "consider",
    "considered", "contents",  "define",    "defined",      "defines",   "describe",   "described",
    "different",  "does",      "due",       "each",         "easily",    "eg",         "eight",
    "end",        "etc",       "even",      "every",        "example",   "examples",   "exercise",
    "exercises",  "fact",      "figure",    "find",         "first",     "five",       "following",
    "follows",    "found",     "four",      "general",      "generally", "get",        "gets",
    "give",       "given",     "gives",     "good",         "got",       "help",       "helps",
    "high",       "higher",    "however",   "ie",           "important", "include",    "included",
    "includes",   "including", "instead",   "introduction", "keep",      "key",        "kind",
    "kinds",      "known",     "large",     "last",         "later",     "lead",       "leads",
    "least",      "less",      "lesson",    "let",          "like",      "likely",     "little",
    "long",       "look",      "lot",       "lots",         "low",       "lower",      "made",
    "main",       "mainly",    "make",      "makes",        "many",      "may",        "mean",
    "meaning",    "means",     "might",     "more",         "mostly",    "much",       "need",
    "needs",      "new",       "next",      "nine",         "note",      "notes",      "now",
    "number",     "numbers",   "often",     "one",          "order",     "overview",   "page",
    "part",       "parts",     "point",     "points",       "possible",  "present",    "provide",
    "provides",   "put",       "questions", "rather",       "really",    "refer",      "references",
    "referred",   "refers",    "related",   "result",       "results",   "review",     "said",
    "same",       "say",       "says",      "second",       "section",   "see",        "seem",
    "seems",      "seen",      "seven",     "several",      "short",     "show",       "shown",
    "shows",      "simply",    "since",     "six",          "small",     "something",  "sometimes",
    "specific",   "still",     "such",      "summary",      "table",     "take",       "taken",
    "takes",      "ten",       "term",      "terms",        "thing",     "things",     "third",
    "three",      "together",  "toward",    "try",          "turn",      "two",        "typically",
    "unit",       "use",       "used",      "uses",         "using",     "usually",    "various",
    "want",       "way",       "ways",      "well",         "whereas",   "whole",      "year",
    "years"};

static int cmp_str(const void *key, const void *item)
{
	return strcmp(key, *(const char *const *)item);
}

static bool is_weak(const char *lower)
{
	return bsearch(lower, weak_words, sizeof(weak_words) / sizeof(weak_words[0]),
	               sizeof(weak_words[0]), cmp_str) != NULL;
}

/* ---- terms: stems and phrases, counted ---- */

struct surface {
	const char *text; /* inside a sentence's text */
	size_t len;
	long count;
};

struct term {
	char *key;     /* stems joined by single spaces */
	uint64_t hash; /* of key, compared before the key */
	int words;     /* 1 for a word, 2-3 for a phrase */
	bool weak;     /* a word that is never a key term (still counts for ranking) */
	bool eligible; /* may be a key term at all (length, letters) */
	long count;    /* occurrences */
	long first;    /* index of the sentence it first occurs in */
	bool in_heading;
	struct surface surfaces[NOTES_SURFACES_MAX]; /* forms written mid-sentence */
	struct surface initial; /* the first form seen at a sentence start or in a heading */
	const char *definition; /* from the text, or NULL */
	const char *alias;      /* "also called" name, or NULL */
	int def_strength;       /* how sure the definition pattern is */
	bool suppressed;        /* covered by a longer phrase */
	double score;
};

struct terms {
	struct term *items;
	size_t count, cap;
	size_t *slots; /* open addressing: index + 1, 0 = empty */
	size_t nslots;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t *slot_of(struct terms *t, const char *key, uint64_t h)
{
	size_t mask = t->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (t->slots[i] == 0)
			return &t->slots[i];
		const struct term *e = &t->items[t->slots[i] - 1];
		if (e->hash == h && strcmp(e->key, key) == 0)
			return &t->slots[i];
	}
}

static struct term *term_find(struct terms *t, const char *key)
{
	if (t->nslots == 0)
		return NULL;
	size_t *s = slot_of(t, key, hash_key(key));
	return *s ? &t->items[*s - 1] : NULL;
}

/* The term of key, added when new and the budget allows; NULL when the
 * budget is spent (a phrase: NOTES_PHRASES_TRACKED_MAX, a word:
 * NOTES_TERMS_TRACKED_MAX), so that new terms are no longer counted. */
static struct term *term_intern(struct terms *t, struct pool *pool, const char *key, int words,
                                long sentence)
{
	if (t->count >= (words > 1 ? NOTES_PHRASES_TRACKED_MAX : NOTES_TERMS_TRACKED_MAX)) {
		struct term *e = term_find(t, key);
		return e;
	}
	if ((t->count + 1) * 2 > t->nslots) { /* grow at half load */
		free(t->slots);
		t->nslots = t->nslots ? t->nslots * 2 : 1024;
		t->slots = xcalloc(t->nslots, sizeof(*t->slots));
		for (size_t i = 0; i < t->count; i++)
			*slot_of(t, t->items[i].key, t->items[i].hash) = i + 1;
	}
	uint64_t h = hash_key(key);
	size_t *s = slot_of(t, key, h);
	if (*s)
		return &t->items[*s - 1];
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 512;
		t->items = xrealloc(t->items, t->cap * sizeof(*t->items));
	}
	struct term *e = &t->items[t->count];
	memset(e, 0, sizeof(*e));
	e->key = pool_strdup(pool, key);
	e->hash = h;
	e->words = words;
	e->first = sentence;
	*s = ++t->count;
	return e;
}

/* Counts one written form: mid-sentence forms vote, a sentence's first word
 * or a heading's is kept apart since its capital says nothing. */
static void term_seen(struct term *e, const char *text, size_t len, bool uncertain)
{
	e->count++;
	if (uncertain) {
		if (!e->initial.text)
			e->initial = (struct surface){text, len, 1};
		return;
	}
	for (size_t i = 0; i < NOTES_SURFACES_MAX; i++) {
		struct surface *s = &e->surfaces[i];
		if (!s->text) {
			*s = (struct surface){text, len, 1};
			return;
		}
		if (s->len == len && memcmp(s->text, text, len) == 0) {
			s->count++;
			return;
		}
	}
}

/* The form a term is shown in: its most common mid-sentence form, else its
 * first form with a leading capital lowered (unless it is an acronym). */
static const char *term_display(const struct term *e, struct pool *pool)
{
	const struct surface *best = NULL;
	for (size_t i = 0; i < NOTES_SURFACES_MAX && e->surfaces[i].text; i++)
		if (!best || e->surfaces[i].count > best->count)
			best = &e->surfaces[i];
	if (best)
		return pool_strndup(pool, best->text, best->len);
	char *s = pool_strndup(pool, e->initial.text ? e->initial.text : e->key, e->initial.len);
	if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
		s[0] = (char)(s[0] + 32);
	return s;
}

/* ---- the document, sentence by sentence ---- */

struct node {
	size_t sentence; /* index into the split */
	int *set;        /* sorted distinct ids of its content words */
	size_t nset;
	size_t words; /* all its words */
	double score;
	bool candidate; /* fit for the summary */
};

struct doc {
	struct pool *scratch;
	struct text_stemmer *stemmer;
	struct text_sentence *s;
	size_t ns;
	struct terms terms;
	struct node *nodes; /* body sentences with content words */
	size_t nnodes;
};

static bool is_body(const struct text_sentence *s)
{
	return s->kind == TEXT_SENTENCE || s->kind == TEXT_ITEM;
}

static bool has_letter(const char *lower)
{
	for (; *lower; lower++)
		if (!(*lower >= '0' && *lower <= '9') && *lower != '.' && *lower != ',')
			return true;
	return false;
}

/* Whether words a and b are written next to each other with one space between. */
static bool adjacent(const struct text_word *a, const struct text_word *b)
{
	return a->start + a->len + 1 == b->start && a->start[a->len] == ' ';
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Counts the words and phrases of sentence i; a body sentence becomes a node. */
static void read_sentence(struct doc *d, size_t i)
{
	const struct text_sentence *s = &d->s[i];
	/* Words and stems live only while the sentence is read. */
	struct pool *tmp = pool_new();
	struct text_word *w = NULL;
	size_t nw = text_words(tmp, s->text, s->len, NOTES_SENTENCE_WORDS_MAX, &w);
	char(*stems)[TEXT_WORD_MAX + 1] = pool_alloc(tmp, (nw ? nw : 1) * sizeof(*stems));
	bool *ok = pool_alloc(tmp, (nw ? nw : 1) * sizeof(*ok));
	int *set = pool_alloc(tmp, (nw ? nw : 1) * sizeof(*set));
	size_t nset = 0;
	bool heading = s->kind == TEXT_HEADING;
	for (size_t k = 0; k < nw; k++) {
		if (text_is_stop_word(w[k].lower) || !has_letter(w[k].lower))
			continue;
		text_stem(d->stemmer, w[k].lower, strlen(w[k].lower), stems[k], sizeof(stems[k]));
		struct term *e = term_intern(&d->terms, d->scratch, stems[k], 1, (long)i);
		if (!e)
			continue; /* past the budget: not counted */
		size_t id = (size_t)(e - d->terms.items);
		bool acronym = w[k].len >= 2 && text_starts_upper(w[k].start, w[k].len) &&
		               text_starts_upper(w[k].start + 1, w[k].len - 1);
		e->weak = is_weak(w[k].lower);
		e->eligible = strlen(w[k].lower) >= NOTES_TERM_BYTES_MIN || acronym;
		ok[k] = e->eligible && !e->weak;
		e->in_heading |= heading;
		term_seen(e, w[k].start, w[k].len, heading || k == 0);
		set[nset++] = (int)id;
	}
	/* Phrases: two or three term-worthy words in a row. */
	char key[NOTES_KEY_MAX];
	for (size_t k = 0; k + 1 < nw; k++) {
		if (!ok[k])
			continue;
		size_t kl = strlen(stems[k]);
		memcpy(key, stems[k], kl + 1);
		for (size_t m = 1; m < NOTES_PHRASE_WORDS_MAX && k + m < nw; m++) {
			size_t j = k + m;
			if (!ok[j] || !adjacent(&w[j - 1], &w[j]))
				break;
			size_t jl = strlen(stems[j]);
			key[kl] = ' ';
			memcpy(key + kl + 1, stems[j], jl + 1);
			kl += jl + 1;
			struct term *e =
			    term_intern(&d->terms, d->scratch, key, (int)m + 1, (long)i);
			if (!e)
				continue;
			e->eligible = true;
			e->in_heading |= heading;
			term_seen(e, w[k].start, (size_t)(w[j].start + w[j].len - w[k].start),
			          heading || k == 0);
		}
	}
	if (is_body(s) && nset > 0) {
		qsort(set, nset, sizeof(*set), cmp_int);
		size_t u = 0;
		for (size_t k = 0; k < nset; k++)
			if (u == 0 || set[u - 1] != set[k])
				set[u++] = set[k];
		struct node *n = &d->nodes[d->nnodes++];
		n->sentence = i;
		n->set = pool_alloc(d->scratch, u * sizeof(*set));
		memcpy(n->set, set, u * sizeof(*set));
		n->nset = u;
		n->words = nw;
		char last = s->text[s->len - 1];
		n->candidate = nw >= NOTES_CANDIDATE_WORDS_MIN && nw <= NOTES_CANDIDATE_WORDS_MAX &&
		               last != ':' && last != '?';
	}
	pool_free(tmp);
}

/* ---- definitions ---- */

struct pattern {
	const char *text; /* lower-case, found anywhere after the subject */
	int strength;     /* a stronger pattern replaces a weaker definition */
	size_t keep;      /* bytes of the pattern kept at the definition's start ("a ") */
	bool alias;       /* "X, also called Y, ...": Y is another name */
};

static const struct pattern patterns[] = {
    {" is defined as ", 3, 0, false}, {" are defined as ", 3, 0, false},
    {" refers to ", 3, 0, false},     {" refer to ", 3, 0, false},
    {", also called ", 3, 0, true},   {", also known as ", 3, 0, true},
    {" means ", 2, 0, false},         {" is a ", 1, 2, false},
    {" is an ", 1, 3, false},         {" is the ", 1, 4, false},
};

/* A copy of s (n bytes) without a closing period, cut to NOTES_DEFINITION_MAX at a space. */
static const char *definition_text(struct pool *pool, const char *s, size_t n)
{
	while (n && (s[n - 1] == '.' || s[n - 1] == ' ' || s[n - 1] == ';'))
		n--;
	if (n <= NOTES_DEFINITION_MAX)
		return pool_strndup(pool, s, n);
	size_t cut = NOTES_DEFINITION_MAX;
	while (cut > 0 && s[cut] != ' ')
		cut--;
	return pool_printf(pool, "%.*s\xe2\x80\xa6", (int)cut, s);
}

/* The term named by subject (n bytes: at most NOTES_SUBJECT_WORDS_MAX
 * term-worthy words after an optional article), or NULL. */
static struct term *subject_term(struct doc *d, const char *subject, size_t n)
{
	struct text_word *w = NULL;
	size_t nw = text_words(d->scratch, subject, n, NOTES_SUBJECT_WORDS_MAX + 2, &w);
	size_t k = 0;
	if (nw && (strcmp(w[0].lower, "a") == 0 || strcmp(w[0].lower, "an") == 0 ||
	           strcmp(w[0].lower, "the") == 0))
		k = 1;
	if (nw == k || nw - k > NOTES_SUBJECT_WORDS_MAX)
		return NULL;
	/* The subject must be nothing but those words. */
	const char *end = w[nw - 1].start + w[nw - 1].len;
	if ((size_t)(end - subject) != n)
		return NULL;
	char key[NOTES_KEY_MAX];
	size_t kl = 0;
	for (size_t j = k; j < nw; j++) {
		if (text_is_stop_word(w[j].lower) || is_weak(w[j].lower) || !has_letter(w[j].lower))
			return NULL;
		if (j > k && !adjacent(&w[j - 1], &w[j]))
			return NULL;
		char stem[TEXT_WORD_MAX + 1];
		size_t sl =
		    text_stem(d->stemmer, w[j].lower, strlen(w[j].lower), stem, sizeof(stem));
		if (j > k)
			key[kl++] = ' ';
		memcpy(key + kl, stem, sl + 1);
		kl += sl;
	}
	struct term *e = term_find(&d->terms, key);
	return e && e->eligible && !e->weak ? e : NULL;
}

static void set_definition(struct term *e, const char *def, const char *alias, int strength)
{
	if (def && strength > e->def_strength) {
		e->definition = def;
		e->def_strength = strength;
	}
	if (alias && !e->alias)
		e->alias = alias;
}

/* Finds "X is a ...", "X refers to ...", "X, also called Y, ...", and in a
 * list item "X: ..." or "X - ...". */
static void find_definition(struct doc *d, const struct text_sentence *s)
{
	char *low = pool_strndup(d->scratch, s->text, s->len);
	for (char *c = low; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	const struct pattern *best = NULL;
	size_t at = 0;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const char *f = strstr(low, patterns[i].text);
		if (f && (!best || (size_t)(f - low) < at)) {
			best = &patterns[i];
			at = (size_t)(f - low);
		}
	}
	if (s->kind == TEXT_ITEM) {
		static const char *const seps[] = {": ", " - ", " \xe2\x80\x93 ", " \xe2\x80\x94 "};
		for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
			const char *f = strstr(low, seps[i]);
			if (!f || (best && (size_t)(f - low) >= at))
				continue;
			struct term *e = subject_term(d, s->text, (size_t)(f - low));
			size_t from = (size_t)(f - low) + strlen(seps[i]);
			if (e && s->len > from)
				set_definition(
				    e, definition_text(d->scratch, s->text + from, s->len - from),
				    NULL, 2);
			if (e)
				return;
		}
	}
	if (!best)
		return;
	struct term *e = subject_term(d, s->text, at);
	if (!e)
		return;
	size_t plen = strlen(best->text);
	size_t from = at + plen - best->keep;
	if (!best->alias) {
		set_definition(e, definition_text(d->scratch, s->text + from, s->len - from), NULL,
		               best->strength);
		return;
	}
	/* "X, also called Y, is a Z": Y up to the next comma, then Z if given. */
	const char *rest = s->text + from;
	const char *comma = memchr(rest, ',', s->len - from);
	size_t alen = comma ? (size_t)(comma - rest) : s->len - from;
	const char *alias = definition_text(d->scratch, rest, alen);
	const char *def = NULL;
	if (comma) {
		const char *tail = low + (comma - s->text);
		static const char *const verbs[] = {", is a ", ", is an ", ", is the "};
		for (size_t i = 0; i < 3 && !def; i++)
			if (strncmp(tail, verbs[i], strlen(verbs[i])) == 0) {
				size_t off = (size_t)(comma - s->text) + 5; /* ", is " */
				def = definition_text(d->scratch, s->text + off, s->len - off);
			}
	}
	set_definition(e, def, *alias ? alias : NULL, best->strength);
}

/* ---- ranking ---- */

struct edge {
	uint32_t i, j; /* i < j */
	double w;
};

/* TextRank over at most NOTES_RANK_MAX nodes, chosen evenly through the text. */
static void rank(struct doc *d)
{
	if (d->nnodes > NOTES_RANK_MAX) {
		for (size_t k = 0; k < NOTES_RANK_MAX; k++)
			d->nodes[k] = d->nodes[k * d->nnodes / NOTES_RANK_MAX];
		d->nnodes = NOTES_RANK_MAX;
	}
	size_t n = d->nnodes;
	if (n == 0)
		return;
	/* Overlaps: mark node i's words, then count the marks in each later
	 * node (cheaper than merging sorted sets pair by pair). */
	int *mark = xmalloc((d->terms.count + 1) * sizeof(*mark));
	for (size_t t = 0; t < d->terms.count; t++)
		mark[t] = -1;
	double *norm = xmalloc(n * sizeof(*norm));
	for (size_t i = 0; i < n; i++)
		norm[i] = log(1.0 + (double)d->nodes[i].nset);
	struct edge *edges = NULL;
	size_t ne = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < d->nodes[i].nset; k++)
			mark[d->nodes[i].set[k]] = (int)i;
		for (size_t j = i + 1; j < n; j++) {
			size_t o = 0;
			for (size_t k = 0; k < d->nodes[j].nset; k++)
				o += mark[d->nodes[j].set[k]] == (int)i;
			if (!o)
				continue;
			if (ne == cap) {
				cap = cap ? cap * 2 : 4096;
				edges = xrealloc(edges, cap * sizeof(*edges));
			}
			edges[ne++] = (struct edge){(uint32_t)i, (uint32_t)j,
			                            (double)o / (norm[i] + norm[j])};
		}
	}
	/* Symmetric edges in compressed rows. */
	size_t *row = xcalloc(n + 1, sizeof(*row)), *fill = xcalloc(n, sizeof(*fill));
	for (size_t e = 0; e < ne; e++)
		row[edges[e].i + 1]++, row[edges[e].j + 1]++;
	for (size_t i = 0; i < n; i++)
		row[i + 1] += row[i];
	uint32_t *col = xmalloc((row[n] ? row[n] : 1) * sizeof(*col));
	double *wt = xmalloc((row[n] ? row[n] : 1) * sizeof(*wt));
	double *out = xcalloc(n, sizeof(*out));
	for (size_t e = 0; e < ne; e++) {
		uint32_t i = edges[e].i, j = edges[e].j;
		col[row[i] + fill[i]] = j, wt[row[i] + fill[i]++] = edges[e].w;
		col[row[j] + fill[j]] = i, wt[row[j] + fill[j]++] = edges[e].w;
		out[i] += edges[e].w, out[j] += edges[e].w;
	}
	free(edges);
	double *score = xmalloc(n * sizeof(*score)), *next = xmalloc(n * sizeof(*next));
	for (size_t i = 0; i < n; i++)
		score[i] = 1.0;
	for (int round = 0; round < NOTES_RANK_ROUNDS_MAX; round++) {
		double change = 0;
		for (size_t i = 0; i < n; i++) {
			double sum = 0;
			for (size_t e = row[i]; e < row[i + 1]; e++)
				sum += wt[e] / out[col[e]] * score[col[e]];
			next[i] = (1.0 - NOTES_DAMPING) + NOTES_DAMPING * sum;
			change = fmax(change, fabs(next[i] - score[i]));
		}
		double *swap = score;
		score = next, next = swap;
		if (change < NOTES_CONVERGED)
			break;
	}
	for (size_t i = 0; i < n; i++)
		d->nodes[i].score = score[i];
	free(mark), free(norm), free(row), free(fill), free(col), free(wt), free(out);
	free(score), free(next);
}

/* Best first; equal scores keep document order. */
static int cmp_rank(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return (x->sentence > y->sentence) - (x->sentence < y->sentence);
}

static int cmp_position(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	return (x->sentence > y->sentence) - (x->sentence < y->sentence);
}

/* ---- key terms ---- */

static int cmp_term_score(const void *a, const void *b)
{
	const struct term *x = *(const struct term *const *)a, *y = *(const struct term *const *)b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int cmp_term_first(const void *a, const void *b)
{
	const struct term *x = *(const struct term *const *)a, *y = *(const struct term *const *)b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->key, y->key);
}

static bool term_candidate(const struct term *e)
{
	if (!e->eligible || e->weak || e->suppressed)
		return false;
	if (e->definition)
		return true;
	return e->count >= 2 || (e->words == 1 && e->in_heading);
}

/* A phrase that nearly always carries a shorter term covers it: "cell
 * membrane" covers "membrane" when most membranes are cell membranes. */
static void suppress_covered(struct doc *d)
{
	char key[NOTES_KEY_MAX];
	for (size_t i = 0; i < d->terms.count; i++) {
		struct term *p = &d->terms.items[i];
		if (p->words < 2 || p->count < 2)
			continue;
		const char *k = p->key;
		for (int part = 0; part < p->words; part++) { /* each word of the phrase */
			const char *sp = strchr(k, ' ');
			size_t kl = sp ? (size_t)(sp - k) : strlen(k);
			memcpy(key, k, kl);
			key[kl] = '\0';
			struct term *w = term_find(&d->terms, key);
			if (w && !w->definition && p->count * 10 >= w->count * 6)
				w->suppressed = true;
			k = sp ? sp + 1 : k + kl;
		}
		if (p->words == 3) { /* its two-word head and tail */
			const char *sp1 = strchr(p->key, ' '), *sp2 = strrchr(p->key, ' ');
			size_t heads[2][2] = {{0, (size_t)(sp2 - p->key)},
			                      {(size_t)(sp1 - p->key) + 1, strlen(p->key)}};
			for (int h = 0; h < 2; h++) {
				size_t len = heads[h][1] - heads[h][0];
				memcpy(key, p->key + heads[h][0], len);
				key[len] = '\0';
				struct term *w = term_find(&d->terms, key);
				if (w && !w->definition && p->count * 10 >= w->count * 8)
					w->suppressed = true;
			}
		}
	}
}

/* Up to NOTES_TERMS_MAX terms, in the order the text introduces them. */
static size_t pick_terms(struct doc *d, struct term ***out)
{
	suppress_covered(d);
	struct term **c = pool_alloc(d->scratch, (d->terms.count + 1) * sizeof(*c));
	size_t n = 0;
	for (size_t i = 0; i < d->terms.count; i++) {
		struct term *e = &d->terms.items[i];
		if (!term_candidate(e))
			continue;
		e->score = (double)e->count * (e->words > 1 ? 1.5 : 1.0) + (e->in_heading ? 2 : 0) +
		           (e->definition ? 3 : 0);
		c[n++] = e;
	}
	qsort(c, n, sizeof(*c), cmp_term_score);
	if (n > NOTES_TERMS_MAX)
		n = NOTES_TERMS_MAX;
	qsort(c, n, sizeof(*c), cmp_term_first);
	*out = c;
	return n;
}

/* ---- output ---- */

/* Drops ranked sentences whose text repeats a better-ranked one (running
 * headers and footers of PDFs repeat on every page), keeping the order. */
static size_t drop_repeats(const struct doc *d, struct node **ranked, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct text_sentence *s = &d->s[ranked[i]->sentence];
		bool repeat = false;
		for (size_t k = 0; k < kept && !repeat; k++) {
			const struct text_sentence *t = &d->s[ranked[k]->sentence];
			repeat = t->len == s->len && memcmp(t->text, s->text, s->len) == 0;
		}
		if (!repeat)
			ranked[kept++] = ranked[i];
	}
	return kept;
}

/* The plain summary: the best sentences that fit, in document order. */
static const char *make_summary(struct pool *pool, struct doc *d, struct node **ranked,
                                size_t nranked, bool *used)
{
	struct node *pick[NOTES_SUMMARY_SENTENCES];
	size_t np = 0, total = 0;
	for (size_t i = 0; i < nranked && i < NOTES_SUMMARY_SCAN && np < NOTES_SUMMARY_SENTENCES;
	     i++) {
		size_t len = d->s[ranked[i]->sentence].len;
		if (total + len + (np ? 1 : 0) > NOTES_SUMMARY_MAX)
			continue;
		total += len + (np ? 1 : 0);
		pick[np++] = ranked[i];
	}
	if (np == 0) { /* the best sentence alone is too long: cut it at a space */
		if (nranked == 0)
			return "";
		const struct text_sentence *s = &d->s[ranked[0]->sentence];
		size_t cut = NOTES_SUMMARY_MAX - 3; /* room for the ellipsis */
		while (cut > 0 && s->text[cut] != ' ')
			cut--;
		used[ranked[0]->sentence] = true;
		return pool_printf(pool, "%.*s\xe2\x80\xa6", (int)cut, s->text);
	}
	qsort(pick, np, sizeof(*pick), cmp_position);
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < np; i++) {
		if (i)
			buf_putc(&b, ' ');
		buf_puts(&b, d->s[pick[i]->sentence].text);
		used[pick[i]->sentence] = true;
	}
	const char *out = pool_strdup(pool, b.data);
	buf_clear(&b);
	return out;
}

static void put_outline(struct buf *md, struct doc *d)
{
	bool markdown = false;
	for (size_t i = 0; i < d->ns && !markdown; i++)
		markdown = d->s[i].kind == TEXT_HEADING && d->s[i].level > 0;
	int stack[TEXT_HEADING_LEVEL_MAX + 1];
	size_t depth = 0, shown = 0;
	for (size_t i = 0; i < d->ns && shown < NOTES_OUTLINE_MAX; i++) {
		const struct text_sentence *s = &d->s[i];
		if (s->kind != TEXT_HEADING || (markdown && s->level == 0))
			continue;
		while (depth > 0 && stack[depth - 1] >= s->level)
			depth--;
		if (!shown)
			buf_puts(md, "## Outline\n\n");
		for (size_t k = 0; k < depth; k++)
			buf_puts(md, "  ");
		size_t len = s->len;
		if (len > NOTES_HEADING_MAX) {
			len = NOTES_HEADING_MAX;
			while (len && ((unsigned char)s->text[len] & 0xc0) == 0x80)
				len--;
		}
		buf_printf(md, "- %.*s\n", (int)len, s->text);
		if (depth < TEXT_HEADING_LEVEL_MAX + 1)
			stack[depth++] = s->level;
		shown++;
	}
	if (shown)
		buf_putc(md, '\n');
}

enum err notes_extract(struct pool *pool, const char *text, size_t len, struct notes *out)
{
	enum err e = ERR_OK;
	struct doc d = {.scratch = pool_new()};
	out->markdown = "";
	out->summary = "";
	out->generator = "extractive";
	if (len > NOTES_INPUT_MAX)
		len = NOTES_INPUT_MAX;
	e = text_stemmer_new(&d.stemmer);
	if (e)
		goto out;
	d.ns = text_split(d.scratch, text, len, NOTES_SENTENCES_MAX, &d.s);
	d.nodes = pool_alloc(d.scratch, (d.ns + 1) * sizeof(*d.nodes));
	for (size_t i = 0; i < d.ns; i++)
		read_sentence(&d, i);
	for (size_t i = 0; i < d.ns; i++)
		if (is_body(&d.s[i]))
			find_definition(&d, &d.s[i]);
	rank(&d);

	/* Summary candidates ranked; any sentence with content words will do
	 * when none has a summary sentence's length. */
	struct node **ranked = pool_alloc(d.scratch, (d.nnodes + 1) * sizeof(*ranked));
	size_t nr = 0;
	for (size_t i = 0; i < d.nnodes; i++)
		if (d.nodes[i].candidate)
			ranked[nr++] = &d.nodes[i];
	if (nr == 0)
		for (size_t i = 0; i < d.nnodes; i++)
			ranked[nr++] = &d.nodes[i];
	qsort(ranked, nr, sizeof(*ranked), cmp_rank);
	nr = drop_repeats(&d, ranked, nr);
	bool *used = pool_alloc(d.scratch, d.ns + 1);
	out->summary = make_summary(pool, &d, ranked, nr, used);

	struct buf md;
	buf_init(&md);
	if (*out->summary)
		buf_printf(&md, "## Summary\n\n%s\n\n", out->summary);
	struct term **terms = NULL;
	size_t nt = pick_terms(&d, &terms);
	if (nt)
		buf_puts(&md, "## Key terms\n\n");
	for (size_t i = 0; i < nt; i++) {
		buf_printf(&md, "- **%s**", term_display(terms[i], d.scratch));
		if (terms[i]->alias)
			buf_printf(&md, " (%s)", terms[i]->alias);
		if (terms[i]->definition)
			buf_printf(&md, ": %s", terms[i]->definition);
		buf_putc(&md, '\n');
	}
	if (nt)
		buf_putc(&md, '\n');
	put_outline(&md, &d);

	/* Key points: the next best sentences, about one in six, in document order. */
	size_t want = nr / 6;
	want = want < 2 ? 2 : want > NOTES_KEY_POINTS_MAX ? NOTES_KEY_POINTS_MAX : want;
	struct node **points = pool_alloc(d.scratch, (want + 1) * sizeof(*points));
	size_t np = 0;
	for (size_t i = 0; i < nr && np < want; i++)
		if (!used[ranked[i]->sentence])
			points[np++] = ranked[i];
	qsort(points, np, sizeof(*points), cmp_position);
	if (np)
		buf_puts(&md, "## Key points\n\n");
	for (size_t i = 0; i < np; i++)
		buf_printf(&md, "- %s\n", d.s[points[i]->sentence].text);
	while (md.len && md.data[md.len - 1] == '\n') /* one newline at the end */
		md.data[--md.len] = '\0';
	out->markdown = md.len ? pool_printf(pool, "%s\n", md.data) : "";
	buf_clear(&md);
out:
	text_stemmer_free(d.stemmer);
	free(d.terms.items);
	free(d.terms.slots);
	pool_free(d.scratch);
	return e;
}
