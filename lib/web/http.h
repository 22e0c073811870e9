/* http: one FastCGI request, its validated parameters and its response.
 *
 * The dispatcher (serve.c) builds a struct http_req for each request, matches
 * it against the service's route table, checks the body limit, parses a JSON
 * body with a depth limit, validates every declared parameter, then calls the
 * handler. A handler either writes a response with one of the http_send_*
 * functions and returns ERR_OK, or returns an error (optionally described
 * with http_error / http_error_detail) and the dispatcher writes the JSON
 * error body of docs/api.md, "Conventions". Everything allocated for the request
 * hangs off req->pool and is freed when the request ends. */
#ifndef LECTERN_HTTP_H
#define LECTERN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "core/err.h"
#include "core/mem.h"

/* Ceilings every request lives within. */
enum {
	HTTP_JSON_DEPTH_MAX = 16,     /* nesting of a JSON body */
	HTTP_PATH_ARGS_MAX = 4,       /* {name} segments in one route pattern */
	HTTP_PATH_MAX = 2048,         /* bytes of a request path */
	HTTP_HEADER_VALUE_MAX = 8192, /* bytes of one response header value */
	HTTP_DETAILS_MAX = 32,        /* validation problems reported at once */
	HTTP_QUERY_MAX = 8192,        /* bytes of a query string that are looked at */
	HTTP_STRING_MAX = 1000000     /* PARAM_STRING characters when max is 0 */
};

enum param_source {
	PARAM_QUERY, /* ?name=value */
	PARAM_BODY,  /* a member of the JSON object body */
	PARAM_PATH,  /* a {name} segment of the route pattern; a value that does not
	                validate answers 404, since a malformed id names nothing */
	PARAM_FORM   /* a text field of a multipart body: the handler streams the body
	                and hands each field to http_form_field, which validates it */
};

enum param_type {
	PARAM_STRING, /* valid UTF-8 without NUL or control characters other than tab,
	                 LF and CR; min/max bound its length in characters */
	PARAM_INT,    /* a whole number (JSON number or decimal text); min/max bound it */
	PARAM_BOOL,   /* JSON true/false, or true/false/1/0 in a query */
	PARAM_UUID,   /* a lowercase hyphenated UUID (upper case is folded) */
	PARAM_EMAIL,  /* an email address; trimmed and lower-cased */
	PARAM_ENUM    /* one of choices */
};

/* One declared parameter of a route; a route's table ends with name == NULL. */
struct param_spec {
	const char *name;
	enum param_source source;
	enum param_type type;
	bool required;
	long min;                   /* PARAM_INT: smallest; PARAM_STRING: shortest (chars) */
	long max;                   /* PARAM_INT: largest; PARAM_STRING: longest (chars).
	                               min == max == 0: PARAM_INT takes any long, and
	                               PARAM_STRING 0..HTTP_STRING_MAX characters */
	const char *const *choices; /* PARAM_ENUM: NULL-terminated allowed values */
	const char *fallback;       /* value used when absent (as text), or NULL */
};

enum route_flags {
	ROUTE_AUTH = 1 << 0,         /* needs the user id nginx's auth_request set */
	ROUTE_JSON = 1 << 1,         /* the body, if any, must be a JSON object */
	ROUTE_STREAM = 1 << 2,       /* the handler reads the raw body itself (multipart) */
	ROUTE_OPTIONAL_BODY = 1 << 3 /* with ROUTE_JSON: an empty body is allowed */
};

struct http_req;

/* One entry of a service's route table. */
struct route {
	const char *method;  /* "GET", "POST", "DELETE", ... */
	const char *pattern; /* relative to the service prefix: "/sessions/{id}"; a {name}
	                        matches one non-empty path segment */
	enum err (*handler)(struct http_req *req);
	const struct param_spec *params; /* NULL or terminated by name == NULL */
	size_t max_body;                 /* largest body in bytes; 0 = no body */
	unsigned flags;                  /* enum route_flags */
};

