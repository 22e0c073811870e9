/* Unit tests for notes: extractive study notes from a realistic course text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "text/notes.h"
#include "tap.h"
#include "text/text.h"

/* A course chapter as the extractors hand it over: Markdown headings,
 * wrapped lines, a list, a table, abbreviations and decimals. */
static const char chapter[] =
    "# Photosynthesis and Cellular Respiration\n"
    "\n"
    "Every living cell needs a steady supply of energy. Plants capture that energy from\n"
    "sunlight, and almost every food chain on Earth depends on it.\n"
    "\n"
    "## Photosynthesis\n"
    "\n"
    "Photosynthesis is the process by which green plants convert light energy into chemical\n"
    "energy stored in glucose. Photosynthesis takes place in the chloroplast, and the\n"
    "chloroplast contains stacks of membranes called thylakoids. Chlorophyll is a green\n"
    "pigment that absorbs red and blue light. The light reactions of photosynthesis split\n"
    "water and release oxygen, e.g. the oxygen we breathe. The light reactions also produce\n"
    "ATP and NADPH for the Calvin cycle.\n"
    "\n"
    "### The Calvin cycle\n"
    "\n"
    "The Calvin cycle, also called the light-independent reactions, is a series of steps that\n"
    "fix carbon dioxide into sugar. The enzyme RuBisCO captures carbon dioxide in the Calvin\n"
    "cycle. About 0.04 percent of air is carbon dioxide, yet the Calvin cycle fixes billions\n"
    "of tonnes of carbon dioxide every year. Dr. Melvin Calvin described the cycle in the\n"
    "U.S. in the 1950s.\n"
    "\n"
    "## Cellular respiration\n"
    "\n"
    "Cellular respiration refers to the breakdown of glucose to release energy as ATP.\n"
    "Cellular respiration happens in the mitochondria of the cell. The mitochondrion is the\n"
    "organelle that produces most of the ATP of a eukaryotic cell. Glycolysis splits glucose\n"
    "into two molecules of pyruvate in the cytoplasm. Glycolysis does not need oxygen.\n"
    "\n"
    "Key stages of cellular respiration:\n"
    "\n"
    "1. Glycolysis: the splitting of glucose into pyruvate in the cytoplasm.\n"
    "2. Krebs cycle: a cycle of reactions in the mitochondria that releases carbon dioxide.\n"
    "3. Electron transport chain: a chain of proteins that uses oxygen to make most ATP.\n"
    "\n"
    "| Stage | ATP per glucose |\n"
    "|---|---|\n"
    "| Glycolysis | 2 |\n"
    "\n"
    "### Fermentation\n"
    "\n"
    "Fermentation is defined as the release of energy from glucose without oxygen.\n"
    "Yeast cells use fermentation to make ethanol, and muscle cells use fermentation to make\n"
    "lactic acid when oxygen runs short. Fermentation yields far less ATP than cellular\n"
    "respiration.\n"
    "\n"
    "## Comparing the two processes\n"
    "\n"
    "Photosynthesis stores energy in glucose, while cellular respiration releases energy\n"
    "from glucose. The oxygen released by photosynthesis is used by cellular respiration, and\n"
    "the carbon dioxide released by cellular respiration is used by photosynthesis. Together\n"
    "the two processes cycle carbon and oxygen through living things.\n";

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The text of a Markdown section ("## Name\n\n...") up to the next one, or "". */
static const char *section(struct pool *pool, const char *md, const char *name)
{
	const char *h = strstr(md, pool_printf(pool, "## %s\n\n", name));
	if (!h)
		return "";
	h += strlen(name) + 5;
	const char *end = strstr(h, "\n## ");
	return pool_strndup(pool, h, end ? (size_t)(end - h) : strlen(h));
}

/* Whether every sentence of summary is a sentence of the text (normalised). */
static bool from_text(struct pool *pool, const char *summary, const char *text)
{
	struct text_sentence *src = NULL, *sum = NULL;
	size_t ns = text_split(pool, text, strlen(text), 1000, &src);
	size_t nm = text_split(pool, summary, strlen(summary), 1000, &sum);
	if (nm == 0)
		return false;
	for (size_t i = 0; i < nm; i++) {
		bool found = false;
		for (size_t k = 0; k < ns && !found; k++)
			found = strcmp(sum[i].text, src[k].text) == 0;
		if (!found) {
			tap_diag("not from the text: %s", sum[i].text);
			return false;
		}
	}
	return true;
}

