/* valid: strict checks of client text, by length, never by strlen. */
#include "web/valid.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Decodes one code point at s; returns its byte count, or 0 when the bytes
 * are not well-formed UTF-8 (overlong, surrogate, beyond U+10FFFF, cut). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0; /* continuation byte, 0xc0/0xc1 overlong leads, 0xf5.. */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

bool valid_utf8_count(const char *s, size_t len, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			return false;
		i += n;
		count++;
	}
	if (chars)
		*chars = count;
	return true;
}

bool valid_utf8(const char *s, size_t len)
{
	return valid_utf8_count(s, len, NULL);
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool valid_text(const char *s, size_t len, long min_chars, long max_chars, unsigned flags,
                const char **problem)
{
	const char *why = NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			why = "invalid UTF-8";
			goto out;
		}
		if (cp == 0) {
			why = "contains NUL";
			goto out;
		}
		if ((flags & VALID_TEXT_NO_CONTROL) && is_control(cp) &&
		    !((flags & VALID_TEXT_NEWLINES) && (cp == '\t' || cp == '\n' || cp == '\r'))) {
			why = "contains control characters";
			goto out;
		}
		i += n;
		count++;
	}
	if (min_chars > 0 && count < (size_t)min_chars)
		why = "too short";
	else if (max_chars >= 0 && count > (size_t)max_chars)
		why = "too long";
out:
	if (problem)
		*problem = why;
	return why == NULL;
}

bool valid_long(const char *text, long min, long max, long *out)
{
	if (!text || min > max)
		return false;
	const char *p = text;
	bool negative = false;
	if (*p == '-') {
		if (min >= 0)
			return false;
		negative = true;
		p++;
	}
	if (*p == '\0')
		return false;
	/* Accumulate as a negative number: its range is the larger one. */
	long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		int d = *p - '0';
		if (v < (LONG_MIN + d) / 10)
			return false;
		v = v * 10 - d;
	}
	if (!negative) {
		if (v == LONG_MIN)
			return false;
		v = -v;
	}
	if (v < min || v > max)
		return false;
	if (out)
		*out = v;
	return true;
}

bool valid_uuid(const char *text, char out[VALID_UUID_LEN + 1])
{
	if (!text)
		return false;
	char tmp[VALID_UUID_LEN + 1];
	for (size_t i = 0; i < VALID_UUID_LEN; i++) {
		char c = text[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (c >= '0' && c <= '9') {
			/* kept */
		} else if (c >= 'a' && c <= 'f') {
			/* kept */
		} else if (c >= 'A' && c <= 'F') {
			c = (char)(c - 'A' + 'a');
		} else {
			return false; /* also stops at an early NUL */
		}
		tmp[i] = c;
	}
	if (text[VALID_UUID_LEN] != '\0')
		return false;
	tmp[VALID_UUID_LEN] = '\0';
	if (out)
		memcpy(out, tmp, sizeof(tmp));
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 5322 atext, the characters of a dot-atom besides '.'. */
static bool is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool email_local_ok(const char *s, size_t len)
{
	if (len == 0 || len > VALID_EMAIL_LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext(s[i])) {
			return false;
		}
	}
	return true;
}

static bool email_domain_ok(const char *s, size_t len)
{
	size_t labels = 0, label_len = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label_len == 0 || label_len > VALID_EMAIL_LABEL_MAX || s[i - 1] == '-')
				return false;
			labels++;
			if (i == len && all_digits)
				return false; /* a numeric top-level label is an IP, not a domain */
			label_len = 0;
			all_digits = true;
			continue;
		}
		char c = s[i];
		if (c >= '0' && c <= '9') {
			/* digit */
		} else if ((c >= 'a' && c <= 'z') || c == '-') {
			all_digits = false;
			if (c == '-' && label_len == 0)
				return false;
		} else {
			return false;
		}
		label_len++;
	}
	return labels >= 2;
}

bool valid_email(const char *text, struct pool *pool, const char **out)
{
	if (!text)
		return false;
	size_t start = 0, end = strlen(text);
	while (start < end && is_blank(text[start]))
		start++;
	while (end > start && is_blank(text[end - 1]))
		end--;
	size_t len = end - start;
	if (len == 0 || len > VALID_EMAIL_MAX)
		return false;
	char tmp[VALID_EMAIL_MAX + 1];
	size_t at = len;
	for (size_t i = 0; i < len; i++) {
		char c = text[start + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '@') {
			if (at != len)
				return false;
			at = i;
		}
		tmp[i] = c;
	}
	tmp[len] = '\0';
	if (at == len || !email_local_ok(tmp, at) || !email_domain_ok(tmp + at + 1, len - at - 1))
		return false;
	if (out)
		*out = pool_strndup(pool, tmp, len);
	return true;
}

bool valid_enum(const char *text, const char *const *choices, size_t *index)
{
	if (!text || !choices)
		return false;
	for (size_t i = 0; choices[i]; i++) {
		if (strcmp(text, choices[i]) == 0) {
			if (index)
				*index = i;
			return true;
		}
	}
	return false;
}

bool valid_request_id(const char *text)
{
	if (!text)
		return false;
	size_t i = 0;
	for (; text[i]; i++) {
		char c = text[i];
		if (i >= VALID_REQUEST_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return i > 0;
}

/* Bidirectional embeddings, overrides and isolates: they can make
 * "invoice\u202Efdp.exe" display as "invoiceexe.pdf". */
static bool is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c;
}

static bool is_trimmed(char c)
{
	return c == '.' || c == ' ' || c == '\t';
}

const char *valid_display_filename(struct pool *pool, const char *name, size_t len)
{
	if (!name)
		len = 0;
	/* Only the last path component is a name. */
	size_t base = 0;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\\')
			base = i + 1;
	const unsigned char *p = (const unsigned char *)name + base;
	size_t plen = len - base;
	char *out = pool_alloc(pool, VALID_FILENAME_MAX + 1);
	size_t o = 0;
	for (size_t i = 0; i < plen;) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, plen - i, &cp);
		const char *piece = (const char *)p + i;
		size_t piece_len = n;
		if (n == 0) {
			piece = "_";
			piece_len = 1;
			n = 1;
		} else if (is_control(cp) || is_bidi_control(cp)) {
			piece_len = 0;
		}
		i += n;
		if (piece_len == 0)
			continue;
		if (o + piece_len > VALID_FILENAME_MAX)
			break; /* cut on a character boundary */
		memcpy(out + o, piece, piece_len);
		o += piece_len;
	}
	size_t start = 0;
	while (start < o && is_trimmed(out[start]))
		start++;
	while (o > start && is_trimmed(out[o - 1]))
		o--;
	if (o == start)
		return "file";
	memmove(out, out + start, o - start);
	out[o - start] = '\0';
	return out;
}
