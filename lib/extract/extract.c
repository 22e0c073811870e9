/* extract: type names, detection from the bytes, and the helpers the
 * engines share. The sandbox is in extract_sandbox.c. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "extract/extract.h"
#include "extract/extract_impl.h"
#include "core/log.h"

enum {
	ZIP_LOCAL_HEADER_LEN = 30,  /* fixed part of a zip local file header */
	ZIP_HEAD_ENTRIES_MAX = 256, /* local headers walked while sniffing */
	MD_LIST_LINES_MIN = 2       /* list items that make text Markdown */
};

static const struct {
	const char *name;
	const char *content_type;
} type_info[] = {
    [EXTRACT_TYPE_NONE] = {"", "application/octet-stream"},
    [EXTRACT_TYPE_PDF] = {"pdf", "application/pdf"},
    [EXTRACT_TYPE_DOCX] =
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    [EXTRACT_TYPE_TXT] = {"txt", "text/plain; charset=utf-8"},
    [EXTRACT_TYPE_MD] = {"md", "text/markdown; charset=utf-8"},
    [EXTRACT_TYPE_PNG] = {"png", "image/png"},
    [EXTRACT_TYPE_JPG] = {"jpg", "image/jpeg"},
};

enum { TYPE_COUNT = sizeof(type_info) / sizeof(type_info[0]) };

const char *extract_type_name(enum extract_type t)
{
	return (unsigned)t < TYPE_COUNT ? type_info[t].name : "";
}

const char *extract_content_type(enum extract_type t)
{
	return (unsigned)t < TYPE_COUNT ? type_info[t].content_type : type_info[0].content_type;
}

enum extract_type extract_type_parse(const char *name)
{
	if (name == NULL || *name == '\0')
		return EXTRACT_TYPE_NONE;
	for (unsigned i = 1; i < TYPE_COUNT; i++)
		if (strcmp(name, type_info[i].name) == 0)
			return (enum extract_type)i;
	return EXTRACT_TYPE_NONE;
}

void extract_limits_default(struct extract_limits *l)
{
	*l = (struct extract_limits){
	    .max_pages = 2000,
	    .cpu_seconds = 120,
	    .wall_ms = 180000,
	    .memory_mb = 2048,
	    .max_text_bytes = 32L * 1024 * 1024,
	    .max_file_bytes = 64L * 1024 * 1024,
	    .max_pixels = 60L * 1000 * 1000,
	    .render_dpi = 300,
	    .max_render_pixels = 40L * 1000 * 1000,
	    .docx_max_bytes = 256L * 1024 * 1024,
	    .docx_max_entries = 10000,
	    .docx_max_ratio = 200,
	    .ocr = true,
	    .max_media_seconds = 7200,
	};
	snprintf(l->ocr_language, sizeof(l->ocr_language), "%s", "eng");
	snprintf(l->text_encoding, sizeof(l->text_encoding), "%s", "WINDOWS-1252");
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* Walks the local headers in the head: DOCX needs the content types and a
 * part under word/. An entry with a data descriptor (bit 3) has no size
 * up front, so the walk searches for the next signature. */
static bool zip_head_is_docx(const unsigned char *p, size_t len)
{
	static const char ct[] = "[Content_Types].xml";
	bool has_ct = false, has_word = false;
	size_t off = 0;
	for (int n = 0; n < ZIP_HEAD_ENTRIES_MAX && off + ZIP_LOCAL_HEADER_LEN <= len; n++) {
		if (le32(p + off) != 0x04034b50)
			break;
		uint32_t flags = le16(p + off + 6), csize = le32(p + off + 18);
		size_t name_len = le16(p + off + 26), extra_len = le16(p + off + 28);
		const char *name = (const char *)p + off + ZIP_LOCAL_HEADER_LEN;
		if (off + ZIP_LOCAL_HEADER_LEN + name_len > len)
			break;
		if (name_len == sizeof(ct) - 1 && memcmp(name, ct, name_len) == 0)
			has_ct = true;
		if (name_len > 5 && memcmp(name, "word/", 5) == 0)
			has_word = true;
		if (has_ct && has_word)
			return true;
		size_t next = off + ZIP_LOCAL_HEADER_LEN + name_len + extra_len;
		if (flags & 8) {
			const unsigned char *sig = NULL;
			if (next < len)
				sig = memmem(p + next, len - next, "PK\x03\x04", 4);
			if (sig == NULL)
				break;
			next = (size_t)(sig - p);
		} else {
			next += csize;
		}
		off = next;
	}
	return false;
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 when invalid, and
 * -1 when it is cut short by the end. */
static int utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	int len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	unsigned cp = c & (0x3fu >> (len - 1));
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool extract_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		int k = utf8_seq(s + i, n - i);
		if (k <= 0)
			return false;
		i += (size_t)k;
	}
	return true;
}

