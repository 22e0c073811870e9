/* course: the trigram model of a text and its lexicon (course.h).
 *
 * The model is interpolated absolute discounting (one discount per order,
 * n1 / (n1 + 2 n2) from the counts of counts), written as an ARPA back-off
 * model: a seen n-gram carries its interpolated probability and its history
 * the weight D * distinct followers / count, which is exactly the mass the
 * lower order gets, so the model stays normalised. The vocabulary is the
 * text's own (closed); the recogniser's general model covers the rest. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "course_impl.h"

enum { WORD_BITS = 20, START = 0, END = 1 };

/* A count table keyed by up to three word ids (open addressing). */
struct entry {
	uint64_t key; /* key + 1; 0 is empty */
	long count;
	long hsum, hdistinct; /* as a history: followers' total and distinct ones */
};
struct table {
	struct entry *e;
	size_t cap, n;
};

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static struct entry *table_find(struct table *t, uint64_t key, bool add)
{
	if (add && (t->n + 1) * 2 > t->cap) {
		struct table bigger = {xcalloc(t->cap ? t->cap * 2 : 1024, sizeof(struct entry)),
		                       t->cap ? t->cap * 2 : 1024, 0};
		for (size_t i = 0; i < t->cap; i++)
			if (t->e[i].key)
				*table_find(&bigger, t->e[i].key - 1, true) = t->e[i];
		free(t->e);
		*t = bigger;
	}
	if (t->cap == 0)
		return NULL;
	for (size_t i = mix(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->e[i].key == key + 1)
			return &t->e[i];
		if (t->e[i].key == 0) {
			if (!add)
				return NULL;
			t->e[i].key = key + 1;
			t->n++;
			return &t->e[i];
		}
	}
}

static uint64_t key2(uint64_t a, uint64_t b)
{
	return a << WORD_BITS | b;
}

static uint64_t key3(uint64_t a, uint64_t b, uint64_t c)
{
	return a << (2 * WORD_BITS) | b << WORD_BITS | c;
}

struct model {
	char **words;       /* by id; 0 <s>, 1 </s> */
	struct table vocab; /* key: hash of the word, count: id (chained on collision by probing) */
	long *unigram, *hsum, *hdistinct; /* by id */
	size_t nwords, cap;
	struct table bigrams, trigrams;
	long sentence[2]; /* the last two ids of the sentence being read */
	int have;
	struct course_stats *stats;
};

static uint64_t hash_word(const char *w)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *w; w++)
		h = (h ^ (unsigned char)*w) * 1099511628211ULL;
	return h & ((1ULL << 62) - 1);
}

/* The id of word, added if new; -1 once the vocabulary is full. */
static long word_id(struct model *m, const char *w)
{
	uint64_t h = hash_word(w);
	for (;; h = (h + 1) & ((1ULL << 62) - 1)) {
		struct entry *e = table_find(&m->vocab, h, false);
		if (!e)
			break;
		if (strcmp(m->words[e->count], w) == 0)
			return e->count;
	}
	if (m->nwords >= COURSE_VOCABULARY)
		return -1;
	if (m->nwords == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->words = xrealloc(m->words, m->cap * sizeof(*m->words));
		m->unigram = xrealloc(m->unigram, m->cap * sizeof(long));
		m->hsum = xrealloc(m->hsum, m->cap * sizeof(long));
		m->hdistinct = xrealloc(m->hdistinct, m->cap * sizeof(long));
	}
	long id = (long)m->nwords++;
	m->words[id] = xstrdup(w);
	m->unigram[id] = m->hsum[id] = m->hdistinct[id] = 0;
	table_find(&m->vocab, h, true)->count = id;
	return id;
}

/* Counts word id after the words before it in the sentence. */
static void count(struct model *m, long id)
{
	long u = m->sentence[0], v = m->sentence[1];
	m->unigram[id]++;
	struct entry *b = table_find(&m->bigrams, key2((uint64_t)v, (uint64_t)id), true);
	if (b->count++ == 0)
		m->hdistinct[v]++;
	m->hsum[v]++;
	if (m->have >= 2) {
		struct entry *t =
		    table_find(&m->trigrams, key3((uint64_t)u, (uint64_t)v, (uint64_t)id), true);
		struct entry *h = table_find(&m->bigrams, key2((uint64_t)u, (uint64_t)v), false);
		if (t->count++ == 0)
			h->hdistinct++;
		h->hsum++;
	}
	m->sentence[0] = v;
	m->sentence[1] = id;
	m->have++;
	if (id != END)
		m->stats->words++;
}

static void sentence_end(struct model *m)
{
	if (m->have > 1) {
		count(m, END);
		m->stats->sentences++;
	}
	m->sentence[0] = m->sentence[1] = START;
	m->have = 1;
}

