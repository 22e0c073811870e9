/* lectern-transcribe's "probe" (programs/transcribe.c), which the stt worker
 * runs before it hands audio to Amazon Transcribe: the audio is decoded in
 * the sandbox and measured; what is longer than the duration limit, or is
 * not audio, fails there, before Transcribe is paid for it. Runs the
 * child through extract_run as the worker does (LECTERN_EXTRACT_PROGRAM
 * says where the build's programs are). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/log.h"
#include "extract/extract.h"
#include "tap.h"
#include "testenv.h"

enum { RATE = 8000 };

static void le(FILE *f, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		fputc((int)((v >> (8 * i)) & 0xff), f);
}

/* A mono 16-bit WAV of seconds of a quiet tone at path. */
static bool wav(const char *path, long seconds)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return false;
	uint32_t data = (uint32_t)(seconds * RATE * 2);
	fputs("RIFF", f);
	le(f, 36 + data, 4);
	fputs("WAVEfmt ", f);
	le(f, 16, 4);
	le(f, 1, 2); /* PCM */
	le(f, 1, 2); /* mono */
	le(f, RATE, 4);
	le(f, RATE * 2, 4);
	le(f, 2, 2);
	le(f, 16, 2);
	fputs("data", f);
	le(f, data, 4);
	for (long i = 0; i < seconds * RATE; i++)
		le(f, (uint32_t)(i % 40 < 20 ? 300 : -300), 2);
	return fclose(f) == 0;
}

static enum err probe(const char *path, struct pool *pool, struct extract_result *r)
{
	struct extract_limits l;
	extract_limits_default(&l);
	l.max_media_seconds = 60;
	return extract_run("lectern-transcribe", "probe", path, "the audio", &l, pool, r);
}

int main(void)
{
	log_init("test", LOG_LEVEL_ERROR);
	char dir[TESTENV_PATH_MAX], path[TESTENV_PATH_MAX + 32];
	if (!testenv_tempdir(dir, sizeof(dir)))
		tap_skip_all("no temporary directory");
	struct pool *pool = pool_new();
	struct extract_result r;

	snprintf(path, sizeof(path), "%s/short.wav", dir);
	ok(wav(path, 3), "a WAV of 3 s");
	if (!is_long(probe(path, pool, &r), ERR_OK, "is measured"))
		tap_diag("error: %s", r.error);
	struct json_object *o = json_tokener_parse(r.text), *d = NULL;
	ok(json_object_object_get_ex(o, "duration", &d) && json_object_get_double(d) == 3.0,
	   "its duration: 3 s (%s)", r.text);
	ok(!json_object_object_get_ex(o, "text", NULL), "and nothing is recognised");
	json_object_put(o);

	snprintf(path, sizeof(path), "%s/long.wav", dir);
	ok(wav(path, 70), "a WAV of 70 s");
	is_long(probe(path, pool, &r), ERR_TOO_LARGE, "is over the 60 s limit");
	is_str(r.error, "the audio is longer than 60 seconds", "saying so");

	snprintf(path, sizeof(path), "%s/text.wav", dir);
	FILE *f = fopen(path, "w");
	ok(f && fputs("not audio at all, only text\n", f) >= 0 && fclose(f) == 0,
	   "text named .wav");
	is_long(probe(path, pool, &r), ERR_INVALID, "is refused");
	ok(r.error && *r.error, "with a reason (%s)", r.error ? r.error : "");

	pool_free(pool);
	testenv_remove_tree(dir);
	return tap_done();
}
