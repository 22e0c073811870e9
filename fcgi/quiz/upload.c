/* quiz upload: the [client] path of generation. The multipart body's file
 * goes to a temporary file, is detected from its bytes and read by
 * lib/extract in its limited child, with the documents service's types and
 * size limit; the file is removed before the answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "quiz.h"
#include "web/multipart.h"

enum {
	UPLOAD_HEADER_MAX = 8192, /* bytes of one part's headers */
	UPLOAD_PARTS_MAX = 16,    /* parts in one upload */
	UPLOAD_FIELD_MAX = 4096   /* bytes of a text field */
};

struct upload {
	int fd;
	const char *path;
	const char *filename; /* display name of the file part */
	bool in_file, file_seen;
	long long written;
};

static enum err on_begin(void *ctx, const struct multipart_part *part)
{
	struct upload *u = ctx;
	u->in_file = !u->file_seen && strcmp(part->name, "file") == 0;
	if (u->in_file) {
		u->file_seen = true;
		u->filename = part->filename;
	}
	return ERR_OK;
}

static enum err on_data(void *ctx, const void *data, size_t len)
{
	struct upload *u = ctx;
	if (!u->in_file)
		return ERR_OK; /* any other file part is read past */
	if (u->written + (long long)len > quiz_cfg.max_bytes)
		return ERR_TOO_LARGE;
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(u->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("quiz upload: writing %s: %s", u->path, strerror(errno));
			return ERR_INTERNAL;
		}
		p += n;
		len -= (size_t)n;
		u->written += n;
	}
	return ERR_OK;
}

static enum err on_end(void *ctx)
{
	struct upload *u = ctx;
	u->in_file = false;
	return ERR_OK;
}

static void remove_file(void *arg)
{
	struct upload *u = arg;
	if (u->fd >= 0)
		close(u->fd);
	if (u->path && unlink(u->path) != 0 && errno != ENOENT)
		log_warn("quiz upload: cannot remove %s: %s", u->path, strerror(errno));
}

/* Hands the form's fields to the route's table and collects `types`
 * ("types" or "types[]", repeated or comma-separated) into *types. */
static enum err take_fields(struct http_req *req, const struct multipart_form *form,
                            const char **types)
{
	struct buf b;
	buf_init(&b);
	enum err e = ERR_OK;
	for (const struct multipart_field *f = form->fields; f && e == ERR_OK; f = f->next) {
		if (strcmp(f->name, "types") == 0 || strcmp(f->name, "types[]") == 0) {
			buf_printf(&b, "%s%s", b.len ? "," : "", f->value);
			continue;
		}
		e = http_form_field(req, f->name, f->value, strlen(f->value));
	}
	*types = b.len ? pool_strdup(req->pool, b.data) : NULL;
	buf_clear(&b);
	return e;
}

enum err quiz_read_upload(struct http_req *req, const char **text, size_t *len, long *pages,
                          const char **filename, const char **types)
{
	*text = NULL;
	*len = 0;
	*pages = 1;
	*filename = NULL;
	struct upload *u = pool_alloc(req->pool, sizeof(*u));
	memset(u, 0, sizeof(*u));
	char *path = pool_printf(req->pool, "%s/lectern-quiz-XXXXXX", quiz_cfg.work_dir);
	u->fd = mkstemp(path);
	if (u->fd < 0) {
		log_error("quiz upload: cannot create a file in %s: %s", quiz_cfg.work_dir,
		          strerror(errno));
		return ERR_INTERNAL;
	}
	u->path = path;
	pool_on_free(req->pool, remove_file, u);
	struct multipart_limits limits = {UPLOAD_HEADER_MAX, UPLOAD_PARTS_MAX, UPLOAD_FIELD_MAX,
	                                  (unsigned long long)quiz_cfg.max_bytes +
	                                      QUIZ_UPLOAD_OVERHEAD};
	struct multipart_callbacks cb = {on_begin, on_data, on_end, u};
	struct multipart_form *form = NULL;
	enum err e = multipart_read_request(req, &limits, &cb, &form);
	if (e == ERR_TOO_LARGE)
		return http_error(req, e, "The file is larger than %ld bytes.", quiz_cfg.max_bytes);
	if (e != ERR_OK)
		return e;
	e = take_fields(req, form, types);
	if (e != ERR_OK)
		return e;
	if (!u->file_seen)
		return http_param(req, "document_id")
		           ? ERR_OK
		           : http_error(req, ERR_INVALID,
		                        "The form has no `file` part (or `document_id` field).");
	if (u->written == 0)
		return http_error(req, ERR_INVALID, "The file is empty.");
	enum extract_type type = EXTRACT_TYPE_NONE;
	e = extract_detect_file(u->path, &type);
	if (e == ERR_MEDIA_TYPE)
		return http_error(req, e,
		                  "This kind of file is not supported: upload a PDF, DOCX, plain "
		                  "text, Markdown, PNG or JPEG file.");
	if (e != ERR_OK)
		return e == ERR_INVALID ? http_error(req, e, "The file is empty.") : e;
	struct extract_result r;
	e = extract_file(u->path, type, &quiz_cfg.limits, req->pool, &r);
	if (e == ERR_INTERNAL || e == ERR_UNAVAILABLE)
		return e;
	if (e != ERR_OK)
		return http_error(req, ERR_UNPROCESSABLE, "The file could not be read: %s",
		                  r.error && *r.error ? r.error : err_message(e));
	log_info("quiz upload: read %s file of %lld bytes (%ld pages)", extract_type_name(type),
	         u->written, r.pages);
	*text = r.text;
	*len = r.text_len;
	*pages = r.pages;
	*filename = u->filename ? u->filename : "upload";
	return ERR_OK;
}