/* The word in w[0..n): apostrophes at its ends dropped. */
static void word_end(struct model *m, char *w, size_t n, bool bad)
{
	while (n > 0 && w[n - 1] == '\'')
		n--;
	size_t skip = 0;
	while (skip < n && w[skip] == '\'')
		skip++;
	if (bad) {
		sentence_end(m); /* no n-gram spans a number or a foreign word */
		return;
	}
	if (n == skip)
		return;
	w[n] = '\0';
	long id = word_id(m, w + skip);
	if (id < 0)
		sentence_end(m);
	else
		count(m, id);
}

/* The kind of the character at text[i] (of len), and its length in *n. */
enum kind { LETTER, APOSTROPHE, OTHER_WORD, SPACE, NEWLINE, STOP };
static enum kind kind_at(const unsigned char *t, size_t i, size_t len, size_t *n)
{
	unsigned char c = t[i];
	*n = 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return LETTER;
	if (c == '\'')
		return APOSTROPHE;
	if (c >= '0' && c <= '9')
		return OTHER_WORD;
	if (c == '\n')
		return NEWLINE;
	if (c == '.' || c == '!' || c == '?' || c == ';' || c == ':')
		return STOP;
	if (c < 0x80)
		return SPACE;
	/* General punctuation (U+2000-U+206F: dashes, quotes, the ellipsis)
	 * separates words; U+2019 is the apostrophe. Any other character is
	 * part of a word the model does not take. */
	if (c == 0xE2 && i + 2 < len && (t[i + 1] == 0x80 || t[i + 1] == 0x81)) {
		*n = 3;
		return t[i + 1] == 0x80 && t[i + 2] == 0x99 ? APOSTROPHE : SPACE;
	}
	return OTHER_WORD;
}

static void read_text(struct model *m, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	char w[COURSE_WORD_MAX + 1];
	size_t n = 0, step = 1;
	bool bad = false, in_word = false;
	int newlines = 0;
	m->sentence[0] = m->sentence[1] = START;
	m->have = 1;
	for (size_t i = 0; i < len; i += step) {
		enum kind k = kind_at(t, i, len, &step);
		if (k == LETTER || k == APOSTROPHE || k == OTHER_WORD) {
			if (n < COURSE_WORD_MAX && k != OTHER_WORD)
				w[n++] = k == LETTER ? (char)(t[i] | 0x20) : '\'';
			else
				bad = true;
			in_word = true;
			newlines = 0;
			continue;
		}
		if (in_word)
			word_end(m, w, n, bad);
		in_word = bad = false;
		n = 0;
		if (k == STOP || (k == NEWLINE && ++newlines >= 2))
			sentence_end(m);
		if (k == STOP)
			newlines = 0;
	}
	if (in_word)
		word_end(m, w, n, bad);
	sentence_end(m);
}

/* n1 / (n1 + 2 n2) of the counts in t, kept within [0.1, 0.9]. */
static double discount(const struct table *t)
{
	long n1 = 0, n2 = 0;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->e[i].key && t->e[i].count == 1)
			n1++;
		else if (t->e[i].key && t->e[i].count == 2)
			n2++;
	}
	double d = n1 > 0 && n2 > 0 ? (double)n1 / (double)(n1 + 2 * n2) : 0.5;
	return d < 0.1 ? 0.1 : d > 0.9 ? 0.9 : d;
}

static int by_key(const void *a, const void *b)
{
	uint64_t x = ((const struct entry *)a)->key, y = ((const struct entry *)b)->key;
	return x < y ? -1 : x > y;
}

/* The table's entries in key order (lexicographic in the word ids). */
static struct entry *sorted(const struct table *t)
{
	struct entry *s = xmalloc((t->n + 1) * sizeof(*s));
	size_t k = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].key)
			s[k++] = t->e[i];
	qsort(s, k, sizeof(*s), by_key);
	return s;
}

static double log10_or_floor(double p)
{
	return p > 0 ? log10(p) : -99;
}

struct probs {
	double d2, d3, total;
};

static double p1(const struct model *m, const struct probs *p, long w)
{
	return (double)m->unigram[w] / p->total;
}

static double bow1(const struct model *m, const struct probs *p, long u)
{
	return m->hsum[u] > 0 ? p->d2 * (double)m->hdistinct[u] / (double)m->hsum[u] : 0;
}

/* P(w | v) of a seen bigram. */
static double p2(const struct model *m, const struct probs *p, long v, long w, long c)
{
	return ((double)c - p->d2) / (double)m->hsum[v] + bow1(m, p, v) * p1(m, p, w);
}

