/* Unit tests of the stt worker's Amazon Transcribe engine (fcgi/stt/amazon.c)
 * against t/transcribe-peer.py, which checks every SigV4 signature with
 * botocore, keeps a small S3 bucket and answers Transcribe's documented
 * batch calls. Needs LECTERN_TEST_AWS_ENDPOINT (t/integration/transcribe.t
 * sets it and the AWS_* keys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../fcgi/stt/amazon.h"
#include "core/log.h"
#include "tap.h"

static struct amazon_settings a;

static void put(const char *key, const char *data)
{
	struct store_info info;
	if (!ok(store_put_buf(a.store, key, "audio/wav", data, strlen(data), &info) == ERR_OK,
	        "the audio %s is in the bucket", key))
		tap_diag("the S3 part of the peer refused it");
}

static struct json_object *get(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;
	json_object_object_get_ex(o, name, &v);
	return v;
}

/* The table course_terms writes for a course that says "glycolysis". */
static const char vocabulary[] = "Phrase\tSoundsLike\tIPA\tDisplayAs\n"
                                 "glycolysis\t\t\tglycolysis\n";

static enum err run_with(const char *id, const char *key, const char *format, const char *terms,
                         double duration, struct pool *pool, struct extract_result *r)
{
	struct amazon_job job = {id, key, format, "en-US", terms, duration, false};
	return amazon_transcribe(&a, &job, pool, r);
}

static enum err run(const char *id, const char *key, const char *format, struct pool *pool,
                    struct extract_result *r)
{
	return run_with(id, key, format, NULL, -1, pool, r);
}

/* The names of the vocabularies Transcribe holds, comma separated. */
static const char *vocabularies(struct pool *pool)
{
	struct aws_json_request q = {.service = "transcribe",
	                             .method = "POST",
	                             .path = "/",
	                             .target = "Transcribe.ListVocabularies",
	                             .body = "{}"};
	struct json_object *answer = NULL, *list = NULL;
	if (aws_json_call(a.aws, &q, pool, &answer) != ERR_OK ||
	    !json_object_object_get_ex(answer, "Vocabularies", &list))
		return "(no answer)";
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *name = NULL;
		json_object_object_get_ex(json_object_array_get_idx(list, i), "VocabularyName",
		                          &name);
		buf_printf(&b, "%s%s", i ? "," : "", json_object_get_string(name));
	}
	const char *out = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return out;
}

static enum err sink(void *arg, const void *data, size_t len)
{
	(void)arg, (void)data, (void)len;
	return ERR_OK;
}

/* True when Transcribe holds the job "lectern-ID". */
static bool job_held(const char *id, struct pool *pool)
{
	struct aws_json_request q = {
	    .service = "transcribe",
	    .method = "POST",
	    .path = "/",
	    .target = "Transcribe.GetTranscriptionJob",
	    .body = pool_printf(pool, "{\"TranscriptionJobName\": \"lectern-%s\"}", id)};
	struct json_object *answer = NULL;
	return aws_json_call(a.aws, &q, pool, &answer) == ERR_OK;
}

