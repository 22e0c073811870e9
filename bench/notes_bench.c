/* notes_bench: time of the extractive notes for a document of N pages.
 *   notes_bench [PAGES [RUNS]]     a generated course text, about 3 KB a page
 *   notes_bench -f FILE [RUNS]     a text file (what the extractors produce)
 *   notes_bench -p PAGES [RUNS]    the generated text set as a PDF of PAGES
 *                                  pages, read by lectern-extract (the
 *                                  sandboxed child) and then made into notes
 * Prints the input size, the sentences and the best and mean time per run
 * (with -p, extraction and notes apart and together). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "extract/extract.h"
#include "text/notes.h"
#include "text/text.h"

enum {
	BENCH_FILE_MAX = 64 * 1024 * 1024,
	BENCH_PAGE_WORDS = 480,
	BENCH_VOCABULARY = 3000,
	BENCH_LINE_CHARS = 95, /* characters of a PDF line */
	BENCH_PAGE_LINES = 62  /* lines of a PDF page at 10 pt */
};

static unsigned long long bench_rand(unsigned long long *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Pseudo-words from syllables, drawn with a Zipf-like skew as in real text,
 * mixed with English function words; headings every few pages. */
static void generate(struct buf *b, long pages)
{
	static const char *const syl[] = {
	    "pro", "te", "in", "mem",  "bra", "ne", "cel", "lu",  "lar", "en", "zy",  "me", "gen",
	    "o",   "mi", "to", "chon", "dri", "a",  "syn", "the", "sis", "re", "spi", "ra", "tion"};
	static const char *const glue[] = {"the", "of",   "and", "in",   "is",    "a",
	                                   "to",  "that", "by",  "with", "which", "from",
	                                   "as",  "are",  "for", "this"};
	static char words[BENCH_VOCABULARY][32];
	unsigned long long seed = 42;
	for (int i = 0; i < BENCH_VOCABULARY; i++) {
		int n = 2 + (int)(bench_rand(&seed) % 3);
		words[i][0] = '\0';
		for (int k = 0; k < n; k++)
			strncat(words[i], syl[bench_rand(&seed) % 26],
			        sizeof(words[i]) - strlen(words[i]) - 1);
	}
	for (long p = 0; p < pages; p++) {
		if (p % 5 == 0)
			buf_printf(b, "# Chapter %ld\n\n", p / 5 + 1);
		buf_printf(b, "## Section %ld.%ld\n\n", p / 5 + 1, p % 5 + 1);
		long w = 0, in_sentence = 0;
		while (w < BENCH_PAGE_WORDS) {
			unsigned long long r = bench_rand(&seed);
			const char *word = (r % 3 == 0)
			                       ? glue[r % 16]
			                       : words[(r % BENCH_VOCABULARY) *
			                               (r % BENCH_VOCABULARY) / BENCH_VOCABULARY];
			if (in_sentence == 0) {
				char cap[32];
				snprintf(cap, sizeof(cap), "%s", word);
				cap[0] = (char)(cap[0] - 32 * (cap[0] >= 'a' && cap[0] <= 'z'));
				buf_puts(b, cap);
			} else {
				buf_printf(b, " %s", word);
			}
			w++;
			if (++in_sentence >= 12 + (long)(r % 14)) {
				buf_puts(b, (r % 7 == 0) ? ".\n\n" : (r % 5 == 0) ? ".\n" : ". ");
				in_sentence = 0;
			}
		}
		buf_puts(b, ".\n\n");
	}
}

static double now_ms(void);

/* Sets text (generated, one source page per PDF page or more) as a PDF:
 * "#" lines at 16 pt, "##" at 13 pt, paragraphs wrapped at 10 pt. */
static bool write_pdf(const char *path, const char *text)
{
	cairo_surface_t *s = cairo_pdf_surface_create(path, 595, 842);
	cairo_t *cr = cairo_create(s);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	int line = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		double size = 10;
		size_t skip = 0;
		if (n > 3 && memcmp(p, "## ", 3) == 0)
			size = 13, skip = 3;
		else if (n > 2 && memcmp(p, "# ", 2) == 0)
			size = 16, skip = 2;
		if (skip == 3 && line > 0) { /* each section of the text starts a page */
			cairo_show_page(cr);
			line = 0;
		}
		for (size_t at = skip; at < n;) {
			size_t take = n - at;
			if (take > BENCH_LINE_CHARS) {
				take = BENCH_LINE_CHARS;
				while (take > 1 && p[at + take] != ' ')
					take--;
			}
			char buf[BENCH_LINE_CHARS + 1];
			memcpy(buf, p + at, take);
			buf[take] = '\0';
			if (line >= BENCH_PAGE_LINES) {
				cairo_show_page(cr);
				line = 0;
			}
			cairo_set_font_size(cr, size);
			cairo_move_to(cr, 50, 60 + 12.0 * line++);
			cairo_show_text(cr, buf);
			at += take;
			while (at < n && p[at] == ' ')
				at++;
		}
		p = nl ? nl + 1 : p + n;
	}
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	bool good = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	return good;
}

