/* multipart: a byte-at-a-time state machine with a run-based fast path.
 *
 * The body is scanned for the delimiter "\r\n--" BOUNDARY. A synthetic
 * "\r\n" starts the scan so the first boundary, which has no CRLF in front
 * of it, matches the same way. Bytes that might begin a delimiter are held
 * back; since CR occurs only at the delimiter's start (a boundary has no CR),
 * a mismatch either releases them as data or restarts the match at a CR. */
#include "web/multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "web/valid.h"

enum {
	MULTIPART_PADDING_MAX = 64, /* blanks allowed between a boundary and its CRLF */
	MULTIPART_DELIM_MAX = MULTIPART_BOUNDARY_MAX + 4
};

enum mp_state {
	MP_PREAMBLE, /* before the first boundary: discarded */
	MP_AFTER,    /* just after a delimiter: "--", blanks or CR */
	MP_DASH,     /* saw "-" after a delimiter: needs the second */
	MP_LF,       /* saw CR after a delimiter: needs LF */
	MP_HEADERS,  /* collecting one part's header block */
	MP_DATA,     /* a part's content */
	MP_EPILOGUE, /* after the closing delimiter: discarded */
	MP_ERROR
};

struct multipart {
	struct pool *pool;
	struct multipart_limits lim;
	struct multipart_callbacks cb;
	char delim[MULTIPART_DELIM_MAX + 1]; /* "\r\n--" boundary */
	size_t dlen;
	size_t matched; /* bytes of delim matched so far (held back) */
	enum mp_state state;
	size_t padding; /* blanks seen in MP_AFTER */
	char *hbuf;     /* header block, lim.header_max bytes */
	size_t hlen;
	size_t nparts;
	bool part_is_file;
	unsigned long long part_size;
	unsigned long long total;
	enum err err;          /* sticky */
	const char *message;   /* why, for the client */
	const char *part_name; /* for messages */
};

static enum err mp_fail(struct multipart *mp, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum err mp_fail(struct multipart *mp, enum err e, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		mp->message = pool_vprintf(mp->pool, fmt, ap);
		va_end(ap);
	}
	mp->err = e;
	mp->state = MP_ERROR;
	return e;
}

/* RFC 2046 bchars. */
static bool is_bchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* skip_blanks that never passes end: header values are trimmed slices of a
 * larger buffer, so the blanks after end belong to someone else. */
static const char *skip_blanks_to(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Reads one parameter value (token or quoted-string) at *pp into a pool
 * string; advances *pp. In a quoted string a backslash escapes only '"' and
 * '\' so Windows paths sent raw by old browsers survive. NULL if malformed. */
static char *param_value(struct pool *pool, const char **pp, const char *end)
{
	const char *p = *pp;
	if (p < end && *p == '"') {
		p++;
		char *out = pool_alloc(pool, (size_t)(end - p) + 1);
		size_t o = 0;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
				p++;
			out[o++] = *p++;
		}
		if (p >= end)
			return NULL; /* unterminated */
		*pp = p + 1;
		return out;
	}
	const char *start = p;
	while (p < end && is_tchar(*p))
		p++;
	if (p == start)
		return NULL;
	*pp = p;
	return pool_strndup(pool, start, (size_t)(p - start));
}

