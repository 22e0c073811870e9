/* Unit tests for multipart: chunking at every offset, limits, hostile parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "web/multipart.h"
#include "tap.h"

#define B "XyZ-boundary_1"

/* Records every callback as text: [name|filename|type]data$ per part. */
struct rec {
	struct buf log;
	enum err refuse_begin; /* returned by part_begin when set */
};

static enum err rec_begin(void *ctx, const struct multipart_part *p)
{
	struct rec *r = ctx;
	buf_printf(&r->log, "[%s|%s|%s]", p->name, p->filename ? p->filename : "-",
	           p->content_type);
	return r->refuse_begin;
}

static enum err rec_data(void *ctx, const void *data, size_t len)
{
	struct rec *r = ctx;
	buf_append(&r->log, data, len);
	return ERR_OK;
}

static enum err rec_end(void *ctx)
{
	struct rec *r = ctx;
	buf_putc(&r->log, '$');
	return ERR_OK;
}

static const struct multipart_limits limits = {
    .header_max = 1024, .parts_max = 8, .field_max = 64, .total_max = 1 << 20};

/* Parses body fed in pieces of at most step bytes, or split once at cut
 * when step is 0. Returns the error; *log gets the record (malloc'd). */
static enum err run(const char *body, size_t len, size_t step, size_t cut,
                    const struct multipart_limits *lim, char **log, enum err refuse)
{
	struct pool *pool = pool_new();
	struct rec r;
	buf_init(&r.log);
	r.refuse_begin = refuse;
	struct multipart_callbacks cb = {rec_begin, rec_data, rec_end, &r};
	struct multipart *mp = multipart_new(pool, B, lim ? lim : &limits, &cb);
	enum err e = ERR_OK;
	if (step == 0) {
		e = multipart_feed(mp, body, cut);
		if (e == ERR_OK)
			e = multipart_feed(mp, body + cut, len - cut);
	} else {
		for (size_t i = 0; i < len && e == ERR_OK; i += step)
			e = multipart_feed(mp, body + i, len - i < step ? len - i : step);
	}
	if (e == ERR_OK)
		e = multipart_finish(mp);
	buf_putc(&r.log, '\0');
	*log = buf_take(&r.log);
	pool_free(pool);
	return e;
}

static const char good_body[] =
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"wait\"\r\n"
    "\r\n"
    "5\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
    "Content-Type: Text/Plain; charset=UTF-8\r\n"
    "\r\n"
    "hello\r\nworld\r\n--XyZ-boundary_x is not it\r\r\n--XyZ\r\n-\r\n--\r"
    "\r\n--" B "--\r\n"
    "epilogue is ignored";

static const char good_log[] =
    "[wait|-|text/plain]5$"
    "[file|a.txt|text/plain; charset=UTF-8]"
    "hello\r\nworld\r\n--XyZ-boundary_x is not it\r\r\n--XyZ\r\n-\r\n--\r$";

static void test_chunking(void)
{
	size_t len = sizeof(good_body) - 1;
	char *log = NULL;
	enum err e = run(good_body, len, len, 0, NULL, &log, ERR_OK);
	ok(e == ERR_OK, "whole body parses");
	is_str(log, good_log, "parts, names, types and data are reported");
	free(log);
	bool all_same = true;
	for (size_t cut = 0; cut <= len; cut++) {
		e = run(good_body, len, 0, cut, NULL, &log, ERR_OK);
		if (e != ERR_OK || strcmp(log, good_log) != 0) {
			all_same = false;
			tap_diag("split at %zu: %s", cut, err_code(e));
		}
		free(log);
	}
	ok(all_same, "a split at every offset gives the same parts");
	for (size_t step = 1; step <= 7; step++) {
		e = run(good_body, len, step, 0, NULL, &log, ERR_OK);
		ok(e == ERR_OK && strcmp(log, good_log) == 0, "fed %zu byte(s) at a time", step);
		free(log);
	}
}