static void test_chapter(void)
{
	struct pool *pool = pool_new();
	struct notes n;
	if (!ok(notes_extract(pool, chapter, sizeof(chapter) - 1, &n) == ERR_OK,
	        "notes of a chapter"))
		return;
	if (getenv("NOTES_PRINT"))
		printf("%s\n--- summary (%zu bytes)\n%s\n", n.markdown, strlen(n.summary),
		       n.summary);
	is_str(n.generator, "extractive", "the generator is named");

	/* Sections in order, nothing else at the top level. */
	const char *s1 = strstr(n.markdown, "## Summary\n\n"),
	           *s2 = strstr(n.markdown, "## Key terms\n\n");
	const char *s3 = strstr(n.markdown, "## Outline\n\n"),
	           *s4 = strstr(n.markdown, "## Key points\n\n");
	ok(n.markdown == s1 && s1 < s2 && s2 < s3 && s3 < s4,
	   "four sections in order, from the start");

	/* Summary: a few sentences of the text, short. */
	ok(strlen(n.summary) > 40 && strlen(n.summary) <= NOTES_SUMMARY_MAX, "summary length %zu",
	   strlen(n.summary));
	ok(from_text(pool, n.summary, chapter), "summary sentences come from the text");
	ok(contains(section(pool, n.markdown, "Summary"), n.summary),
	   "the Summary section is the summary");

	/* Key terms: the chapter's subjects, in their written form, with definitions. */
	const char *terms = section(pool, n.markdown, "Key terms");
	static const char *const want_terms[] = {
	    "**photosynthesis**",  "**Calvin cycle**", "**cellular respiration**",
	    "**light reactions**", "**ATP**",          "**carbon dioxide**",
	    "**glycolysis**",      "**fermentation**", "**electron transport chain**",
	};
	for (size_t i = 0; i < sizeof(want_terms) / sizeof(want_terms[0]); i++)
		ok(contains(terms, want_terms[i]), "key term %s", want_terms[i]);
	static const char *const want_defs[] = {
	    "**photosynthesis**: the process by which green plants convert light energy into "
	    "chemical energy stored in glucose\n",
	    "**cellular respiration**: the breakdown of glucose to release energy as ATP\n",
	    "**fermentation**: the release of energy from glucose without oxygen\n",
	    "**Calvin cycle** (the light-independent reactions): a series of steps that fix carbon "
	    "dioxide into sugar\n",
	    "**glycolysis**: the splitting of glucose into pyruvate in the cytoplasm\n",
	};
	for (size_t i = 0; i < sizeof(want_defs) / sizeof(want_defs[0]); i++)
		ok(contains(terms, want_defs[i]), "definition: %.40s", want_defs[i]);
	ok(!contains(terms, "**energy**:") && !contains(terms, "**process**"),
	   "no made-up definitions, no general words");

	/* Outline: the headings, nested by level. */
	is_str(section(pool, n.markdown, "Outline"),
	       "- Photosynthesis and Cellular Respiration\n"
	       "  - Photosynthesis\n"
	       "    - The Calvin cycle\n"
	       "  - Cellular respiration\n"
	       "    - Fermentation\n"
	       "  - Comparing the two processes\n",
	       "outline follows the headings");

	/* Key points: sentences of the text, in document order, not the summary's. */
	const char *points = section(pool, n.markdown, "Key points");
	ok(*points, "key points present");
	bool ordered = true, all_from_text = true;
	const char *prev_at = chapter;
	for (const char *p = points; (p = strstr(p, "- ")) != NULL;) {
		const char *end = strchr(p, '\n');
		char *line = pool_strndup(pool, p + 2, end ? (size_t)(end - p - 2) : strlen(p + 2));
		all_from_text = all_from_text && from_text(pool, line, chapter);
		ok(!contains(n.summary, line), "key point not repeated from the summary");
		p = end ? end : p + strlen(p);
		/* The first words locate it in the text. */
		const char *at = strstr(chapter, pool_strndup(pool, line, 25));
		ordered = ordered && at && at >= prev_at;
		if (at)
			prev_at = at;
	}
	ok(all_from_text, "key points are sentences of the text");
	ok(ordered, "key points in document order");
	ok(!contains(n.markdown, "| ") && !contains(n.markdown, "ATP per glucose"),
	   "table rows are not notes");

	/* Deterministic: the same text gives the same bytes. */
	for (int run = 0; run < 3; run++) {
		struct pool *p2 = pool_new();
		struct notes again;
		if (notes_extract(p2, chapter, sizeof(chapter) - 1, &again) != ERR_OK)
			again.markdown = again.summary = "";
		ok(strcmp(again.markdown, n.markdown) == 0 && strcmp(again.summary, n.summary) == 0,
		   "run %d gives the same notes", run + 2);
		pool_free(p2);
	}
	pool_free(pool);
}

