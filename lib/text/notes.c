/* notes: extractive study notes from the document model (TextRank summary,
 * RAKE key phrases with definitions, outline, key points by section). */
#include "text/notes.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/strtab.h"
#include "text/doc.h"
#include "text/phrases.h"
#include "text/text.h"

enum {
	NOTES_CANDIDATE_WORDS_MIN = 6, /* words of a sentence fit for the summary */
	NOTES_CANDIDATE_WORDS_MAX = 60,
	NOTES_SUMMARY_SCAN = 10, /* ranked sentences tried for the plain summary */
	/* Distinct stems counted at most: a fixed budget, so that a text of
	 * nothing but distinct words costs a bounded table; words past it are
	 * left out of the similarity graph. */
	NOTES_TERMS_TRACKED_MAX = 64 * 1024
};

#define NOTES_DAMPING 0.85
#define NOTES_CONVERGED 1e-5

/* ---- the document, sentence by sentence ---- */

struct node {
	size_t sentence; /* index into the sentences */
	int *set;        /* sorted distinct ids of its content words */
	size_t nset;
	size_t words; /* all its words */
	double score;
	bool candidate; /* fit for the summary */
};

struct state {
	struct pool *scratch;
	struct text_stemmer *stemmer;
	struct doc model;
	struct doc_sentence *s;
	size_t ns;
	struct strtab terms; /* stems, numbered for the similarity graph */
	struct node *nodes;
	size_t nnodes;
};

static bool has_letter(const char *lower)
{
	for (; *lower; lower++)
		if (!(*lower >= '0' && *lower <= '9') && *lower != '.' && *lower != ',')
			return true;
	return false;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Sentence i becomes a node of the graph: the set of its content stems. */
static void read_sentence(struct state *d, size_t i)
{
	const struct doc_sentence *s = &d->s[i];
	struct pool *tmp = pool_new(); /* words and stems live only while it is read */
	struct text_word *w = NULL;
	size_t nw = text_words(tmp, s->text, s->len, NOTES_SENTENCE_WORDS_MAX, &w);
	int *set = pool_alloc(tmp, (nw ? nw : 1) * sizeof(*set));
	size_t nset = 0;
	for (size_t k = 0; k < nw; k++) {
		if (text_is_stop_word(w[k].lower) || !has_letter(w[k].lower))
			continue;
		char stem[TEXT_WORD_MAX + 1];
		text_stem(d->stemmer, w[k].lower, strlen(w[k].lower), stem, sizeof(stem));
		bool added;
		size_t id = strtab_add(&d->terms, d->scratch, stem, &added);
		if (id != STRTAB_NONE)
			set[nset++] = (int)id;
	}
	if (nset > 0) {
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
		n->candidate = nw >= NOTES_CANDIDATE_WORDS_MIN && nw <= NOTES_CANDIDATE_WORDS_MAX &&
		               !s->lead_in && !s->question;
	}
	pool_free(tmp);
}

/* ---- ranking ---- */

/* TextRank over at most NOTES_RANK_MAX nodes, chosen evenly through the text. */
static void rank(struct state *d)
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
	/* Each edge once, in compressed rows of node i's neighbours j > i: the
	 * graph can be nearly complete (every sentence shares a word with every
	 * other), and one copy of it is 12 bytes an edge. Made in (i, j) order,
	 * so every node's sums below add their terms in neighbour order. */
	size_t *row = xcalloc(n + 1, sizeof(*row));
	uint32_t *col = NULL;
	double *wt = NULL, *out = xcalloc(n, sizeof(*out));
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
				/* Doubling, but never past a complete graph's n(n-1)/2. */
				cap = cap ? cap * 2 : 4096;
				if (cap > n * (n - 1) / 2)
					cap = n * (n - 1) / 2;
				col = xrealloc(col, cap * sizeof(*col));
				wt = xrealloc(wt, cap * sizeof(*wt));
			}
			double w = (double)o / (norm[i] + norm[j]);
			col[ne] = (uint32_t)j, wt[ne++] = w;
			out[i] += w, out[j] += w;
		}
		row[i + 1] = ne;
	}
	double *score = xmalloc(n * sizeof(*score)), *next = xmalloc(n * sizeof(*next));
	double *sum = xmalloc(n * sizeof(*sum));
	for (size_t i = 0; i < n; i++)
		score[i] = 1.0;
	for (int round = 0; round < NOTES_RANK_ROUNDS_MAX; round++) {
		for (size_t i = 0; i < n; i++)
			sum[i] = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t e = row[i]; e < row[i + 1]; e++) {
				uint32_t j = col[e];
				sum[i] += wt[e] / out[j] * score[j];
				sum[j] += wt[e] / out[i] * score[i];
			}
		double change = 0;
		for (size_t i = 0; i < n; i++) {
			next[i] = (1.0 - NOTES_DAMPING) + NOTES_DAMPING * sum[i];
			change = fmax(change, fabs(next[i] - score[i]));
		}
		double *swap = score;
		score = next, next = swap;
		if (change < NOTES_CONVERGED)
			break;
	}
	for (size_t i = 0; i < n; i++)
		d->nodes[i].score = score[i];
	free(mark), free(norm), free(row), free(col), free(wt), free(out);
	free(score), free(next), free(sum);
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

/* Drops ranked sentences whose text repeats a better-ranked one (running
 * headers and footers of PDFs repeat on every page), keeping the order. */
static size_t drop_repeats(const struct state *d, struct node **ranked, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct doc_sentence *s = &d->s[ranked[i]->sentence];
		bool repeat = false;
		for (size_t k = 0; k < kept && !repeat; k++) {
			const struct doc_sentence *t = &d->s[ranked[k]->sentence];
			repeat = t->len == s->len && memcmp(t->text, s->text, s->len) == 0;
		}
		if (!repeat)
			ranked[kept++] = ranked[i];
	}
	return kept;
}

