/* http: request accessors, parameter validation and response writing. */
#include "web/http.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "web/valid.h"

enum {
	HTTP_ENV_NAME_MAX = 128,   /* bytes of a header's FastCGI parameter name */
	HTTP_WRITE_CHUNK = 1 << 20 /* bytes handed to FCGX_PutStr at once (it takes an int) */
};

struct http_param_value {
	const struct param_spec *spec;
	bool present;     /* given by the client or by the spec's fallback */
	const char *text; /* canonical text of the value */
	long ival;        /* PARAM_INT */
	bool bval;        /* PARAM_BOOL */
};

struct http_header {
	struct http_header *next;
	const char *name;
	const char *value;
};

/* --- Request ------------------------------------------------------------ */

const char *http_env(const struct http_req *req, const char *name)
{
	if (!req->fcgx || !req->fcgx->envp)
		return NULL;
	return FCGX_GetParam(name, req->fcgx->envp);
}

/* RFC 9110 tchar: the characters of a header name. */
static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

const char *http_header(const struct http_req *req, const char *name)
{
	if (strcasecmp(name, "Content-Type") == 0)
		return http_env(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return http_env(req, "CONTENT_LENGTH");
	char env[HTTP_ENV_NAME_MAX];
	size_t n = strlen(name);
	if (n == 0 || n + 6 > sizeof(env))
		return NULL;
	memcpy(env, "HTTP_", 5);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!is_tchar(c))
			return NULL;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		env[5 + i] = c;
	}
	env[5 + n] = '\0';
	return http_env(req, env);
}

/* The position of {name} among the {name} segments of pattern, or -1. */
static int pattern_arg_index(const char *pattern, const char *name)
{
	int index = 0;
	size_t nlen = strlen(name);
	for (const char *p = pattern; (p = strchr(p, '{')) != NULL; p++) {
		const char *end = strchr(p, '}');
		if (!end)
			break;
		if ((size_t)(end - p - 1) == nlen && memcmp(p + 1, name, nlen) == 0)
			return index < HTTP_PATH_ARGS_MAX ? index : -1;
		index++;
	}
	return -1;
}

const char *http_path_arg(const struct http_req *req, const char *name)
{
	if (!req->route)
		return NULL;
	int i = pattern_arg_index(req->route->pattern, name);
	return i < 0 ? NULL : req->path_args[i];
}

enum err http_path_uuid(struct http_req *req, const char *name, const char **out)
{
	char id[VALID_UUID_LEN + 1];
	const char *raw = http_path_arg(req, name);
	if (!raw || !valid_uuid(raw, id))
		return http_error(req, ERR_NOT_FOUND, "Not found.");
	*out = pool_strdup(req->pool, id);
	return ERR_OK;
}

/* The first present value of name: a name may be declared for more than
 * one source (a `wait` in the query or in the form). */
static const struct http_param_value *param_find(const struct http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (req->params[i].present && strcmp(req->params[i].spec->name, name) == 0)
			return &req->params[i];
	return NULL;
}

const char *http_param(const struct http_req *req, const char *name)
{
	const struct http_param_value *v = param_find(req, name);
	return v ? v->text : NULL;
}

long http_param_int(const struct http_req *req, const char *name)
{
	const struct http_param_value *v = param_find(req, name);
	return v ? v->ival : 0;
}

bool http_param_bool(const struct http_req *req, const char *name)
{
	const struct http_param_value *v = param_find(req, name);
	return v ? v->bval : false;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) of a query string into dst (len + 1 bytes); a '%'
 * without two hex digits stays as it is. Returns the decoded length. */
static size_t query_decode(const char *s, size_t len, char *dst)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '+') {
			dst[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
		           (lo = hex_value(s[i + 2])) >= 0) {
			dst[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			dst[o++] = s[i];
		}
	}
	dst[o] = '\0';
	return o;
}

