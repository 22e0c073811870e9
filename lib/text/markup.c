/* markup: inline Markdown, reStructuredText and HTML markup removed. */
#include "text/markup.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum {
	MARKUP_DEPTH_MAX = 4,     /* link texts stripped inside link texts at most */
	MARKUP_BRACKET_MAX = 400, /* bytes between '[' and ']' looked at */
	MARKUP_CODE_MAX = 4096,   /* bytes of a code span looked at */
	MARKUP_TARGET_MAX = 2000, /* bytes of a link target looked at */
	MARKUP_TAG_MAX = 300,     /* bytes of an HTML tag */
	MARKUP_ROLE_MAX = 40,     /* bytes of a role's name */
	MARKUP_SUBST_MAX = 60,    /* bytes of a |substitution| */
	MARKUP_NOTE_MAX = 24      /* bytes of a footnote or citation label */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static bool is_alnum(char c)
{
	unsigned char u = (unsigned char)c;
	return (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') || u >= 0x80;
}

static bool is_punct(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && !is_alnum(c);
}

/* Appends n bytes, a blank as one space and never at the start. */
static void put(struct buf *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_blank(s[i])) {
			if (o->len && o->data[o->len - 1] != ' ')
				buf_putc(o, ' ');
		} else {
			buf_putc(o, s[i]);
		}
	}
}

/* A code span's content, or the phrase break. */
static void put_code(struct buf *o, const char *s, size_t n, int flags)
{
	if (flags & MARKUP_CODE_BREAK)
		put(o, " ; ", 3);
	else
		put(o, s, n);
}

/* Where a run of exactly k backticks starts at or after from (within
 * MARKUP_CODE_MAX bytes, so that runs that never close stay linear), or n. */
static size_t find_ticks(const char *s, size_t n, size_t from, size_t k)
{
	size_t end = n - from > MARKUP_CODE_MAX ? from + MARKUP_CODE_MAX : n;
	for (size_t i = from; i < end; i++) {
		if (s[i] != '`')
			continue;
		size_t r = i;
		while (r < n && s[r] == '`')
			r++;
		if (r - i == k)
			return i;
		i = r;
	}
	return n;
}

/* "text <target>" gives "text"; anything else stays. */
static size_t before_target(const char *s, size_t n)
{
	if (n < 3 || s[n - 1] != '>')
		return n;
	for (size_t i = n - 1; i > 0; i--)
		if (s[i] == '<' && is_blank(s[i - 1])) {
			size_t e = i - 1;
			while (e && is_blank(s[e - 1]))
				e--;
			return e ? e : n;
		}
	return n;
}

/* RST roles whose content is prose, not code. Sorted. */
static const char *const text_roles[] = {
    "abbr", "dfn", "doc",    "emphasis", "guilabel", "menuselection", "numref",          "pep",
    "ref",  "rfc", "strong", "sub",      "sup",      "term",          "title-reference",
};

static bool is_text_role(const char *name, size_t n)
{
	const char *c = memchr(name, ':', n); /* "py:class": the part after the domain */
	while (c) {
		n -= (size_t)(c - name) + 1;
		name = c + 1;
		c = memchr(name, ':', n);
	}
	for (size_t i = 0; i < sizeof(text_roles) / sizeof(text_roles[0]); i++)
		if (strlen(text_roles[i]) == n && memcmp(text_roles[i], name, n) == 0)
			return true;
	return false;
}

/* A role ":name:`content`" at s[i]: its end, or 0 when there is none. */
static size_t role(struct buf *o, const char *s, size_t n, size_t i, int flags)
{
	size_t j = i + 1;
	while (j < n && j - i < MARKUP_ROLE_MAX &&
	       (is_alnum(s[j]) || s[j] == '_' || s[j] == '.' || s[j] == '+' || s[j] == '-' ||
	        s[j] == ':'))
		j++;
	if (j < i + 3 || s[j - 1] != ':' || j >= n || s[j] != '`')
		return 0;
	size_t e = find_ticks(s, n, j + 1, 1);
	if (e >= n || e == j + 1)
		return 0;
	const char *name = s + i + 1, *c = s + j + 1;
	size_t nl = j - 1 - (i + 1), cl = before_target(c, e - (j + 1));
	if (cl && *c == '!')
		c++, cl--;
	if (cl && *c == '~') { /* "~a.b.c" shows "c" */
		c++, cl--;
		for (size_t k = cl; k > 0; k--)
			if (c[k - 1] == '.') {
				c += k, cl -= k;
				break;
			}
	}
	if ((nl == 3 && (memcmp(name, "pep", 3) == 0 || memcmp(name, "rfc", 3) == 0))) {
		put(o, memcmp(name, "pep", 3) == 0 ? "PEP " : "RFC ", 4);
		put(o, c, cl);
	} else if (is_text_role(name, nl)) {
		put(o, c, cl);
	} else {
		put_code(o, c, cl, flags);
	}
	return e + 1;
}