struct http_param_value; /* the validated value of one declared parameter */
struct http_header;      /* one response header, kept until the response goes out */

struct http_req {
	struct pool *pool;                         /* owns everything below */
	FCGX_Request *fcgx;                        /* the libfcgi request */
	const char *method;                        /* REQUEST_METHOD */
	const char *uri;                           /* DOCUMENT_URI, percent-decoded by nginx */
	const char *path;                          /* uri less the service prefix ("/login") */
	const char *query;                         /* QUERY_STRING, "" when none */
	const char *content_type;                  /* CONTENT_TYPE, "" when none */
	long long content_length;                  /* CONTENT_LENGTH, 0 when none */
	const char *request_id;                    /* the id nginx set (X-Request-ID) */
	const char *remote_addr;                   /* the client's address as nginx saw it */
	const char *user_id;                       /* LECTERN_USER_ID from auth_request, or NULL */
	const char *user_email;                    /* LECTERN_USER_EMAIL, or NULL */
	const char *user_role;                     /* LECTERN_USER_ROLE, or NULL */
	struct json_object *body;                  /* parsed JSON body (an object), or NULL */
	const struct route *route;                 /* the matched route */
	const char *path_args[HTTP_PATH_ARGS_MAX]; /* {name} segment values in order */
	struct http_param_value *params;           /* validated values, route order */
	size_t nparams;
	/* Response state. */
	int status;                        /* 0 until a response was written */
	struct http_header *headers;       /* extra headers for the response */
	const char *error_message;         /* set by http_error */
	struct json_object *error_details; /* array set by http_error_detail */
	bool body_read;                    /* the body was consumed */
	long long body_consumed;           /* bytes of the body read so far */
};

/* --- Request ------------------------------------------------------------ */

/* A FastCGI parameter ("HTTP_AUTHORIZATION", "LECTERN_USER_ID"), or NULL. */
const char *http_env(const struct http_req *req, const char *name);
/* A request header by its HTTP name ("Authorization"), or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/* The value of a {name} segment by its name in the route pattern, or NULL. */
const char *http_path_arg(const struct http_req *req, const char *name);
/* A declared parameter's value as text (after defaults), or NULL if absent. */
const char *http_param(const struct http_req *req, const char *name);
/* A declared PARAM_INT's value; 0 when absent without a default. */
long http_param_int(const struct http_req *req, const char *name);
/* A declared PARAM_BOOL's value; false when absent without a default. */
bool http_param_bool(const struct http_req *req, const char *name);
/* A raw query-string value (percent-decoded, '+' as space, pool-owned), or
 * NULL. The first occurrence of a repeated name wins. */
const char *http_query(const struct http_req *req, const char *name);
/* Like http_query and gives the decoded length (a %00 is kept as a NUL byte
 * so validators can see it). */
const char *http_query_len(const struct http_req *req, const char *name, size_t *len);
/* The {name} segment as a UUID (lower-cased, pool-owned); ERR_NOT_FOUND
 * when it is not one, since a malformed id names no resource. */
enum err http_path_uuid(struct http_req *req, const char *name, const char **out) MUST_CHECK;
/* Validates every declared parameter of req->route (query and JSON body)
 * and stores the values; ERR_INVALID with one detail per problem. Used by
 * the dispatcher after the body is parsed. */
enum err http_params_validate(struct http_req *req) MUST_CHECK;
/* Validates the multipart text field name (len bytes, which may hold NUL)
 * against the route's PARAM_FORM entry and stores it like any parameter.
 * Fields the route does not declare are ignored; a repeated one keeps its
 * first value. ERR_INVALID with a detail when the value is not valid. */
enum err http_form_field(struct http_req *req, const char *name, const char *text,
                         size_t len) MUST_CHECK;