static bool write_arpa(struct model *m, FILE *f)
{
	struct probs p = {discount(&m->bigrams), discount(&m->trigrams), 0};
	for (size_t i = 1; i < m->nwords; i++)
		p.total += (double)m->unigram[i];
	uint64_t mask = (1ULL << WORD_BITS) - 1;
	fprintf(f, "\\data\\\nngram 1=%zu\nngram 2=%zu\nngram 3=%zu\n\n\\1-grams:\n", m->nwords,
	        m->bigrams.n, m->trigrams.n);
	for (size_t i = 0; i < m->nwords; i++) {
		double prob = i == START ? -99 : log10_or_floor(p1(m, &p, (long)i));
		if (m->hsum[i] > 0)
			fprintf(f, "%.6f %s %.6f\n", prob, m->words[i],
			        log10_or_floor(bow1(m, &p, (long)i)));
		else
			fprintf(f, "%.6f %s\n", prob, m->words[i]);
	}
	fprintf(f, "\n\\2-grams:\n");
	struct entry *s = sorted(&m->bigrams);
	for (size_t i = 0; i < m->bigrams.n; i++) {
		long v = (long)((s[i].key - 1) >> WORD_BITS), w = (long)((s[i].key - 1) & mask);
		double prob = log10_or_floor(p2(m, &p, v, w, s[i].count));
		if (s[i].hsum > 0)
			fprintf(f, "%.6f %s %s %.6f\n", prob, m->words[v], m->words[w],
			        log10_or_floor(p.d3 * (double)s[i].hdistinct / (double)s[i].hsum));
		else
			fprintf(f, "%.6f %s %s\n", prob, m->words[v], m->words[w]);
	}
	free(s);
	fprintf(f, "\n\\3-grams:\n");
	s = sorted(&m->trigrams);
	for (size_t i = 0; i < m->trigrams.n; i++) {
		uint64_t k = s[i].key - 1;
		long u = (long)(k >> (2 * WORD_BITS)), v = (long)((k >> WORD_BITS) & mask),
		     w = (long)(k & mask);
		const struct entry *h =
		    table_find(&m->bigrams, key2((uint64_t)u, (uint64_t)v), false);
		const struct entry *b =
		    table_find(&m->bigrams, key2((uint64_t)v, (uint64_t)w), false);
		double lower = p2(m, &p, v, w, b->count);
		double prob = ((double)s[i].count - p.d3) / (double)h->hsum +
		              p.d3 * (double)h->hdistinct / (double)h->hsum * lower;
		fprintf(f, "%.6f %s %s %s\n", log10_or_floor(prob), m->words[u], m->words[v],
		        m->words[w]);
	}
	free(s);
	fprintf(f, "\n\\end\\\n");
	return !ferror(f);
}

static bool write_dict(struct model *m, FILE *f)
{
	struct buf phones;
	buf_init(&phones);
	for (size_t i = END + 1; i < m->nwords; i++)
		if (course_pronounce(m->words[i], &phones)) {
			fprintf(f, "%s %s\n", m->words[i], phones.data);
			m->stats->pronounced++;
		}
	buf_clear(&phones);
	return !ferror(f);
}

static bool write_file(struct model *m, const char *prefix, const char *ext,
                       bool (*fn)(struct model *, FILE *))
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", prefix, ext);
	FILE *f = fopen(path, "w");
	bool ok = f && fn(m, f);
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		log_error("stt course: cannot write %s: %s", path, strerror(errno));
	return ok;
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->nwords; i++)
		free(m->words[i]);
	free(m->words);
	free(m->unigram);
	free(m->hsum);
	free(m->hdistinct);
	free(m->vocab.e);
	free(m->bigrams.e);
	free(m->trigrams.e);
}

enum err course_write(const char *text, size_t len, const char *prefix, struct course_stats *stats)
{
	*stats = (struct course_stats){0};
	struct model m = {.stats = stats};
	word_id(&m, "<s>");
	word_id(&m, "</s>");
	read_text(&m, text, len);
	stats->vocabulary = (long)m.nwords - 2;
	stats->bigrams = (long)m.bigrams.n;
	stats->trigrams = (long)m.trigrams.n;
	enum err e = ERR_OK;
	if (stats->sentences == 0)
		e = ERR_NOT_FOUND;
	else if (!write_file(&m, prefix, ".lm", write_arpa) ||
	         !write_file(&m, prefix, ".dic", write_dict))
		e = ERR_INTERNAL;
	if (e == ERR_INTERNAL)
		course_remove(prefix);
	model_free(&m);
	return e;
}

void course_remove(const char *prefix)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s.lm", prefix);
	unlink(path);
	snprintf(path, sizeof(path), "%s.dic", prefix);
	unlink(path);
}