/* A footnote or citation label: "1", "#", "#name", "*", "CIT2002". */
static bool note_label(const char *s, size_t n)
{
	if (n == 0 || n > MARKUP_NOTE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '#' && s[i] != '*' && s[i] != '-' && s[i] != '_' &&
		    s[i] != '^')
			return false;
	return true;
}

/* "[12]", "[3, 4]", "[1-3]": a numeric citation. */
static bool numeric_citation(const char *s, size_t n)
{
	if (n == 0 || n > MARKUP_NOTE_MAX || !(s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != ',' && s[i] != ' ' && s[i] != '-')
			return false;
	return true;
}

/* Drops the space before a removed marker ("rule [1]_." gives "rule."). */
static void unspace(struct buf *o)
{
	if (o->len && o->data[o->len - 1] == ' ')
		o->data[--o->len] = '\0';
}

static void strip(struct buf *o, const char *s, size_t n, int flags, int depth);

/* "[...]" at s[i] (an image's when image): its end, or 0 when it stays. */
/* Where c next occurs at or after from, or n; *memo keeps the answer so
 * that a text of many openers and no closer stays linear. */
static size_t next_of(const char *s, size_t n, size_t from, char c, size_t *memo)
{
	if (*memo != SIZE_MAX && *memo >= from)
		return *memo;
	const char *f = from < n ? memchr(s + from, c, n - from) : NULL;
	*memo = f ? (size_t)(f - s) : n;
	return *memo;
}

/* The next ']' and ')' of the text being stripped. */
struct closers {
	size_t bracket, paren;
};

/* "[...]" at s[i] (no brackets inside): its end, or 0 when it stays. */
static size_t bracket(struct buf *o, const char *s, size_t n, size_t i, int flags, int depth,
                      struct closers *m)
{
	size_t e = next_of(s, n, i + 1, ']', &m->bracket);
	if (e >= n || e - i > MARKUP_BRACKET_MAX)
		return 0;
	const char *in = s + i + 1;
	size_t il = e - i - 1, after = e + 1;
	if (after < n && s[after] == '(') { /* [text](target), the target without parentheses */
		size_t t = next_of(s, n, after + 1, ')', &m->paren);
		if (t >= n || t - after > MARKUP_TARGET_MAX)
			return 0;
		if (depth < MARKUP_DEPTH_MAX)
			strip(o, in, il, flags, depth + 1);
		return t + 1;
	}
	if (after < n && s[after] == '[') { /* [text][ref] */
		size_t z = next_of(s, n, after + 1, ']', &m->bracket);
		if (z >= n || z - after > MARKUP_BRACKET_MAX)
			return 0;
		if (depth < MARKUP_DEPTH_MAX)
			strip(o, in, il, flags, depth + 1);
		return z + 1;
	}
	if (after < n && s[after] == '_' && note_label(in, il)) { /* RST [1]_ */
		unspace(o);
		return after + 1;
	}
	if ((il > 1 && in[0] == '^' && note_label(in + 1, il - 1)) || numeric_citation(in, il)) {
		unspace(o);
		return after;
	}
	return 0;
}

/* HTML elements met in prose. Sorted. */
static const char *const elements[] = {
    "a",      "abbr",   "b",   "big", "blockquote", "br",    "cite", "code",  "dd",
    "del",    "div",    "dl",  "dt",  "em",         "font",  "h1",   "h2",    "h3",
    "h4",     "h5",     "h6",  "hr",  "i",          "img",   "ins",  "kbd",   "li",
    "mark",   "ol",     "p",   "pre", "q",          "s",     "samp", "small", "span",
    "strike", "strong", "sub", "sup", "table",      "tbody", "td",   "th",    "thead",
    "tr",     "tt",     "u",   "ul",  "var",        "wbr",
};

static bool html_element(const char *name, size_t n)
{
	char low[16];
	if (n == 0 || n >= sizeof(low))
		return false;
	memcpy(low, name, n); /* lower case only: "<I>" is a placeholder, not italics */
	low[n] = '\0';
	for (size_t i = 0; i < sizeof(elements) / sizeof(elements[0]); i++)
		if (strcmp(low, elements[i]) == 0)
			return true;
	return false;
}

/* An HTML tag or an autolink at s[i]: its end, or 0. */
static size_t tag(struct buf *o, const char *s, size_t n, size_t i, int flags)
{
	if (i + 1 >= n)
		return 0;
	char c = s[i + 1];
	if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && c != '/' && c != '!')
		return 0;
	size_t e = i + 1;
	while (e < n && e - i < MARKUP_TAG_MAX && s[e] != '>' && s[e] != '<')
		e++;
	if (e >= n || s[e] != '>')
		return 0;
	const char *in = s + i + 1;
	size_t il = e - i - 1;
	if ((il > 7 && memcmp(in, "http://", 7) == 0) ||
	    (il > 8 && memcmp(in, "https://", 8) == 0) ||
	    (il > 7 && memcmp(in, "mailto:", 7) == 0)) {
		put_code(o, in, il, flags);
		return e + 1;
	}
	/* A tag is an HTML element's name and attributes: "<b>", "</em>",
	 * "<a href=...>", "<br/>", "<!-- -->"; "<T>" or "<name>" is a
	 * placeholder in the prose and stays. */
	if (c == '!')
		return e + 1;
	size_t a = c == '/' ? 1 : 0, k = a;
	while (k < il && (is_alnum(in[k]) || in[k] == '-'))
		k++;
	if (!(k == il || is_blank(in[k]) || in[k] == '/') || !html_element(in + a, k - a))
		return 0;
	return e + 1;
}

