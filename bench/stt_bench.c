/* stt_bench: transcribes audio files as the stt worker does (the sandboxed
 * lectern-transcribe, default limits) and prints, for each, one line
 * "FILE seconds=S wall=W rtf=R words=N" followed by the answer's text;
 * with -j the whole JSON answer instead. bench/stt drives it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/mem.h"
#include "extract/extract.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	bool json = argc > 1 && strcmp(argv[1], "-j") == 0;
	struct extract_limits l;
	extract_limits_default(&l);
	l.cpu_seconds = 3600;
	l.wall_ms = 3600000;
	int status = 0;
	for (int i = json ? 2 : 1; i < argc; i++) {
		struct pool *pool = pool_new();
		struct extract_result r;
		double t0 = now_s();
		enum err e =
		    extract_run("lectern-transcribe", "en-US", argv[i], "the audio", &l, pool, &r);
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
	return status;
}
