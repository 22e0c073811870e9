/* answer: grounded extractive answers (see answer.h). */
#include "text/answer.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "text/text.h"

enum {
	STEM_MAX = TEXT_WORD_MAX + 1,
	WORDS_MAX = 400,          /* words of one sentence looked at */
	SENTENCES_MAX = 60,       /* sentences of one passage */
	SMALLTALK_WORDS_MAX = 8,  /* a longer message is a question */
	SUBJECT_WORDS = 8,        /* a definition names its subject this early */
	SHORT_SENTENCE_WORDS = 5, /* fewer words: probably a label, not an answer */
	LONG_SENTENCE_WORDS = 70
};

#define LIST_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Words that ask rather than say: never a content word of a question. */
static const char *const question_words[] = {
    "according", "answer",    "anyone",  "briefly",    "define",   "definition", "describe",
    "describes", "detail",    "details", "difference", "document", "documents",  "does",
    "example",   "examples",  "explain", "explains",   "file",     "give",       "know",
    "list",      "mean",      "meaning", "means",      "mention",  "mentioned",  "much",
    "many",      "name",      "notes",   "please",     "say",      "says",       "show",
    "summarise", "summarize", "tell",    "text",       "thing",    "things",     "want",
    "way",       "ways",      "work",    "works",      "happen",   "happens",    "mean",
    "called",    "use",       "used",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

static bool content_word(const char *lw);

/* The process's stemmer (one per process: programs here are single-threaded). */
static struct text_stemmer *stemmer(void)
{
	static struct text_stemmer *st;
	if (!st && text_stemmer_new(&st) != ERR_OK)
		st = NULL;
	return st;
}

static const char *stem_of(struct pool *pool, struct text_stemmer *st, const char *lower)
{
	char buf[STEM_MAX];
	size_t n = text_stem(st, lower, strlen(lower), buf, sizeof(buf));
	return pool_strndup(pool, buf, n);
}

size_t answer_terms(struct pool *pool, const char *text, size_t max, struct answer_term **out)
{
	struct text_stemmer *st = stemmer();
	struct text_word *w = NULL;
	size_t nw = text_words(pool, text, strlen(text), WORDS_MAX, &w);
	struct answer_term *t = pool_alloc(pool, sizeof(*t) * (max ? max : 1));
	size_t n = 0;
	for (size_t i = 0; i < nw && n < max && st; i++) {
		const char *lw = w[i].lower;
		if (!content_word(lw))
			continue;
		const char *s = stem_of(pool, st, lw);
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(t[j].stem, s) == 0;
		if (seen)
			continue;
		t[n].word = lw;
		t[n].stem = s;
		n++;
	}
	*out = t;
	return n;
}

/* The message's words, lower-cased; how many in *n. */
static struct text_word *message_words(struct pool *pool, const char *text, size_t *n)
{
	struct text_word *w = NULL;
	*n = text_words(pool, text, strlen(text), SMALLTALK_WORDS_MAX + 1, &w);
	return w;
}

static bool all_in(const struct text_word *w, size_t n, const char *const *list, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (!in_list(w[i].lower, list, len))
			return false;
	return n > 0;
}

static bool any_in(const struct text_word *w, size_t n, const char *const *list, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (in_list(w[i].lower, list, len))
			return true;
	return false;
}

/* The message lower-cased with only letters and single spaces. */
static char *squeeze(struct pool *pool, const char *text)
{
	size_t len = strlen(text);
	char *s = pool_alloc(pool, len + 1), *d = s;
	bool space = true;
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalpha(c) || c == '\'') {
			*d++ = (char)tolower(c);
			space = false;
		} else if (!space) {
			*d++ = ' ';
			space = true;
		}
	}
	while (d > s && d[-1] == ' ')
		d--;
	*d = '\0';
	return s;
}

