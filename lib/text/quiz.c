/* quiz: extractive questions from the document model and its key phrases.
 *
 * Terms (key phrases and numbers) are found in the document's sentences by
 * their stems; each (sentence, term) is a candidate scored for the
 * difficulty asked, with a jitter from the seed so that two quizzes of one
 * document differ while one quiz id always gives the same questions.
 * Candidates are taken section by section, best first, and each becomes a
 * question of the type its slot asks for, or of another requested type
 * when that one cannot be made (no distractors of its kind). */
#include "text/quiz.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "text/doc.h"
#include "text/phrases.h"
#include "text/text.h"

enum {
	QUIZ_SENTENCES_MAX = 20000, /* sentences of a document that are read */
	QUIZ_TERMS_MAX = 400,       /* key phrases asked of phrases_extract */
	QUIZ_NUMBERS_MAX = 2000,    /* distinct numbers kept as terms */
	QUIZ_WORDS_MAX = 96,        /* words of a sentence that are read */
	QUIZ_SENTENCE_WORDS_MIN = 6,
	QUIZ_SENTENCE_WORDS_MAX = 45,
	QUIZ_SENTENCE_BYTES_MAX = 400,
	QUIZ_CONTEXT_WORDS_MIN = 4,    /* words a blanked sentence keeps around the blank */
	QUIZ_SHORT_WORDS_MAX = 4,      /* words of a short answer */
	QUIZ_NUMBER_BYTES_MAX = 12,    /* characters of a number term */
	QUIZ_STEM_MAX = TEXT_WORD_MAX, /* bytes of one stem */
	QUIZ_STRICT_SCAN = 30,         /* candidates tried for a slot's own type */
	QUIZ_DEFINITION_MIN = 12,      /* bytes of a definition fit to be an option */
	QUIZ_DEFINITION_MAX = 160
};

#define QUIZ_BLANK "_____"

/* What kind of thing a term is: distractors are of the answer's kind. */
enum kind { KIND_WORD, KIND_PHRASE, KIND_NAME, KIND_NUMBER };

struct term {
	const char *text; /* as options show it */
	char **stems;     /* its words' stems */
	uint64_t *hashes; /* of each stem, compared before the stems */
	int words;
	enum kind kind;
	size_t block; /* where it first occurs (or is defined) */
	long section;
	long count;
	size_t rank;            /* 0 for the best phrase; numbers after the phrases */
	const char *definition; /* or NULL */
	bool used;              /* answer of a question already */
	bool noun;              /* seen standing as a noun (single words) */
};

struct cand {
	size_t sentence, term;
	size_t start, end; /* the answer's bytes in the sentence */
	double score;
	bool used;
};

/* A phrase by the hash of its first stem, for finding phrases in sentences. */
struct first {
	uint64_t hash;
	size_t term;
};

struct gen {
	struct pool *pool;
	const struct quiz_request *req;
	uint64_t seed;
	struct doc model;
	struct doc_sentence *s;
	size_t ns;
	bool *sentence_used;
	struct term *terms;
	size_t nterms, nphrases;
	struct first *firsts; /* the phrases, sorted by hash */
	struct cand *cands;
	size_t ncands, cands_cap;
	struct text_stemmer *stemmer;
	long pages;
	size_t tf_made; /* true/false questions made so far (true and false alternate) */
};

/* ---- seeded randomness ---- */

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL; /* splitmix64 */
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* A number in [0, 1) fixed by the seed and a, b. */
static double jitter(const struct gen *g, uint64_t a, uint64_t b)
{
	return (double)(mix(g->seed ^ mix(a * 31 + b)) >> 11) / 9007199254740992.0;
}

/* ---- names and parsing of the request ---- */

const char *quiz_type_name(enum quiz_type t)
{
	switch (t) {
	case QUIZ_MULTIPLE_CHOICE:
		return "multiple_choice";
	case QUIZ_TRUE_FALSE:
		return "true_false";
	case QUIZ_SHORT_ANSWER:
		return "short_answer";
	}
	return "";
}

enum quiz_type quiz_type_parse(const char *name, size_t len)
{
	static const enum quiz_type all[] = {QUIZ_MULTIPLE_CHOICE, QUIZ_TRUE_FALSE,
	                                     QUIZ_SHORT_ANSWER};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = quiz_type_name(all[i]);
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return all[i];
	}
	return 0;
}

/* ---- terms ---- */

static size_t stem_word(struct gen *g, const char *lower, char *dst)
{
	return text_stem(g->stemmer, lower, strlen(lower), dst, QUIZ_STEM_MAX);
}

