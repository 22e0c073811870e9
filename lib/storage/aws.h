/* aws: signed HTTP calls to AWS (and S3-compatible) services over libcurl.
 *
 * One client per process: it holds the region, the credentials (shared by S3,
 * Polly, Transcribe and Textract), the endpoints, and one curl handle that
 * keeps connections alive. Every call is signed with SigV4 (aws_sigv4.h),
 * retried with exponential backoff on throttling, 5xx and network failures,
 * and bounded by timeouts. A failure is logged once, here, with the service's
 * own error code and message. Not thread-safe: one client per thread. */
#ifndef LECTERN_AWS_H
#define LECTERN_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "storage/aws_sigv4.h"
#include "core/cfg.h"
#include "core/err.h"
#include "core/mem.h"

struct json_object;

enum {
	AWS_ERROR_BODY_MAX = 64 * 1024, /* error bodies kept for parsing */
	AWS_BODY_MAX = 8 * 1024 * 1024, /* a non-streamed response body (JSON, XML list) */
	AWS_JSON_DEPTH_MAX = 64,        /* nesting accepted in a JSON answer */
	AWS_FIELD_MAX = 256,            /* a captured header or error field */
	AWS_MESSAGE_MAX = 512           /* a captured error message */
};

struct aws_config {
	const char *region;            /* AWS_REGION (or AWS_DEFAULT_REGION), default us-east-1 */
	const char *access_key_id;     /* AWS_ACCESS_KEY_ID */
	const char *secret_access_key; /* AWS_SECRET_ACCESS_KEY (secret) */
	const char *session_token;     /* AWS_SESSION_TOKEN (secret), "" when none */
	const char
	    *endpoint; /* LECTERN_AWS_ENDPOINT: scheme://host[:port] for every service, "" = AWS */
	const char *endpoint_polly;      /* LECTERN_AWS_ENDPOINT_POLLY, "" = general one */
	const char *endpoint_transcribe; /* LECTERN_AWS_ENDPOINT_TRANSCRIBE */
	const char *endpoint_textract;   /* LECTERN_AWS_ENDPOINT_TEXTRACT */
	long connect_timeout_ms;         /* LECTERN_AWS_CONNECT_TIMEOUT_MS */
	long timeout_ms; /* LECTERN_AWS_TIMEOUT_MS: whole call; long transfers use a stall limit */
	long max_attempts; /* LECTERN_AWS_MAX_ATTEMPTS: tries per call, 1 = no retry */
	long backoff_ms;   /* LECTERN_AWS_BACKOFF_MS: first retry delay, doubled each time */
};

/* Reads the AWS settings from the environment (defaults and bounds in aws.c);
 * ERR_INVALID, logged, when one is wrong. Keys are optional here: a call
 * without them fails with ERR_FORBIDDEN. */
enum err aws_config_load(struct aws_config *out) MUST_CHECK;
/* The same settings as a table pointing into out (static: one per
 * process), for loading and --help/--print-config. */
struct cfg_table aws_config_table(struct aws_config *out);

struct aws_client;

/* A client for cfg (copied). Free it with aws_client_free. */
enum err aws_client_new(const struct aws_config *cfg, struct aws_client **out) MUST_CHECK;
void aws_client_free(struct aws_client *c);
/* The client's credentials and region (for presigning). */
const struct aws_creds *aws_client_creds(const struct aws_client *c);
const char *aws_client_region(const struct aws_client *c);

/* Takes len bytes of a response body; returns ERR_OK to go on. */
typedef enum err aws_sink_fn(void *arg, const void *data, size_t len);

struct aws_http_request {
	const char *method;           /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *service;          /* signing name: "s3", "polly", ... */
	const char *base_url;         /* scheme://host[:port], no path */
	const char *path;             /* percent-encoded, starts with '/' */
	const struct aws_pair *query; /* raw, encoded here */
	size_t query_count;
	const struct aws_pair *headers; /* extra signed headers (content-type, x-amz-target, ...) */
	size_t header_count;
	const void *body; /* request body in memory, may be NULL */
	size_t body_len;
	bool long_transfer; /* no total timeout, only a stall limit (object bodies) */
	aws_sink_fn *sink;  /* a 2xx body streams here instead of into response.body */
	void *sink_arg;
};

struct aws_http_response {
	long status;     /* HTTP status of the last attempt, 0 if none */
	struct buf body; /* the body (2xx without sink, or an error); free with buf_clear */
	long long content_length; /* -1 when not sent */
	char content_type[AWS_FIELD_MAX];
	char etag[AWS_FIELD_MAX];
	char meta_sha256[AWS_SHA256_HEX_LEN + 1]; /* x-amz-meta-sha256 */
	char error_code[AWS_FIELD_MAX]; /* "SignatureDoesNotMatch", "ValidationException" */
	char error_message[AWS_MESSAGE_MAX];
};

/* Sends req signed, with retries. ERR_OK only for a 2xx answer. Errors:
 * ERR_NOT_FOUND (404), ERR_FORBIDDEN (401/403 and credential errors),
 * ERR_INVALID (other 4xx), ERR_TOO_LARGE (413), ERR_CONFLICT (409/412),
 * ERR_UNAVAILABLE (5xx, throttling after the last retry, network),
 * ERR_TIMEOUT (no answer in time), or the sink's error. resp is filled in
 * every case; the caller clears resp->body. */
enum err aws_http(struct aws_client *c, const struct aws_http_request *req,
                  struct aws_http_response *resp) MUST_CHECK;

struct aws_json_request {
	const char *service; /* "polly", "transcribe", "textract": signing name and endpoint */
	const char *method;  /* "POST" (JSON 1.1 is always POST), "GET", "DELETE" */
	const char *path;    /* REST JSON: "/v1/speech"; JSON 1.1: "/" */
	const char
	    *target; /* JSON 1.1: X-Amz-Target "Textract.DetectDocumentText"; NULL for REST JSON */
	const char *body;  /* JSON text, NULL for none */
	aws_sink_fn *sink; /* optional: a success body that is not JSON (Polly's audio) */
	void *sink_arg;
};

/* Calls an AWS JSON API. On success *out_json (may be NULL to ignore) holds
 * the parsed answer, owned by pool (NULL when streamed to the sink or
 * empty). Errors as aws_http; the service's __type and message are logged. */
enum err aws_json_call(struct aws_client *c, const struct aws_json_request *req, struct pool *pool,
                       struct json_object **out_json) MUST_CHECK;

/* The base URL for service: its own endpoint, the general one, or AWS's
 * https://SERVICE.REGION.amazonaws.com. Owned by pool. */
const char *aws_endpoint(const struct aws_client *c, const char *service, struct pool *pool);

#endif