/* The plain summary: the best sentences that fit, in document order. */
static const char *make_summary(struct pool *pool, struct state *d, struct node **ranked,
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
		const struct doc_sentence *s = &d->s[ranked[0]->sentence];
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

/* The outline: every heading in order, nested by level. */
static void put_outline(struct buf *md, const struct doc *m)
{
	int stack[DOC_HEADING_LEVEL_MAX + 1];
	size_t depth = 0, shown = 0;
	for (size_t i = 0; i < m->count && shown < NOTES_OUTLINE_MAX; i++) {
		const struct doc_block *h = &m->blocks[i];
		if (h->kind != DOC_HEADING)
			continue;
		while (depth > 0 && stack[depth - 1] >= h->level)
			depth--;
		if (!shown)
			buf_puts(md, "## Outline\n\n");
		for (size_t k = 0; k < depth; k++)
			buf_puts(md, "  ");
		size_t len = h->len;
		if (len > NOTES_HEADING_MAX) {
			len = NOTES_HEADING_MAX;
			while (len && ((unsigned char)h->text[len] & 0xc0) == 0x80)
				len--;
		}
		buf_printf(md, "- %.*s\n", (int)len, h->text);
		if (depth < DOC_HEADING_LEVEL_MAX)
			stack[depth++] = h->level;
		shown++;
	}
	if (shown)
		buf_putc(md, '\n');
}

static int cmp_phrase_first(const void *a, const void *b)
{
	const struct phrase *x = a, *y = b;
	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Key terms in the order the text introduces them, with their definitions. */
static void put_terms(struct buf *md, struct phrase *p, size_t n)
{
	if (!n)
		return;
	qsort(p, n, sizeof(*p), cmp_phrase_first);
	buf_puts(md, "## Key terms\n\n");
	for (size_t i = 0; i < n; i++) {
		buf_printf(md, "- **%s", p[i].text);
		buf_puts(md, "**");
		if (p[i].alias)
			buf_printf(md, " (%s)", p[i].alias);
		if (p[i].definition)
			buf_printf(md, ": %s", p[i].definition);
		buf_putc(md, '\n');
	}
	buf_putc(md, '\n');
}

/* Key points in document order, under the title of their section. */
static void put_points(struct buf *md, const struct state *d, struct node **points, size_t n)
{
	if (!n)
		return;
	buf_puts(md, "## Key points\n\n");
	long section = -2;
	for (size_t i = 0; i < n; i++) {
		const struct doc_sentence *s = &d->s[points[i]->sentence];
		if (s->section != section && s->section >= 0) {
			const struct doc_block *h = &d->model.blocks[s->section];
			size_t len = h->len > NOTES_HEADING_MAX ? NOTES_HEADING_MAX : h->len;
			while (len < h->len && len && ((unsigned char)h->text[len] & 0xc0) == 0x80)
				len--;
			buf_printf(md, "%s### %.*s\n\n", i ? "\n" : "", (int)len, h->text);
		}
		section = s->section;
		buf_printf(md, "- %s\n", s->text);
	}
	buf_putc(md, '\n');
}

enum err notes_extract(struct pool *pool, const char *text, size_t len, struct notes *out)
{
	enum err e = ERR_OK;
	struct state d = {.scratch = pool_new()};
	strtab_init(&d.terms, NOTES_TERMS_TRACKED_MAX);
	out->markdown = "";
	out->summary = "";
	out->generator = "extractive";
	if (len > NOTES_INPUT_MAX)
		len = NOTES_INPUT_MAX;
	e = text_stemmer_new(&d.stemmer);
	if (e)
		goto out;
	doc_parse(d.scratch, text, len, &d.model);
	d.ns = doc_sentences(d.scratch, &d.model, NOTES_SENTENCES_MAX, &d.s);
	d.nodes = pool_alloc(d.scratch, (d.ns + 1) * sizeof(*d.nodes));
	for (size_t i = 0; i < d.ns; i++)
		read_sentence(&d, i);
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

	struct phrase *terms = NULL;
	size_t nt = 0;
	e = phrases_extract(d.scratch, &d.model, d.s, d.ns, NOTES_TERMS_MAX, &terms, &nt);
	if (e)
		goto out;

	struct buf md;
	buf_init(&md);
	if (*out->summary)
		buf_printf(&md, "## Summary\n\n%s\n\n", out->summary);
	put_terms(&md, terms, nt);
	put_outline(&md, &d.model);

	/* Key points: the next best sentences, about one in six, in document order. */
	size_t want = nr / 6;
	want = want < 2 ? 2 : want > NOTES_KEY_POINTS_MAX ? NOTES_KEY_POINTS_MAX : want;
	struct node **points = pool_alloc(d.scratch, (want + 1) * sizeof(*points));
	size_t np = 0;
	for (size_t i = 0; i < nr && np < want; i++)
		if (!used[ranked[i]->sentence] && ranked[i]->candidate)
			points[np++] = ranked[i];
	qsort(points, np, sizeof(*points), cmp_position);
	put_points(&md, &d, points, np);
	while (md.len && md.data[md.len - 1] == '\n') /* one newline at the end */
		md.data[--md.len] = '\0';
	out->markdown = md.len ? pool_printf(pool, "%s\n", md.data) : "";
	buf_clear(&md);
out:
	text_stemmer_free(d.stemmer);
	strtab_free(&d.terms);
	pool_free(d.scratch);
	return e;
}