static void test_small(void)
{
	static const struct {
		const char *text;
		const char *markdown; /* NULL: only checked for the summary */
		const char *summary;
		const char *name;
	} cases[] = {
	    {"", "", "", "empty text"},
	    {"   \n\n\t ", "", "", "only white space"},
	    {"\xff\xfe\x00\x01", "", "", "only garbage bytes"},
	    {"Osmosis moves water across a membrane.",
	     "## Summary\n\nOsmosis moves water across a "
	     "membrane.\n",
	     "Osmosis moves water across a membrane.", "one sentence"},
	    {"Hi.", "## Summary\n\nHi.\n", "Hi.", "one tiny sentence"},
	    {"# Only a heading", "## Outline\n\n- Only a heading\n", "", "a heading only"},
	    {"It is. So it was.", "", "", "nothing but stop words"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pool *pool = pool_new();
		struct notes n;
		size_t len = strlen(cases[i].text);
		if (i == 2)
			len = 4;
		if (ok(notes_extract(pool, cases[i].text, len, &n) == ERR_OK, "%s",
		       cases[i].name)) {
			is_str(n.markdown, cases[i].markdown, "markdown");
			is_str(n.summary, cases[i].summary, "summary");
		}
		pool_free(pool);
	}

	/* A sentence longer than the summary's ceiling is cut at a space. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "Proteins");
	for (int i = 0; i < 120; i++)
		buf_puts(&b, " fold");
	buf_puts(&b, ".");
	struct pool *pool = pool_new();
	struct notes n;
	if (ok(notes_extract(pool, b.data, b.len, &n) == ERR_OK, "one very long sentence")) {
		ok(strlen(n.summary) <= NOTES_SUMMARY_MAX &&
		       strncmp(n.summary, "Proteins fold", 13) == 0,
		   "its summary is cut to %d bytes", NOTES_SUMMARY_MAX);
		size_t sl = strlen(n.summary);
		ok(sl >= 3 && strcmp(n.summary + sl - 3, "\xe2\x80\xa6") == 0,
		   "and ends in an ellipsis");
	}
	buf_clear(&b);
	pool_free(pool);
}

/* 100 pages of varied text (about 300 KB): finishes with bounded notes. */
static void test_large(void)
{
	static const char *const topics[] = {"enzyme",  "membrane", "protein",    "ribosome",
	                                     "nucleus", "gene",     "chromosome", "mutation",
	                                     "osmosis", "diffusion"};
	static const char *const verbs[] = {"controls", "shapes", "limits", "explains", "changes"};
	struct buf b;
	buf_init(&b);
	unsigned seed = 12345;
	for (int page = 0; page < 100; page++) {
		buf_printf(&b, "# Chapter %d\n\n## Part %d.1\n\n", page + 1, page + 1);
		for (int s = 0; s < 40; s++) {
			seed = seed * 1103515245u + 12345u;
			const char *t1 = topics[(seed >> 16) % 10], *t2 = topics[(seed >> 8) % 10];
			buf_printf(&b, "The %s %s the %s in experiment %d.%d of page %d. ", t1,
			           verbs[(seed >> 4) % 5], t2, page, s, page + 1);
			if (s % 8 == 7)
				buf_puts(&b, "\n\n");
		}
	}
	struct pool *pool = pool_new();
	struct notes n;
	if (ok(notes_extract(pool, b.data, b.len, &n) == ERR_OK, "notes of %zu bytes", b.len)) {
		ok(strlen(n.summary) <= NOTES_SUMMARY_MAX && *n.summary, "bounded summary");
		ok(strlen(n.markdown) < 32 * 1024, "bounded notes (%zu bytes)", strlen(n.markdown));
		ok(contains(n.markdown, "**enzyme**") && contains(n.markdown, "**osmosis**"),
		   "the repeated topics are key terms");
		ok(contains(n.markdown, "- Chapter 1\n  - Part 1.1\n- Chapter 2\n"),
		   "outline nests");
	}
	pool_free(pool);
	buf_clear(&b);
}

/* Counts how often needle stands in hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A line repeated on every page (a running header) appears once at most. */
static void test_repeats(void)
{
	struct pool *pool = pool_new();
	struct buf b;
	buf_init(&b);
	static const char *topics[] = {"Glaciers carve deep valleys as they slowly move downhill.",
	                               "Rivers deposit sediment where their current slows down.",
	                               "Wind erosion shapes dunes across wide desert plains.",
	                               "Coastal waves grind cliffs into sand over many centuries."};
	for (int page = 0; page < 12; page++)
		buf_printf(
		    &b, "Introduction to physical geography lecture notes for the course.\n%s\n\f",
		    topics[page % 4]);
	struct notes n;
	if (ok(notes_extract(pool, b.data, b.len, &n) == ERR_OK,
	       "notes of a text with a running header")) {
		const char *header =
		    "Introduction to physical geography lecture notes for the course.";
		ok(occurrences(n.summary, header) <= 1,
		   "the repeated line is in the summary once at most");
		ok(occurrences(n.markdown, header) <= 1,
		   "the repeated line is in the notes once at most");
		ok(occurrences(n.markdown, topics[0]) <= 1,
		   "a topic line is in the notes once at most");
	}
	buf_clear(&b);
	pool_free(pool);
}

/* The peak resident memory (KiB) of a child that takes notes of text, or -1. */
static long child_peak_kib(const char *text, size_t len, double *seconds)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct pool *pool = pool_new();
		struct notes n;
		_exit(notes_extract(pool, text, len, &n) == ERR_OK && *n.markdown ? 0 : 1);
	}
	int status = 0;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return ru.ru_maxrss;
}

