/* llm: OpenAI-compatible chat completions over libcurl. */
#include "core/clock.h"
#include "text/llm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/cfg.h"
#include "core/log.h"

struct llm_client {
	struct llm_config cfg;
	char url[LLM_URL_MAX]; /* {base}/chat/completions */
	CURL *curl;            /* reused so the connection stays open between calls */
};

struct cfg_table llm_config_table(struct llm_config *out)
{
	const struct cfg_var table[] = {
	    {"LECTERN_LLM_BASE_URL", CFG_STRING, "", 0, 512, 0, &out->base_url,
	     "OpenAI-compatible API base (https://host/v1); empty = extractive notes only", NULL},
	    {"LECTERN_LLM_API_KEY", CFG_STRING, "", 0, 512, CFG_SECRET, &out->api_key,
	     "API key sent as a Bearer token", NULL},
	    {"LECTERN_LLM_MODEL", CFG_STRING, "", 0, 128, 0, &out->model, "model name", NULL},
	    {"LECTERN_LLM_TIMEOUT_MS", CFG_INT, "60000", 100, 600000, 0, &out->timeout_ms,
	     "time for one chat-completions attempt", NULL},
	    {"LECTERN_LLM_CONNECT_TIMEOUT_MS", CFG_INT, "5000", 100, 60000, 0,
	     &out->connect_timeout_ms, "time to connect to the endpoint", NULL},
	    {"LECTERN_LLM_MAX_TOKENS", CFG_INT, "1500", 16, 32768, 0, &out->max_tokens,
	     "longest answer in tokens", NULL},
	    {"LECTERN_LLM_MAX_ATTEMPTS", CFG_INT, "3", 1, 8, 0, &out->max_attempts,
	     "tries per call (429, 5xx, network)", NULL},
	    {"LECTERN_LLM_BACKOFF_MS", CFG_INT, "500", 1, 10000, 0, &out->backoff_ms,
	     "first retry delay, doubled at each try", NULL},
	};
	/* Static: the table lives as long as the settings it points into. */
	static struct cfg_var vars[CFG_COUNT(table)];
	memcpy(vars, table, sizeof(table));
	return (struct cfg_table){"llm", vars, CFG_COUNT(vars)};
}

enum err llm_config_load(struct llm_config *out)
{
	memset(out, 0, sizeof(*out));
	struct cfg_table t = llm_config_table(out);
	enum err e = cfg_load(t.vars, t.count);
	if (e)
		return e;
	if (*out->base_url && strncmp(out->base_url, "http://", 7) != 0 &&
	    strncmp(out->base_url, "https://", 8) != 0) {
		log_error("config: LECTERN_LLM_BASE_URL must start with http:// or https://");
		return ERR_INVALID;
	}
	if (*out->base_url && !*out->model) {
		log_error("config: LECTERN_LLM_MODEL is needed with LECTERN_LLM_BASE_URL");
		return ERR_INVALID;
	}
	return ERR_OK;
}

bool llm_configured(const struct llm_config *cfg)
{
	return cfg && cfg->base_url && *cfg->base_url && cfg->model && *cfg->model;
}

enum err llm_client_new(const struct llm_config *cfg, struct llm_client **out)
{
	enum err e = ERR_OK;
	struct llm_client *c = NULL;
	bool curl_ready = false;
	if (!llm_configured(cfg)) {
		log_error("llm: no base URL or model configured");
		e = ERR_INVALID;
		goto out;
	}
	size_t n = strlen(cfg->base_url);
	while (n && cfg->base_url[n - 1] == '/') /* ".../v1/" and ".../v1" are the same */
		n--;
	c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	int w = snprintf(c->url, sizeof(c->url), "%.*s/chat/completions", (int)n, cfg->base_url);
	if (w < 0 || (size_t)w >= sizeof(c->url)) {
		log_error("llm: base URL longer than %d bytes", LLM_URL_MAX);
		e = ERR_INVALID;
		goto out;
	}
	/* curl counts its initialisations, so other modules may do the same. */
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		log_error("llm: curl_global_init: %s", curl_easy_strerror(rc));
		e = ERR_INTERNAL;
		goto out;
	}
	curl_ready = true;
	c->curl = curl_easy_init();
	if (!c->curl) {
		log_error("llm: curl_easy_init failed");
		e = ERR_INTERNAL;
		goto out;
	}
	*out = c;
	c = NULL;