enum answer_intent answer_intent(const char *text)
{
	static const char *const greet[] = {"hi",        "hello", "hey",     "hiya",      "howdy",
	                                    "greetings", "good",  "morning", "afternoon", "evening",
	                                    "there",     "yo",    "all",     "everyone"};
	static const char *const greet_key[] = {
	    "hi", "hello", "hey", "hiya", "howdy", "greetings", "morning", "evening", "afternoon"};
	static const char *const thanks[] = {
	    "thanks", "thank", "you",  "thx",  "ty",   "much",   "so",     "a",       "lot",
	    "great",  "ok",    "okay", "cool", "that", "helps",  "helped", "perfect", "awesome",
	    "cheers", "many",  "very", "nice", "got",  "it",     "this",   "was",     "helpful",
	    "good",   "again", "for",  "the",  "help", "answer", "super"};
	static const char *const thanks_key[] = {"thanks", "thank", "thx", "ty", "cheers"};
	static const char *const capability[] = {"help",
	                                         "what can you do",
	                                         "what can you do for me",
	                                         "who are you",
	                                         "what are you",
	                                         "how do you work",
	                                         "how does this work",
	                                         "what do you do",
	                                         "how can you help",
	                                         "how can you help me",
	                                         "what can i ask",
	                                         "what can i ask you",
	                                         "what is this",
	                                         "how does it work",
	                                         "help me",
	                                         "what should i ask"};
	struct pool *pool = pool_new();
	enum answer_intent r = ANSWER_QUESTION;
	size_t n = 0;
	struct text_word *w = message_words(pool, text, &n);
	const char *sq = squeeze(pool, text);
	if (n <= SMALLTALK_WORDS_MAX) {
		if (in_list(sq, capability, LIST_LEN(capability)))
			r = ANSWER_CAPABILITY;
		else if (all_in(w, n, thanks, LIST_LEN(thanks)) &&
		         any_in(w, n, thanks_key, LIST_LEN(thanks_key)))
			r = ANSWER_THANKS;
		else if (all_in(w, n, greet, LIST_LEN(greet)) &&
		         any_in(w, n, greet_key, LIST_LEN(greet_key)))
			r = ANSWER_GREETING;
	}
	pool_free(pool);
	return r;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum answer_kind answer_kind(const char *text)
{
	static const char *const def[] = {
	    "what is ",   "what s ",     "whats ",         "what are ",       "what was ",
	    "what were ", "define ",     "definition of ", "who is ",         "who was ",
	    "who were ",  "meaning of ", "what does ",     "what do we mean", "explain what "};
	static const char *const num[] = {"how many ",
	                                  "how much ",
	                                  "how long ",
	                                  "how old ",
	                                  "how far ",
	                                  "how big ",
	                                  "how large ",
	                                  "how often ",
	                                  "when ",
	                                  "what year ",
	                                  "in what year ",
	                                  "in which year ",
	                                  "what percentage ",
	                                  "what proportion ",
	                                  "what date ",
	                                  "what time ",
	                                  "at what temperature ",
	                                  "how fast "};
	static const char *const cause[] = {"why ",
	                                    "what causes ",
	                                    "what caused ",
	                                    "what is the reason",
	                                    "what s the reason",
	                                    "how come ",
	                                    "for what reason",
	                                    "what leads to ",
	                                    "what led to "};
	struct pool *pool = pool_new();
	char *sq = squeeze(pool, text);
	/* "and why ...", "so what is ...": the kind follows a conjunction. */
	static const char *const lead[] = {"and ", "so ", "but ", "then ", "ok ", "okay ", "also "};
	for (size_t i = 0; i < LIST_LEN(lead); i++)
		if (starts_with(sq, lead[i]))
			sq += strlen(lead[i]);
	size_t len = strlen(sq);
	char *padded = pool_alloc(pool, len + 2);
	memcpy(padded, sq, len);
	padded[len] = ' ';
	enum answer_kind k = ANSWER_KIND_GENERAL;
	for (size_t i = 0; i < LIST_LEN(cause) && k == ANSWER_KIND_GENERAL; i++)
		if (starts_with(padded, cause[i]))
			k = ANSWER_KIND_CAUSE;
	for (size_t i = 0; i < LIST_LEN(num) && k == ANSWER_KIND_GENERAL; i++)
		if (starts_with(padded, num[i]))
			k = ANSWER_KIND_NUMBER;
	for (size_t i = 0; i < LIST_LEN(def) && k == ANSWER_KIND_GENERAL; i++)
		if (starts_with(padded, def[i]))
			k = ANSWER_KIND_DEFINITION;
	pool_free(pool);
	return k;
}

static const char *join_terms(struct pool *pool, const struct answer_term *t, size_t n,
                              const char *sep)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (b.len + strlen(t[i].word) + strlen(sep) >= ANSWER_QUERY_MAX)
			break;
		if (b.len)
			buf_puts(&b, sep);
		buf_puts(&b, t[i].word);
	}
	const char *r = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return r;
}

const char *answer_query_any(struct pool *pool, const struct answer_term *t, size_t n)
{
	return join_terms(pool, t, n, " or ");
}