enum err multipart_boundary(const char *content_type, struct pool *pool, const char **out)
{
	static const char want[] = "multipart/form-data";
	const char *p = skip_blanks(content_type ? content_type : "");
	size_t n = sizeof(want) - 1;
	if (strncasecmp(p, want, n) != 0 ||
	    !(p[n] == '\0' || p[n] == ';' || p[n] == ' ' || p[n] == '\t'))
		return ERR_MEDIA_TYPE;
	p = skip_blanks(p + n);
	const char *end = p + strlen(p);
	const char *boundary = NULL;
	while (*p == ';') {
		p = skip_blanks(p + 1);
		const char *eq = strchr(p, '=');
		if (!eq)
			return ERR_INVALID;
		size_t nlen = (size_t)(eq - p);
		while (nlen && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		const char *vp = skip_blanks(eq + 1);
		/* Boundaries may hold characters a token may not: read to ';' if unquoted. */
		char *value;
		if (*vp == '"') {
			value = param_value(pool, &vp, end);
		} else {
			size_t vlen = strcspn(vp, ";");
			while (vlen && (vp[vlen - 1] == ' ' || vp[vlen - 1] == '\t'))
				vlen--;
			value = pool_strndup(pool, vp, vlen);
			vp += strcspn(vp, ";");
		}
		if (!value)
			return ERR_INVALID;
		if (nlen == 8 && strncasecmp(p, "boundary", 8) == 0) {
			if (boundary)
				return ERR_INVALID;
			boundary = value;
		}
		p = skip_blanks(vp);
	}
	if (*p != '\0' || !boundary)
		return ERR_INVALID;
	size_t blen = strlen(boundary);
	if (blen == 0 || blen > MULTIPART_BOUNDARY_MAX || boundary[blen - 1] == ' ')
		return ERR_INVALID;
	for (size_t i = 0; i < blen; i++)
		if (!is_bchar(boundary[i]))
			return ERR_INVALID;
	*out = boundary;
	return ERR_OK;
}

struct multipart *multipart_new(struct pool *pool, const char *boundary,
                                const struct multipart_limits *limits,
                                const struct multipart_callbacks *cb)
{
	struct multipart *mp = pool_alloc(pool, sizeof(*mp));
	mp->pool = pool;
	mp->lim = *limits;
	if (cb)
		mp->cb = *cb;
	size_t blen = strnlen(boundary, MULTIPART_BOUNDARY_MAX);
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, boundary, blen);
	mp->dlen = 4 + blen;
	mp->matched = 2; /* the synthetic CRLF before the first boundary */
	mp->state = MP_PREAMBLE;
	mp->hbuf = pool_alloc(pool, mp->lim.header_max + 1);
	return mp;
}

/* Hands n bytes of content to the current part (or drops preamble). */
static enum err emit(struct multipart *mp, const void *data, size_t n)
{
	if (mp->state != MP_DATA || n == 0)
		return ERR_OK;
	mp->part_size += n;
	if (!mp->part_is_file && mp->part_size > mp->lim.field_max)
		return mp_fail(mp, ERR_TOO_LARGE, "The field \"%s\" is larger than %zu bytes.",
		               mp->part_name, mp->lim.field_max);
	if (mp->cb.part_data) {
		enum err e = mp->cb.part_data(mp->cb.ctx, data, n);
		if (e != ERR_OK)
			return mp_fail(mp, e, NULL);
	}
	return ERR_OK;
}

/* Scans s for the delimiter; *used gets the bytes consumed. Returns true
 * when the delimiter ended within them. */
static bool scan(struct multipart *mp, const unsigned char *s, size_t len, size_t *used)
{
	size_t i = 0;
	while (i < len) {
		if (mp->matched == 0) {
			const unsigned char *cr = memchr(s + i, '\r', len - i);
			size_t end = cr ? (size_t)(cr - s) : len;
			if (emit(mp, s + i, end - i) != ERR_OK)
				goto stop;
			i = end;
			if (!cr)
				break;
			mp->matched = 1;
			i++;
			continue;
		}
		if (s[i] == (unsigned char)mp->delim[mp->matched]) {
			mp->matched++;
			i++;
			if (mp->matched == mp->dlen) {
				mp->matched = 0;
				*used = i;
				return true;
			}
			continue;
		}
		/* The held bytes were content after all. */
		size_t held = mp->matched;
		mp->matched = 0;
		if (emit(mp, mp->delim, held) != ERR_OK)
			goto stop;
		if (s[i] == '\r') {
			mp->matched = 1;
			i++;
		}
	}
stop:
	*used = i;
	return false;
}