/* Whether every word of text starts with an upper-case letter. */
static bool all_capitalised(const char *text)
{
	bool at_word = true;
	for (const char *p = text; *p; p++) {
		if (*p == ' ') {
			at_word = true;
			continue;
		}
		if (at_word && !text_starts_upper(p, strlen(p)))
			return false;
		at_word = false;
	}
	return true;
}

static void add_phrase_terms(struct gen *g, const struct phrase *ph, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct term *t = &g->terms[g->nterms];
		struct text_word *w = NULL;
		size_t nw =
		    text_words(g->pool, ph[i].text, strlen(ph[i].text), PHRASES_WORDS_MAX + 1, &w);
		if (nw == 0 || nw > PHRASES_WORDS_MAX)
			continue;
		t->stems = pool_alloc(g->pool, nw * sizeof(char *));
		t->hashes = pool_alloc(g->pool, nw * sizeof(uint64_t));
		for (size_t k = 0; k < nw; k++) {
			t->stems[k] = pool_alloc(g->pool, QUIZ_STEM_MAX);
			stem_word(g, w[k].lower, t->stems[k]);
			t->hashes[k] = hash_text(t->stems[k]);
		}
		t->words = (int)nw;
		t->kind = all_capitalised(ph[i].text) ? KIND_NAME
		          : nw > 1                    ? KIND_PHRASE
		                                      : KIND_WORD;
		char *text = pool_strdup(g->pool, ph[i].text);
		/* "Sedimentary rock" written at a sentence's start is "sedimentary
		 * rock" as an option; names and acronyms keep their capitals. */
		if (t->kind != KIND_NAME && isupper((unsigned char)text[0]) && text[1] &&
		    !isupper((unsigned char)text[1]))
			text[0] = (char)tolower((unsigned char)text[0]);
		t->text = text;
		t->block = ph[i].block;
		t->section = ph[i].section;
		t->count = ph[i].count;
		t->rank = g->nterms;
		t->definition = ph[i].definition;
		g->nterms++;
	}
	g->nphrases = g->nterms;
}

/* Whether word w of a sentence is a number fit to ask about: digits with
 * at most one inner point, not part of "1,000" or "2.3.1". */
static bool is_number(const struct text_word *w, const char *sentence, size_t slen)
{
	if (w->len < 2 || w->len > QUIZ_NUMBER_BYTES_MAX)
		return false;
	int points = 0;
	for (size_t i = 0; i < w->len; i++) {
		if (w->start[i] == '.')
			points++;
		else if (!isdigit((unsigned char)w->start[i]))
			return false;
	}
	size_t end = (size_t)(w->start - sentence) + w->len;
	if (end < slen && (sentence[end] == ',' || sentence[end] == '-' || sentence[end] == '/') &&
	    end + 1 < slen && isdigit((unsigned char)sentence[end + 1]))
		return false;
	if (end < slen && sentence[end] == '.' && end + 1 < slen &&
	    isdigit((unsigned char)sentence[end + 1]))
		return false;
	if (w->start > sentence && (w->start[-1] == ',' || w->start[-1] == '.'))
		return false;
	return points <= 1;
}

/* The number term for text (added if new). */
static size_t number_term(struct gen *g, const char *text, size_t len, size_t si)
{
	for (size_t i = g->nphrases; i < g->nterms; i++)
		if (strlen(g->terms[i].text) == len && memcmp(g->terms[i].text, text, len) == 0) {
			g->terms[i].count++;
			return i;
		}
	if (g->nterms - g->nphrases >= QUIZ_NUMBERS_MAX)
		return SIZE_MAX;
	struct term *t = &g->terms[g->nterms];
	t->text = pool_strndup(g->pool, text, len);
	t->stems = pool_alloc(g->pool, sizeof(char *));
	t->stems[0] = (char *)t->text;
	t->hashes = pool_alloc(g->pool, sizeof(uint64_t));
	t->hashes[0] = hash_text(t->text);
	t->words = 1;
	t->kind = KIND_NUMBER;
	t->block = g->s[si].block;
	t->section = g->s[si].section;
	t->count = 1;
	t->rank = g->nterms;
	return g->nterms++;
}

/* ---- candidates ---- */