const char *answer_query_all(struct pool *pool, const struct answer_term *t, size_t n)
{
	return join_terms(pool, t, n, " ");
}

const char *answer_query_pairs(struct pool *pool, const struct answer_term *t, size_t n)
{
	struct buf b;
	buf_init(&b);
	if (n > ANSWER_PAIR_TERMS)
		n = ANSWER_PAIR_TERMS;
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++) {
			if (b.len + strlen(t[i].word) + strlen(t[k].word) + 6 >= ANSWER_QUERY_MAX)
				continue;
			buf_printf(&b, "%s%s %s", b.len ? " or " : "", t[i].word, t[k].word);
		}
	const char *r = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return r;
}

static bool content_word(const char *lw)
{
	return strlen(lw) >= 2 && !text_is_stop_word(lw) &&
	       !in_list(lw, question_words, LIST_LEN(question_words));
}

const char *answer_query_phrases(struct pool *pool, const char *text)
{
	struct text_word *w = NULL;
	size_t nw = text_words(pool, text, strlen(text), WORDS_MAX, &w);
	struct buf b;
	buf_init(&b);
	const struct text_word *last = NULL;
	for (size_t i = 0; i < nw; i++) {
		if (!content_word(w[i].lower))
			continue;
		if (last) {
			const char *from = last->start, *to = w[i].start + w[i].len;
			bool plain = (size_t)(to - from) < 200;
			for (const char *c = last->start + last->len; c < w[i].start && plain; c++)
				plain = !strchr(".,;:?!()[]{}\"", *c);
			if (plain && b.len + (size_t)(to - from) + 8 < ANSWER_QUERY_MAX) {
				if (b.len)
					buf_puts(&b, " or ");
				buf_putc(&b, '"');
				for (const char *c = from; c < to; c++)
					buf_putc(&b, *c == '"' || *c == '\\' ? ' ' : *c);
				buf_putc(&b, '"');
			}
		}
		last = &w[i];
	}
	const char *r = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return r;
}

/* --- sentences -------------------------------------------------------- */

struct sent {
	const char *text;
	size_t len;
	size_t passage;
	size_t index; /* within its passage */
	const char **stems;
	const char **words; /* lower-cased */
	size_t nwords;
	unsigned long cur; /* bit i: current term i occurs */
	unsigned long prev;
	double score;
	bool chosen;
};

/* Bits of the terms whose stems occur among stems[0..n). */
static unsigned long term_bits(const struct answer_term *t, size_t nt, const char *const *stems,
                               size_t n)
{
	unsigned long bits = 0;
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < n; j++)
			if (strcmp(t[i].stem, stems[j]) == 0) {
				bits |= 1UL << i;
				break;
			}
	return bits;
}

