/* aws: the signed-request engine shared by S3 and the JSON services. */
#include "storage/aws.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"

enum {
	AWS_HEADERS_MAX = AWS_SIGV4_PAIRS_MAX, /* extra headers of one request */
	AWS_BACKOFF_CAP_MS = 10000,            /* longest single wait between tries */
	AWS_URL_MAX = 8192
};

struct aws_client {
	struct aws_config cfg;
	struct aws_creds creds;
	CURL *curl; /* reused so connections stay open between calls */
};

struct cfg_table aws_config_table(struct aws_config *out)
{
	const char *region_fallback = getenv("AWS_DEFAULT_REGION");
	if (!region_fallback || !*region_fallback)
		region_fallback = "us-east-1";
	const struct cfg_var table[] = {
	    {"AWS_REGION", CFG_STRING, region_fallback, 1, 64, CFG_NONEMPTY, &out->region,
	     "AWS region of S3 and the AWS engines", NULL},
	    {"AWS_ACCESS_KEY_ID", CFG_STRING, "", 0, 128, 0, &out->access_key_id,
	     "AWS access key id (S3, Polly, Transcribe, Textract)", NULL},
	    {"AWS_SECRET_ACCESS_KEY", CFG_STRING, "", 0, 256, CFG_SECRET, &out->secret_access_key,
	     "AWS secret access key", NULL},
	    {"AWS_SESSION_TOKEN", CFG_STRING, "", 0, 4096, CFG_SECRET, &out->session_token,
	     "AWS session token of temporary credentials (Learner Lab)", NULL},
	    {"LECTERN_AWS_ENDPOINT", CFG_STRING, "", 0, 512, 0, &out->endpoint,
	     "scheme://host[:port] used for every AWS service instead of AWS", NULL},
	    {"LECTERN_AWS_ENDPOINT_POLLY", CFG_STRING, "", 0, 512, 0, &out->endpoint_polly,
	     "endpoint for Polly only", NULL},
	    {"LECTERN_AWS_ENDPOINT_TRANSCRIBE", CFG_STRING, "", 0, 512, 0,
	     &out->endpoint_transcribe, "endpoint for Transcribe only", NULL},
	    {"LECTERN_AWS_ENDPOINT_TEXTRACT", CFG_STRING, "", 0, 512, 0, &out->endpoint_textract,
	     "endpoint for Textract only", NULL},
	    {"LECTERN_AWS_CONNECT_TIMEOUT_MS", CFG_INT, "3000", 100, 60000, 0,
	     &out->connect_timeout_ms, "time to connect to an AWS endpoint", NULL},
	    {"LECTERN_AWS_TIMEOUT_MS", CFG_INT, "30000", 100, 600000, 0, &out->timeout_ms,
	     "time for one AWS call; object transfers may take longer but not stall this long",
	     NULL},
	    {"LECTERN_AWS_MAX_ATTEMPTS", CFG_INT, "4", 1, 10, 0, &out->max_attempts,
	     "tries per AWS call (throttling, 5xx, network)", NULL},
	    {"LECTERN_AWS_BACKOFF_MS", CFG_INT, "200", 1, 10000, 0, &out->backoff_ms,
	     "first retry delay, doubled at each try", NULL},
	};
	/* Static: the table lives as long as the settings it points into. */
	static struct cfg_var vars[CFG_COUNT(table)];
	memcpy(vars, table, sizeof(table));
	return (struct cfg_table){"aws", vars, CFG_COUNT(vars)};
}

enum err aws_config_load(struct aws_config *out)
{
	memset(out, 0, sizeof(*out));
	struct cfg_table t = aws_config_table(out);
	enum err e = cfg_load(t.vars, t.count);
	if (e)
		return e;
	const char *eps[] = {out->endpoint, out->endpoint_polly, out->endpoint_transcribe,
	                     out->endpoint_textract};
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		if (*eps[i] && strncmp(eps[i], "http://", 7) != 0 &&
		    strncmp(eps[i], "https://", 8) != 0) {
			log_error("config: AWS endpoint \"%s\" must start with http:// or https://",
			          eps[i]);
			return ERR_INVALID;
		}
	}
	return ERR_OK;
}