/* Reads up to n bytes of the raw body (ROUTE_STREAM routes); returns the
 * count, 0 at the end, -1 on a read error or when the body ends before
 * CONTENT_LENGTH bytes (logged). Never reads past CONTENT_LENGTH. */
ssize_t http_read(struct http_req *req, void *dst, size_t n);

/* --- Response ----------------------------------------------------------- */

/* Adds a response header; a name or value with CR, LF or NUL is refused
 * (ERR_INTERNAL). The strings are copied. */
enum err http_add_header(struct http_req *req, const char *name, const char *value) MUST_CHECK;
/* Every send writes "Status:", Content-Type, X-Request-ID, the added headers
 * and the body; a second send for the same request is refused (ERR_INTERNAL,
 * logged). JSON responses also carry Cache-Control: no-store unless a
 * Cache-Control header was added. */
/* Writes status and a JSON body; takes ownership of obj. */
enum err http_send_json(struct http_req *req, int status, struct json_object *obj);
/* Writes status with no body (204, or 201 without content). */
enum err http_send_empty(struct http_req *req, int status);
/* Writes status and bytes with the given Content-Type. */
enum err http_send_bytes(struct http_req *req, int status, const char *content_type,
                         const void *data, size_t len);
/* Writes a redirect (302, 303, 307) to location. */
enum err http_send_redirect(struct http_req *req, int status, const char *location);
/* Hands the response to nginx: X-Accel-Redirect to an internal location, with
 * the Content-Type and an attachment Content-Disposition for filename (NULL:
 * none). The file name is encoded per RFC 6266 (filename*=UTF-8''...). */
enum err http_send_accel(struct http_req *req, const char *internal_uri, const char *content_type,
                         const char *filename);
/* Starts a streamed response (server-sent events): the status and headers
 * go out at once, without Content-Length; the body follows in pieces with
 * http_stream_write. Add "X-Accel-Buffering: no" first for nginx to pass
 * each piece on as it comes. */
enum err http_stream_begin(struct http_req *req, int status, const char *content_type) MUST_CHECK;
/* Writes and flushes a piece of a streamed body; ERR_UNAVAILABLE (logged)
 * when the client is gone. */
enum err http_stream_write(struct http_req *req, const void *data, size_t len) MUST_CHECK;
/* Ends a streamed response that failed part way without its end: nginx
 * closes the client's connection mid-body, so the client cannot take the
 * part for the whole. Nothing more can be written for req. */
void http_stream_abort(struct http_req *req);
/* The Content-Disposition value for filename: `attachment; filename="..."`
 * with an ASCII fallback (quotes, backslashes, '%', controls and non-ASCII
 * become '_') and `filename*=UTF-8''...` percent-encoded (RFC 6266, 5987).
 * The name first goes through valid_display_filename. Pool-owned. */
const char *http_content_disposition(struct pool *pool, const char *filename);
/* Records a human message for the error the handler is about to return;
 * returns e so handlers can write `return http_error(req, ERR_CONFLICT, ...)`. */
enum err http_error(struct http_req *req, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a {field, problem} entry to the error's details. */
void http_error_detail(struct http_req *req, const char *field, const char *problem);
/* Writes the JSON error body for e (used by the dispatcher; handlers return).
 * The message is http_error's, except for 5xx errors, which always use the
 * default sentence so internals never reach clients; details go out with
 * ERR_INVALID only. */
void http_send_error(struct http_req *req, enum err e);
/* Retry-After (seconds) of a 429 whose handler named none. */
#define HTTP_RETRY_AFTER_DEFAULT "10"

/* --- JSON helpers ------------------------------------------------------- */

/* Parses text as JSON within HTTP_JSON_DEPTH_MAX; NULL when it is not JSON.
 * The result belongs to the caller (json_object_put). */
struct json_object *http_json_parse(const char *text, size_t len);
/* Serialises obj compactly without escaping '/'; the string lives as long as obj. */
const char *http_json_text(struct json_object *obj, size_t *len);

#endif
