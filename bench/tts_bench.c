/* tts_bench: the library's side of a synthesis, without the service: for
 * each voice and format, RUNS syntheses of a 1000-character text into a
 * temporary file, and the median of
 *   - the real-time factor by the wall clock (what a client sees on an
 *     idle machine; a loaded one stretches it),
 *   - the real-time factor by CPU time (the engine child's and the
 *     encoder's, from getrusage: the same on a busy machine), split into
 *     the child (speech) and the parent (encoding).
 * bench/tts prints it next to its figures through nginx.
 *   tts_bench [RUNS] [VOICE]   (VOICE: only that one) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "speech/tts.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

enum { RUNS_MAX = 50 };

int main(int argc, char **argv)
{
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	if (runs < 1 || runs > RUNS_MAX)
		runs = 5;
	if (tts_voices_init() != ERR_OK) {
		fprintf(stderr, "tts_bench: no voices\n");
		return 1;
	}
	static const char sentence[] =
	    "The theory of plate tectonics explains how the outer shell of the planet moves. ";
	char text[1001] = "";
	size_t len = 0;
	while (len + sizeof(sentence) - 1 < sizeof(text)) {
		memcpy(text + len, sentence, sizeof(sentence) - 1);
		len += sizeof(sentence) - 1;
	}
	text[len] = '\0';
	struct tts_limits l = {600, 600000, 1024, 3600};
	static const char *const voices[] = {"Joanna", "kal16", "Brian"};
	printf("%-8s %-4s %8s %9s %9s %9s %9s\n", "voice", "fmt", "audio s", "RTF wall", "RTF cpu",
	       "child s", "encode s");
	for (size_t v = 0; v < sizeof(voices) / sizeof(*voices); v++) {
		if (argc > 2 && strcmp(argv[2], voices[v]) != 0)
			continue;
		for (int f = TTS_MP3; f <= TTS_OGG; f++) {
			double wall[RUNS_MAX], cpu[RUNS_MAX], child[RUNS_MAX], enc[RUNS_MAX];
			double audio = 0;
			for (int i = 0; i < runs; i++) {
				struct pool *pool = pool_new();
				struct tts_script s;
				tts_script_plain(pool, text, &s);
				FILE *out = tmpfile();
				struct tts_result r;
				double w0 = now_s(), c0 = cpu_s(RUSAGE_CHILDREN),
				       p0 = cpu_s(RUSAGE_SELF);
				enum err e = tts_synthesize(tts_voice_find(voices[v]), &s, 1.0,
				                            (enum tts_format)f, &l, out, NULL, &r);
				double w = now_s() - w0, c = cpu_s(RUSAGE_CHILDREN) - c0,
				       p = cpu_s(RUSAGE_SELF) - p0;
				fclose(out);
				pool_free(pool);
				if (e != ERR_OK) {
					fprintf(stderr, "tts_bench: %s %s: %s\n", voices[v],
					        tts_format_name((enum tts_format)f),
					        err_message(e));
					return 1;
				}
				audio = (double)r.duration_ms / 1000;
				wall[i] = audio / w;
				cpu[i] = audio / (c + p);
				child[i] = c;
				enc[i] = p;
			}
			printf("%-8s %-4s %8.1f %8.0fx %8.0fx %9.3f %9.3f\n", voices[v],
			       tts_format_name((enum tts_format)f), audio, median(wall, runs),
			       median(cpu, runs), median(child, runs), median(enc, runs));
		}
	}
	return 0;
}