enum err aws_client_new(const struct aws_config *cfg, struct aws_client **out)
{
	static bool curl_ready;
	if (!curl_ready) {
		CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (rc != CURLE_OK) {
			log_error("aws: curl_global_init: %s", curl_easy_strerror(rc));
			return ERR_INTERNAL;
		}
		curl_ready = true;
	}
	struct aws_client *c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	c->creds.access_key_id = cfg->access_key_id ? cfg->access_key_id : "";
	c->creds.secret_access_key = cfg->secret_access_key ? cfg->secret_access_key : "";
	c->creds.session_token = cfg->session_token ? cfg->session_token : "";
	c->curl = curl_easy_init();
	if (!c->curl) {
		log_error("aws: curl_easy_init failed");
		free(c);
		return ERR_INTERNAL;
	}
	*out = c;
	return ERR_OK;
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

const struct aws_creds *aws_client_creds(const struct aws_client *c)
{
	return &c->creds;
}
const char *aws_client_region(const struct aws_client *c)
{
	return c->cfg.region;
}

/* Drops one trailing '/' so base + path never doubles it. */
static const char *trim_slash(struct pool *pool, const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	return pool_strndup(pool, url, n);
}

const char *aws_endpoint(const struct aws_client *c, const char *service, struct pool *pool)
{
	const char *own = "";
	if (strcmp(service, "polly") == 0)
		own = c->cfg.endpoint_polly;
	else if (strcmp(service, "transcribe") == 0)
		own = c->cfg.endpoint_transcribe;
	else if (strcmp(service, "textract") == 0)
		own = c->cfg.endpoint_textract;
	if (own && *own)
		return trim_slash(pool, own);
	if (c->cfg.endpoint && *c->cfg.endpoint)
		return trim_slash(pool, c->cfg.endpoint);
	return pool_printf(pool, "https://%s.%s.amazonaws.com", service, c->cfg.region);
}

/* The state of one attempt, shared with curl's callbacks. */
struct transfer {
	struct aws_client *c;
	const struct aws_http_request *req;
	struct aws_http_response *resp;
	size_t sent;       /* request body bytes handed to curl */
	bool delivered;    /* the sink has seen bytes: the call can no longer be retried */
	enum err sink_err; /* why the sink stopped the transfer */
	bool overflow;     /* a kept body went past its ceiling */
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t want = size * nmemb;
	size_t left = t->req->body_len - t->sent;
	size_t n = want < left ? want : left;
	if (n)
		memcpy(dst, (const char *)t->req->body + t->sent, n);
	t->sent += n;
	return n;
}

/* curl rewinds the body when it must send it again on the same attempt. */
static int seek_cb(void *arg, curl_off_t offset, int origin)
{
	struct transfer *t = arg;
	if (origin != SEEK_SET || offset < 0 || (size_t)offset > t->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	t->sent = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(t->c->curl, CURLINFO_RESPONSE_CODE, &status);
	bool success = status >= 200 && status < 300;
	if (success && t->req->sink) {
		t->delivered = true;
		enum err e = t->req->sink(t->req->sink_arg, data, n);
		if (e) {
			t->sink_err = e;
			return 0;
		}
		return n;
	}
	size_t cap = success ? AWS_BODY_MAX : AWS_ERROR_BODY_MAX;
	if (t->resp->body.len + n > cap) {
		if (success) {
			t->overflow = true;
			return 0;
		}
		n = cap - t->resp->body.len; /* an error body is only read for its code */
		buf_append(&t->resp->body, data, n);
		return size * nmemb;
	}
	buf_append(&t->resp->body, data, n);
	return n;
}

static void copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void reset_fields(struct aws_http_response *r)
{
	r->content_length = -1;
	r->content_type[0] = r->etag[0] = r->meta_sha256[0] = '\0';
	r->error_code[0] = r->error_message[0] = '\0';
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	struct aws_http_response *r = t->resp;
	size_t n = size * nmemb;
	if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		reset_fields(r); /* a new response (after 100 Continue or a retry) */
		return n;
	}
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return n;
	size_t name_len = (size_t)(colon - line);
	const char *v = colon + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t vlen = (size_t)(end - v);
#define IS(name) (name_len == sizeof(name) - 1 && strncasecmp(line, name, name_len) == 0)
	if (IS("content-length")) {
		char num[32];
		copy_field(num, sizeof(num), v, vlen);
		char *stop = NULL;
		long long cl = strtoll(num, &stop, 10);
		if (stop != num && *stop == '\0' && cl >= 0)
			r->content_length = cl;
	} else if (IS("content-type")) {
		copy_field(r->content_type, sizeof(r->content_type), v, vlen);
	} else if (IS("etag")) {
		copy_field(r->etag, sizeof(r->etag), v, vlen);
	} else if (IS("x-amz-meta-sha256")) {
		copy_field(r->meta_sha256, sizeof(r->meta_sha256), v, vlen);
	} else if (IS("x-amzn-errortype")) {
		/* "ValidationException:http://internal.amazon.com/..." */
		const char *c2 = memchr(v, ':', vlen);
		copy_field(r->error_code, sizeof(r->error_code), v, c2 ? (size_t)(c2 - v) : vlen);
	}
#undef IS
	return n;
}

/* Text between <tag> and </tag> in an XML error body. */
static bool xml_field(const char *xml, const char *tag, char *dst, size_t cap)
{
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	const char *s = strstr(xml, open);
	if (!s)
		return false;
	s += strlen(open);
	const char *e = strstr(s, close);
	if (!e)
		return false;
	copy_field(dst, cap, s, (size_t)(e - s));
	return true;
}

/* Fills error_code and error_message from a JSON or XML error body. */
static void parse_error(struct aws_http_response *r)
{
	const char *body = r->body.data ? r->body.data : "";
	const char *p = body;
	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == '{') {
		struct json_tokener *tok = json_tokener_new_ex(AWS_JSON_DEPTH_MAX);
		struct json_object *o = json_tokener_parse_ex(tok, body, (int)r->body.len);
		json_tokener_free(tok);
		if (o && json_object_is_type(o, json_type_object)) {
			struct json_object *v;
			if ((json_object_object_get_ex(o, "__type", &v) ||
			     json_object_object_get_ex(o, "code", &v) ||
			     json_object_object_get_ex(o, "Code", &v)) &&
			    json_object_is_type(v, json_type_string)) {
				/* "com.amazonaws.polly#ValidationException" names the type after
				 * '#'. */
				const char *type = json_object_get_string(v);
				const char *hash = strrchr(type, '#');
				type = hash ? hash + 1 : type;
				copy_field(r->error_code, sizeof(r->error_code), type,
				           strlen(type));
			}
			if ((json_object_object_get_ex(o, "message", &v) ||
			     json_object_object_get_ex(o, "Message", &v)) &&
			    json_object_is_type(v, json_type_string)) {
				const char *m = json_object_get_string(v);
				copy_field(r->error_message, sizeof(r->error_message), m,
				           strlen(m));
			}
		}
		json_object_put(o);
	} else if (*p == '<') {
		xml_field(body, "Code", r->error_code, sizeof(r->error_code));
		xml_field(body, "Message", r->error_message, sizeof(r->error_message));
	}
}

