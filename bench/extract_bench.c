/* extract_bench: extraction time and the sandboxed child's peak memory for
 * generated documents (a 1-page and a 100-page text PDF, a scanned page, a
 * PNG of text), or for a file given as "extract_bench FILE [memory_mb]".
 * Prints one line per document: median of the runs and the children's
 * largest resident set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg.h"
#include "extract/extract.h"
#include "extract_fixtures.h"
#include "core/log.h"

enum { RUNS = 5, PATH_MAX_LEN = 512 };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void bench_one(const char *label, const char *path, const struct extract_limits *l)
{
	enum extract_type t;
	if (extract_detect_file(path, &t) != ERR_OK) {
		printf("%-22s not a supported document\n", label);
		return;
	}
	double times[RUNS];
	struct extract_result r = {0};
	enum err e = ERR_OK;
	for (int i = 0; i < RUNS; i++) {
		struct pool *pool = pool_new();
		double t0 = now_s();
		e = extract_file(path, t, l, pool, &r);
		times[i] = now_s() - t0;
		long pages = r.pages, ocr = r.ocr_pages;
		size_t len = r.text_len;
		pool_free(pool);
		r.pages = pages, r.ocr_pages = ocr, r.text_len = len;
	}
	qsort(times, RUNS, sizeof(times[0]), cmp_double);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%-22s %-5s %-13s pages=%-4ld ocr=%-2ld text=%-8zu median=%7.1f ms  min=%7.1f ms  "
	       "children_peak_rss=%ld MiB\n",
	       label, extract_type_name(t), err_code(e), r.pages, r.ocr_pages, r.text_len,
	       times[RUNS / 2] * 1000, times[0] * 1000, ru.ru_maxrss / 1024);
}

int main(int argc, char **argv)
{
	log_init("extract-bench", LOG_LEVEL_WARN);
	/* Run from the build tree: lectern-extract is one directory up. */
	char program[4096];
	const char *slash = strrchr(argv[0], '/');
	if (!getenv("LECTERN_EXTRACT_PROGRAM") && slash &&
	    snprintf(program, sizeof(program), "%.*s/../lectern-extract", (int)(slash - argv[0]),
	             argv[0]) < (int)sizeof(program))
		setenv("LECTERN_EXTRACT_PROGRAM", program, 1);
	struct extract_limits l;
	extract_limits_default(&l);
	if (argc >= 2) {
		long mb;
		if (argc >= 3 && cfg_parse_long(argv[2], 16, 65536, &mb))
			l.memory_mb = mb;
		bench_one(argv[1], argv[1], &l);
		return 0;
	}
	char dir[] = "/tmp/extract-bench-XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 1;
	static const char *const lines[] = {"MITOCHONDRIA MAKE ENERGY", "Ribosomes build proteins"};
	char p1[PATH_MAX_LEN], p100[PATH_MAX_LEN], scan[PATH_MAX_LEN], png[PATH_MAX_LEN];
	snprintf(p1, sizeof(p1), "%s/one.pdf", dir);
	snprintf(p100, sizeof(p100), "%s/hundred.pdf", dir);
	snprintf(scan, sizeof(scan), "%s/scan.pdf", dir);
	snprintf(png, sizeof(png), "%s/text.png", dir);
	if (!fx_pdf_text(p1, 1) || !fx_pdf_text(p100, 100) || !fx_pdf_scanned(scan, lines, 2) ||
	    !fx_image_text(png, lines, 2, false))
		return 1;
	bench_one("1-page text PDF", p1, &l);
	bench_one("100-page text PDF", p100, &l);
	bench_one("scanned page PDF", scan, &l);
	bench_one("PNG of text", png, &l);
	unlink(p1);
	unlink(p100);
	unlink(scan);
	unlink(png);
	rmdir(dir);
	return 0;
}
