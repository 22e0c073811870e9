/* multipart: a streaming multipart/form-data parser (RFC 7578, RFC 2046).
 *
 * Push model: multipart_feed takes chunks of any size (a boundary may be
 * split across chunks anywhere) and calls back for each part's start, its
 * data in pieces, and its end. Nothing but one part's header block is
 * buffered, so a 50 MiB upload streams through a few kilobytes.
 * Errors are sticky: after the first, feed and finish return it again.
 * Malformed input is ERR_INVALID, an exceeded limit ERR_TOO_LARGE; a
 * callback's own error stops the parse and comes back unchanged. */
#ifndef LECTERN_MULTIPART_H
#define LECTERN_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "web/http.h"
#include "core/mem.h"

enum {
	MULTIPART_BOUNDARY_MAX = 70, /* RFC 2046 */
	MULTIPART_NAME_MAX = 256,    /* bytes of a part's field name */
	MULTIPART_TYPE_MAX = 255,    /* bytes of a part's Content-Type */
	MULTIPART_READ_CHUNK = 65536 /* bytes read from the request at once */
};

struct multipart_limits {
	size_t header_max;            /* bytes of one part's header block (e.g. 8192) */
	size_t parts_max;             /* parts in the body */
	size_t field_max;             /* bytes of a part without a filename (a text field) */
	unsigned long long total_max; /* bytes of the whole body */
};

/* What part_begin learns about a part. All strings are pool-owned. */
struct multipart_part {
	const char *name;         /* the field name: valid UTF-8, no controls */
	const char *filename;     /* display-safe name (valid_display_filename), or NULL
	                             when the part is a plain field */
	const char *content_type; /* lower-cased media type with its parameters;
	                             "text/plain" for fields and "application/octet-stream"
	                             for files when the part names none */
	size_t index;             /* 0-based position in the body */
};

struct multipart_callbacks {
	enum err (*part_begin)(void *ctx, const struct multipart_part *part);
	enum err (*part_data)(void *ctx, const void *data, size_t len);
	enum err (*part_end)(void *ctx);
	void *ctx;
};

struct multipart;

/* The boundary of a multipart/form-data Content-Type (pool-owned), checked
 * against RFC 2046 (1..70 characters of its set, quoted or not).
 * ERR_MEDIA_TYPE when the type is not multipart/form-data, ERR_INVALID
 * when the boundary is missing or not valid. */
enum err multipart_boundary(const char *content_type, struct pool *pool,
                            const char **out) MUST_CHECK;
/* A parser for one body; lives in pool. Callbacks may be NULL. */
struct multipart *multipart_new(struct pool *pool, const char *boundary,
                                const struct multipart_limits *limits,
                                const struct multipart_callbacks *cb);
/* Feeds the next len bytes of the body. */
enum err multipart_feed(struct multipart *mp, const void *data, size_t len) MUST_CHECK;
/* Ends the body: ERR_INVALID unless the closing boundary was seen. */
enum err multipart_finish(struct multipart *mp) MUST_CHECK;
/* A sentence describing the last error (for http_error), or NULL. */
const char *multipart_error(const struct multipart *mp);

/* One text field collected by multipart_read_request. */
struct multipart_field {
	struct multipart_field *next;
	const char *name;
	const char *value; /* valid UTF-8 without NUL, at most field_max bytes */
};

/* What multipart_read_request gives back. */
struct multipart_form {
	struct multipart_field *fields; /* in body order */
	size_t files;                   /* file parts handed to the callbacks */
};

/* Reads the body of a ROUTE_STREAM request with http_read: checks the
 * Content-Type (415 unless multipart/form-data), collects parts without a
 * filename as text fields in the pool, and streams parts with a filename
 * to file_cb (a file part with file_cb NULL is refused with ERR_INVALID).
 * Errors are recorded with http_error so the dispatcher's reply says what
 * was wrong. *out is pool-owned. */
enum err multipart_read_request(struct http_req *req, const struct multipart_limits *limits,
                                const struct multipart_callbacks *file_cb,
                                struct multipart_form **out) MUST_CHECK;
/* The value of a collected field by name (the first one), or NULL. */
const char *multipart_form_field(const struct multipart_form *form, const char *name);

#endif