static bool is_throttling(const char *code)
{
	static const char *const codes[] = {
	    "Throttling",
	    "ThrottlingException",
	    "ThrottledException",
	    "RequestThrottledException",
	    "TooManyRequestsException",
	    "ProvisionedThroughputExceededException",
	    "TransactionInProgressException",
	    "RequestLimitExceeded",
	    "BandwidthLimitExceeded",
	    "LimitExceededException",
	    "RequestThrottled",
	    "SlowDown",
	    "PriorRequestNotComplete",
	    "EC2ThrottledException",
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static bool is_credential_error(const char *code)
{
	static const char *const codes[] = {
	    "AccessDenied",
	    "AccessDeniedException",
	    "UnrecognizedClientException",
	    "InvalidSignatureException",
	    "SignatureDoesNotMatch",
	    "InvalidAccessKeyId",
	    "ExpiredToken",
	    "ExpiredTokenException",
	    "InvalidToken",
	    "MissingAuthenticationToken",
	    "IncompleteSignature",
	    "InvalidClientTokenId",
	    "RequestExpired",
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static enum err status_error(long status, const char *code)
{
	if (is_credential_error(code))
		return ERR_FORBIDDEN;
	if (status >= 500 || status == 429 || is_throttling(code))
		return ERR_UNAVAILABLE;
	switch (status) {
	case 401:
	case 403:
		return ERR_FORBIDDEN;
	case 404:
		return ERR_NOT_FOUND;
	case 409:
	case 412:
		return ERR_CONFLICT;
	case 413:
		return ERR_TOO_LARGE;
	default:
		return ERR_INVALID;
	}
}

static void backoff(const struct aws_client *c, int attempt)
{
	long ms = c->cfg.backoff_ms;
	for (int i = 1; i < attempt && ms < AWS_BACKOFF_CAP_MS; i++)
		ms *= 2;
	if (ms > AWS_BACKOFF_CAP_MS)
		ms = AWS_BACKOFF_CAP_MS;
	/* Jitter spreads the retries of many workers hit by the same throttle. */
	ms = ms / 2 + (long)((unsigned long)random() % (unsigned long)(ms / 2 + 1));
	clock_sleep_ms(ms);
}

/* One attempt: signs and performs; returns the curl result. */
static CURLcode perform(struct aws_client *c, const struct aws_http_request *req,
                        struct transfer *t, const char *url, const char *host,
                        const char *payload_hash, struct pool *pool)
{
	time_t now = time(NULL);
	char amz_date[AWS_AMZ_DATE_LEN + 1];
	aws_amz_date(now, amz_date);
	bool s3 = strcmp(req->service, "s3") == 0;
	struct aws_pair hdrs[AWS_HEADERS_MAX + 3];
	size_t nh = 0;
	for (size_t i = 0; i < req->header_count && i < AWS_HEADERS_MAX; i++)
		hdrs[nh++] = req->headers[i];
	hdrs[nh++] = (struct aws_pair){"x-amz-date", amz_date};
	if (s3)
		hdrs[nh++] = (struct aws_pair){"x-amz-content-sha256", payload_hash};
	if (*c->creds.session_token)
		hdrs[nh++] = (struct aws_pair){"x-amz-security-token", c->creds.session_token};
	struct aws_sigv4_request sr = {
	    .method = req->method,
	    .host = host,
	    .path = req->path,
	    .double_encode_path = !s3,
	    .query = req->query,
	    .query_count = req->query_count,
	    .headers = hdrs,
	    .header_count = nh,
	    .payload_sha256 = payload_hash,
	    .region = c->cfg.region,
	    .service = req->service,
	    .now = now,
	};
	const char *auth = aws_sigv4_authorization(&sr, &c->creds, pool);

	struct curl_slist *list = NULL;
	bool has_type = false;
	list = curl_slist_append(list, pool_printf(pool, "Host: %s", host));
	list = curl_slist_append(list, pool_printf(pool, "Authorization: %s", auth));
	for (size_t i = 0; i < nh; i++) {
		if (strcasecmp(hdrs[i].name, "content-type") == 0)
			has_type = true;
		list = curl_slist_append(list,
		                         pool_printf(pool, "%s: %s", hdrs[i].name, hdrs[i].value));
	}
	list = curl_slist_append(list, "Expect:");
	if (!has_type)
		list = curl_slist_append(list, "Content-Type:");

	CURL *h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "lectern/" LECTERN_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
	if (req->long_transfer) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
		                 c->cfg.timeout_ms / 1000 > 0 ? c->cfg.timeout_ms / 1000 : 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, t);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	}
	CURLcode rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);
	return rc;
}

enum err aws_http(struct aws_client *c, const struct aws_http_request *req,
                  struct aws_http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body);
	reset_fields(resp);
	if (!*c->creds.access_key_id || !*c->creds.secret_access_key) {
		log_error(
		    "aws %s: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
		    req->service);
		return ERR_FORBIDDEN;
	}
	struct pool *pool = pool_new();
	enum err e = ERR_INTERNAL;
	const char *scheme_end = strstr(req->base_url, "://");
	if (!scheme_end) {
		log_error("aws %s: endpoint \"%s\" has no scheme", req->service, req->base_url);
		goto out;
	}
	const char *host = scheme_end + 3;
	struct buf url;
	buf_init(&url);
	buf_printf(&url, "%s%s", req->base_url, req->path);
	for (size_t i = 0; i < req->query_count; i++) {
		buf_putc(&url, i ? '&' : '?');
		aws_uri_encode(&url, req->query[i].name, strlen(req->query[i].name), false);
		buf_putc(&url, '=');
		const char *v = req->query[i].value ? req->query[i].value : "";
		aws_uri_encode(&url, v, strlen(v), false);
	}
	const char *url_text = pool_strdup(pool, url.data);
	buf_clear(&url);
	char payload_hash[AWS_SHA256_HEX_LEN + 1];
	aws_sha256_hex(req->body ? req->body : "", req->body_len, payload_hash);

	for (int attempt = 1;; attempt++) {
		struct transfer t = {.c = c, .req = req, .resp = resp};
		buf_clear(&resp->body);
		reset_fields(resp);
		resp->status = 0;
		CURLcode rc = perform(c, req, &t, url_text, host, payload_hash, pool);
		bool retry = false;
		if (t.sink_err) {
			e = t.sink_err; /* the sink logged its own failure */
			goto out;
		}
		if (t.overflow) {
			log_error("aws %s %s %s: answer over %d bytes", req->service, req->method,
			          req->path, AWS_BODY_MAX);
			e = ERR_UNAVAILABLE;
			goto out;
		}
		if (rc != CURLE_OK) {
			e = rc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE;
			retry = !t.delivered;
			snprintf(resp->error_message, sizeof(resp->error_message), "%s",
			         curl_easy_strerror(rc));
		} else {
			curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
			if (resp->status >= 200 && resp->status < 300) {
				e = ERR_OK;
				goto out;
			}
			parse_error(resp);
			e = status_error(resp->status, resp->error_code);
			retry = e == ERR_UNAVAILABLE && !t.delivered;
		}
		if (!retry || attempt >= c->cfg.max_attempts)
			break;
		log_warn("aws %s %s %s: %s %ld %s (try %d of %ld), retrying", req->service,
		         req->method, req->path, rc != CURLE_OK ? "network:" : "HTTP", resp->status,
		         rc != CURLE_OK ? resp->error_message : resp->error_code, attempt,
		         c->cfg.max_attempts);
		backoff(c, attempt);
	}
	if (e == ERR_NOT_FOUND)
		log_debug("aws %s %s %s: not found", req->service, req->method, req->path);
	else if (resp->status == 0)
		log_error("aws %s %s %s%s: %s", req->service, req->method, req->base_url, req->path,
		          resp->error_message);
	else
		log_error("aws %s %s %s: HTTP %ld %s: %s", req->service, req->method, req->path,
		          resp->status, resp->error_code[0] ? resp->error_code : "(no code)",
		          resp->error_message[0] ? resp->error_message : "(no message)");
out:
	pool_free(pool);
	return e;
}