static size_t popcount(unsigned long x)
{
	size_t n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

/* Stems of text's words (and the lower-cased words in *lower). */
static size_t stems_of(struct pool *pool, struct text_stemmer *st, const char *text, size_t len,
                       const char ***stems, const char ***lower)
{
	struct text_word *w = NULL;
	size_t n = text_words(pool, text, len, WORDS_MAX, &w);
	*stems = pool_alloc(pool, sizeof(char *) * (n ? n : 1));
	*lower = pool_alloc(pool, sizeof(char *) * (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		(*stems)[i] = stem_of(pool, st, w[i].lower);
		(*lower)[i] = w[i].lower;
	}
	return n;
}

/* Splits every passage into sentences (blocks first: they are separated by
 * blank lines). */
static size_t split_all(struct pool *pool, struct text_stemmer *st, const struct answer_passage *ps,
                        size_t n, struct sent **out)
{
	size_t cap = 64, count = 0;
	struct sent *s = xmalloc(sizeof(*s) * cap);
	for (size_t p = 0; p < n; p++) {
		const char *t = ps[p].text;
		size_t idx = 0;
		while (*t && idx < SENTENCES_MAX) {
			const char *end = strstr(t, "\n\n");
			size_t blen = end ? (size_t)(end - t) : strlen(t);
			struct text_sentence *ts = NULL;
			size_t ns = text_sentences(pool, t, blen, SENTENCES_MAX - idx, &ts);
			for (size_t i = 0; i < ns; i++) {
				if (count == cap) {
					cap *= 2;
					s = xrealloc(s, sizeof(*s) * cap);
				}
				struct sent *x = &s[count++];
				memset(x, 0, sizeof(*x));
				x->text = ts[i].text;
				x->len = ts[i].len;
				x->passage = p;
				x->index = idx++;
				x->nwords =
				    stems_of(pool, st, x->text, x->len, &x->stems, &x->words);
			}
			if (!end)
				break;
			t = end + 2;
		}
	}
	struct sent *r = pool_alloc(pool, sizeof(*r) * (count ? count : 1));
	memcpy(r, s, sizeof(*r) * count);
	free(s);
	*out = r;
	return count;
}

static bool has_word(const struct sent *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < s->nwords; i++)
		if (in_list(s->words[i], list, n))
			return true;
	return false;
}

static bool has_phrase(const struct sent *s, const char *a, const char *b)
{
	for (size_t i = 0; i + 1 < s->nwords; i++)
		if (strcmp(s->words[i], a) == 0 && strcmp(s->words[i + 1], b) == 0)
			return true;
	return false;
}

/* Whether s defines one of the terms: "X is/are/refers to/means ..." with
 * X among its first words, or "... called X" / "known as X". */
static bool defines(const struct sent *s, const struct answer_term *t, size_t nt)
{
	static const char *const copula[] = {"is",         "are",      "was",     "were",
	                                     "refers",     "means",    "denotes", "describes",
	                                     "represents", "consists", "defined", "constitutes"};
	for (size_t i = 0; i < s->nwords && i < SUBJECT_WORDS; i++) {
		bool term = false;
		for (size_t k = 0; k < nt && !term; k++)
			term = strcmp(s->stems[i], t[k].stem) == 0;
		if (!term)
			continue;
		for (size_t j = i + 1; j < s->nwords && j <= i + 4; j++)
			if (in_list(s->words[j], copula, LIST_LEN(copula)))
				return true;
	}
	for (size_t i = 0; i + 1 < s->nwords; i++) {
		bool lead = strcmp(s->words[i], "called") == 0 ||
		            (i > 0 && strcmp(s->words[i - 1], "known") == 0 &&
		             strcmp(s->words[i], "as") == 0);
		if (!lead)
			continue;
		for (size_t k = 0; k < nt; k++)
			if (strcmp(s->stems[i + 1], t[k].stem) == 0)
				return true;
	}
	return false;
}

static bool has_number(const struct sent *s, bool year)
{
	static const char *const numbers[] = {
	    "one",       "two",      "three",    "four",    "five",   "six",    "seven",
	    "eight",     "nine",     "ten",      "eleven",  "twelve", "twenty", "hundred",
	    "thousand",  "million",  "billion",  "percent", "half",   "dozen",  "century",
	    "january",   "february", "march",    "april",   "june",   "july",   "august",
	    "september", "october",  "november", "december"};
	for (size_t i = 0; i < s->nwords; i++) {
		const char *w = s->words[i];
		if (isdigit((unsigned char)w[0])) {
			if (!year)
				return true;
			size_t len = strlen(w);
			if (len == 4 || (len == 5 && w[4] == 's'))
				return true;
		}
	}
	return !year && has_word(s, numbers, LIST_LEN(numbers));
}

static bool causal(const struct sent *s)
{
	static const char *const words[] = {
	    "because", "therefore", "thus",   "hence",   "consequently", "causes",
	    "caused",  "cause",     "reason", "reasons", "leads",        "results",
	    "since",   "so",        "allows", "enables", "prevents",     "owing"};
	return has_word(s, words, LIST_LEN(words)) || has_phrase(s, "due", "to") ||
	       has_phrase(s, "as", "a") || has_phrase(s, "in", "order") ||
	       has_phrase(s, "result", "of");
}

/* Whether s leans on the sentence before it ("It", "This", "These", ...). */
static bool continues(const struct sent *s)
{
	static const char *const lead[] = {"it",    "this",  "these", "they", "its",
	                                   "their", "such",  "that",  "he",   "she",
	                                   "those", "there", "then",  "both", "each"};
	return s->nwords > 0 && in_list(s->words[0], lead, LIST_LEN(lead));
}

/* Whether a question leans on the earlier turns: it opens with a
 * conjunction ("and why ...", "what about ...") or names its subject with a
 * pronoun ("is it slower?"). */
static bool leans_back(struct pool *pool, const char *question)
{
	static const char *const open[] = {"and", "so", "but", "also", "then", "or"};
	static const char *const pronoun[] = {"it",   "its",  "they",  "them",  "their",
	                                      "this", "that", "these", "those", "he",
	                                      "she",  "his",  "her",   "there"};
	struct text_word *w = NULL;
	size_t n = text_words(pool, question, strlen(question), WORDS_MAX, &w);
	if (n == 0)
		return false;
	if (in_list(w[0].lower, open, LIST_LEN(open)) ||
	    (n > 1 && strcmp(w[0].lower, "what") == 0 && strcmp(w[1].lower, "about") == 0) ||
	    (n > 1 && strcmp(w[0].lower, "how") == 0 && strcmp(w[1].lower, "about") == 0))
		return true;
	for (size_t i = 0; i < n; i++)
		if (in_list(w[i].lower, pronoun, LIST_LEN(pronoun)))
			return true;
	return false;
}

/* How many of the question's terms a passage must hold to answer it. */
static size_t needed(size_t nterms)
{
	if (nterms <= 2)
		return nterms;
	if (nterms <= 4)
		return nterms - 1;
	return (nterms * 11 + 19) / 20; /* ceil(0.55 n) */
}

/* The weight of each term: rarer among the sentences counts more. */
static void term_weights(const struct sent *s, size_t ns, size_t nt, bool prev, double *w)
{
	for (size_t i = 0; i < nt; i++) {
		size_t df = 0;
		for (size_t k = 0; k < ns; k++)
			df += ((prev ? s[k].prev : s[k].cur) >> i) & 1;
		w[i] = log(1.0 + ((double)ns + 1.0) / ((double)df + 0.5));
	}
}

static double coverage(unsigned long bits, const double *w, size_t nt)
{
	double have = 0, all = 0;
	for (size_t i = 0; i < nt; i++) {
		all += w[i];
		if ((bits >> i) & 1)
			have += w[i];
	}
	return all > 0 ? have / all : 0;
}

/* Word overlap of two sentences, against the shorter one. */
static double overlap(const struct sent *a, const struct sent *b)
{
	if (!a->nwords || !b->nwords)
		return 0;
	size_t same = 0;
	for (size_t i = 0; i < a->nwords; i++)
		for (size_t j = 0; j < b->nwords; j++)
			if (strcmp(a->stems[i], b->stems[j]) == 0) {
				same++;
				break;
			}
	size_t shorter = a->nwords < b->nwords ? a->nwords : b->nwords;
	return (double)same / (double)shorter;
}

/* Scores every sentence against the question. */
static void score_all(struct sent *s, size_t ns, size_t np, const struct answer_term *cur,
                      size_t ncur, size_t nprev, enum answer_kind kind,
                      const unsigned long *sec_bits)
{
	double wc[ANSWER_TERMS_MAX], wp[ANSWER_TERMS_MAX];
	term_weights(s, ns, ncur, false, wc);
	term_weights(s, ns, nprev, true, wp);
	for (size_t i = 0; i < ns; i++) {
		struct sent *x = &s[i];
		double sc = coverage(x->cur, wc, ncur) + 0.35 * coverage(x->prev, wp, nprev);
		if (!x->cur && !x->prev) {
			x->score = 0;
			continue;
		}
		if (kind == ANSWER_KIND_DEFINITION && defines(x, cur, ncur))
			sc += 0.5;
		else if (kind == ANSWER_KIND_NUMBER && has_number(x, false))
			sc += has_number(x, true) ? 0.45 : 0.35;
		else if (kind == ANSWER_KIND_CAUSE && causal(x))
			sc += 0.4;
		sc += 0.2 * (1.0 - (double)x->passage / (double)np);
		sc += 0.1 * coverage(sec_bits[x->passage], wc, ncur);
		if (x->nwords < SHORT_SENTENCE_WORDS)
			sc -= 0.3;
		if (x->nwords > LONG_SENTENCE_WORDS)
			sc -= 0.1;
		if (x->len && x->text[x->len - 1] == '?')
			sc -= 0.5;
		if (x->len && x->text[x->len - 1] == ':')
			sc -= 0.2;
		x->score = sc;
	}
}

enum err answer_extract(struct pool *pool, const char *question, const struct answer_term *prev,
                        size_t nprev, const struct answer_passage *passages, size_t n,
                        struct answer *out)
{
	memset(out, 0, sizeof(*out));
	out->sentences = pool_alloc(pool, sizeof(*out->sentences) * ANSWER_SENTENCES_MAX);
	struct text_stemmer *st = stemmer();
	if (!st) {
		log_error("answer: no stemmer");
		return ERR_INTERNAL;
	}
	if (n > ANSWER_PASSAGES_MAX)
		n = ANSWER_PASSAGES_MAX;
	if (nprev > ANSWER_TERMS_MAX)
		nprev = ANSWER_TERMS_MAX;
	struct answer_term *cur = NULL;
	size_t ncur = answer_terms(pool, question, ANSWER_TERMS_MAX, &cur);
	bool follow = nprev > 0 && ncur <= 2 && leans_back(pool, question);
	if (ncur == 0 && nprev > 0) { /* "and why?": the earlier question's terms */
		cur = (struct answer_term *)prev;
		ncur = nprev;
		nprev = 0;
		follow = false;
	}
	for (size_t i = 0; i < n && out->nclosest < 3; i++)
		out->closest[out->nclosest++] = i;
	if (ncur == 0 || n == 0)
		return ERR_OK;
	enum answer_kind kind = answer_kind(question);
	struct sent *s = NULL;
	size_t ns = split_all(pool, st, passages, n, &s);
	/* What each passage holds: its sentences' terms and its section's. */
	unsigned long *pbits = pool_alloc(pool, sizeof(long) * n);
	unsigned long *pprev = pool_alloc(pool, sizeof(long) * n);
	unsigned long *sbits = pool_alloc(pool, sizeof(long) * n);
	for (size_t p = 0; p < n; p++) {
		const char **stems = NULL, **lower = NULL;
		const char *sec = passages[p].section ? passages[p].section : "";
		size_t k = stems_of(pool, st, sec, strlen(sec), &stems, &lower);
		sbits[p] = term_bits(cur, ncur, stems, k);
		pbits[p] = sbits[p];
		pprev[p] = term_bits(prev, nprev, stems, k);
	}
	for (size_t i = 0; i < ns; i++) {
		s[i].cur = term_bits(cur, ncur, s[i].stems, s[i].nwords);
		s[i].prev = term_bits(prev, nprev, s[i].stems, s[i].nwords);
		pbits[s[i].passage] |= s[i].cur;
		pprev[s[i].passage] |= s[i].prev;
	}
	score_all(s, ns, n, cur, ncur, nprev, kind, sbits);
	/* The best sentence of a passage that holds enough of the question. */
	size_t need = needed(ncur);
	struct sent *best = NULL;
	for (size_t i = 0; i < ns; i++) {
		size_t p = s[i].passage;
		if (popcount(pbits[p]) < need || !s[i].cur || (follow && !pprev[p]))
			continue;
		if (!best || s[i].score > best->score)
			best = &s[i];
	}
	if (!best)
		return ERR_OK;
	out->covered = true;
	best->chosen = true;
	size_t count = 1, chars = best->len;
	/* The sentence that continues it, then others nearly as good. */
	for (size_t i = 0; i + 1 < ns; i++)
		if (&s[i] == best && s[i + 1].passage == best->passage && continues(&s[i + 1]) &&
		    chars + s[i + 1].len < ANSWER_CHARS_MAX) {
			s[i + 1].chosen = true;
			count++;
			chars += s[i + 1].len;
		}
	while (count < ANSWER_SENTENCES_MAX) {
		struct sent *next = NULL;
		for (size_t i = 0; i < ns; i++) {
			struct sent *x = &s[i];
			size_t p = x->passage;
			/* Nearly as good: as much of the question, or the best one's
			 * neighbour; never a lead-in without what it leads to. */
			bool near = x->passage == best->passage && x->score >= 0.6 * best->score;
			bool good = x->score >= 0.8 * best->score &&
			            popcount(x->cur) >= popcount(best->cur);
			if (x->chosen || !x->cur || !(near || good) || popcount(pbits[p]) < need ||
			    chars + x->len > ANSWER_CHARS_MAX || !x->len ||
			    x->text[x->len - 1] == ':')
				continue;
			bool repeat = false;
			for (size_t k = 0; k < ns && !repeat; k++)
				repeat = s[k].chosen && overlap(x, &s[k]) > 0.7;
			if (!repeat && (!next || x->score > next->score))
				next = x;
		}
		if (!next)
			break;
		next->chosen = true;
		count++;
		chars += next->len;
	}
	/* s is in passage order, then in each passage's order. */
	for (size_t i = 0; i < ns; i++)
		if (s[i].chosen) {
			struct answer_sentence *a = &out->sentences[out->count++];
			a->text = s[i].text;
			a->len = s[i].len;
			a->passage = s[i].passage;
		}
	return ERR_OK;
}