out:
	if (c) {
		if (curl_ready)
			curl_global_cleanup();
		free(c);
	}
	return e;
}

void llm_client_free(struct llm_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	free(c);
}

const char *llm_client_model(const struct llm_client *c)
{
	return c->cfg.model;
}

/* What one attempt brings back. */
struct attempt {
	struct buf body;
	bool overflow;       /* the answer went past LLM_RESPONSE_MAX */
	long retry_after_ms; /* from a Retry-After header, -1 when none */
};

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	size_t n = size * nmemb;
	if (a->body.len + n > LLM_RESPONSE_MAX) {
		a->overflow = true;
		return 0;
	}
	buf_append(&a->body, data, n);
	return n;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
		char num[16];
		size_t v = sizeof(name) - 1, k = 0;
		while (v < n && line[v] == ' ')
			v++;
		while (v < n && k + 1 < sizeof(num) && line[v] >= '0' && line[v] <= '9')
			num[k++] = line[v++];
		num[k] = '\0';
		long secs;
		if (k && cfg_parse_long(num, 0, LLM_BACKOFF_CAP_MS / 1000, &secs))
			a->retry_after_ms = secs * 1000;
		else if (k)
			a->retry_after_ms = LLM_BACKOFF_CAP_MS;
	}
	return n;
}