static void json_put_cb(void *o)
{
	json_object_put(o);
}

enum err aws_json_call(struct aws_client *c, const struct aws_json_request *req, struct pool *pool,
                       struct json_object **out_json)
{
	if (out_json)
		*out_json = NULL;
	struct aws_pair hdrs[2];
	size_t nh = 0;
	hdrs[nh++] = (struct aws_pair){"content-type", req->target ? "application/x-amz-json-1.1"
	                                                           : "application/json"};
	if (req->target)
		hdrs[nh++] = (struct aws_pair){"x-amz-target", req->target};
	struct aws_http_request hr = {
	    .method = req->method ? req->method : "POST",
	    .service = req->service,
	    .base_url = aws_endpoint(c, req->service, pool),
	    .path = req->path ? req->path : "/",
	    .headers = hdrs,
	    .header_count = nh,
	    .body = req->body,
	    .body_len = req->body ? strlen(req->body) : 0,
	    .long_transfer = req->sink != NULL,
	    .sink = req->sink,
	    .sink_arg = req->sink_arg,
	};
	struct aws_http_response resp;
	enum err e = aws_http(c, &hr, &resp);
	if (e || req->sink || resp.body.len == 0)
		goto out;
	struct json_tokener *tok = json_tokener_new_ex(AWS_JSON_DEPTH_MAX);
	struct json_object *o = json_tokener_parse_ex(tok, resp.body.data, (int)resp.body.len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		log_error("aws %s %s: the answer is not JSON: %s", req->service,
		          req->target ? req->target : hr.path, json_tokener_error_desc(jerr));
		json_object_put(o);
		e = ERR_UNAVAILABLE;
		goto out;
	}
	pool_on_free(pool, json_put_cb, o);
	if (out_json)
		*out_json = o;
out:
	buf_clear(&resp.body);
	return e;
}