static void test_labelled(void)
{
	struct pool *pool = pool_new();
	struct extract_result r;
	put("stt/u1/t1/audio", "RIFF....WAVE");
	a.speakers = 2;
	if (!is_long(run_with("t1", "stt/u1/t1/audio", "wav", vocabulary, -1, pool, &r), ERR_OK,
	             "a finished job with the course's vocabulary"))
		tap_diag("error: %s", r.error);
	is_str(r.engine, "transcribe+course", "engine: Transcribe tuned to the course");
	struct json_object *o = json_tokener_parse(r.text);
	ok(o != NULL, "the answer is JSON");
	is_str(json_object_get_string(get(o, "text")),
	       "Cells are the units of life. glycolysis splits glucose.",
	       "the transcript's text has the course term as the vocabulary spells it");
	is_str(vocabularies(pool), "", "the job's vocabulary is deleted with it");
	is_long(store_get(a.store, "stt/u1/t1/vocabulary.txt", sink, NULL), ERR_NOT_FOUND,
	        "and its table is removed from the bucket");
	struct json_object *words = get(o, "words");
	is_long((long)json_object_array_length(words), 9, "nine words (punctuation left out)");
	struct json_object *w0 = json_object_array_get_idx(words, 0),
	                   *w6 = json_object_array_get_idx(words, 6);
	is_str(json_object_get_string(get(w0, "word")), "Cells", "first word");
	is_str(json_object_get_string(get(w6, "word")), "glycolysis", "the course term");
	ok(json_object_get_double(get(w0, "start")) == 0.04 &&
	       json_object_get_double(get(w0, "end")) == 0.42,
	   "its times");
	is_str(json_object_get_string(get(w0, "speaker")), "spk_0", "its speaker");
	is_str(json_object_get_string(get(w6, "speaker")), "spk_1", "the second speaker");
	ok(json_object_get_double(get(w6, "confidence")) == 0.64, "a word's confidence");
	ok(json_object_get_double(get(o, "duration")) == 3.6, "duration: the last word's end");
	double c = json_object_get_double(get(o, "confidence"));
	ok(c > 0.9 && c < 0.95, "confidence: the words' mean (%.3f)", c);
	struct json_object *sp = get(o, "speakers");
	ok(json_object_is_type(sp, json_type_array) && json_object_array_length(sp) == 2,
	   "two speakers' turns");
	is_str(json_object_get_string(get(json_object_array_get_idx(sp, 1), "speaker")), "spk_1",
	       "the second turn's speaker");
	json_object_put(o);
	is_long(store_get(a.store, "stt/u1/t1/transcript.json", sink, NULL), ERR_NOT_FOUND,
	        "the transcript is removed from the bucket once read");
	pool_free(pool);
}

static void test_unlabelled(void)
{
	struct pool *pool = pool_new();
	struct extract_result r;
	put("stt/u1/t2/audio", "ID3 mp3");
	a.speakers = 0;
	is_long(run_with("t2", "stt/u1/t2/audio", "mp3", NULL, 4.25, pool, &r), ERR_OK,
	        "a job without labels or vocabulary");
	is_str(r.engine, "transcribe", "engine: Transcribe alone");
	struct json_object *o = json_tokener_parse(r.text);
	ok(strstr(r.text, "Lycos splits") != NULL, "the course term is misheard without it");
	ok(json_object_get_double(get(o, "duration")) == 4.25,
	   "the duration measured before is the transcription's");
	ok(get(o, "speakers") == NULL, "speakers are null without labels");
	ok(get(json_object_array_get_idx(get(o, "words"), 0), "speaker") == NULL,
	   "and the words have none");
	json_object_put(o);
	a.speakers = 10;
	pool_free(pool);
}

struct failing {
	const char *name, *id, *key, *format;
	long timeout_ms;
	enum err want;
	const char *error;
};

static void test_failures(void)
{
	static const struct failing cases[] = {
	    {"a job that fails", "f1", "stt/u1/broken/audio", "wav", 20000, ERR_INVALID,
	     "Amazon Transcribe could not read the audio: The media format"},
	    {"a job that never ends", "f2", "stt/u1/slow/audio", "wav", 300, ERR_TIMEOUT,
	     "did not finish within 1 seconds"},
	    {"audio not in the bucket", "f3", "stt/u1/none/audio", "wav", 20000, ERR_INVALID,
	     "Amazon Transcribe could not take the audio"},
	    {"a transcript that is not JSON", "f4", "stt/u1/junk/audio", "wav", 20000,
	     ERR_UNAVAILABLE, "could not be read"},
	    {"raw AAC, which Transcribe does not take", "f5", "stt/u1/aac/audio", "aac", 20000,
	     ERR_INVALID, "does not take aac audio"},
	};
	put("stt/u1/broken/audio", "x");
	put("stt/u1/slow/audio", "x");
	put("stt/u1/junk/audio", "x");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct failing *c = &cases[i];
		struct pool *pool = pool_new();
		struct extract_result r;
		a.timeout_ms = c->timeout_ms;
		is_long(run(c->id, c->key, c->format, pool, &r), c->want, c->name);
		if (!ok(strstr(r.error, c->error) != NULL, "%s: the error", c->name))
			tap_diag("got: %s", r.error);
		pool_free(pool);
	}
	a.timeout_ms = 20000;
}