static bool text_byte_ok(unsigned char c)
{
	return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x1b;
}

/* One line of text: does it look like Markdown? Returns 2 for a sure sign
 * (heading, fence, link), 1 for a list item, 0 otherwise. */
static int md_line(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && i < 3 && s[i] == ' ')
		i++;
	size_t h = 0;
	while (i + h < n && s[i + h] == '#')
		h++;
	if (h >= 1 && h <= 6 && i + h + 1 < n && s[i + h] == ' ' && s[i + h + 1] != ' ')
		return 2;
	if (n - i >= 3 && (memcmp(s + i, "```", 3) == 0 || memcmp(s + i, "~~~", 3) == 0))
		return 2;
	const char *open = memchr(s, '[', n);
	if (open != NULL) {
		const char *mid = memmem(open, n - (size_t)(open - s), "](", 2);
		if (mid != NULL && memchr(mid, ')', n - (size_t)(mid - s)) != NULL)
			return 2;
	}
	if (i + 2 < n && (s[i] == '-' || s[i] == '*' || s[i] == '+') && s[i + 1] == ' ' &&
	    s[i + 2] != ' ')
		return 1;
	size_t d = 0;
	while (i + d < n && d < 9 && s[i + d] >= '0' && s[i + d] <= '9')
		d++;
	if (d > 0 && i + d + 2 < n && (s[i + d] == '.' || s[i + d] == ')') && s[i + d + 1] == ' ')
		return 1;
	return 0;
}

static bool looks_markdown(const char *s, size_t n)
{
	int lists = 0;
	size_t start = 0;
	while (start < n) {
		const char *nl = memchr(s + start, '\n', n - start);
		size_t end = nl != NULL ? (size_t)(nl - s) : n;
		int m = md_line(s + start, end - start);
		if (m == 2)
			return true;
		if (m == 1 && ++lists >= MD_LIST_LINES_MIN)
			return true;
		start = end + 1;
	}
	return false;
}

/* Text of the head in UTF-16 (BOM skipped), narrowed to one byte per code
 * unit for the checks: non-ASCII becomes 'x'. NULL if not UTF-16 text. */
static char *utf16_narrow(const unsigned char *p, size_t len, size_t *out_len)
{
	bool le = p[0] == 0xff;
	size_t n = (len - 2) / 2;
	char *s = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *u = p + 2 + 2 * i;
		unsigned v = le ? (unsigned)u[0] | (unsigned)u[1] << 8
		                : (unsigned)u[1] | (unsigned)u[0] << 8;
		if (v < 0x80 && !text_byte_ok((unsigned char)v)) {
			free(s);
			return NULL;
		}
		s[i] = v < 0x80 ? (char)v : 'x';
	}
	s[n] = '\0';
	*out_len = n;
	return s;
}