const char *http_query_len(const struct http_req *req, const char *name, size_t *len)
{
	const char *q = req->query ? req->query : "";
	size_t qlen = strnlen(q, HTTP_QUERY_MAX);
	size_t nlen = strlen(name);
	size_t pos = 0;
	while (pos < qlen) {
		const char *pair = q + pos;
		const char *amp = memchr(pair, '&', qlen - pos);
		size_t plen = amp ? (size_t)(amp - pair) : qlen - pos;
		pos += plen + 1;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		char *key = pool_alloc(req->pool, klen + 1);
		size_t kdec = query_decode(pair, klen, key);
		if (kdec != nlen || memcmp(key, name, nlen) != 0)
			continue;
		size_t vlen = eq ? plen - klen - 1 : 0;
		char *value = pool_alloc(req->pool, vlen + 1);
		size_t vdec = query_decode(eq ? eq + 1 : "", vlen, value);
		if (len)
			*len = vdec;
		return value;
	}
	return NULL;
}

const char *http_query(const struct http_req *req, const char *name)
{
	return http_query_len(req, name, NULL);
}

ssize_t http_read(struct http_req *req, void *dst, size_t n)
{
	long long left = req->content_length - req->body_consumed;
	if (left <= 0 || n == 0) {
		req->body_read = true;
		return 0;
	}
	if ((long long)n > left)
		n = (size_t)left;
	if (n > HTTP_WRITE_CHUNK)
		n = HTTP_WRITE_CHUNK;
	int got = FCGX_GetStr(dst, (int)n, req->fcgx->in);
	if (got <= 0) {
		int e = FCGX_GetError(req->fcgx->in);
		log_warn("request body ended after %lld of %lld bytes (error %d)",
		         req->body_consumed, req->content_length, e);
		return -1;
	}
	req->body_consumed += got;
	if (req->body_consumed >= req->content_length)
		req->body_read = true;
	return got;
}

/* --- Parameters ---------------------------------------------------------- */

static const char *problem_between(struct http_req *req, long min, long max)
{
	return pool_printf(req->pool, "must be between %ld and %ld", min, max);
}

static const char *problem_choices(struct http_req *req, const char *const *choices)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "must be one of ");
	for (size_t i = 0; choices && choices[i]; i++) {
		if (i)
			buf_puts(&b, ", ");
		buf_puts(&b, choices[i]);
	}
	const char *out = pool_strdup(req->pool, b.data ? b.data : "");
	buf_clear(&b);
	return out;
}

/* Checks one textual value against spec; fills v or returns a problem. */
static const char *param_check_text(struct http_req *req, const struct param_spec *spec,
                                    const char *text, size_t len, struct http_param_value *v)
{
	const char *why = NULL;
	switch (spec->type) {
	case PARAM_STRING: {
		long max = (spec->min == 0 && spec->max == 0) ? HTTP_STRING_MAX : spec->max;
		if (!valid_text(text, len, spec->min, max,
		                VALID_TEXT_NO_CONTROL | VALID_TEXT_NEWLINES, &why)) {
			if (strcmp(why, "too short") == 0)
				return pool_printf(req->pool, "must be at least %ld characters",
				                   spec->min);
			if (strcmp(why, "too long") == 0)
				return pool_printf(req->pool, "must be at most %ld characters",
				                   max);
			return why;
		}
		v->text = pool_strndup(req->pool, text, len);
		return NULL;
	}
	case PARAM_INT: {
		long min = spec->min, max = spec->max;
		if (min == 0 && max == 0) {
			min = LONG_MIN;
			max = LONG_MAX;
		}
		long n;
		if (strlen(text) != len)
			return "must be an integer";
		if (!valid_long(text, min, max, &n)) {
			if (valid_long(text, LONG_MIN, LONG_MAX, &n))
				return problem_between(req, min, max);
			return "must be an integer";
		}
		v->ival = n;
		v->text = pool_printf(req->pool, "%ld", n);
		return NULL;
	}
	case PARAM_BOOL:
		if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
			v->bval = true;
		else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
			v->bval = false;
		else
			return "must be true or false";
		v->text = v->bval ? "true" : "false";
		return NULL;
	case PARAM_UUID: {
		char id[VALID_UUID_LEN + 1];
		if (strlen(text) != len || !valid_uuid(text, id))
			return "must be a UUID";
		v->text = pool_strdup(req->pool, id);
		return NULL;
	}
	case PARAM_EMAIL: {
		const char *email;
		if (strlen(text) != len || !valid_email(text, req->pool, &email))
			return "must be an email address";
		v->text = email;
		return NULL;
	}
	case PARAM_ENUM:
		if (strlen(text) != len || !valid_enum(text, spec->choices, NULL))
			return problem_choices(req, spec->choices);
		v->text = pool_strndup(req->pool, text, len);
		return NULL;
	}
	return "has an unknown type";
}

