/* Unit tests of the stt course model (fcgi/stt/course.c): the ARPA file it
 * writes is a proper back-off model (for every history the probabilities of
 * the next word add up to one), numbers and foreign words cut sentences,
 * and the lexicon says course words in the model's phones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/stt/course.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

enum { NGRAMS_MAX = 4096 };

struct ngram {
	char words[3][48];
	int n;
	double p, bow; /* log10 */
};
static struct ngram grams[NGRAMS_MAX];
static int ngrams;

static bool read_arpa(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int order = 0;
	ngrams = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "\\%d-grams:", &order) == 1 || line[0] == '\\' ||
		    line[0] == '\n' || strncmp(line, "ngram ", 6) == 0)
			continue;
		struct ngram *g = &grams[ngrams];
		char w[3][48];
		int got = 0;
		if (order == 1)
			got = sscanf(line, "%lf %47s %lf", &g->p, w[0], &g->bow);
		else if (order == 2)
			got = sscanf(line, "%lf %47s %47s %lf", &g->p, w[0], w[1], &g->bow);
		else
			got = sscanf(line, "%lf %47s %47s %47s", &g->p, w[0], w[1], w[2]);
		if (got < order + 1 || ngrams == NGRAMS_MAX - 1)
			return false;
		if (got == order + 1)
			g->bow = order < 3 ? -99 : 0;
		g->n = order;
		for (int i = 0; i < order; i++)
			memcpy(g->words[i], w[i], sizeof(w[i]));
		ngrams++;
	}
	if (f)
		fclose(f);
	return f != NULL && ngrams > 0;
}

static const struct ngram *find(int n, const char *a, const char *b, const char *c)
{
	const char *w[3] = {a, b, c};
	for (int i = 0; i < ngrams; i++) {
		if (grams[i].n != n)
			continue;
		int k = 0;
		while (k < n && strcmp(grams[i].words[k], w[k]) == 0)
			k++;
		if (k == n)
			return &grams[i];
	}
	return NULL;
}

/* P(w | h), h being n-1 words (back-off semantics of ARPA). */
static double prob(int n, const char *const *h, const char *w)
{
	if (n == 1) {
		const struct ngram *g = find(1, w, NULL, NULL);
		return g ? pow(10, g->p) : 0;
	}
	const struct ngram *g = n == 2 ? find(2, h[0], w, NULL) : find(3, h[0], h[1], w);
	if (g)
		return pow(10, g->p);
	const struct ngram *hist = n == 2 ? find(1, h[0], NULL, NULL) : find(2, h[0], h[1], NULL);
	double bow = hist ? pow(10, hist->bow) : 1;
	return bow * prob(n - 1, h + 1, w);
}

/* The sum over the vocabulary of P(w | h) for every history h of order
 * n-1 that has a back-off weight: the largest distance from one. */
static double worst_sum(int n)
{
	double worst = 0;
	for (int i = 0; i < ngrams; i++) {
		if (grams[i].n != n - 1 || grams[i].bow <= -99)
			continue;
		const char *h[2] = {grams[i].words[0], grams[i].words[1]};
		double sum = 0;
		for (int j = 0; j < ngrams; j++)
			if (grams[j].n == 1 && strcmp(grams[j].words[0], "<s>") != 0)
				sum += prob(n, h, grams[j].words[0]);
		if (fabs(sum - 1) > worst)
			worst = fabs(sum - 1);
	}
	return worst;
}

static bool dict_has(const char *path, const char *line)
{
	FILE *f = fopen(path, "r");
	char got[512];
	bool found = false;
	while (f && !found && fgets(got, sizeof(got), f))
		found = strncmp(got, line, strlen(line)) == 0 && got[strlen(line)] == '\n';
	if (f)
		fclose(f);
	return found;
}