/* -p: extraction by the sandboxed child, then notes, timed apart. */
static int bench_pdf(const char *text, long pages, long runs)
{
	char path[] = "/tmp/lectern-notes-bench-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || close(fd) != 0 || !write_pdf(path, text)) {
		fprintf(stderr, "notes_bench: cannot write the PDF\n");
		return 1;
	}
	struct extract_limits l;
	extract_limits_default(&l);
	double best = 1e18, total = 0, best_x = 1e18, best_n = 1e18;
	long got_pages = 0;
	size_t text_len = 0, md_len = 0;
	for (long r = 0; r < runs; r++) {
		struct pool *pool = pool_new();
		struct extract_result x;
		struct notes n;
		double t0 = now_ms();
		if (extract_file(path, EXTRACT_TYPE_PDF, &l, pool, &x) != ERR_OK) {
			fprintf(stderr, "notes_bench: extraction failed: %s\n", x.error);
			unlink(path);
			return 1;
		}
		double t1 = now_ms();
		if (notes_extract(pool, x.text, x.text_len, &n) != ERR_OK) {
			unlink(path);
			return 1;
		}
		double t2 = now_ms();
		got_pages = x.pages, text_len = x.text_len, md_len = strlen(n.markdown);
		best_x = t1 - t0 < best_x ? t1 - t0 : best_x;
		best_n = t2 - t1 < best_n ? t2 - t1 : best_n;
		best = t2 - t0 < best ? t2 - t0 : best;
		total += t2 - t0;
		pool_free(pool);
	}
	unlink(path);
	printf("PDF of %ld pages (from %ld generated), %zu bytes of text, notes %zu bytes: "
	       "extraction best %.1f ms, notes best %.1f ms, together best %.1f ms, mean %.1f ms "
	       "over %ld runs\n",
	       got_pages, pages, text_len, md_len, best_x, best_n, best, total / (double)runs,
	       runs);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct buf text;
	buf_init(&text);
	long pages = 100, runs = 5;
	int at = 1;
	bool pdf = false;
	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		if (!cfg_parse_long(argv[2], 1, 10000, &pages)) {
			fprintf(stderr, "PAGES must be 1-10000\n");
			return 2;
		}
		pdf = true;
		at = 3;
	} else if (argc > 2 && strcmp(argv[1], "-f") == 0) {
		FILE *f = fopen(argv[2], "rb");
		if (!f) {
			perror(argv[2]);
			return 1;
		}
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && text.len < BENCH_FILE_MAX)
			buf_append(&text, chunk, n);
		fclose(f);
		at = 3;
	} else if (argc > 1) {
		if (!cfg_parse_long(argv[1], 1, 100000, &pages)) {
			fprintf(stderr, "usage: notes_bench [PAGES [RUNS]] | -f FILE [RUNS]\n");
			return 2;
		}
		at = 2;
	}
	if (argc > at && !cfg_parse_long(argv[at], 1, 1000, &runs)) {
		fprintf(stderr, "RUNS must be 1-1000\n");
		return 2;
	}
	if (at != 3 || pdf)
		generate(&text, pages);
	if (pdf) {
		log_init("notes_bench", LOG_LEVEL_WARN);
		int rc = bench_pdf(text.data, pages, runs);
		buf_clear(&text);
		return rc;
	}

	struct pool *p = pool_new();
	struct text_sentence *s = NULL;
	size_t ns = text_split(p, text.data, text.len, NOTES_SENTENCES_MAX, &s);
	pool_free(p);

	double best = 1e18, total = 0;
	size_t md_len = 0;
	for (long r = 0; r < runs; r++) {
		struct pool *pool = pool_new();
		struct notes n;
		double t0 = now_ms();
		if (notes_extract(pool, text.data, text.len, &n) != ERR_OK)
			return 1;
		double dt = now_ms() - t0;
		md_len = strlen(n.markdown);
		best = dt < best ? dt : best;
		total += dt;
		pool_free(pool);
	}
	printf("input %zu bytes (%s%ld pages), %zu sentences (ceiling %d), notes %zu bytes: "
	       "best %.1f ms, mean %.1f ms over %ld runs\n",
	       text.len, at == 3 ? "file, " : "", at == 3 ? 0L : pages, ns, NOTES_SENTENCES_MAX,
	       md_len, best, total / (double)runs, runs);
	buf_clear(&text);
	return 0;
}