/* Checks a JSON member's type, then its value as text. */
static const char *param_check_json(struct http_req *req, const struct param_spec *spec,
                                    struct json_object *j, struct http_param_value *v)
{
	switch (spec->type) {
	case PARAM_INT:
		if (!json_object_is_type(j, json_type_int))
			return "must be an integer";
		break;
	case PARAM_BOOL:
		if (!json_object_is_type(j, json_type_boolean))
			return "must be a boolean";
		v->bval = json_object_get_boolean(j);
		v->text = v->bval ? "true" : "false";
		return NULL;
	default:
		if (!json_object_is_type(j, json_type_string))
			return "must be a string";
		return param_check_text(req, spec, json_object_get_string(j),
		                        (size_t)json_object_get_string_len(j), v);
	}
	/* An integer: its own text, so values beyond int64 are not clamped. */
	const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	return param_check_text(req, spec, text, strlen(text), v);
}

enum err http_params_validate(struct http_req *req)
{
	const struct param_spec *specs = req->route ? req->route->params : NULL;
	size_t count = 0;
	while (specs && specs[count].name)
		count++;
	req->nparams = count;
	req->params = count ? pool_alloc(req->pool, count * sizeof(*req->params)) : NULL;
	bool bad = false, bad_path = false;
	for (size_t i = 0; i < count; i++) {
		const struct param_spec *spec = &specs[i];
		struct http_param_value *v = &req->params[i];
		v->spec = spec;
		const char *why = NULL;
		if (spec->source == PARAM_FORM) {
			continue; /* http_form_field, as the body streams by */
		} else if (spec->source == PARAM_PATH) {
			const char *text = http_path_arg(req, spec->name);
			if (text)
				why = param_check_text(req, spec, text, strlen(text), v);
			v->present = text != NULL && !why;
			if (!v->present) {
				bad_path = true;
				continue;
			}
		} else if (spec->source == PARAM_QUERY) {
			size_t len = 0;
			const char *text = http_query_len(req, spec->name, &len);
			if (text)
				why = param_check_text(req, spec, text, len, v);
			v->present = text != NULL;
		} else {
			struct json_object *j = NULL;
			if (req->body && json_object_object_get_ex(req->body, spec->name, &j) &&
			    j) {
				why = param_check_json(req, spec, j, v);
				v->present = true;
			}
		}
		if (!v->present && spec->fallback) {
			why =
			    param_check_text(req, spec, spec->fallback, strlen(spec->fallback), v);
			if (why)
				log_error("route %s %s: fallback of %s is invalid: %s",
				          req->route->method, req->route->pattern, spec->name, why);
			v->present = true;
		}
		if (!v->present && spec->required)
			why = "is required";
		if (why) {
			v->present = false;
			http_error_detail(req, spec->name, why);
			bad = true;
		}
	}
	if (bad_path)
		return http_error(req, ERR_NOT_FOUND, "Not found.");
	if (bad) {
		http_error(req, ERR_INVALID, "Some parameters are missing or not valid.");
		return ERR_INVALID;
	}
	return ERR_OK;
}

enum err http_form_field(struct http_req *req, const char *name, const char *text, size_t len)
{
	for (size_t i = 0; i < req->nparams; i++) {
		struct http_param_value *v = &req->params[i];
		if (v->spec->source != PARAM_FORM || strcmp(v->spec->name, name) != 0)
			continue;
		if (v->present)
			return ERR_OK;
		const char *why = param_check_text(req, v->spec, text, len, v);
		if (why) {
			http_error_detail(req, name, why);
			return http_error(req, ERR_INVALID, "The field `%s` is not valid.", name);
		}
		v->present = true;
		return ERR_OK;
	}
	return ERR_OK;
}

/* --- Response ----------------------------------------------------------- */