/* A worker that stopped waiting (timeout, crash) tries again: the job of
 * the same name is found running and waited for, not started twice. */
static void test_retry(void)
{
	struct pool *pool = pool_new();
	struct extract_result r;
	put("stt/u1/late/audio", "x");
	a.timeout_ms = 120;
	is_long(run("r1", "stt/u1/late/audio", "wav", pool, &r), ERR_TIMEOUT,
	        "the first attempt gives up waiting");
	a.timeout_ms = 20000;
	is_long(run("r1", "stt/u1/late/audio", "wav", pool, &r), ERR_OK,
	        "the next attempt finds the job running and gets its transcript");
	ok(strstr(r.text, "splits glucose") != NULL, "with the text");
	pool_free(pool);
}

/* A job whose transcript cannot be read (ERR_UNAVAILABLE) is kept, with
 * its vocabulary and transcript, for the task's next attempt; after the
 * last attempt there is none, and all of it is removed: vocabularies left
 * behind would fill the account's 100. */
static void test_last_attempt(void)
{
	struct pool *pool = pool_new();
	struct extract_result r;
	const char *key = "stt/u1/junklast/audio";
	put(key, "x");
	struct amazon_job job = {"l1", key, "wav", "en-US", vocabulary, -1, false};
	is_long(amazon_transcribe(&a, &job, pool, &r), ERR_UNAVAILABLE,
	        "an attempt with an unreadable transcript");
	ok(job_held("l1", pool), "keeps the job for the next attempt");
	is_str(vocabularies(pool), "lectern-l1", "and its vocabulary");
	job.last = true;
	is_long(amazon_transcribe(&a, &job, pool, &r), ERR_UNAVAILABLE,
	        "the last attempt: the same transcript");
	ok(!job_held("l1", pool), "the job is deleted");
	is_str(vocabularies(pool), "", "and the vocabulary");
	is_long(store_get(a.store, "stt/u1/junklast/transcript.json", sink, NULL), ERR_NOT_FOUND,
	        "the transcript is removed from the bucket");
	is_long(store_get(a.store, "stt/u1/junklast/vocabulary.txt", sink, NULL), ERR_NOT_FOUND,
	        "and the vocabulary's table");
	pool_free(pool);
}

/* A vocabulary Transcribe refuses, or is slow to build, is left out: the
 * job runs without it, and it is deleted all the same. */
static void test_vocabulary_refused(void)
{
	static const struct {
		const char *name, *id, *table;
	} cases[] = {
	    {"a vocabulary with a phrase Transcribe refuses", "v1",
	     "Phrase\tSoundsLike\tIPA\tDisplayAs\ntwo words\t\t\ttwo words\n"},
	    {"a vocabulary without its columns", "v2", "glycolysis\n"},
	    {"a vocabulary that is never ready", "v3",
	     "Phrase\tSoundsLike\tIPA\tDisplayAs\nslowvocabulary\t\t\tslowvocabulary\n"},
	};
	a.vocabulary_wait_ms = 300;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct pool *pool = pool_new();
		struct extract_result r;
		char key[64];
		snprintf(key, sizeof(key), "stt/u1/%s/audio", cases[i].id);
		put(key, "x");
		ok(run_with(cases[i].id, key, "wav", cases[i].table, -1, pool, &r) == ERR_OK,
		   "%s: the job runs", cases[i].name);
		ok(strcmp(r.engine, "transcribe") == 0, "%s: without it", cases[i].name);
		const char *left = vocabularies(pool);
		if (!ok(*left == '\0', "%s: deleted", cases[i].name))
			tap_diag("left: %s", left);
		pool_free(pool);
	}
	a.vocabulary_wait_ms = 20000;
}