/* The request body: model, messages, max_tokens. Owned by pool. */
static const char *request_json(const struct llm_client *c, const struct llm_message *m,
                                size_t count, struct pool *pool)
{
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "model", json_object_new_string(c->cfg.model));
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < count; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "role", json_object_new_string(m[i].role));
		json_object_object_add(o, "content", json_object_new_string(m[i].content));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "messages", list);
	json_object_object_add(root, "max_tokens", json_object_new_int64(c->cfg.max_tokens));
	json_object_object_add(root, "stream", json_object_new_boolean(0));
	const char *text =
	    pool_strdup(pool, json_object_to_json_string_ext(
	                          root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return text;
}

static struct json_object *parse_json(const struct buf *b)
{
	if (!b->data || b->len == 0 || b->len > LLM_RESPONSE_MAX)
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(LLM_JSON_DEPTH_MAX);
	if (!tok)
		return NULL;
	struct json_object *o = json_tokener_parse_ex(tok, b->data, (int)b->len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* error.message (or a plain string error) of an error answer, owned by pool. */
static const char *error_message(const struct buf *b, struct pool *pool)
{
	struct json_object *o = parse_json(b), *err = NULL, *msg = NULL;
	const char *out = NULL;
	if (o && json_object_object_get_ex(o, "error", &err)) {
		if (json_object_is_type(err, json_type_string))
			msg = err;
		else
			json_object_object_get_ex(err, "message", &msg);
		if (msg && json_object_is_type(msg, json_type_string))
			out = pool_strndup(pool, json_object_get_string(msg), LLM_ERROR_MAX);
	}
	json_object_put(o);
	return out;
}

/* Takes choices[0].message.content (and finish_reason) from a 200 answer. */
static bool parse_reply(const struct buf *b, struct pool *pool, struct llm_reply *out)
{
	struct json_object *o = parse_json(b), *choices, *first, *message, *content, *finish;
	bool ok = false;
	if (o && json_object_object_get_ex(o, "choices", &choices) &&
	    json_object_is_type(choices, json_type_array) &&
	    json_object_array_length(choices) > 0 &&
	    (first = json_object_array_get_idx(choices, 0)) != NULL &&
	    json_object_object_get_ex(first, "message", &message) &&
	    json_object_object_get_ex(message, "content", &content) &&
	    json_object_is_type(content, json_type_string)) {
		out->content = pool_strndup(pool, json_object_get_string(content),
		                            (size_t)json_object_get_string_len(content));
		if (json_object_object_get_ex(first, "finish_reason", &finish) &&
		    json_object_is_type(finish, json_type_string))
			out->finish_reason = pool_strdup(pool, json_object_get_string(finish));
		ok = true;
	}
	json_object_put(o);
	return ok;
}

static enum err status_error(long status)
{
	switch (status) {
	case 400:
	case 404:
	case 413:
	case 422:
		return ERR_INVALID;
	case 429:
		return ERR_RATE_LIMITED;
	default:
		return ERR_UNAVAILABLE;
	}
}

static bool retryable(CURLcode rc, long status)
{
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return false; /* the whole budget is spent already */
	if (rc != CURLE_OK)
		return rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR ||
		       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
		       rc == CURLE_PARTIAL_FILE;
	return status == 429 || status >= 500;
}

enum err llm_chat(struct llm_client *c, const struct llm_message *messages, size_t count,
                  struct pool *pool, struct llm_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (count == 0 || count > LLM_MESSAGES_MAX) {
		out->error = "no messages, or too many";
		log_error("llm: %zu messages (1-%d allowed)", count, LLM_MESSAGES_MAX);
		return ERR_INVALID;
	}
	const char *body = request_json(c, messages, count, pool);
	size_t body_len = strlen(body);
	if (body_len > LLM_REQUEST_MAX) {
		out->error = "request too large";
		log_error("llm: request of %zu bytes is over %d", body_len, LLM_REQUEST_MAX);
		return ERR_INVALID;
	}
	struct curl_slist *headers = NULL;
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");
	headers = curl_slist_append(headers, "Expect:");
	if (c->cfg.api_key && *c->cfg.api_key) {
		/* Built in a buffer that is wiped, never in the pool or a log line. */
		size_t kl = strlen(c->cfg.api_key) + sizeof("Authorization: Bearer ");
		char *auth = xmalloc(kl);
		snprintf(auth, kl, "Authorization: Bearer %s", c->cfg.api_key);
		headers = curl_slist_append(headers, auth);
		explicit_bzero(auth, kl);
		free(auth);
	}

	enum err e = ERR_UNAVAILABLE;
	struct attempt a;
	buf_init(&a.body);
	long delay = c->cfg.backoff_ms;
	for (long n = 1; n <= c->cfg.max_attempts; n++) {
		buf_clear(&a.body);
		a.overflow = false;
		a.retry_after_ms = -1;
		out->attempts = n;
		CURL *h = c->curl;
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, c->url);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
		CURLcode rc = curl_easy_perform(h);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		out->status = status;
		if (rc == CURLE_OK && status == 200) {
			if (parse_reply(&a.body, pool, out)) {
				e = ERR_OK;
				break;
			}
			out->error = "the answer has no choices[0].message.content";
			log_error("llm: %s: %s (model %s)", c->url, out->error, c->cfg.model);
			e = ERR_UNAVAILABLE;
			break;
		}
		if (rc == CURLE_OK) {
			const char *msg = error_message(&a.body, pool);
			out->error = msg ? msg : pool_printf(pool, "HTTP status %ld", status);
			e = status_error(status);
		} else if (a.overflow) {
			out->error = "the answer is too large";
			e = ERR_UNAVAILABLE;
		} else {
			out->error = pool_strdup(pool, curl_easy_strerror(rc));
			e = rc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
		}
		if (n == c->cfg.max_attempts || a.overflow || !retryable(rc, status)) {
			log_error("llm: %s: status %ld after %ld tries: %s", c->url, status, n,
			          out->error);
			break;
		}
		long wait = a.retry_after_ms >= 0 ? a.retry_after_ms : delay;
		if (wait > LLM_BACKOFF_CAP_MS)
			wait = LLM_BACKOFF_CAP_MS;
		log_warn("llm: %s: status %ld (%s), try %ld again in %ld ms", c->url, status,
		         out->error, n + 1, wait);
		clock_sleep_ms(wait);
		delay = delay * 2 > LLM_BACKOFF_CAP_MS ? LLM_BACKOFF_CAP_MS : delay * 2;
	}
	buf_clear(&a.body);
	curl_slist_free_all(headers);
	if (e)
		out->content = NULL;
	else
		out->error = NULL;
	return e;
}

/* The JSON object inside a reply: models often wrap it in a ```json fence
 * or a sentence, so the text from the first '{' to the last '}' is read. */
struct json_object *llm_reply_json(const char *content)
{
	if (!content)
		return NULL;
	const char *open = strchr(content, '{'), *close = strrchr(content, '}');
	if (!open || !close || close < open)
		return NULL;
	struct buf b = {(char *)open, (size_t)(close - open) + 1, 0};
	struct json_object *o = parse_json(&b);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}