enum err extract_detect(const void *head, size_t len, bool complete, enum extract_type *out)
{
	const unsigned char *p = head;
	*out = EXTRACT_TYPE_NONE;
	if (len == 0)
		return complete ? ERR_INVALID : ERR_MEDIA_TYPE;
	if (len > EXTRACT_SNIFF_MAX) {
		len = EXTRACT_SNIFF_MAX;
		complete = false;
	}
	if (len >= 5 && memcmp(p, "%PDF-", 5) == 0) {
		*out = EXTRACT_TYPE_PDF;
		return ERR_OK;
	}
	if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
		*out = EXTRACT_TYPE_PNG;
		return ERR_OK;
	}
	if (len >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0) {
		*out = EXTRACT_TYPE_JPG;
		return ERR_OK;
	}
	if (len >= 4 && memcmp(p, "PK\x03\x04", 4) == 0) {
		if (!zip_head_is_docx(p, len))
			return ERR_MEDIA_TYPE;
		*out = EXTRACT_TYPE_DOCX;
		return ERR_OK;
	}
	if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff))) {
		size_t n;
		char *s = utf16_narrow(p, len, &n);
		if (s == NULL)
			return ERR_MEDIA_TYPE;
		*out = looks_markdown(s, n) ? EXTRACT_TYPE_MD : EXTRACT_TYPE_TXT;
		free(s);
		return ERR_OK;
	}
	for (size_t i = 0; i < len; i++)
		if (!text_byte_ok(p[i]))
			return ERR_MEDIA_TYPE;
	/* Valid UTF-8 or not, it is text: 8-bit text is converted when read. */
	*out = looks_markdown((const char *)p, len) ? EXTRACT_TYPE_MD : EXTRACT_TYPE_TXT;
	return ERR_OK;
}

/* Extensions and the type they name. */
static const struct {
	const char *ext;
	enum extract_type type;
} extensions[] = {
    {"pdf", EXTRACT_TYPE_PDF},  {"docx", EXTRACT_TYPE_DOCX}, {"png", EXTRACT_TYPE_PNG},
    {"jpg", EXTRACT_TYPE_JPG},  {"jpeg", EXTRACT_TYPE_JPG},  {"txt", EXTRACT_TYPE_TXT},
    {"text", EXTRACT_TYPE_TXT}, {"rst", EXTRACT_TYPE_TXT},   {"rest", EXTRACT_TYPE_TXT},
    {"log", EXTRACT_TYPE_TXT},  {"md", EXTRACT_TYPE_MD},     {"markdown", EXTRACT_TYPE_MD},
    {"mdown", EXTRACT_TYPE_MD}, {"mkd", EXTRACT_TYPE_MD},    {"mkdn", EXTRACT_TYPE_MD},
};

/* The type the extension of name names, NONE without a listed one. */
static enum extract_type type_of_name(const char *name)
{
	const char *slash = name ? strrchr(name, '/') : NULL;
	const char *base = slash ? slash + 1 : name;
	const char *dot = base ? strrchr(base, '.') : NULL;
	if (!dot || dot == base || dot[1] == '\0')
		return EXTRACT_TYPE_NONE;
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		if (strcasecmp(dot + 1, extensions[i].ext) == 0)
			return extensions[i].type;
	return EXTRACT_TYPE_NONE;
}

enum err extract_detect_named(const char *name, const void *head, size_t len, bool complete,
                              enum extract_type *out)
{
	enum extract_type sniffed;
	enum err e = extract_detect(head, len, complete, &sniffed);
	*out = EXTRACT_TYPE_NONE;
	if (e != ERR_OK)
		return e;
	enum extract_type named = type_of_name(name);
	bool text = sniffed == EXTRACT_TYPE_TXT || sniffed == EXTRACT_TYPE_MD;
	if (named == EXTRACT_TYPE_NONE)
		*out = sniffed;
	else if (named == EXTRACT_TYPE_TXT || named == EXTRACT_TYPE_MD)
		*out = text ? named : EXTRACT_TYPE_NONE;
	else
		*out = named == sniffed ? named : EXTRACT_TYPE_NONE;
	return *out == EXTRACT_TYPE_NONE ? ERR_MEDIA_TYPE : ERR_OK;
}

