/* extract_text: plain text and Markdown. UTF-8 is validated and kept as it
 * is (a BOM dropped); UTF-16 with a BOM and 8-bit text in the configured
 * encoding are converted with iconv. Line ends become LF. A Markdown file's
 * first heading is its title. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract/extract_impl.h"

enum { ICONV_CHUNK = 64 * 1024 };

/* Converts in[0..len) from the encoding from into UTF-8 in *out. */
static enum err convert(const char *from, const char *in, size_t len, size_t max,
                        struct extract_out *o, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return extract_fail(o, ERR_INVALID, "the text file's encoding %s is not supported",
		                    from);
	enum err e = ERR_OK;
	char *chunk = xmalloc(ICONV_CHUNK);
	char *src = (char *)in;
	size_t left = len;
	while (left > 0) {
		char *dst = chunk;
		size_t room = ICONV_CHUNK;
		size_t r = iconv(cd, &src, &left, &dst, &room);
		buf_append(out, chunk, ICONV_CHUNK - room);
		if (out->len > max) {
			e = extract_fail_text_over(o);
			break;
		}
		if (r == (size_t)-1 && errno != E2BIG) {
			e = extract_fail(o, ERR_INVALID,
			                 "the text file is not valid %s text (at byte %zu)", from,
			                 len - left);
			break;
		}
	}
	free(chunk);
	iconv_close(cd);
	return e;
}

/* Copies text into o with CRLF and lone CR turned into LF. */
static void put_lines(struct extract_out *o, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\r')
			continue;
		extract_out_append(o, s + start, i - start);
		extract_out_append(o, "\n", 1);
		if (i + 1 < n && s[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	extract_out_append(o, s + start, n - start);
}

/* The first ATX heading's text, as the title. */
static void md_title(struct extract_out *o)
{
	const char *s = o->text.data, *end = s + o->text.len;
	while (s != NULL && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		size_t h = 0;
		while (h < n && s[h] == '#')
			h++;
		if (h >= 1 && h <= 6 && h < n && s[h] == ' ') {
			char line[EXTRACT_META_MAX];
			size_t k = n - h - 1 < sizeof(line) - 1 ? n - h - 1 : sizeof(line) - 1;
			memcpy(line, s + h + 1, k);
			line[k] = '\0';
			extract_out_meta(o->title, line);
			return;
		}
		s = nl != NULL ? nl + 1 : NULL;
	}
}

enum err extract_text(int fd, bool markdown, const struct extract_limits *l, struct extract_out *o)
{
	char *data = NULL;
	size_t len = 0;
	struct buf conv;
	buf_init(&conv);
	o->engine = "text";
	enum err e = extract_read_all(fd, (size_t)l->max_file_bytes, o, &data, &len);
	if (e != ERR_OK)
		goto out;
	const unsigned char *p = (const unsigned char *)data;
	const char *text = data;
	size_t text_len = len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		text_len -= 3;
	} else if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff))) {
		e = convert(p[0] == 0xff ? "UTF-16LE" : "UTF-16BE", data + 2, len - 2, o->text_max,
		            o, &conv);
		if (e != ERR_OK)
			goto out;
		text = conv.data != NULL ? conv.data : "";
		text_len = conv.len;
	}
	if (memchr(text, '\0', text_len) != NULL) {
		e = extract_fail(o, ERR_INVALID, "the text file contains NUL bytes");
		goto out;
	}
	if (!extract_utf8_valid((const unsigned char *)text, text_len)) {
		/* Windows-1252 leaves five bytes undefined; Latin-1 defines them all. */
		struct extract_out trial = *o;
		e = convert(l->text_encoding, text, text_len, o->text_max, &trial, &conv);
		if (e == ERR_INVALID && strcasecmp(l->text_encoding, "ISO-8859-1") != 0) {
			conv.len = 0;
			e = convert("ISO-8859-1", text, text_len, o->text_max, o, &conv);
		} else if (e != ERR_OK) {
			memcpy(o->message, trial.message, sizeof(o->message));
		}
		if (e != ERR_OK)
			goto out;
		text = conv.data != NULL ? conv.data : "";
		text_len = conv.len;
	}
	put_lines(o, text, text_len);
	if (o->text_over) {
		e = extract_fail_text_over(o);
		goto out;
	}
	if (markdown)
		md_title(o);
out:
	buf_clear(&conv);
	free(data);
	return e;
}
