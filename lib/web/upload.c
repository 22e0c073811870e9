/* upload: a multipart body whose file part is streamed (web/upload.h). */
#include <string.h>

#include "web/multipart.h"
#include "web/upload.h"

enum {
	UPLOAD_HEADER_MAX = 8192, /* bytes of one part's headers */
	UPLOAD_PARTS_MAX = 16,    /* parts in one upload */
	UPLOAD_FIELD_MAX = 1024   /* bytes of a text field (wait, language) */
};

struct upload {
	struct http_req *req;
	struct multipart *mp;
	const char *const *file_parts;
	char *chunk;        /* one read from the request */
	struct buf pending; /* file bytes the store has not taken yet */
	size_t pending_pos;
	struct buf field; /* the text field being read */
	const char *field_name;
	const char *filename; /* display name of the file part */
	bool in_file, in_field, file_seen, file_done, body_done;
	enum err err;    /* the first failure; sticky */
	const char *why; /* its sentence for the client */
};

static void fail(struct upload *u, enum err e, const char *why)
{
	if (u->err == ERR_OK) {
		u->err = e;
		u->why = why;
	}
}

static bool is_file_part(const struct upload *u, const char *name)
{
	for (const char *const *p = u->file_parts; *p != NULL; p++)
		if (strcmp(*p, name) == 0)
			return true;
	return false;
}

static enum err on_begin(void *ctx, const struct multipart_part *part)
{
	struct upload *u = ctx;
	if (!u->file_seen && part->filename && is_file_part(u, part->name)) {
		u->file_seen = u->in_file = true;
		u->filename = part->filename;
	} else if (!part->filename) {
		u->in_field = true;
		u->field_name = part->name;
		u->field.len = 0;
	}
	/* Any other file part is read past and dropped. */
	return ERR_OK;
}

static enum err on_data(void *ctx, const void *data, size_t len)
{
	struct upload *u = ctx;
	if (u->in_file)
		buf_append(&u->pending, data, len);
	else if (u->in_field)
		buf_append(&u->field, data, len);
	return ERR_OK;
}

static enum err on_end(void *ctx)
{
	struct upload *u = ctx;
	if (u->in_file) {
		u->in_file = false;
		u->file_done = true;
	} else if (u->in_field) {
		u->in_field = false;
		/* Validated against the route's PARAM_FORM entries. */
		if (http_form_field(u->req, u->field_name, u->field.data ? u->field.data : "",
		                    u->field.len) != ERR_OK)
			fail(u, ERR_INVALID, u->req->error_message);
	}
	return ERR_OK;
}

/* Reads one chunk of the body into the parser. */
static void pump(struct upload *u)
{
	if (u->body_done || u->err != ERR_OK)
		return;
	ssize_t n = http_read(u->req, u->chunk, MULTIPART_READ_CHUNK);
	enum err e = ERR_OK;
	if (n < 0) {
		fail(u, ERR_INVALID, "The request body is shorter than its Content-Length.");
		return;
	}
	if (n == 0) {
		u->body_done = true;
		e = multipart_finish(u->mp);
	} else {
		e = multipart_feed(u->mp, u->chunk, (size_t)n);
	}
	if (e != ERR_OK)
		fail(u, e,
		     multipart_error(u->mp) ? multipart_error(u->mp)
		                            : "The multipart body is malformed.");
}

ssize_t upload_read(void *arg, void *dst, size_t cap)
{
	struct upload *u = arg;
	while (u->pending_pos == u->pending.len && !u->file_done) {
		u->pending.len = u->pending_pos = 0;
		pump(u);
		if (u->err != ERR_OK || (u->body_done && !u->file_done)) {
			fail(u, ERR_INVALID, "The multipart body ended inside the file part.");
			return -1;
		}
	}
	size_t n = u->pending.len - u->pending_pos;
	if (n > cap)
		n = cap;
	memcpy(dst, u->pending.data + u->pending_pos, n);
	u->pending_pos += n;
	return (ssize_t)n;
}

static void upload_cleanup(void *arg)
{
	struct upload *u = arg;
	buf_clear(&u->pending);
	buf_clear(&u->field);
}

struct upload *upload_new(struct http_req *req, const char *boundary, const char *const *file_parts,
                          unsigned long long body_max)
{
	struct upload *u = pool_alloc(req->pool, sizeof(*u));
	memset(u, 0, sizeof(*u));
	u->req = req;
	u->file_parts = file_parts;
	buf_init(&u->pending);
	buf_init(&u->field);
	pool_on_free(req->pool, upload_cleanup, u);
	u->chunk = pool_alloc(req->pool, MULTIPART_READ_CHUNK);
	struct multipart_limits limits = {UPLOAD_HEADER_MAX, UPLOAD_PARTS_MAX, UPLOAD_FIELD_MAX,
	                                  body_max};
	struct multipart_callbacks cb = {on_begin, on_data, on_end, u};
	u->mp = multipart_new(req->pool, boundary, &limits, &cb);
	return u;
}

enum err upload_head(struct upload *u, size_t want)
{
	while (u->err == ERR_OK && !u->body_done && !u->file_done && u->pending.len < want)
		pump(u);
	return u->err;
}

const char *upload_head_data(const struct upload *u, size_t *len, bool *complete)
{
	*len = u->pending.len - u->pending_pos;
	*complete = u->file_done;
	return u->pending.data ? u->pending.data + u->pending_pos : "";
}

bool upload_file_seen(const struct upload *u)
{
	return u->file_seen;
}

const char *upload_filename(const struct upload *u)
{
	return u->filename;
}

enum err upload_rest(struct upload *u)
{
	while (u->err == ERR_OK && !u->body_done)
		pump(u);
	return u->err;
}

enum err upload_failed(const struct upload *u)
{
	return u->err;
}

enum err upload_error(struct upload *u)
{
	return http_error(u->req, u->err, "%s", u->why ? u->why : err_message(u->err));
}