static void test_cases(void)
{
	static const struct multipart_limits tight = {
	    .header_max = 120, .parts_max = 2, .field_max = 8, .total_max = 400};
	char huge_header[2048];
	snprintf(huge_header, sizeof(huge_header),
	         "--" B
	         "\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: %01100d\r\n\r\nv\r\n--" B
	         "--\r\n",
	         0);
	static const char nul_name[] =
	    "--" B "\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nv\r\n--" B "--";
	const struct {
		const char *name;
		const char *body;
		size_t len; /* 0 = strlen */
		const struct multipart_limits *lim;
		enum err want;
		const char *log; /* NULL = not checked */
	} cases[] = {
	    {"missing final boundary",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", 0, NULL,
	     ERR_INVALID, NULL},
	    {"final boundary without its dashes",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" B, 0, NULL,
	     ERR_INVALID, NULL},
	    {"truncated in the headers", "--" B "\r\nContent-Disposition: form-da", 0, NULL,
	     ERR_INVALID, NULL},
	    {"no boundary at all", "just some text", 0, NULL, ERR_INVALID, NULL},
	    {"empty body", "", 0, NULL, ERR_INVALID, NULL},
	    {"preamble before the first boundary",
	     "preamble\r\n--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" B
	     "--",
	     0, NULL, ERR_OK, "[a|-|text/plain]v$"},
	    {"empty file part",
	     "--" B "\r\nContent-Disposition: form-data; name=\"file\"; "
	     "filename=\"empty.bin\"\r\n\r\n\r\n--" B "--\r\n",
	     0, NULL, ERR_OK, "[file|empty.bin|application/octet-stream]$"},
	    {"path tricks in the filename",
	     "--" B "\r\nContent-Disposition: form-data; name=\"file\"; "
	     "filename=\"../../etc/passwd\"\r\n\r\nx\r\n--" B "--",
	     0, NULL, ERR_OK, "[file|passwd|application/octet-stream]x$"},
	    {"control characters in the filename",
	     "--" B "\r\nContent-Disposition: form-data; name=\"f\"; "
	     "filename=\"a\x01\x1b[31mb.txt\"\r\n\r\nx\r\n--" B "--",
	     0, NULL, ERR_OK, "[f|a[31mb.txt|application/octet-stream]x$"},
	    {"escaped quote in the filename",
	     "--" B "\r\nContent-Disposition: form-data; name=\"f\"; "
	     "filename=\"a\\\"b.txt\"\r\n\r\nx\r\n--" B "--",
	     0, NULL, ERR_OK, "[f|a\"b.txt|application/octet-stream]x$"},
	    {"NUL in a field name", nul_name, sizeof(nul_name) - 1, NULL, ERR_INVALID, NULL},
	    {"control character in a field name",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\x07\"\r\n\r\nv\r\n--" B "--", 0,
	     NULL, ERR_INVALID, NULL},
	    {"empty field name",
	     "--" B "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--" B "--", 0, NULL,
	     ERR_INVALID, NULL},
	    {"no Content-Disposition", "--" B "\r\nContent-Type: text/plain\r\n\r\nv\r\n--" B "--",
	     0, NULL, ERR_INVALID, NULL},
	    {"no headers at all", "--" B "\r\n\r\nv\r\n--" B "--", 0, NULL, ERR_INVALID, NULL},
	    {"attachment instead of form-data",
	     "--" B "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--" B "--", 0,
	     NULL, ERR_INVALID, NULL},
	    {"unterminated quoted name",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--" B "--", 0, NULL,
	     ERR_INVALID, NULL},
	    {"two names",
	     "--" B "\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--" B "--", 0,
	     NULL, ERR_INVALID, NULL},
	    {"folded header",
	     "--" B "\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--" B "--", 0,
	     NULL, ERR_INVALID, NULL},
	    {"bare LF in headers",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\"\nX: y\r\n\r\nv\r\n--" B "--", 0,
	     NULL, ERR_INVALID, NULL},
	    {"bad part Content-Type",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: "
	     "nonsense\r\n\r\nv\r\n--" B "--",
	     0, NULL, ERR_INVALID, NULL},
	    {"garbage after a boundary", "--" B "junk\r\n", 0, NULL, ERR_INVALID, NULL},
	    {"huge part headers", huge_header, 0, NULL, ERR_TOO_LARGE, NULL},
	    {"too many parts",
	     "--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--" B
	     "\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--" B
	     "\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n--" B "--",
	     0, &tight, ERR_TOO_LARGE, NULL},
	    {"field larger than its limit",
	     "--" B "\r\nContent-Disposition: form-data; name=a\r\n\r\n123456789\r\n--" B "--", 0,
	     &tight, ERR_TOO_LARGE, NULL},
	    {"file larger than the field limit is fine",
	     "--" B
	     "\r\nContent-Disposition: form-data; name=a; filename=x\r\n\r\n123456789\r\n--" B "--",
	     0, &tight, ERR_OK, "[a|x|application/octet-stream]123456789$"},
	    {"body larger than the total limit",
	     "--" B "\r\nContent-Disposition: form-data; name=a; filename=x\r\n\r\n"
	     "0123456789012345678901234567890123456789012345678901234567890123456789"
	     "0123456789012345678901234567890123456789012345678901234567890123456789"
	     "0123456789012345678901234567890123456789012345678901234567890123456789"
	     "0123456789012345678901234567890123456789012345678901234567890123456789"
	     "0123456789012345678901234567890123456789012345678901234567890123456789"
	     "\r\n--" B "--",
	     0, &tight, ERR_TOO_LARGE, NULL},
	    /* Found by fuzzing: a disposition ending in "; " read past the header. */
	    {"disposition ending in a blank after ';'",
	     "--" B "\r\nContent-Disposition: form-data; \r\n\r\n--" B "--", 0, NULL, ERR_INVALID,
	     NULL},
	    {"disposition ending in ';'",
	     "--" B "\r\nContent-Disposition: form-data;\r\n\r\nv\r\n--" B "--", 0, NULL,
	     ERR_INVALID, NULL},
	    {"blank after the last parameter",
	     "--" B "\r\nContent-Disposition: form-data; name=\"a\" \r\n\r\nv\r\n--" B "--", 0,
	     NULL, ERR_OK, "[a|-|text/plain]v$"},
	    {"blanks around every parameter",
	     "--" B "\r\nContent-Disposition: form-data ;  name = a ;\tfilename=\"x.txt\"\t "
	     "\r\n\r\nv\r\n--" B "--",
	     0, NULL, ERR_OK, "[a|x.txt|application/octet-stream]v$"},
	    {"transport padding after a boundary",
	     "--" B "  \r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" B "--", 0, NULL,
	     ERR_OK, "[a|-|text/plain]v$"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
		char *log = NULL;
		enum err e = run(cases[i].body, len, len ? len : 1, 0, cases[i].lim, &log, ERR_OK);
		ok(e == cases[i].want, "%s: %s", cases[i].name, err_code(e));
		if (cases[i].log)
			is_str(log, cases[i].log, "what the callbacks saw");
		free(log);
		/* The same verdict byte by byte. */
		e = run(cases[i].body, len, 1, 0, cases[i].lim, &log, ERR_OK);
		ok(e == cases[i].want, "%s, byte by byte", cases[i].name);
		free(log);
	}
	char *log = NULL;
	enum err e = run(good_body, sizeof(good_body) - 1, 5, 0, NULL, &log, ERR_MEDIA_TYPE);
	ok(e == ERR_MEDIA_TYPE, "a callback's error stops the parse and comes back");
	free(log);
}

static void test_boundary(void)
{
	static const struct {
		const char *ct;
		enum err want;
		const char *boundary;
	} cases[] = {
	    {"multipart/form-data; boundary=abc123", ERR_OK, "abc123"},
	    {"Multipart/Form-Data;boundary=\"a b:c\"", ERR_OK, "a b:c"},
	    {"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
	     ERR_OK, "----WebKitFormBoundary7MA4YWxkTrZu0gW"},
	    {"multipart/form-data", ERR_INVALID, NULL},
	    {"multipart/form-data; boundary=", ERR_INVALID, NULL},
	    {"multipart/form-data; boundary=\"\"", ERR_INVALID, NULL},
	    {"multipart/form-data; boundary=\"abc", ERR_INVALID, NULL},
	    {"multipart/form-data; boundary=a\x01"
	     "b",
	     ERR_INVALID, NULL},
	    {"multipart/form-data; boundary=\"trailing \"", ERR_INVALID, NULL},
	    {"multipart/form-data; boundary=a; boundary=b", ERR_INVALID, NULL},
	    {"multipart/form-data; boundary="
	     "12345678901234567890123456789012345678901234567890123456789012345678901",
	     ERR_INVALID, NULL},
	    {"multipart/mixed; boundary=abc", ERR_MEDIA_TYPE, NULL},
	    {"application/json", ERR_MEDIA_TYPE, NULL},
	    {"", ERR_MEDIA_TYPE, NULL},
	    {"multipart/form-dataX; boundary=abc", ERR_MEDIA_TYPE, NULL},
	};
	struct pool *pool = pool_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *b = NULL;
		enum err e = multipart_boundary(cases[i].ct, pool, &b);
		ok(e == cases[i].want, "boundary of \"%s\": %s", cases[i].ct, err_code(e));
		if (cases[i].boundary)
			is_str(b, cases[i].boundary, "boundary value");
	}
	pool_free(pool);
}

int main(void)
{
	test_chunking();
	test_cases();
	test_boundary();
	return tap_done();
}