/* The course's terms as an Amazon Transcribe vocabulary table. */
static void test_terms(const char *text)
{
	struct buf b;
	buf_init(&b);
	const char *more = "The Pyruvat cycle follows glycolysis. DNA and ATPX x2y don't "
	                   "count; nor does Pyruv\xc3\xa9s.";
	char *both = xmalloc(strlen(text) + strlen(more) + 2);
	snprintf(both, strlen(text) + strlen(more) + 2, "%s %s", text, more);
	long n = course_terms(both, strlen(both), 50000, &b);
	const char *want = "Phrase\tSoundsLike\tIPA\tDisplayAs\n"
	                   "glycolysis\t\t\tglycolysis\n";
	ok(n >= 1 && b.data && strncmp(b.data, want, strlen(want)) == 0,
	   "the most frequent term first, in lower case once written so (%ld terms)", n);
	if (b.data && strncmp(b.data, want, strlen(want)) != 0)
		tap_diag("got: %s", b.data);
	ok(b.data && strstr(b.data, "\nPyruvat\t\t\tPyruvat\n") != NULL,
	   "a name keeps its capital");
	ok(b.data && !strstr(b.data, "\ncell") && !strstr(b.data, "\nenergy"),
	   "words the lexicon has are not terms");
	ok(b.data && !strstr(b.data, "DNA") && !strstr(b.data, "ATPX") && !strstr(b.data, "x2y") &&
	       !strstr(b.data, "don") && !strstr(b.data, "Pyruv\xc3"),
	   "acronyms, words with digits, apostrophes or other letters are left out");
	size_t len = b.len;
	b.len = 0;
	is_long(course_terms(both, strlen(both), len - 1, &b), n - 1,
	        "the table stops before max bytes");
	ok(b.len <= len - 1, "and is within it (%zu bytes)", b.len);
	b.len = 0;
	is_long(course_terms("the cell and 42", 15, 50000, &b), 0, "a text without terms");
	is_long((long)b.len, 0, "writes nothing");
	buf_clear(&b);
	free(both);
}

int main(void)
{
	log_init("test", LOG_LEVEL_ERROR);
	char dir[TESTENV_PATH_MAX], prefix[TESTENV_PATH_MAX + 16], lm[TESTENV_PATH_MAX + 32],
	    dic[TESTENV_PATH_MAX + 32];
	if (!testenv_tempdir(dir, sizeof(dir)))
		tap_skip_all("no temporary directory");
	snprintf(prefix, sizeof(prefix), "%s/course", dir);
	snprintf(lm, sizeof(lm), "%s.lm", prefix);
	snprintf(dic, sizeof(dic), "%s.dic", prefix);

	const char *text =
	    "# Energy\n\nGlycolysis splits glucose. Glycolysis takes place in the "
	    "cytoplasm; the cell\nneeds energy!\n\nThe cell splits 2 molecules "
	    "\xe2\x80\x94 the cell\xe2\x80\x99s energy comes from caf\xc3\xa9 sugar.";
	struct course_stats st;
	is_long(course_write(text, strlen(text), prefix, &st), ERR_OK, "a model from the text");
	is_long(st.sentences, 7,
	        "sentences (a blank line, . ; ! and a number or foreign word "
	        "end one)");
	ok(read_arpa(lm), "the ARPA file reads back");
	ok(find(1, "glycolysis", NULL, NULL) != NULL, "a course word is in the model");
	ok(find(1, "cell's", NULL, NULL) != NULL, "U+2019 is an apostrophe");
	ok(find(1, "caf", NULL, NULL) == NULL && find(1, "2", NULL, NULL) == NULL,
	   "foreign words and numbers are left out");
	ok(find(2, "splits", "molecules", NULL) == NULL, "no n-gram spans a number");
	ok(find(3, "<s>", "glycolysis", "splits") != NULL, "trigrams from the sentence start");
	double w2 = worst_sum(2), w3 = worst_sum(3);
	ok(w2 < 1e-4, "every bigram history's probabilities add up to one (off by %g)", w2);
	ok(w3 < 1e-4, "every trigram history's too (off by %g)", w3);
	ok(dict_has(dic, "glycolysis G L AY K AA L AH S AH S") ||
	       dict_has(dic, "glycolysis G L AY K OW L AH S AH S"),
	   "glycolysis is pronounced in the model's phones");
	ok(dict_has(dic, "the DH AH"), "common words too (the child adds only missing ones)");
	course_remove(prefix);
	ok(access(lm, F_OK) != 0 && access(dic, F_OK) != 0, "course_remove removes both files");

	test_terms(text);
	is_long(course_write("1984. 42!", 9, prefix, &st), ERR_NOT_FOUND, "a text without words");
	is_long(course_write("", 0, prefix, &st), ERR_NOT_FOUND, "an empty text");
	course_remove(prefix);
	testenv_remove_tree(dir);
	return tap_done();
}