static bool sentence_fit(const struct doc_sentence *s, size_t nwords)
{
	if (s->question || s->lead_in || s->len > QUIZ_SENTENCE_BYTES_MAX || s->len < 2)
		return false;
	/* A statement ends with a full stop (a closing quote or bracket may
	 * follow); "use this command: >" does not. */
	size_t e = s->len;
	while (e > 1 && (s->text[e - 1] == '"' || s->text[e - 1] == ')'))
		e--;
	if (s->text[e - 1] != '.' && s->text[e - 1] != '!')
		return false;
	if (nwords < QUIZ_SENTENCE_WORDS_MIN || nwords > QUIZ_SENTENCE_WORDS_MAX)
		return false;
	if (!text_starts_upper(s->text, s->len) && !isdigit((unsigned char)s->text[0]))
		return false;
	/* Code and markup ("textwidth=78", "<Esc>", "a|b") and labels
	 * ("CAREFUL: The ...") do not make questions. */
	for (size_t i = 0; i < s->len; i++) {
		if (strchr("_|=<>{}\\`~^", s->text[i]))
			return false;
		if (s->text[i] == ':' && i + 2 < s->len && s->text[i + 1] == ' ' &&
		    isupper((unsigned char)s->text[i + 2]))
			return false;
	}
	return true;
}

/* Whether a definition reads as the answer to "What is X?": a phrase in
 * lower case ("a mapping from names to objects"), not a clause or code. */
static bool good_definition(const char *d)
{
	size_t n = strlen(d);
	if (n < QUIZ_DEFINITION_MIN || n > QUIZ_DEFINITION_MAX || !islower((unsigned char)d[0]))
		return false;
	for (const char *p = d; *p; p++)
		if (strchr("_|=<>{}\\`~^:;!", *p))
			return false;
	return true;
}

/* Sentences that open with a pronoun read badly out of their paragraph. */
static bool opens_with_pronoun(const struct text_word *w)
{
	static const char *const pronouns[] = {"it",   "this",  "these", "they",  "he",   "she",
	                                       "that", "those", "its",   "their", "such", NULL};
	for (size_t i = 0; pronouns[i]; i++)
		if (strcmp(w->lower, pronouns[i]) == 0)
			return true;
	return false;
}