static void test_answer(void)
{
	struct pool *pool = pool_new();
	const char *out = NULL;
	ok(!amazon_answer("{\"results\": 3}", 14, -1, pool, &out), "a transcript without results");
	ok(!amazon_answer("[1,2", 4, -1, pool, &out), "text that is not JSON");
	const char *odd = "{\"results\": {\"transcripts\": [], \"items\": [{\"type\": "
	                  "\"pronunciation\", \"start_time\": \"2\", \"end_time\": \"1\", "
	                  "\"alternatives\": [{\"content\": \"x\", \"confidence\": \"7\"}]}, "
	                  "{\"type\": \"pronunciation\", \"start_time\": \"nan\"}, 5]}}";
	ok(amazon_answer(odd, strlen(odd), -1, pool, &out), "odd items are read");
	ok(out && strstr(out, "\"words\":[]") != NULL, "and left out (%s)", out ? out : "");
	ok(amazon_language_known("de-DE") && !amazon_language_known("xx-XX"),
	   "Transcribe's languages");
	pool_free(pool);
}

int main(void)
{
	const char *peer = getenv("LECTERN_TEST_AWS_ENDPOINT");
	if (peer == NULL)
		tap_skip_all(
		    "LECTERN_TEST_AWS_ENDPOINT is not set (t/integration/transcribe.t sets it)");
	log_init("test", LOG_LEVEL_ERROR);
	setenv("LECTERN_AWS_ENDPOINT_TRANSCRIBE", peer, 1);
	setenv("LECTERN_AWS_BACKOFF_MS", "10", 1);
	setenv("LECTERN_STORE", "s3", 1);
	setenv("LECTERN_S3_BUCKET", "lectern", 1);
	setenv("LECTERN_S3_ENDPOINT", peer, 1);
	setenv("LECTERN_S3_PATH_STYLE", "true", 1);
	static struct aws_config cfg; /* cfg keeps its strings until exit */
	static struct store_config sc;
	struct aws_client *aws = NULL;
	struct store *store = NULL;
	if (!is_long(aws_config_load(&cfg), ERR_OK, "AWS settings") ||
	    !is_long(aws_client_new(&cfg, &aws), ERR_OK, "client") ||
	    !is_long(store_config_load(&sc), ERR_OK, "S3 settings") ||
	    !is_long(store_open(&sc, &store), ERR_OK, "the bucket"))
		return tap_done();
	a = (struct amazon_settings){.aws = aws,
	                             .store = store,
	                             .bucket = "lectern",
	                             .poll_ms = 50,
	                             .timeout_ms = 20000,
	                             .speakers = 10,
	                             .vocabulary_wait_ms = 20000};
	test_labelled();
	test_unlabelled();
	test_failures();
	test_retry();
	test_last_attempt();
	test_vocabulary_refused();
	test_answer();

	struct aws_config wrong = cfg;
	wrong.secret_access_key = "not-the-secret";
	struct aws_client *bad = NULL;
	if (is_long(aws_client_new(&wrong, &bad), ERR_OK, "a client with a wrong secret")) {
		struct amazon_settings saved = a;
		a.aws = bad;
		struct pool *pool = pool_new();
		struct extract_result r;
		is_long(run("w1", "stt/u1/t1/audio", "wav", pool, &r), ERR_FORBIDDEN,
		        "the peer refuses a wrong signature");
		is_str(r.error, "Amazon Transcribe refused the credentials", "with a clear error");
		pool_free(pool);
		a = saved;
		aws_client_free(bad);
	}
	store_free(store);
	aws_client_free(aws);
	return tap_done();
}