static const char *status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	    {200, "OK"},
	    {201, "Created"},
	    {202, "Accepted"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {303, "See Other"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {409, "Conflict"},
	    {413, "Content Too Large"},
	    {415, "Unsupported Media Type"},
	    {416, "Range Not Satisfiable"},
	    {429, "Too Many Requests"},
	    {500, "Internal Server Error"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

static bool header_value_ok(const char *value)
{
	size_t n = strnlen(value, HTTP_HEADER_VALUE_MAX + 1);
	if (n > HTTP_HEADER_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (value[i] == '\r' || value[i] == '\n')
			return false;
	return true;
}

enum err http_add_header(struct http_req *req, const char *name, const char *value)
{
	if (!name || !value || !*name || strlen(name) >= HTTP_ENV_NAME_MAX) {
		log_error("response header refused: empty or long name");
		return ERR_INTERNAL;
	}
	for (const char *p = name; *p; p++) {
		if (!is_tchar(*p)) {
			log_error("response header refused: bad character in its name");
			return ERR_INTERNAL;
		}
	}
	/* Status is CGI's own line; a handler picks the status by sending. */
	if (strcasecmp(name, "Status") == 0 || !header_value_ok(value)) {
		log_error("response header %s refused: CR/LF or oversize value, or reserved name",
		          name);
		return ERR_INTERNAL;
	}
	struct http_header *h = pool_alloc(req->pool, sizeof(*h));
	h->name = pool_strdup(req->pool, name);
	h->value = pool_strdup(req->pool, value);
	struct http_header **tail = &req->headers;
	while (*tail)
		tail = &(*tail)->next;
	*tail = h;
	return ERR_OK;
}

static bool has_header(const struct http_req *req, const char *name)
{
	for (const struct http_header *h = req->headers; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return true;
	return false;
}

static bool put_all(FCGX_Stream *out, const char *data, size_t len)
{
	while (len > 0) {
		int n = len > HTTP_WRITE_CHUNK ? HTTP_WRITE_CHUNK : (int)len;
		if (FCGX_PutStr(data, n, out) != n)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

enum write_flags {
	WRITE_JSON = 1 << 0,     /* add Cache-Control: no-store unless set */
	WRITE_NO_LENGTH = 1 << 1 /* no Content-Length (nginx supplies the body) */
};

static enum err http_write(struct http_req *req, int status, const char *content_type,
                           const void *body, size_t len, unsigned flags)
{
	if (req->status) {
		log_error("a second response (%d) for a request already answered with %d", status,
		          req->status);
		return ERR_INTERNAL;
	}
	if (status < 100 || status > 599) {
		log_error("response status %d is not an HTTP status", status);
		status = 500;
		content_type = NULL;
		len = 0;
	}
	req->status = status;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "Status: %d %s\r\n", status, status_reason(status));
	if (content_type)
		buf_printf(&b, "Content-Type: %s\r\n", content_type);
	if (!(flags & WRITE_NO_LENGTH) && status != 204 && status != 304)
		buf_printf(&b, "Content-Length: %zu\r\n", len);
	if (req->request_id && !has_header(req, "X-Request-ID"))
		buf_printf(&b, "X-Request-ID: %s\r\n", req->request_id);
	if ((flags & WRITE_JSON) && !has_header(req, "Cache-Control"))
		buf_puts(&b, "Cache-Control: no-store\r\n");
	for (const struct http_header *h = req->headers; h; h = h->next)
		buf_printf(&b, "%s: %s\r\n", h->name, h->value);
	buf_puts(&b, "\r\n");
	bool head = req->method && strcmp(req->method, "HEAD") == 0;
	bool sent = put_all(req->fcgx->out, b.data, b.len) &&
	            (head || status == 204 || status == 304 || put_all(req->fcgx->out, body, len));
	buf_clear(&b);
	if (!sent) {
		log_warn("writing the response failed (error %d); the client is gone",
		         FCGX_GetError(req->fcgx->out));
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

enum err http_send_json(struct http_req *req, int status, struct json_object *obj)
{
	if (!obj) {
		log_error("http_send_json without an object");
		return ERR_INTERNAL;
	}
	size_t len = 0;
	const char *text = http_json_text(obj, &len);
	enum err e =
	    http_write(req, status, "application/json; charset=utf-8", text, len, WRITE_JSON);
	json_object_put(obj);
	return e;
}

enum err http_send_empty(struct http_req *req, int status)
{
	return http_write(req, status, NULL, "", 0, 0);
}

enum err http_send_bytes(struct http_req *req, int status, const char *content_type,
                         const void *data, size_t len)
{
	if (!content_type || !header_value_ok(content_type)) {
		log_error("http_send_bytes: bad Content-Type");
		return ERR_INTERNAL;
	}
	return http_write(req, status, content_type, data, len, 0);
}

enum err http_send_redirect(struct http_req *req, int status, const char *location)
{
	if (!(status == 301 || status == 302 || status == 303 || status == 307 || status == 308)) {
		log_error("http_send_redirect: %d is not a redirect status", status);
		return ERR_INTERNAL;
	}
	enum err e = http_add_header(req, "Location", location);
	if (e != ERR_OK)
		return e;
	return http_write(req, status, NULL, "", 0, 0);
}

enum err http_stream_begin(struct http_req *req, int status, const char *content_type)
{
	if (!content_type || !header_value_ok(content_type)) {
		log_error("http_stream_begin: bad Content-Type");
		return ERR_INTERNAL;
	}
	enum err e = http_write(req, status, content_type, "", 0, WRITE_NO_LENGTH);
	if (e == ERR_OK && FCGX_FFlush(req->fcgx->out) != 0)
		e = ERR_INTERNAL;
	return e;
}

enum err http_stream_write(struct http_req *req, const void *data, size_t len)
{
	if (!req->status) {
		log_error("http_stream_write before http_stream_begin");
		return ERR_INTERNAL;
	}
	if (!put_all(req->fcgx->out, data, len) || FCGX_FFlush(req->fcgx->out) != 0) {
		log_warn("writing the stream failed (error %d); the client is gone",
		         FCGX_GetError(req->fcgx->out));
		return ERR_UNAVAILABLE;
	}
	return ERR_OK;
}

void http_stream_abort(struct http_req *req)
{
	/* Without fastcgi_keep_conn nginx takes a bare end of the connection
	 * for the end of the response, so it gets a record of FastCGI version
	 * 0, which it refuses as an upstream error: after the headers that
	 * closes the client's connection mid-body. Then the socket is shut so
	 * no end-of-request follows. */
	static const unsigned char bad_record[8] = {0};
	if (req->fcgx == NULL || req->fcgx->ipcFd < 0)
		return;
	(void)FCGX_FFlush(req->fcgx->out);
	if (write(req->fcgx->ipcFd, bad_record, sizeof(bad_record)) !=
	        (ssize_t)sizeof(bad_record) ||
	    shutdown(req->fcgx->ipcFd, SHUT_RDWR) != 0)
		log_warn("aborting the stream: %s", strerror(errno));
}

/* RFC 5987 attr-char: left as it is in filename*=. */
static bool is_attr_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL;
}

const char *http_content_disposition(struct pool *pool, const char *filename)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *name = valid_display_filename(pool, filename, filename ? strlen(filename) : 0);
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p;) {
		if (*p >= 0x80) {
			/* One '_' per non-ASCII character (the name is valid UTF-8). */
			buf_putc(&b, '_');
			p++;
			while ((*p & 0xc0) == 0x80)
				p++;
			continue;
		}
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '%';
		buf_putc(&b, plain ? (char)*p : '_');
		p++;
	}
	buf_puts(&b, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (is_attr_char(*p)) {
			buf_putc(&b, (char)*p);
		} else {
			buf_putc(&b, '%');
			buf_putc(&b, hex[*p >> 4]);
			buf_putc(&b, hex[*p & 15]);
		}
	}
	const char *out = pool_strdup(pool, b.data);
	buf_clear(&b);
	return out;
}

/* An internal URI for X-Accel-Redirect: absolute, visible ASCII, no "..". */
static bool accel_uri_ok(const char *uri)
{
	if (!uri || uri[0] != '/' || strstr(uri, "/../") || strstr(uri, "/./"))
		return false;
	size_t n = strlen(uri);
	if (n > HTTP_PATH_MAX || (n >= 3 && strcmp(uri + n - 3, "/..") == 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f)
			return false;
	return true;
}

enum err http_send_accel(struct http_req *req, const char *internal_uri, const char *content_type,
                         const char *filename)
{
	if (!accel_uri_ok(internal_uri)) {
		log_error("http_send_accel: the internal URI is not a clean absolute path");
		return ERR_INTERNAL;
	}
	if (!content_type || !header_value_ok(content_type)) {
		log_error("http_send_accel: bad Content-Type");
		return ERR_INTERNAL;
	}
	enum err e = http_add_header(req, "X-Accel-Redirect", internal_uri);
	if (e == ERR_OK && filename)
		e = http_add_header(req, "Content-Disposition",
		                    http_content_disposition(req->pool, filename));
	if (e != ERR_OK)
		return e;
	return http_write(req, 200, content_type, "", 0, WRITE_NO_LENGTH);
}

enum err http_error(struct http_req *req, enum err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	req->error_message = pool_vprintf(req->pool, fmt, ap);
	va_end(ap);
	return e;
}

static void json_put_cb(void *obj)
{
	json_object_put(obj);
}

void http_error_detail(struct http_req *req, const char *field, const char *problem)
{
	if (!req->error_details) {
		req->error_details = json_object_new_array();
		pool_on_free(req->pool, json_put_cb, req->error_details);
	}
	if (json_object_array_length(req->error_details) >= HTTP_DETAILS_MAX)
		return;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "field", json_object_new_string(field ? field : ""));
	json_object_object_add(d, "problem", json_object_new_string(problem ? problem : ""));
	json_object_array_add(req->error_details, d);
}

void http_send_error(struct http_req *req, enum err e)
{
	if (e == ERR_OK || e < 0 || e >= ERR__COUNT)
		e = ERR_INTERNAL;
	int status = err_status(e);
	const char *message = req->error_message;
	if (!message || status >= 500)
		message = err_message(e);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(err_code(e)));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "request_id",
	                       req->request_id ? json_object_new_string(req->request_id) : NULL);
	if (e == ERR_INVALID && req->error_details)
		json_object_object_add(o, "details", json_object_get(req->error_details));
	/* Every 429 says when to come back (the contract); a handler that
	 * knows better adds its own first. */
	bool retry_after = false;
	for (const struct http_header *h = req->headers; h; h = h->next)
		retry_after |= strcasecmp(h->name, "Retry-After") == 0;
	if (status == 429 && !retry_after &&
	    http_add_header(req, "Retry-After", HTTP_RETRY_AFTER_DEFAULT) != ERR_OK)
		log_warn("could not add Retry-After");
	enum err w = http_send_json(req, status, o);
	(void)w; /* a failed write is logged inside; nothing more to do */
}

/* --- JSON ------------------------------------------------------------------ */

/* json-c's strict mode still takes single-quoted names, NaN and Infinity:
 * outside strings, JSON has none of these characters. */
static bool json_text_plain(const char *s, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '\'' || c == 'N' || c == 'I') {
			return false;
		}
	}
	return true;
}

/* Its UTF-8 check lets encoded surrogates through: check every string. */
static bool json_tree_ok(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		return valid_utf8(json_object_get_string(o), (size_t)json_object_get_string_len(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!json_tree_ok(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, key, value)
		{
			if (!valid_utf8(key, strlen(key)) || !json_tree_ok(value))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

struct json_object *http_json_parse(const char *text, size_t len)
{
	if (!text || len > (size_t)INT_MAX - 1 || !json_text_plain(text, len))
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(HTTP_JSON_DEPTH_MAX);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	if (!obj && je == json_tokener_continue) {
		/* A bare number needs a delimiter to end; anything else is cut. */
		obj = json_tokener_parse_ex(tok, " ", 1);
		je = json_tokener_get_error(tok);
		if (obj && je == json_tokener_success && json_tokener_get_parse_end(tok) != 1) {
			json_object_put(obj);
			obj = NULL;
		}
	} else if (obj && je == json_tokener_success) {
		/* Only blanks may follow the value. */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
			if (!(text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
			      text[i] == '\r')) {
				json_object_put(obj);
				obj = NULL;
				break;
			}
		}
	}
	if (je != json_tokener_success && obj) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	if (obj && !json_tree_ok(obj)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

const char *http_json_text(struct json_object *obj, size_t *len)
{
	size_t n = 0;
	const char *s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (len)
		*len = n;
	return s;
}