static void strip(struct buf *o, const char *s, size_t n, int flags, int depth)
{
	size_t i = 0;
	struct closers m = {SIZE_MAX, SIZE_MAX};
	while (i < n) {
		char c = s[i];
		char prev = i ? s[i - 1] : ' ';
		size_t end = 0;
		if (c == '\\' && i + 1 < n && is_punct(s[i + 1])) {
			put(o, s + i + 1, 1);
			i += 2;
			continue;
		}
		if (c == '`') {
			size_t k = i;
			while (k < n && s[k] == '`')
				k++;
			k -= i;
			size_t z = find_ticks(s, n, i + k, k);
			if (z < n && z > i + k) {
				const char *in = s + i + k;
				size_t il = z - i - k, after = z + k;
				while (il && is_blank(*in))
					in++, il--;
				while (il && is_blank(in[il - 1]))
					il--;
				if (k == 1 && after < n && s[after] == '_') { /* `text <url>`_ */
					after++;
					if (after < n && s[after] == '_')
						after++;
					put(o, in, before_target(in, il));
				} else {
					put_code(o, in, il, flags);
				}
				i = after;
				continue;
			}
			put(o, s + i, k);
			i += k;
			continue;
		}
		if (c == ':' && !is_alnum(prev) && (end = role(o, s, n, i, flags)) > 0) {
			i = end;
			continue;
		}
		if (c == '!' && i + 1 < n && s[i + 1] == '[' &&
		    (end = bracket(o, s, n, i + 1, flags, depth, &m)) > 0) {
			i = end;
			continue;
		}
		if (c == '[' && (end = bracket(o, s, n, i, flags, depth, &m)) > 0) {
			i = end;
			continue;
		}
		if (c == '<' && (end = tag(o, s, n, i, flags)) > 0) {
			i = end;
			continue;
		}
		if (c == '*' || c == '_') {
			size_t k = i;
			while (k < n && s[k] == c)
				k++;
			char next = k < n ? s[k] : ' ';
			bool opener = !is_blank(next) && (is_blank(prev) || is_punct(prev));
			bool closer = !is_blank(prev) && (is_blank(next) || is_punct(next));
			if (k - i <= 3 && (opener || closer)) {
				i = k;
				continue;
			}
			put(o, s + i, k - i);
			i = k;
			continue;
		}
		if (c == '|' && (is_blank(prev) || is_punct(prev)) && i + 1 < n &&
		    !is_blank(s[i + 1]) && s[i + 1] != '|') {
			size_t z = i + 1;
			while (z < n && z - i < MARKUP_SUBST_MAX && s[z] != '|')
				z++;
			if (z < n && s[z] == '|' && !is_blank(s[z - 1]) &&
			    (z + 1 >= n || !is_alnum(s[z + 1]))) {
				put(o, s + i + 1, z - i - 1);
				i = z + 1;
				if (i < n && s[i] == '_') /* |name|_ */
					i++;
				continue;
			}
		}
		put(o, s + i, 1);
		i++;
	}
}

char *markup_strip(struct pool *pool, const char *s, size_t n, int flags, size_t *out_len)
{
	struct buf o;
	buf_init(&o);
	strip(&o, s, n, flags, 0);
	/* A space left before closing punctuation by a removed marker goes. */
	size_t w = 0;
	for (size_t r = 0; r < o.len; r++) {
		char c = o.data[r];
		if (c == ' ' && r + 1 < o.len && strchr(".,;:!?)", o.data[r + 1]) &&
		    !((flags & MARKUP_CODE_BREAK) && o.data[r + 1] == ';'))
			continue;
		o.data[w++] = c;
	}
	while (w && o.data[w - 1] == ' ')
		w--;
	char *out = pool_strndup(pool, o.data ? o.data : "", w);
	buf_clear(&o);
	if (out_len)
		*out_len = w;
	return out;
}
