/* quiz_bench: time of an extractive quiz from a text file, and the quiz.
 *   quiz_bench FILE [QUESTIONS [RUNS [DIFFICULTY [SEED]]]]
 * FILE is text as the extractors produce it (several files can be joined
 * beforehand to make a long document). Prints the best and mean time per
 * run (wall clock, and the best CPU time), then the questions of the last run with their answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cfg.h"
#include "core/mem.h"
#include "text/quiz.h"

enum { BENCH_FILE_MAX = 64 * 1024 * 1024 };

static double now_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int usage(void)
{
	fprintf(stderr, "usage: quiz_bench FILE [QUESTIONS [RUNS [easy|medium|hard [SEED]]]]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	long count = 20, runs = 5;
	if ((argc > 2 && !cfg_parse_long(argv[2], 1, QUIZ_QUESTIONS_MAX, &count)) ||
	    (argc > 3 && !cfg_parse_long(argv[3], 1, 1000, &runs)))
		return usage();
	enum quiz_difficulty d = QUIZ_MEDIUM;
	if (argc > 4)
		d = strcmp(argv[4], "easy") == 0   ? QUIZ_EASY
		    : strcmp(argv[4], "hard") == 0 ? QUIZ_HARD
		                                   : QUIZ_MEDIUM;
	const char *seed = argc > 5 ? argv[5] : "00000000-0000-4000-8000-000000000001";
	struct buf text;
	buf_init(&text);
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && text.len < BENCH_FILE_MAX)
		buf_append(&text, chunk, n);
	fclose(f);

	double best = 1e18, total = 0, cpu_best = 1e18;
	struct pool *pool = NULL;
	struct quiz_question *q = NULL;
	size_t got = 0;
	enum err e = ERR_OK;
	struct quiz_request req = {(size_t)count, d, 0, seed};
	for (long r = 0; r < runs; r++) {
		pool_free(pool);
		pool = pool_new();
		double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
		e = quiz_generate(pool, text.data, text.len, 1, &req, &q, &got);
		double dt = now_ms(CLOCK_MONOTONIC) - t0,
		       dc = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
		cpu_best = dc < cpu_best ? dc : cpu_best;
		best = dt < best ? dt : best;
		total += dt;
	}
	printf("input %zu bytes, %ld questions asked, %zu made (%s): best %.1f ms (CPU %.1f ms), "
	       "mean %.1f ms over %ld runs\n",
	       text.len, count, got, e == ERR_OK ? "ok" : "fewer than asked", best, cpu_best,
	       total / (double)runs, runs);
	for (size_t i = 0; i < got; i++) {
		printf("\n%zu. [%s] %s\n", i + 1, quiz_type_name(q[i].type), q[i].question);
		for (int k = 0; k < q[i].noptions; k++)
			printf("   %c %s\n", k == q[i].correct ? '*' : '-', q[i].options[k]);
		if (q[i].type == QUIZ_SHORT_ANSWER)
			printf("   answer: %s\n", q[i].answer);
		printf("   from: %s\n", q[i].explanation);
	}
	pool_free(pool);
	buf_clear(&text);
	return 0;
}
