/* llm: a client for OpenAI-compatible chat completions over libcurl.
 *
 * POST {base_url}/chat/completions with the model, the messages and
 * max_tokens; the answer is choices[0].message.content. 429 and 5xx answers
 * and network failures are retried with doubling backoff (Retry-After is
 * honoured up to a ceiling), a bounded number of times. A failure is logged
 * once, with the HTTP status and the server's error.message. The API key
 * goes only into the Authorization header: it is never logged. One client
 * per process (or thread): it keeps its connection open between calls. */
#ifndef LECTERN_LLM_H
#define LECTERN_LLM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cfg.h"
#include "core/err.h"
#include "core/mem.h"

enum {
	LLM_RESPONSE_MAX = 4 * 1024 * 1024, /* bytes of an answer read */
	LLM_REQUEST_MAX = 1024 * 1024,      /* bytes of a request body sent */
	LLM_JSON_DEPTH_MAX = 32,            /* nesting accepted in an answer */
	LLM_MESSAGES_MAX = 64,              /* messages of one request */
	LLM_ERROR_MAX = 512,                /* bytes of an error message kept */
	LLM_BACKOFF_CAP_MS = 10000,         /* longest wait between tries */
	LLM_URL_MAX = 1024
};

struct llm_config {
	const char *base_url;    /* LECTERN_LLM_BASE_URL, "https://api.openai.com/v1"; "" = off */
	const char *api_key;     /* LECTERN_LLM_API_KEY (secret); "" sends no Authorization */
	const char *model;       /* LECTERN_LLM_MODEL */
	long timeout_ms;         /* LECTERN_LLM_TIMEOUT_MS: one attempt, whole */
	long connect_timeout_ms; /* LECTERN_LLM_CONNECT_TIMEOUT_MS */
	long max_tokens;         /* LECTERN_LLM_MAX_TOKENS: length of an answer */
	long max_attempts;       /* LECTERN_LLM_MAX_ATTEMPTS: tries per call, 1 = no retry */
	long backoff_ms;         /* LECTERN_LLM_BACKOFF_MS: first retry delay, doubled each time */
};

/* Reads the settings from the environment (defaults and bounds in llm.c);
 * ERR_INVALID, logged, when one is wrong (a base URL must be http(s)://,
 * a model is needed when a base URL is given). */
enum err llm_config_load(struct llm_config *out) MUST_CHECK;
/* The same settings as a table pointing into out (static: one per
 * process), for loading and --help/--print-config. */
struct cfg_table llm_config_table(struct llm_config *out);

/* Whether cfg names an endpoint (a base URL and a model). */
bool llm_configured(const struct llm_config *cfg);

struct llm_client;

/* A client for cfg (copied; its strings must outlive the client). ERR_INVALID
 * when cfg is not configured. Free it with llm_client_free. */
enum err llm_client_new(const struct llm_config *cfg, struct llm_client **out) MUST_CHECK;
void llm_client_free(struct llm_client *c);
/* The model the client asks. */
const char *llm_client_model(const struct llm_client *c);

struct llm_message {
	const char *role;    /* "system", "user" or "assistant" */
	const char *content; /* UTF-8 text */
};

struct llm_reply {
	const char *content;       /* choices[0].message.content; NULL on failure */
	const char *finish_reason; /* "stop", "length", ...; NULL when not given */
	long status;               /* HTTP status of the last attempt, 0 if none */
	const char *error; /* the server's error.message, or why the call failed; NULL on success */
	long attempts;     /* tries made */
};

/* Asks the model for the next message after messages[0..count). Everything
 * in *out is owned by pool and filled in every case. Errors: ERR_INVALID
 * (400/404/413/422: the request was refused), ERR_RATE_LIMITED (429 after
 * the last retry), ERR_TIMEOUT (no answer in time), ERR_UNAVAILABLE (5xx,
 * 401/403, network, or an answer without content or not JSON). */
enum err llm_chat(struct llm_client *c, const struct llm_message *messages, size_t count,
                  struct pool *pool, struct llm_reply *out) MUST_CHECK;

struct json_object;
/* The JSON object a reply's content holds (the text from its first '{' to
 * its last '}', so a Markdown fence or a lead-in sentence around it does
 * not matter), parsed with LLM_JSON_DEPTH_MAX; NULL when there is none.
 * The caller json_object_put()s it. */
struct json_object *llm_reply_json(const char *content);

#endif