#if defined(__SANITIZE_ADDRESS__)
#define NOTES_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOTES_TEST_ASAN 1
#endif
#endif

/* Regression (fuzzing, issue 19): every distinct stem and phrase became a
 * term, so 8 MiB of distinct words cost ~940 MiB. Memory now stays within
 * a small multiple of the input (more under ASan, whose redzones and
 * quarantine count too). */
static void test_distinct_words(void)
{
	struct buf b;
	buf_init(&b);
	unsigned long long v = 0;
	size_t words = 0;
	while (b.len < NOTES_INPUT_MAX - 64) {
		char w[16];
		size_t n = 0;
		unsigned long long x = v++ * 2654435761ULL % 308915776ULL; /* 26^6 */
		for (int k = 0; k < 6; k++, x /= 26)
			w[n++] = (char)((words % 12 == 0 && k == 0 ? 'A' : 'a') + x % 26);
		w[n] = '\0';
		buf_puts(&b, w);
		buf_puts(&b, ++words % 12 ? " " : ". ");
		if (words % 96 == 0)
			buf_puts(&b, "\n\n");
	}
	double secs = 0;
	long kib = child_peak_kib(b.data, b.len, &secs);
#ifdef NOTES_TEST_ASAN
	/* Shadow memory and redzones, and ASan's quarantine of freed blocks
	 * (256 MiB by default) on top. */
	long limit = (long)(b.len / 1024) * 32 + 256 * 1024;
#else
	long limit = (long)(b.len / 1024) * 16;
#endif
	ok(kib > 0 && kib < limit,
	   "notes of %zu bytes of distinct words: peak %ld KiB (< %ld), %.1f s", b.len, kib, limit,
	   secs);
	buf_clear(&b);
}

int main(void)
{
	test_chapter();
	test_small();
	test_large();
	test_repeats();
	test_distinct_words();
	return tap_done();
}
