/* Unit tests for llm and notes_generate against t/llm-peer.py, a local
 * server that speaks the chat-completions protocol and checks the
 * Authorization header and the JSON shape. The test starts the peer itself
 * (with /usr/bin/python3) and stops it at exit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "text/llm.h"
#include "core/log.h"
#include "text/notes.h"
#include "peer.h"
#include "tap.h"

static const char key[] = "sk-test-0123456789-secret";
static char base[128];
static int log_fd = -1;

/* The log lines written since the last call. */
static const char *log_since(void)
{
	static char text[65536];
	ssize_t n = pread(log_fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	if (ftruncate(log_fd, 0) != 0)
		abort();
	lseek(log_fd, 0, SEEK_SET);
	return text;
}

/* GET base-relative path of the peer's test hooks; the body, owned by pool. */
static const char *peer_get(struct pool *pool, const char *path)
{
	char url[512];
	snprintf(url, sizeof(url), "%.*s%s", (int)(strlen(base) - 3), base, path);
	struct buf b;
	buf_init(&b);
	long status = peer_fetch(url, &b);
	const char *out = pool_strdup(pool, status && b.data ? b.data : "");
	buf_clear(&b);
	return out;
}

static long peer_attempts(struct pool *pool, const char *model)
{
	return strtol(peer_get(pool, pool_printf(pool, "/_peer/attempts?model=%s", model)), NULL,
	              10);
}

static struct llm_config base_cfg;

/* A client for model with the test's settings (base_url NULL = the peer). */
static struct llm_client *client(const char *model, const char *url, const char *api_key)
{
	struct llm_config c = base_cfg;
	c.model = model;
	if (url)
		c.base_url = url;
	if (api_key)
		c.api_key = api_key;
	struct llm_client *out = NULL;
	if (llm_client_new(&c, &out) != ERR_OK)
		return NULL;
	return out;
}

static void test_config(void)
{
	static const struct {
		const char *url, *model;
		enum err want;
		bool configured;
	} cases[] = {
	    {"", "", ERR_OK, false},
	    {"https://api.example.com/v1", "gpt-x", ERR_OK, true},
	    {"http://127.0.0.1:1/v1/", "m", ERR_OK, true},
	    {"ftp://example.com", "m", ERR_INVALID, false},
	    {"https://api.example.com/v1", "", ERR_INVALID, false},
	};
	/* Static: the settings keep their strings until exit. */
	static struct llm_config loaded[sizeof(cases) / sizeof(cases[0])];
	setenv("LECTERN_LLM_API_KEY", key, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("LECTERN_LLM_BASE_URL", cases[i].url, 1);
		setenv("LECTERN_LLM_MODEL", cases[i].model, 1);
		enum err e = llm_config_load(&loaded[i]);
		tap_ok(e == cases[i].want, "config: base \"%s\" model \"%s\"", cases[i].url,
		       cases[i].model);
		if (e == ERR_OK)
			ok(llm_configured(&loaded[i]) == cases[i].configured, "configured: %s",
			   cases[i].url);
	}
	const char *lines = log_since();
	ok(strstr(lines, "LECTERN_LLM_BASE_URL") && !strstr(lines, key),
	   "config problems are logged, the key never");
	struct llm_client *c = NULL;
	is_long(llm_client_new(&loaded[0], &c), ERR_INVALID, "no client without a base URL");
	log_since();

	/* The peer's settings, loaded the way a service loads them. */
	setenv("LECTERN_LLM_BASE_URL", base, 1);
	setenv("LECTERN_LLM_MODEL", "echo", 1);
	setenv("LECTERN_LLM_TIMEOUT_MS", "1000", 1);
	setenv("LECTERN_LLM_MAX_ATTEMPTS", "3", 1);
	setenv("LECTERN_LLM_BACKOFF_MS", "10", 1);
	setenv("LECTERN_LLM_MAX_TOKENS", "777", 1);
	if (llm_config_load(&base_cfg) != ERR_OK)
		tap_diag("the peer's settings do not load");
}

static void test_chat(void)
{
	struct pool *pool = pool_new();
	struct llm_reply r;

	/* Round trip of text with quotes, escapes, newlines and UTF-8. */
	const char *text = "Quote \" backslash \\ slash / tab\t newline\n caf\xc3\xa9 \xe2\x82\xac "
	                   "\xf0\x9f\x98\x80";
	struct llm_message m[] = {{"system", "You are terse."}, {"user", text}};
	struct llm_client *c = client("echo", NULL, NULL);
	if (!ok(c != NULL, "a client for the peer"))
		return;
	is_long(llm_chat(c, m, 2, pool, &r), ERR_OK, "echo answers");
	is_str(r.content, text, "content comes back byte for byte");
	is_str(r.finish_reason, "stop", "finish_reason");
	ok(r.status == 200 && r.attempts == 1 && r.error == NULL, "status 200, one try, no error");

	/* What the peer received: the documented shape. */
	struct json_object *sent = json_tokener_parse(peer_get(pool, "/_peer/last")), *v, *msgs;
	ok(sent && json_object_object_get_ex(sent, "model", &v) &&
	       strcmp(json_object_get_string(v), "echo") == 0,
	   "the request names the model");
	ok(sent && json_object_object_get_ex(sent, "max_tokens", &v) &&
	       json_object_get_int(v) == 777,
	   "and max_tokens from the settings");
	ok(sent && json_object_object_get_ex(sent, "messages", &msgs) &&
	       json_object_array_length(msgs) == 2 &&
	       json_object_object_get_ex(json_object_array_get_idx(msgs, 0), "role", &v) &&
	       strcmp(json_object_get_string(v), "system") == 0,
	   "and the messages with their roles");
	json_object_put(sent);
	is_long(llm_chat(c, m, 0, pool, &r), ERR_INVALID, "no messages: refused before sending");
	log_since();
	llm_client_free(c);

	/* A trailing slash on the base URL changes nothing. */
	c = client("echo", pool_printf(pool, "%s/", base), NULL);
	is_long(llm_chat(c, m + 1, 1, pool, &r), ERR_OK, "base URL with a trailing slash");
	llm_client_free(c);

	static const struct {
		const char *model;
		const char *api_key; /* NULL = the right one */
		enum err want;
		long status;
		long attempts;     /* tries the client reports and the peer counts */
		const char *error; /* NULL = not checked */
	} cases[] = {
	    {"fail-500", NULL, ERR_UNAVAILABLE, 500, 3, "upstream exploded"},
	    {"flaky-429", NULL, ERR_OK, 200, 3, NULL},
	    {"flaky-503", NULL, ERR_OK, 200, 2, NULL},
	    {"malformed", NULL, ERR_UNAVAILABLE, 200, 1, NULL},
	    {"no-content", NULL, ERR_UNAVAILABLE, 200, 1, NULL},
	    {"bad-request", NULL, ERR_INVALID, 400, 1, "context too long"},
	    {"echo:wrong-key", "sk-wrong", ERR_UNAVAILABLE, 401, 1, "invalid api key"},
	    {"slow", NULL, ERR_TIMEOUT, 0, 1, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = client(cases[i].model, NULL, cases[i].api_key);
		enum err e = llm_chat(c, m + 1, 1, pool, &r);
		is_long(e, cases[i].want, pool_printf(pool, "%s: error", cases[i].model));
		is_long(r.status, cases[i].status, pool_printf(pool, "%s: status", cases[i].model));
		is_long(r.attempts, cases[i].attempts,
		        pool_printf(pool, "%s: tries", cases[i].model));
		if (cases[i].api_key == NULL && strcmp(cases[i].model, "slow") != 0)
			is_long(peer_attempts(pool, cases[i].model), cases[i].attempts,
			        pool_printf(pool, "%s: requests the peer saw", cases[i].model));
		if (cases[i].error)
			is_str(r.error, cases[i].error,
			       pool_printf(pool, "%s: error.message", cases[i].model));
		if (e)
			ok(r.content == NULL && r.error != NULL, "%s: no content, a reason",
			   cases[i].model);
		else
			is_str(r.content, text,
			       pool_printf(pool, "%s: content after retries", cases[i].model));
		llm_client_free(c);
	}
	/* 429 on every try: rate limited once the tries run out. */
	struct llm_config two = base_cfg;
	two.model = "flaky-429:two";
	two.max_attempts = 2;
	if (llm_client_new(&two, &c) == ERR_OK) {
		is_long(llm_chat(c, m + 1, 1, pool, &r), ERR_RATE_LIMITED,
		        "429 until the last try");
		is_long(r.status, 429, "status 429");
		llm_client_free(c);
	}
	/* Nobody listening: retried, then unavailable. */
	c = client("echo", pool_printf(pool, "http://127.0.0.1:%d/v1", peer_dead_port()), NULL);
	is_long(llm_chat(c, m + 1, 1, pool, &r), ERR_UNAVAILABLE, "dead endpoint");
	ok(r.status == 0 && r.attempts == 3, "no status, every try made");
	llm_client_free(c);

	const char *lines = log_since();
	ok(strstr(lines, "upstream exploded") && strstr(lines, "status 500"),
	   "a failure is logged with its status and error.message");
	ok(!strstr(lines, key) && !strstr(lines, "sk-wrong"), "no key in any log line");
	pool_free(pool);
}

static const char doc[] =
    "# Cells and Energy\n\n"
    "A cell is the smallest unit of life. Cells take in food and release energy. "
    "The mitochondrion is the organelle that releases energy from food. Every cell "
    "has a membrane, and the membrane controls what enters the cell.\n";

static void test_notes(void)
{
	struct pool *pool = pool_new();
	struct notes ext, n;
	if (!ok(notes_extract(pool, doc, sizeof(doc) - 1, &ext) == ERR_OK, "extractive notes"))
		return;
	is_long(notes_generate(NULL, pool, "Cells", doc, sizeof(doc) - 1, &n), ERR_OK,
	        "no model: extractive");
	ok(strcmp(n.generator, "extractive") == 0 && strcmp(n.markdown, ext.markdown) == 0,
	   "the same notes as notes_extract");

	struct llm_client *c = client("notes", NULL, NULL);
	is_long(notes_generate(c, pool, "Cells", doc, sizeof(doc) - 1, &n), ERR_OK, "model notes");
	is_str(n.generator, "llm:notes", "generator names the model");
	ok(strncmp(n.markdown, "## Summary\n", 11) == 0,
	   "preamble before the first section dropped");
	ok(strstr(n.markdown, "## Key terms") && strstr(n.markdown, "## Outline") &&
	       strstr(n.markdown, "## Key points") && strstr(n.markdown, "Cells and Energy"),
	   "the model's four sections, about the document");
	is_str(n.summary, "The document is about Cells and Energy. It is short.",
	       "summary from the model's Summary section, plain text");
	const char *sent = peer_get(pool, "/_peer/last");
	ok(strstr(sent, "The mitochondrion is the organelle that releases energy from food.") &&
	       strstr(sent, "\\\"Cells\\\"") && strstr(sent, "## Key points"),
	   "the prompt carries the document, its title and the sections asked for");
	llm_client_free(c);

	/* A long document is cut for the prompt, and the prompt says so. */
	struct buf big;
	buf_init(&big);
	while (big.len < 3 * NOTES_LLM_TEXT_MAX)
		buf_puts(&big, "Membranes control transport. ");
	c = client("notes", NULL, NULL);
	is_long(notes_generate(c, pool, NULL, big.data, big.len, &n), ERR_OK,
	        "notes of a long text");
	sent = peer_get(pool, "/_peer/last");
	ok(strlen(sent) < NOTES_LLM_TEXT_MAX + 4096 && strstr(sent, "The document goes on"),
	   "the prompt holds at most %d bytes of it", NOTES_LLM_TEXT_MAX);
	is_str(n.generator, "llm:notes", "still the model's notes");
	buf_clear(&big);
	llm_client_free(c);

	/* Any failure falls back to the extractive notes. */
	static const char *const failing[] = {"fail-500:notes", "malformed",   "no-sections",
	                                      "slow",           "bad-request", "no-content"};
	for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		c = client(failing[i], NULL, NULL);
		is_long(notes_generate(c, pool, "Cells", doc, sizeof(doc) - 1, &n), ERR_OK,
		        pool_printf(pool, "%s: notes anyway", failing[i]));
		ok(strcmp(n.generator, "extractive") == 0 &&
		       strcmp(n.markdown, ext.markdown) == 0 && strcmp(n.summary, ext.summary) == 0,
		   "%s: the extractive notes", failing[i]);
		llm_client_free(c);
	}
	const char *lines = log_since();
	ok(strstr(lines, "extractive notes instead") != NULL, "the fallback is logged");
	ok(!strstr(lines, key), "no key in any log line");
	pool_free(pool);
}

int main(void)
{
	const char *srcdir = getenv("LECTERN_SRCDIR");
	if (!srcdir)
		tap_skip_all("LECTERN_SRCDIR is not set (make check sets it)");
	if (access("/usr/bin/python3", X_OK) != 0)
		tap_skip_all("/usr/bin/python3 is missing");
	log_init("test", LOG_LEVEL_INFO);
	FILE *log_file = tmpfile();
	if (!log_file)
		tap_skip_all("no temporary file");
	log_fd = fileno(log_file);
	log_set_fd(log_fd);
	peer_llm_start(key, base, sizeof(base));
	test_config();
	test_chat();
	test_notes();
	return tap_done();
}