/* Parses the Content-Disposition value of a part. */
static enum err parse_disposition(struct multipart *mp, const char *v, const char *end,
                                  const char **name, const char **filename)
{
	static const char fd[] = "form-data";
	size_t n = sizeof(fd) - 1;
	if ((size_t)(end - v) < n || strncasecmp(v, fd, n) != 0)
		return mp_fail(mp, ERR_INVALID, "A part's Content-Disposition is not form-data.");
	const char *p = skip_blanks_to(v + n, end);
	while (p < end && *p == ';') {
		p = skip_blanks_to(p + 1, end);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq)
			return mp_fail(mp, ERR_INVALID,
			               "A part's Content-Disposition is malformed.");
		size_t nlen = (size_t)(eq - p);
		while (nlen && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		const char *vp = skip_blanks_to(eq + 1, end);
		char *value = param_value(mp->pool, &vp, end);
		if (!value)
			return mp_fail(mp, ERR_INVALID,
			               "A part's Content-Disposition is malformed.");
		if (nlen == 4 && strncasecmp(p, "name", 4) == 0) {
			if (*name)
				return mp_fail(mp, ERR_INVALID, "A part names its field twice.");
			*name = value;
		} else if (nlen == 8 && strncasecmp(p, "filename", 8) == 0) {
			if (*filename)
				return mp_fail(mp, ERR_INVALID, "A part names its file twice.");
			*filename = value;
		}
		p = skip_blanks_to(vp, end);
	}
	if (p != end)
		return mp_fail(mp, ERR_INVALID, "A part's Content-Disposition is malformed.");
	return ERR_OK;
}

/* Checks a part's media type and lower-cases its type/subtype. */
static const char *part_type(struct multipart *mp, const char *v, size_t len)
{
	if (len == 0 || len > MULTIPART_TYPE_MAX)
		return NULL;
	char *out = pool_strndup(mp->pool, v, len);
	bool slash = false, in_params = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c < 0x20 || c > 0x7e)
			return NULL;
		if (c == ';')
			in_params = true;
		if (!in_params) {
			if (c == '/')
				slash = true;
			else if (!is_tchar((char)c) && c != ' ')
				return NULL;
			if (c >= 'A' && c <= 'Z')
				out[i] = (char)(c - 'A' + 'a');
		}
	}
	return slash ? out : NULL;
}

