/* Unit tests for aws: the JSON helper against t/aws-peer.py in JSON mode,
 * which checks every signature with botocore. Skipped unless
 * LECTERN_TEST_AWS_ENDPOINT is set (t/integration/s3.t starts the peer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "storage/aws.h"
#include "core/log.h"
#include "peer.h"
#include "tap.h"

static int log_fd = -1;

/* The log lines written since the last call. */
static const char *log_since(void)
{
	static char text[8192];
	ssize_t n = pread(log_fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	if (ftruncate(log_fd, 0) != 0)
		abort();
	lseek(log_fd, 0, SEEK_SET);
	return text;
}

static enum err collect(void *arg, const void *data, size_t len)
{
	buf_append(arg, data, len);
	return ERR_OK;
}

static long peer_attempts(const char *base, const char *name)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/_peer/attempts?name=%s", base, name);
	struct buf b;
	buf_init(&b);
	long n = -1;
	if (peer_fetch(url, &b) && b.data)
		n = strtol(b.data, NULL, 10);
	buf_clear(&b);
	return n;
}

int main(void)
{
	const char *peer = getenv("LECTERN_TEST_AWS_ENDPOINT");
	if (!peer)
		tap_skip_all("LECTERN_TEST_AWS_ENDPOINT is not set (t/integration/s3.t sets it)");
	log_init("test", LOG_LEVEL_WARN);
	FILE *log_file = tmpfile(); /* the log lines are read back to check them */
	if (!log_file)
		tap_skip_all("no temporary file");
	log_fd = fileno(log_file);
	log_set_fd(log_fd);

	char dead[64];
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", peer_dead_port());
	/* The general endpoint is dead: each service's own endpoint must win. */
	setenv("LECTERN_AWS_ENDPOINT", dead, 1);
	setenv("LECTERN_AWS_ENDPOINT_TEXTRACT", peer, 1);
	setenv("LECTERN_AWS_ENDPOINT_POLLY", peer, 1);
	setenv("LECTERN_AWS_ENDPOINT_TRANSCRIBE", peer, 1);
	setenv("LECTERN_AWS_BACKOFF_MS", "10", 1);
	setenv("LECTERN_AWS_MAX_ATTEMPTS", "4", 1);
	static struct aws_config cfg; /* static: cfg keeps its strings until exit */
	is_long(aws_config_load(&cfg), ERR_OK, "AWS settings load");
	struct aws_client *c = NULL;
	is_long(aws_client_new(&cfg, &c), ERR_OK, "client");
	struct pool *pool = pool_new();
	struct json_object *o = NULL, *v = NULL;

	is_str(aws_endpoint(c, "textract", pool), peer, "a service's own endpoint wins");
	is_str(aws_endpoint(c, "comprehend", pool), dead, "then the general one");

	/* JSON 1.1: Textract. */
	struct aws_json_request tx = {
	    .service = "textract",
	    .path = "/",
	    .target = "Textract.DetectDocumentText",
	    .body = "{\"Document\":{\"Bytes\":\"aGVsbG8=\"}}",
	};
	is_long(aws_json_call(c, &tx, pool, &o), ERR_OK, "Textract.DetectDocumentText succeeds");
	const char *text = NULL;
	if (o && json_object_object_get_ex(o, "Blocks", &v) && json_object_array_length(v) == 1) {
		struct json_object *t = NULL;
		if (json_object_object_get_ex(json_object_array_get_idx(v, 0), "Text", &t))
			text = json_object_get_string(t);
	}
	is_str(text, "hello from the peer", "and its answer is parsed");
	log_since();

	tx.body = "{}";
	is_long(aws_json_call(c, &tx, pool, &o), ERR_INVALID, "a 400 error is ERR_INVALID");
	ok(o == NULL, "with no answer");
	const char *line = log_since();
	ok(strstr(line, "InvalidParameterException") &&
	       strstr(line, "invalid parameters: Document"),
	   "the log names __type and message");

	/* REST JSON: Polly, with a binary answer and an error named in a header. */
	struct buf audio;
	buf_init(&audio);
	struct aws_json_request polly = {
	    .service = "polly",
	    .method = "POST",
	    .path = "/v1/speech",
	    .body = "{\"Text\":\"hi there\",\"OutputFormat\":\"mp3\",\"VoiceId\":\"Joanna\"}",
	    .sink = collect,
	    .sink_arg = &audio,
	};
	is_long(aws_json_call(c, &polly, pool, &o), ERR_OK, "Polly speech succeeds");
	ok(audio.len == 11 && memcmp(audio.data, "ID3hi there", 11) == 0,
	   "audio streams to the sink");
	buf_clear(&audio);
	polly.body = "{\"Text\":\"\",\"OutputFormat\":\"mp3\",\"VoiceId\":\"Joanna\"}";
	is_long(aws_json_call(c, &polly, pool, &o), ERR_INVALID, "Polly validation error");
	line = log_since();
	ok(strstr(line, "ValidationException") && strstr(line, "1 validation error"),
	   "x-amzn-ErrorType and message are parsed");
	ok(audio.len == 0, "an error body never reaches the sink");

	/* Throttling: retried with backoff until it passes. */
	struct aws_json_request job = {
	    .service = "transcribe",
	    .path = "/",
	    .target = "Transcribe.StartTranscriptionJob",
	    .body = "{\"TranscriptionJobName\":\"job-a\"}",
	};
	is_long(aws_json_call(c, &job, pool, &o), ERR_OK, "throttled twice, then succeeds");
	is_long(peer_attempts(peer, "job-a"), 3, "after three tries");
	line = log_since();
	ok(strstr(line, "ThrottlingException") && strstr(line, "retrying"), "retries are logged");
	struct aws_config few = cfg;
	few.max_attempts = 2;
	struct aws_client *c2 = NULL;
	is_long(aws_client_new(&few, &c2), ERR_OK, "a client with 2 tries");
	job.body = "{\"TranscriptionJobName\":\"job-b\"}";
	is_long(aws_json_call(c2, &job, pool, &o), ERR_UNAVAILABLE,
	        "throttling past the last try is ERR_UNAVAILABLE");
	is_long(peer_attempts(peer, "job-b"), 2, "after two tries");
	aws_client_free(c2);

	/* 5xx: retried, then ERR_UNAVAILABLE. */
	struct aws_json_request fail = {
	    .service = "textract", .path = "/", .target = "Textract.Fail", .body = "{}"};
	is_long(aws_json_call(c, &fail, pool, &o), ERR_UNAVAILABLE, "a 500 is ERR_UNAVAILABLE");
	is_long(peer_attempts(peer, "fail"), 4, "after every try");
	log_since();

	/* Credentials: a wrong secret and a missing session token are refused. */
	struct aws_config bad = cfg;
	bad.secret_access_key = "wrong";
	is_long(aws_client_new(&bad, &c2), ERR_OK, "a client with a wrong secret");
	tx.body = "{\"Document\":{}}";
	is_long(aws_json_call(c2, &tx, pool, &o), ERR_FORBIDDEN, "a wrong secret is ERR_FORBIDDEN");
	line = log_since();
	ok(strstr(line, "InvalidSignatureException") != NULL, "and says the signature is wrong");
	aws_client_free(c2);
	if (*cfg.session_token) {
		bad = cfg;
		bad.session_token = "";
		is_long(aws_client_new(&bad, &c2), ERR_OK, "a client without the session token");
		is_long(aws_json_call(c2, &tx, pool, &o), ERR_FORBIDDEN, "is refused");
		aws_client_free(c2);
		log_since();
	}
	bad = cfg;
	bad.access_key_id = "";
	is_long(aws_client_new(&bad, &c2), ERR_OK, "a client without keys");
	is_long(aws_json_call(c2, &tx, pool, &o), ERR_FORBIDDEN, "fails before sending");
	ok(strstr(log_since(), "AWS_ACCESS_KEY_ID") != NULL, "and names the missing setting");
	aws_client_free(c2);

	/* Unreachable endpoint: ERR_UNAVAILABLE. */
	struct aws_json_request other = {.service = "comprehend",
	                                 .path = "/",
	                                 .target = "Comprehend.DetectSentiment",
	                                 .body = "{}"};
	is_long(aws_json_call(c, &other, pool, &o), ERR_UNAVAILABLE,
	        "an unreachable endpoint is ERR_UNAVAILABLE");
	ok(strstr(log_since(), "connect") != NULL, "and the log says why");

	/* An answer that is not JSON. */
	struct aws_json_request nojson = {
	    .service = "polly",
	    .method = "POST",
	    .path = "/v1/speech",
	    .body = "{\"Text\":\"x\",\"OutputFormat\":\"mp3\",\"VoiceId\":\"Joanna\"}",
	};
	is_long(aws_json_call(c, &nojson, pool, &o), ERR_UNAVAILABLE,
	        "a non-JSON answer is refused");
	log_since();

	aws_client_free(c);
	pool_free(pool);
	log_set_fd(-1);
	fclose(log_file);
	return tap_done();
}