/* DOCX by its central directory: the content types and the main part. */
static bool zip_file_is_docx(int fd)
{
	int dup_fd = dup(fd);
	if (dup_fd < 0)
		return false;
	int zerr = 0;
	zip_t *z = zip_fdopen(dup_fd, ZIP_RDONLY, &zerr);
	if (z == NULL) {
		close(dup_fd);
		return false;
	}
	bool yes = zip_name_locate(z, "[Content_Types].xml", 0) >= 0 &&
	           zip_name_locate(z, "word/document.xml", 0) >= 0;
	zip_discard(z);
	return yes;
}

enum err extract_detect_file(const char *path, enum extract_type *out)
{
	enum err e = ERR_OK;
	unsigned char *head = xmalloc(EXTRACT_SNIFF_MAX);
	*out = EXTRACT_TYPE_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno == ENOENT ? ERR_NOT_FOUND : ERR_INTERNAL;
		log_write(e == ERR_NOT_FOUND ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
		          "extract: cannot open a file to detect its type: %s", strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		e = ERR_INTERNAL;
		log_error("extract: fstat: %s", strerror(errno));
		goto out;
	}
	size_t len = 0;
	while (len < EXTRACT_SNIFF_MAX) {
		ssize_t r = pread(fd, head + len, EXTRACT_SNIFF_MAX - len, (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = ERR_INTERNAL;
			log_error("extract: reading a file to detect its type: %s",
			          strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) {
		if (zip_file_is_docx(fd))
			*out = EXTRACT_TYPE_DOCX;
		else
			e = ERR_MEDIA_TYPE;
		goto out;
	}
	e = extract_detect(head, len, (off_t)len == st.st_size, out);
out:
	if (fd >= 0)
		close(fd);
	free(head);
	return e;
}

bool extract_out_append(struct extract_out *o, const char *s, size_t n)
{
	if (o->text_over || o->text.len + n > o->text_max) {
		o->text_over = true;
		return false;
	}
	buf_append(&o->text, s, n);
	return true;
}

bool extract_out_puts(struct extract_out *o, const char *s)
{
	return extract_out_append(o, s, strlen(s));
}

void extract_out_meta(char *dst, const char *src)
{
	size_t n = 0, i = 0, len = src != NULL ? strlen(src) : 0;
	const unsigned char *s = (const unsigned char *)src;
	while (i < len) {
		int k = utf8_seq(s + i, len - i);
		if (k <= 0)
			break;
		if (n + (size_t)k >= EXTRACT_META_MAX)
			break;
		if (k == 1 && s[i] < 0x20) {
			dst[n++] = ' ';
		} else {
			memcpy(dst + n, s + i, (size_t)k);
			n += (size_t)k;
		}
		i += (size_t)k;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	size_t lead = 0;
	while (lead < n && dst[lead] == ' ')
		lead++;
	memmove(dst, dst + lead, n - lead);
	dst[n - lead] = '\0';
}

enum err extract_fail(struct extract_out *o, enum err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	return e;
}

enum err extract_fail_text_over(struct extract_out *o)
{
	return extract_fail(o, ERR_TOO_LARGE, "the extracted text is larger than %zu bytes",
	                    o->text_max);
}

enum err extract_read_all(int fd, size_t max, struct extract_out *o, char **data, size_t *len)
{
	struct stat st;
	*data = NULL;
	*len = 0;
	if (fstat(fd, &st) != 0)
		return extract_fail(o, ERR_INTERNAL, "the file could not be read: %s",
		                    strerror(errno));
	if ((unsigned long long)st.st_size > max)
		return extract_fail(o, ERR_TOO_LARGE, "the file is larger than %zu bytes", max);
	size_t cap = (size_t)st.st_size;
	char *p = xmalloc(cap + 1);
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(p);
			return extract_fail(o, ERR_INTERNAL, "the file could not be read: %s",
			                    strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	*data = p;
	*len = n;
	return ERR_OK;
}