/* The header block is complete: parse it and start the part. */
static enum err begin_part(struct multipart *mp)
{
	const char *h = mp->hbuf, *end = mp->hbuf + mp->hlen - 2; /* drop the final CRLF */
	if (memchr(h, '\0', mp->hlen))
		return mp_fail(mp, ERR_INVALID, "A part's headers contain a NUL byte.");
	const char *name = NULL, *filename = NULL, *ctype = NULL;
	bool seen_cd = false;
	while (h < end) {
		const char *eol = h;
		while (eol + 1 < end + 2 && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (h[0] == ' ' || h[0] == '\t')
			return mp_fail(mp, ERR_INVALID, "A part's headers are folded.");
		for (const char *q = h; q < eol; q++)
			if (*q == '\r' || *q == '\n')
				return mp_fail(mp, ERR_INVALID,
				               "A part's headers have a bare CR or LF.");
		const char *colon = memchr(h, ':', (size_t)(eol - h));
		if (!colon || colon == h)
			return mp_fail(mp, ERR_INVALID, "A part's header line is malformed.");
		for (const char *q = h; q < colon; q++)
			if (!is_tchar(*q))
				return mp_fail(mp, ERR_INVALID,
				               "A part's header name is malformed.");
		const char *v = skip_blanks(colon + 1), *vend = eol;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		size_t hn = (size_t)(colon - h);
		if (hn == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
			if (seen_cd)
				return mp_fail(mp, ERR_INVALID,
				               "A part has two Content-Disposition headers.");
			seen_cd = true;
			if (parse_disposition(mp, v, vend, &name, &filename) != ERR_OK)
				return mp->err;
		} else if (hn == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
			ctype = part_type(mp, v, (size_t)(vend - v));
			if (!ctype)
				return mp_fail(mp, ERR_INVALID,
				               "A part's Content-Type is not valid.");
		}
		h = eol + 2;
	}
	if (!seen_cd || !name)
		return mp_fail(mp, ERR_INVALID,
		               "A part has no Content-Disposition with a field name.");
	size_t nlen = strlen(name);
	if (nlen > MULTIPART_NAME_MAX ||
	    !valid_text(name, nlen, 1, -1, VALID_TEXT_NO_CONTROL, NULL))
		return mp_fail(mp, ERR_INVALID, "A part's field name is empty or not valid text.");
	struct multipart_part part = {
	    .name = name,
	    .filename =
	        filename ? valid_display_filename(mp->pool, filename, strlen(filename)) : NULL,
	    .content_type = ctype ? ctype : (filename ? "application/octet-stream" : "text/plain"),
	    .index = mp->nparts - 1,
	};
	mp->part_name = name;
	mp->part_is_file = filename != NULL;
	mp->part_size = 0;
	mp->matched = 0;
	mp->state = MP_DATA;
	if (mp->cb.part_begin) {
		enum err e = mp->cb.part_begin(mp->cb.ctx, &part);
		if (e != ERR_OK)
			return mp_fail(mp, e, NULL);
	}
	return ERR_OK;
}

enum err multipart_feed(struct multipart *mp, const void *data, size_t len)
{
	if (mp->state == MP_ERROR)
		return mp->err;
	mp->total += len;
	if (mp->total > mp->lim.total_max)
		return mp_fail(mp, ERR_TOO_LARGE, "The body is larger than %llu bytes.",
		               mp->lim.total_max);
	const unsigned char *s = data;
	size_t i = 0;
	while (i < len) {
		unsigned char c;
		switch (mp->state) {
		case MP_PREAMBLE:
		case MP_DATA: {
			size_t used = 0;
			bool found = scan(mp, s + i, len - i, &used);
			if (mp->state == MP_ERROR)
				return mp->err;
			i += used;
			if (!found)
				break;
			if (mp->state == MP_DATA && mp->cb.part_end) {
				enum err e = mp->cb.part_end(mp->cb.ctx);
				if (e != ERR_OK)
					return mp_fail(mp, e, NULL);
			}
			mp->state = MP_AFTER;
			mp->padding = 0;
			break;
		}
		case MP_AFTER:
			c = s[i++];
			if (c == '-') {
				mp->state = MP_DASH;
			} else if (c == '\r') {
				mp->state = MP_LF;
			} else if ((c == ' ' || c == '\t') &&
			           ++mp->padding <= MULTIPART_PADDING_MAX) {
				/* transport padding */
			} else {
				return mp_fail(mp, ERR_INVALID,
				               "Unexpected bytes after a boundary.");
			}
			break;
		case MP_DASH:
			if (s[i++] != '-')
				return mp_fail(mp, ERR_INVALID,
				               "Unexpected bytes after a boundary.");
			mp->state = MP_EPILOGUE;
			break;
		case MP_LF:
			if (s[i++] != '\n')
				return mp_fail(mp, ERR_INVALID,
				               "A boundary line does not end in CRLF.");
			if (++mp->nparts > mp->lim.parts_max)
				return mp_fail(mp, ERR_TOO_LARGE,
				               "The body has more than %zu parts.",
				               mp->lim.parts_max);
			mp->state = MP_HEADERS;
			mp->hlen = 0;
			break;
		case MP_HEADERS:
			if (mp->hlen >= mp->lim.header_max)
				return mp_fail(mp, ERR_TOO_LARGE,
				               "A part's headers are larger than %zu bytes.",
				               mp->lim.header_max);
			mp->hbuf[mp->hlen++] = (char)s[i++];
			if ((mp->hlen == 2 && memcmp(mp->hbuf, "\r\n", 2) == 0) ||
			    (mp->hlen >= 4 &&
			     memcmp(mp->hbuf + mp->hlen - 4, "\r\n\r\n", 4) == 0)) {
				if (begin_part(mp) != ERR_OK)
					return mp->err;
			}
			break;
		case MP_EPILOGUE:
			i = len;
			break;
		case MP_ERROR:
			return mp->err;
		}
	}
	return ERR_OK;
}

enum err multipart_finish(struct multipart *mp)
{
	switch (mp->state) {
	case MP_EPILOGUE:
		return ERR_OK;
	case MP_ERROR:
		return mp->err;
	case MP_PREAMBLE:
		return mp_fail(mp, ERR_INVALID, "The body has no multipart boundary.");
	default:
		return mp_fail(mp, ERR_INVALID, "The body ends before its closing boundary.");
	}
}

const char *multipart_error(const struct multipart *mp)
{
	return mp->message;
}

/* --- Reading a request ---------------------------------------------------- */

struct form_reader {
	struct http_req *req;
	const struct multipart_callbacks *file_cb;
	struct multipart_form *form;
	struct multipart_field **tail;
	bool in_file;
	const char *field_name;
	struct buf value;
};

static enum err reader_begin(void *ctx, const struct multipart_part *part)
{
	struct form_reader *r = ctx;
	if (part->filename) {
		if (!r->file_cb)
			return http_error(r->req, ERR_INVALID,
			                  "The field \"%s\" may not be a file.", part->name);
		r->in_file = true;
		r->form->files++;
		return r->file_cb->part_begin ? r->file_cb->part_begin(r->file_cb->ctx, part)
		                              : ERR_OK;
	}
	r->in_file = false;
	r->field_name = part->name;
	buf_clear(&r->value);
	return ERR_OK;
}

static enum err reader_data(void *ctx, const void *data, size_t len)
{
	struct form_reader *r = ctx;
	if (r->in_file)
		return r->file_cb->part_data ? r->file_cb->part_data(r->file_cb->ctx, data, len)
		                             : ERR_OK;
	buf_append(&r->value, data, len);
	return ERR_OK;
}

static enum err reader_end(void *ctx)
{
	struct form_reader *r = ctx;
	if (r->in_file) {
		r->in_file = false;
		return r->file_cb->part_end ? r->file_cb->part_end(r->file_cb->ctx) : ERR_OK;
	}
	const char *v = r->value.data ? r->value.data : "";
	if (!valid_text(v, r->value.len, 0, -1, VALID_TEXT_NO_CONTROL | VALID_TEXT_NEWLINES, NULL))
		return http_error(r->req, ERR_INVALID, "The field \"%s\" is not valid text.",
		                  r->field_name);
	struct multipart_field *f = pool_alloc(r->req->pool, sizeof(*f));
	f->name = r->field_name;
	f->value = pool_strndup(r->req->pool, v, r->value.len);
	*r->tail = f;
	r->tail = &f->next;
	buf_clear(&r->value);
	return ERR_OK;
}

static void reader_cleanup(void *arg)
{
	buf_clear(arg);
}

enum err multipart_read_request(struct http_req *req, const struct multipart_limits *limits,
                                const struct multipart_callbacks *file_cb,
                                struct multipart_form **out)
{
	const char *boundary = NULL;
	enum err e = multipart_boundary(req->content_type, req->pool, &boundary);
	if (e == ERR_MEDIA_TYPE)
		return http_error(req, e, "The body must be multipart/form-data.");
	if (e != ERR_OK)
		return http_error(req, e, "The multipart boundary is missing or not valid.");
	struct form_reader *r = pool_alloc(req->pool, sizeof(*r));
	r->req = req;
	r->file_cb = file_cb;
	r->form = pool_alloc(req->pool, sizeof(*r->form));
	r->tail = &r->form->fields;
	buf_init(&r->value);
	pool_on_free(req->pool, reader_cleanup, &r->value);
	struct multipart_callbacks cb = {reader_begin, reader_data, reader_end, r};
	struct multipart *mp = multipart_new(req->pool, boundary, limits, &cb);
	char *chunk = pool_alloc(req->pool, MULTIPART_READ_CHUNK);
	for (;;) {
		ssize_t n = http_read(req, chunk, MULTIPART_READ_CHUNK);
		if (n < 0)
			return http_error(req, ERR_INVALID,
			                  "The request body is shorter than its Content-Length.");
		if (n == 0)
			break;
		e = multipart_feed(mp, chunk, (size_t)n);
		if (e != ERR_OK)
			goto fail;
	}
	e = multipart_finish(mp);
	if (e != ERR_OK)
		goto fail;
	*out = r->form;
	return ERR_OK;
fail:
	/* A callback that explained itself keeps its message. */
	if (multipart_error(mp))
		http_error(req, e, "%s", multipart_error(mp));
	return e;
}

const char *multipart_form_field(const struct multipart_form *form, const char *name)
{
	for (const struct multipart_field *f = form ? form->fields : NULL; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f->value;
	return NULL;
}