static bool in_list(const char *w, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

/* Whether the single word i of a sentence of nw words w reads as a noun
 * standing on its own, rather than a verb ("you can type the text") or a
 * part of a longer name ("molten rock", "rock cycle"): after a determiner
 * or preposition (or opening the sentence), and before a stop word,
 * punctuation or the sentence's end, but not before a determiner. */
static bool stands_alone(const struct doc_sentence *s, const struct text_word *w, size_t nw,
                         size_t i)
{
	static const char *const before_noun[] = {
	    "a",    "an",   "the",   "of",    "in",   "on",    "at",      "for",     "with", "by",
	    "from", "into", "about", "than",  "and",  "or",    "its",     "their",   "his",  "her",
	    "our",  "your", "this",  "these", "that", "those", "each",    "every",   "some", "many",
	    "most", "all",  "no",    "both",  "such", "other", "between", "through", "as",   NULL};
	static const char *const determiners[] = {"a",   "an",    "the",   "this", "these",
	                                          "its", "their", "his",   "her",  "your",
	                                          "our", "my",    "those", NULL};
	size_t at = (size_t)(w[i].start - s->text), end = at + w[i].len;
	if (w[i].len > 4 && (strcmp(w[i].lower + w[i].len - 3, "ing") == 0 ||
	                     strcmp(w[i].lower + w[i].len - 2, "ly") == 0))
		return false;
	bool before = i == 0 || in_list(w[i - 1].lower, before_noun) ||
	              (at > 1 && strchr(",;:(", s->text[at - 2]) != NULL);
	bool after = i + 1 == nw || (end < s->len && s->text[end] != ' ') ||
	             (text_is_stop_word(w[i + 1].lower) && !in_list(w[i + 1].lower, determiners));
	return before && after;
}

/* Whether words i..last sit inside a longer name ("Public License" in
 * "GNU Lesser General Public License"): a capitalised word next to them
 * that does not open the sentence. */
static bool inside_name(const struct text_word *w, size_t nw, size_t i, size_t last)
{
	bool before = i > 1 && text_starts_upper(w[i - 1].start, w[i - 1].len);
	bool after = last + 1 < nw && text_starts_upper(w[last + 1].start, w[last + 1].len);
	return before || after;
}

/* Whether sentence s is where term t is defined (it holds the definition). */
static bool defines_here(const struct term *t, const struct doc_sentence *s)
{
	if (!t->definition || t->kind == KIND_NUMBER || !good_definition(t->definition))
		return false;
	size_t n = strlen(t->definition);
	for (size_t i = 0; n && i + n <= s->len; i++)
		if (memcmp(s->text + i, t->definition, n) == 0)
			return true;
	return false;
}

/* The candidate's preference for the difficulty asked (higher first). */
static double cand_score(const struct gen *g, const struct term *t, bool defines, size_t nwords,
                         bool pronoun)
{
	double rank = 1.0 / (1.0 + (double)t->rank * 0.04);
	double freq = log2(1.0 + (double)t->count);
	double s;
	if (t->kind == KIND_NUMBER)
		s = 0.35 * (g->req->difficulty == QUIZ_HARD ? 1.5 : 1.0);
	else if (g->req->difficulty == QUIZ_EASY)
		s = rank * freq * (defines ? 3.0 : t->definition ? 1.5 : 1.0);
	else if (g->req->difficulty == QUIZ_HARD)
		s = (0.3 + (double)t->rank / (double)(g->nphrases + 1)) / (1.0 + 0.3 * freq) *
		    (defines ? 0.5 : 1.0);
	else
		s = rank * (1.0 + 0.3 * freq) * (defines ? 1.8 : 1.0);
	if (t->kind == KIND_WORD)
		s *= 0.6;
	if (nwords > 30)
		s *= 0.7;
	if (pronoun)
		s *= 0.4;
	return s;
}

static void add_cand(struct gen *g, struct cand c)
{
	if (g->ncands == g->cands_cap) {
		size_t cap = g->cands_cap ? g->cands_cap * 2 : 256;
		struct cand *n = pool_alloc(g->pool, cap * sizeof(*n));
		if (g->ncands)
			memcpy(n, g->cands, g->ncands * sizeof(*n));
		g->cands = n;
		g->cands_cap = cap;
	}
	g->cands[g->ncands++] = c;
}

static int by_first(const void *a, const void *b)
{
	const struct first *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->term < y->term ? -1 : x->term > y->term;
}

/* Sorts the phrases by the hash of their first stem. */
static void index_phrases(struct gen *g)
{
	g->firsts = pool_alloc(g->pool, (g->nphrases + 1) * sizeof(*g->firsts));
	for (size_t i = 0; i < g->nphrases; i++)
		g->firsts[i] = (struct first){g->terms[i].hashes[0], i};
	if (g->nphrases)
		qsort(g->firsts, g->nphrases, sizeof(*g->firsts), by_first);
}

/* The first entry of g->firsts with hash h or above. */
static size_t first_at(const struct gen *g, uint64_t h)
{
	size_t lo = 0, hi = g->nphrases;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->firsts[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Finds the terms of sentence si and adds a candidate for each. */
static void scan_sentence(struct gen *g, size_t si, char (*stems)[QUIZ_STEM_MAX], uint64_t *hashes)
{
	const struct doc_sentence *s = &g->s[si];
	struct text_word *w = NULL;
	size_t nw = text_words(g->pool, s->text, s->len, QUIZ_WORDS_MAX + 1, &w);
	if (!sentence_fit(s, nw))
		return;
	for (size_t i = 0; i < nw; i++) {
		stem_word(g, w[i].lower, stems[i]);
		hashes[i] = hash_text(stems[i]);
	}
	bool pronoun = opens_with_pronoun(&w[0]);
	for (size_t i = 0; i < nw; i++) {
		size_t best = SIZE_MAX;
		int best_words = 0;
		for (size_t f = first_at(g, hashes[i]);
		     f < g->nphrases && g->firsts[f].hash == hashes[i]; f++) {
			size_t t = g->firsts[f].term;
			const struct term *tm = &g->terms[t];
			if (tm->words <= best_words || i + (size_t)tm->words > nw)
				continue;
			int k = 0;
			while (k < tm->words && tm->hashes[k] == hashes[i + (size_t)k] &&
			       strcmp(tm->stems[k], stems[i + (size_t)k]) == 0)
				k++;
			if (k == tm->words) {
				best = t;
				best_words = tm->words;
			}
		}
		if (best == SIZE_MAX && is_number(&w[i], s->text, s->len)) {
			best = number_term(g, w[i].start, w[i].len, si);
			best_words = 1;
		}
		if (best == SIZE_MAX)
			continue;
		const struct term *tm = &g->terms[best];
		size_t last = i + (size_t)best_words - 1;
		bool alone = (tm->kind != KIND_WORD || stands_alone(s, w, nw, i)) &&
		             (tm->kind == KIND_NUMBER || !inside_name(w, nw, i, last));
		if (alone)
			g->terms[best].noun = true;
		if (nw - (size_t)best_words >= QUIZ_CONTEXT_WORDS_MIN && alone) {
			bool defines = defines_here(tm, s);
			struct cand c = {si,
			                 best,
			                 (size_t)(w[i].start - s->text),
			                 (size_t)(w[last].start - s->text) + w[last].len,
			                 0,
			                 false};
			c.score = cand_score(g, tm, defines, nw, pronoun) *
			          (0.7 + 0.6 * jitter(g, si, best));
			add_cand(g, c);
		}
		i = last;
	}
}

static int by_score(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->sentence != y->sentence)
		return x->sentence < y->sentence ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* ---- distractors ---- */

static bool share_stem(const struct term *a, const struct term *b)
{
	for (int i = 0; i < a->words; i++)
		for (int k = 0; k < b->words; k++)
			if (a->hashes[i] == b->hashes[k] && strcmp(a->stems[i], b->stems[k]) == 0)
				return true;
	return false;
}

static bool same_text(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Whether text occurs in the sentence (case-insensitively). */
static bool in_sentence(const struct doc_sentence *s, const char *text)
{
	size_t n = strlen(text);
	for (size_t i = 0; n && i + n <= s->len; i++)
		if (strncasecmp(s->text + i, text, n) == 0)
			return true;
	return false;
}

/* Whether text has a lower-case ASCII letter ("Vim", not "ZZ" or "E37"). */
static bool has_lower(const char *text)
{
	for (; *text; text++)
		if (islower((unsigned char)*text))
			return true;
	return false;
}

/* Digits before the point of a number term. */
static size_t int_digits(const char *text)
{
	size_t n = 0;
	while (isdigit((unsigned char)text[n]))
		n++;
	return n;
}

/* How well term d fits as a distractor for answer a in sentence s (lower
 * is better), or a negative number when it does not fit at all. */
static double distractor_cost(const struct gen *g, const struct term *a, const struct term *d,
                              const struct doc_sentence *s, bool definitions, bool swap)
{
	if (d == a || share_stem(a, d) || same_text(a->text, d->text))
		return -1;
	if (definitions) {
		if (!d->definition || same_text(d->definition, a->definition) ||
		    d->kind == KIND_NUMBER || !good_definition(d->definition))
			return -1;
	} else {
		if (d->kind != a->kind)
			return -1;
		if (a->kind == KIND_PHRASE && abs(d->words - a->words) > 1)
			return -1;
		if (a->kind == KIND_WORD && !d->noun)
			return -1;
		if (a->kind == KIND_NAME && has_lower(a->text) != has_lower(d->text))
			return -1;
		if (in_sentence(s, d->text))
			return -1;
		if (a->kind == KIND_NUMBER &&
		    (int_digits(d->text) != int_digits(a->text) ||
		     (strchr(d->text, '.') == NULL) != (strchr(a->text, '.') == NULL)))
			return -1;
	}
	const char *at = definitions ? a->definition : a->text;
	const char *dt = definitions ? d->definition : d->text;
	double la = (double)strlen(at), ld = (double)strlen(dt);
	double length = fabs(la - ld) / (la > ld ? la : ld);
	double cost = length * 2.0 + (d->words != a->words ? 0.5 : 0.0);
	double far = fabs((double)d->block - (double)s->block) / (double)(g->model.count + 1);
	if (g->req->difficulty == QUIZ_EASY)
		cost += 1.0 - far;
	else if (g->req->difficulty == QUIZ_HARD)
		cost += (d->section == s->section ? 0.0 : 1.0) + far;
	else
		cost += d->section == s->section ? 0.0 : 0.4;
	if (d->kind != KIND_NUMBER)
		cost += (double)d->rank / (double)(g->nphrases + 1);
	/* A swapped phrase reads best when it comes from the same part of the
	 * text and has as many words. */
	if (swap)
		cost += (d->section == s->section ? 0.0 : 1.5) + (d->words != a->words ? 1.0 : 0.0);
	return cost + 0.5 * jitter(g, (uint64_t)(a - g->terms), (uint64_t)(d - g->terms));
}

/* Up to want distractors for term a (indexes into g->terms) in *out; returns
 * how many were found. */
static size_t pick_distractors(struct gen *g, const struct term *a, const struct doc_sentence *s,
                               bool definitions, bool swap, size_t want, size_t *out)
{
	size_t got = 0;
	while (got < want) {
		size_t best = SIZE_MAX;
		double best_cost = 0;
		for (size_t i = 0; i < g->nterms; i++) {
			double c = distractor_cost(g, a, &g->terms[i], s, definitions, swap);
			if (c < 0)
				continue;
			bool clash = false;
			for (size_t k = 0; k < got && !clash; k++)
				clash = out[k] == i ||
				        share_stem(&g->terms[out[k]], &g->terms[i]) ||
				        same_text(g->terms[out[k]].text, g->terms[i].text) ||
				        (definitions && same_text(g->terms[out[k]].definition,
				                                  g->terms[i].definition));
			if (!clash && (best == SIZE_MAX || c < best_cost)) {
				best = i;
				best_cost = c;
			}
		}
		if (best == SIZE_MAX)
			break;
		out[got++] = best;
	}
	return got;
}

/* ---- questions ---- */

/* The answer as the sentence writes it, with a capital that only starts the
 * sentence lowered (not for names and acronyms). */
static const char *answer_text(struct gen *g, const struct cand *c, const struct term *t)
{
	const struct doc_sentence *s = &g->s[c->sentence];
	char *a = pool_strndup(g->pool, s->text + c->start, c->end - c->start);
	if (c->start == 0 && t->kind != KIND_NAME && t->kind != KIND_NUMBER && a[0] &&
	    isupper((unsigned char)a[0]) && a[1] && !isupper((unsigned char)a[1]))
		a[0] = (char)tolower((unsigned char)a[0]);
	return a;
}

/* The sentence with the answer replaced by with. */
static const char *replaced(struct gen *g, const struct cand *c, const char *with)
{
	const struct doc_sentence *s = &g->s[c->sentence];
	char *w = pool_strdup(g->pool, with);
	if (c->start == 0 && w[0] && islower((unsigned char)w[0]))
		w[0] = (char)toupper((unsigned char)w[0]);
	return pool_printf(g->pool, "%.*s%s%.*s", (int)c->start, s->text, w, (int)(s->len - c->end),
	                   s->text + c->end);
}

/* "What is a namespace?" for the sentence that defines the term, with the
 * article and verb the sentence uses. */
static const char *what_is(struct gen *g, const struct cand *c, const struct term *t)
{
	const struct doc_sentence *s = &g->s[c->sentence];
	const char *article = "";
	if (c->start >= 2) {
		size_t e = c->start - 1, b = e;
		while (b > 0 && s->text[b - 1] != ' ')
			b--;
		static const char *const articles[] = {"a", "an", "the", NULL};
		for (size_t i = 0; articles[i]; i++)
			if (e - b == strlen(articles[i]) &&
			    strncasecmp(s->text + b, articles[i], e - b) == 0)
				article = articles[i];
	} else if (c->start == 0) {
		article = "";
	}
	const char *rest = s->text + c->end;
	bool plural = strncmp(rest, " are ", 5) == 0;
	const char *term = answer_text(g, c, t);
	return pool_printf(g->pool, "What %s %s%s%s?", plural ? "are" : "is", article,
	                   *article ? " " : "", term);
}

static const char *explanation(struct gen *g, const struct doc_sentence *s, const char *section)
{
	const char *text = pool_strndup(g->pool, s->text, s->len);
	if (*section && g->pages > 1)
		return pool_printf(g->pool, "%s (section \"%s\", page %ld)", text, section,
		                   s->page);
	if (*section)
		return pool_printf(g->pool, "%s (section \"%s\")", text, section);
	if (g->pages > 1)
		return pool_printf(g->pool, "%s (page %ld)", text, s->page);
	return text;
}

/* Builds a question of type from candidate c into q; false when c cannot
 * give one of that type. Options are in order, right answer first. */
static bool build(struct gen *g, const struct cand *c, enum quiz_type type, struct quiz_question *q)
{
	const struct term *t = &g->terms[c->term];
	const struct doc_sentence *s = &g->s[c->sentence];
	size_t d[QUIZ_OPTIONS - 1];
	memset(q, 0, sizeof(*q));
	q->type = type;
	q->correct = 0;
	if (type == QUIZ_MULTIPLE_CHOICE) {
		bool defines = defines_here(t, s) && g->req->difficulty != QUIZ_HARD;
		if (defines && pick_distractors(g, t, s, true, false, QUIZ_OPTIONS - 1, d) ==
		                   QUIZ_OPTIONS - 1) {
			q->question = what_is(g, c, t);
			q->options[0] = t->definition;
			for (int i = 1; i < QUIZ_OPTIONS; i++)
				q->options[i] = g->terms[d[i - 1]].definition;
		} else {
			if (pick_distractors(g, t, s, false, false, QUIZ_OPTIONS - 1, d) !=
			    QUIZ_OPTIONS - 1)
				return false;
			q->question = replaced(g, c, QUIZ_BLANK);
			q->options[0] = answer_text(g, c, t);
			for (int i = 1; i < QUIZ_OPTIONS; i++)
				q->options[i] = g->terms[d[i - 1]].text;
		}
		q->noptions = QUIZ_OPTIONS;
		q->answer = q->options[0];
	} else if (type == QUIZ_TRUE_FALSE) {
		bool truth = (g->tf_made + (g->seed & 1)) % 2 == 0;
		const char *sentence = pool_strndup(g->pool, s->text, s->len);
		if (!truth) {
			/* A swapped single word rarely reads as a sentence. */
			if (t->kind == KIND_WORD || (t->kind == KIND_NAME && t->words < 2))
				return false;
			if (pick_distractors(g, t, s, false, true, 1, d) != 1)
				return false;
			sentence = replaced(g, c, g->terms[d[0]].text);
		}
		q->question = pool_printf(g->pool, "True or false: %s", sentence);
		q->options[0] = "True";
		q->options[1] = "False";
		q->noptions = 2;
		q->correct = truth ? 0 : 1;
		q->answer = q->options[q->correct];
		g->tf_made++;
	} else {
		if (t->words > QUIZ_SHORT_WORDS_MAX)
			return false;
		q->question = replaced(g, c, QUIZ_BLANK);
		q->answer = answer_text(g, c, t);
		q->correct = -1;
	}
	q->source = pool_strndup(g->pool, s->text, s->len);
	q->section = doc_section_path(g->pool, &g->model, s->block);
	q->page = s->page > 0 ? s->page : 1;
	q->explanation = explanation(g, s, q->section);
	return true;
}

/* The requested types in API order, and how many. */
static size_t type_list(unsigned types, enum quiz_type out[3])
{
	size_t n = 0;
	if (types & QUIZ_MULTIPLE_CHOICE)
		out[n++] = QUIZ_MULTIPLE_CHOICE;
	if (types & QUIZ_TRUE_FALSE)
		out[n++] = QUIZ_TRUE_FALSE;
	if (types & QUIZ_SHORT_ANSWER)
		out[n++] = QUIZ_SHORT_ANSWER;
	return n;
}

/* Tries candidate c for slot: its type, then (unless strict) the others. */
static bool make(struct gen *g, const struct cand *c, size_t slot, bool strict,
                 struct quiz_question *q)
{
	enum quiz_type types[3];
	size_t nt = type_list(g->req->types, types);
	for (size_t k = 0; k < (strict ? 1 : nt); k++)
		if (build(g, c, types[(slot + (g->seed >> 8) + k) % nt], q))
			return true;
	return false;
}

struct made {
	struct quiz_question q;
	size_t sentence;
};

static int by_position(const void *a, const void *b)
{
	const struct made *x = a, *y = b;
	return x->sentence < y->sentence ? -1 : x->sentence > y->sentence;
}

/* Sections in the order of their best candidate; cands are sorted best
 * first. Returns how many, section ids in *out. */
static size_t section_order(struct gen *g, long **out)
{
	long *order = pool_alloc(g->pool, (g->ncands + 1) * sizeof(long));
	size_t n = 0;
	for (size_t i = 0; i < g->ncands; i++) {
		long sec = g->s[g->cands[i].sentence].section;
		size_t k = 0;
		while (k < n && order[k] != sec)
			k++;
		if (k == n)
			order[n++] = sec;
	}
	*out = order;
	return n;
}

/* The next question from the candidates of one section (indexes into
 * g->cands, best first): the slot's type from the first QUIZ_STRICT_SCAN
 * that can give it, else any type from the first that can. */
static bool take_from(struct gen *g, const size_t *list, size_t count, size_t slot, struct made *m)
{
	for (int strict = 1; strict >= 0; strict--) {
		size_t tried = 0;
		for (size_t i = 0; i < count; i++) {
			struct cand *c = &g->cands[list[i]];
			if (c->used || g->sentence_used[c->sentence] || g->terms[c->term].used)
				continue;
			if (strict && ++tried > QUIZ_STRICT_SCAN)
				break;
			if (!make(g, c, slot, strict, &m->q)) {
				c->used = !strict; /* it gives no question at all */
				continue;
			}
			m->sentence = c->sentence;
			c->used = g->sentence_used[c->sentence] = g->terms[c->term].used = true;
			return true;
		}
	}
	return false;
}

/* Takes questions round-robin over the sections until count are made. */
static size_t select_questions(struct gen *g, struct made *made)
{
	long *sections = NULL;
	size_t nsec = section_order(g, &sections), n = 0;
	size_t **lists = pool_alloc(g->pool, (nsec + 1) * sizeof(*lists));
	size_t *counts = pool_alloc(g->pool, (nsec + 1) * sizeof(*counts));
	memset(counts, 0, (nsec + 1) * sizeof(*counts));
	size_t *all = pool_alloc(g->pool, (g->ncands + 1) * sizeof(*all));
	/* Each section's candidates, kept in score order, side by side in all. */
	size_t at = 0;
	for (size_t k = 0; k < nsec; k++) {
		lists[k] = all + at;
		for (size_t i = 0; i < g->ncands; i++)
			if (g->s[g->cands[i].sentence].section == sections[k])
				lists[k][counts[k]++] = i;
		at += counts[k];
	}
	bool progress = true;
	while (n < g->req->count && progress) {
		progress = false;
		for (size_t k = 0; k < nsec && n < g->req->count; k++)
			if (take_from(g, lists[k], counts[k], n, &made[n])) {
				n++;
				progress = true;
			}
	}
	return n;
}

/* Moves each choice question's right option to a position spread evenly:
 * every run of four choice questions uses each position once. */
static void spread_positions(struct gen *g, struct made *made, size_t n)
{
	int perm[QUIZ_OPTIONS] = {0, 1, 2, 3};
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		struct quiz_question *q = &made[i].q;
		if (q->type != QUIZ_MULTIPLE_CHOICE)
			continue;
		if (j % QUIZ_OPTIONS == 0)
			for (int k = QUIZ_OPTIONS - 1; k > 0; k--) {
				int r = (int)(mix(g->seed + j + (uint64_t)k) % (uint64_t)(k + 1));
				int tmp = perm[k];
				perm[k] = perm[r];
				perm[r] = tmp;
			}
		int pos = perm[j % QUIZ_OPTIONS];
		const char *right = q->options[0];
		for (int k = 0; k < pos; k++)
			q->options[k] = q->options[k + 1];
		q->options[pos] = right;
		q->correct = pos;
		j++;
	}
}

enum err quiz_generate(struct pool *pool, const char *text, size_t len, long pages,
                       const struct quiz_request *req, struct quiz_question **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (req->count < 1 || req->count > QUIZ_QUESTIONS_MAX)
		return ERR_INVALID;
	struct quiz_request r = *req;
	if (r.types == 0)
		r.types = QUIZ_MULTIPLE_CHOICE | QUIZ_TRUE_FALSE;
	struct gen g = {.pool = pool, .req = &r, .seed = hash_text(req->seed), .pages = pages};
	enum err e = text_stemmer_new(&g.stemmer);
	if (e != ERR_OK)
		return e;
	doc_parse(pool, text, len, &g.model);
	g.ns = doc_sentences(pool, &g.model, QUIZ_SENTENCES_MAX, &g.s);
	struct phrase *ph = NULL;
	size_t nph = 0;
	e = phrases_extract(pool, &g.model, g.s, g.ns, QUIZ_TERMS_MAX, &ph, &nph);
	if (e != ERR_OK)
		goto out;
	g.terms = pool_alloc(pool, (nph + QUIZ_NUMBERS_MAX) * sizeof(struct term));
	memset(g.terms, 0, (nph + QUIZ_NUMBERS_MAX) * sizeof(struct term));
	add_phrase_terms(&g, ph, nph);
	g.sentence_used = pool_alloc(pool, g.ns + 1);
	memset(g.sentence_used, 0, g.ns + 1);
	index_phrases(&g);
	char(*stems)[QUIZ_STEM_MAX] = pool_alloc(pool, (QUIZ_WORDS_MAX + 1) * QUIZ_STEM_MAX);
	uint64_t *hashes = pool_alloc(pool, (QUIZ_WORDS_MAX + 1) * sizeof(uint64_t));
	for (size_t i = 0; i < g.ns; i++)
		scan_sentence(&g, i, stems, hashes);
	if (g.ncands)
		qsort(g.cands, g.ncands, sizeof(*g.cands), by_score);
	struct made *made = pool_alloc(pool, r.count * sizeof(*made));
	size_t got = select_questions(&g, made);
	qsort(made, got, sizeof(*made), by_position);
	spread_positions(&g, made, got);
	struct quiz_question *qs = pool_alloc(pool, (got + 1) * sizeof(*qs));
	for (size_t i = 0; i < got; i++)
		qs[i] = made[i].q;
	*out = qs;
	*n = got;
	e = got == r.count ? ERR_OK : ERR_UNPROCESSABLE;
out:
	text_stemmer_free(g.stemmer);
	return e;
}
