/* stt_bench: transcribes audio files as the stt worker does (the sandboxed
 * lectern-transcribe, default limits) and prints, for each, one line
 * "FILE seconds=S wall=W rtf=R words=N" followed by the answer's text;
 * with -j the whole JSON answer instead. With -c TEXT WEIGHT the
 * recogniser is tuned to the course in the file TEXT as the worker tunes it
 * to a learner's documents (fcgi/stt/course.h), WEIGHT (0-1) being the
 * course model's share. bench/stt drives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../fcgi/stt/course.h"
#include "core/mem.h"
#include "extract/extract.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The course model of the text in file into files at prefix. */
static bool course(const char *file, char *prefix, size_t cap)
{
	FILE *f = fopen(file, "rb");
	struct buf text;
	buf_init(&text);
	char chunk[65536];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&text, chunk, n);
	if (f)
		fclose(f);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(prefix, cap, "%s/lectern-bench-course-XXXXXX", tmp);
	int fd = mkstemp(prefix);
	if (fd >= 0)
		close(fd);
	struct course_stats st;
	bool ok = f && fd >= 0 && course_write(text.data, text.len, prefix, &st) == ERR_OK;
	if (fd >= 0)
		unlink(prefix);
	if (ok)
		fprintf(stderr,
		        "course: %ld sentences, %ld words, %ld distinct, %ld pronounced, %ld "
		        "trigrams\n",
		        st.sentences, st.words, st.vocabulary, st.pronounced, st.trigrams);
	buf_clear(&text);
	return ok;
}

int main(int argc, char **argv)
{
	int first = 1;
	bool json = argc > first && strcmp(argv[first], "-j") == 0;
	if (json)
		first++;
	char prefix[4096];
	const char *arg = "en-US";
	bool tuned = false;
	if (argc > first + 2 && strcmp(argv[first], "-c") == 0) {
		if (!course(argv[first + 1], prefix, sizeof(prefix))) {
			fprintf(stderr, "stt_bench: no course model from %s\n", argv[first + 1]);
			return 2;
		}
		static char buf[4200];
		snprintf(buf, sizeof(buf), "en-US %s %s", argv[first + 2], prefix);
		arg = buf;
		tuned = true;
		first += 3;
	}
	struct extract_limits l;
	extract_limits_default(&l);
	l.cpu_seconds = 3600;
	l.wall_ms = 3600000;
	int status = 0;
	for (int i = first; i < argc; i++) {
		struct pool *pool = pool_new();
		struct extract_result r;
		double t0 = now_s();
		enum err e =
		    extract_run("lectern-transcribe", arg, argv[i], "the audio", &l, pool, &r);
		double wall = now_s() - t0;
		if (e != ERR_OK) {
			printf("%s error=%s: %s\n", argv[i], err_message(e), r.error);
			status = 1;
		} else if (json) {
			printf("%s\n", r.text);
		} else {
			struct json_object *o = json_tokener_parse(r.text), *d = NULL, *t = NULL,
			                   *w = NULL;
			json_object_object_get_ex(o, "duration", &d);
			json_object_object_get_ex(o, "text", &t);
			json_object_object_get_ex(o, "words", &w);
			double secs = json_object_get_double(d);
			printf("%s seconds=%.2f wall=%.2f rtf=%.3f words=%zu\n%s\n", argv[i], secs,
			       wall, secs > 0 ? wall / secs : 0,
			       w ? json_object_array_length(w) : 0, json_object_get_string(t));
			json_object_put(o);
		}
		pool_free(pool);
	}
	if (tuned)
		course_remove(prefix);
	return status;
}
