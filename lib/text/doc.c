/* doc: blocks, headings, pages and sections of a document's text. */
#define _GNU_SOURCE /* memmem */
#include "text/doc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/markup.h"
#include "text/text.h"

enum {
	DOC_DEPTH_MAX = 8,         /* nested block quotes and directives parsed */
	DOC_STYLES_MAX = 16,       /* RST adornment styles told apart */
	DOC_TITLE_BYTES_MAX = 120, /* a longer line is never a numbered or title-like heading */
	DOC_TITLE_WORDS_MAX = 12,
	DOC_TERM_BYTES_MAX = 80, /* a glossary term before ": " */
	DOC_TERM_WORDS_MAX = 6,
	DOC_SENTENCE_WORDS_MIN = 1,
	DOC_NAME_MAX = 32 /* bytes of a directive's name */
};

struct line {
	const char *s; /* its first non-blank byte */
	size_t n;      /* bytes from s, trailing blanks dropped; 0 for a blank line */
	int indent;    /* columns before s (a tab to the next multiple of 8) */
	long page;
};

struct style {
	char c;    /* the adornment character */
	bool over; /* with an overline */
};

struct parser {
	struct pool *pool;
	struct line *lines; /* malloc'd, freed once parsed */
	size_t nlines;
	struct doc_block *blocks;
	size_t count, cap;
	bool rst, md;      /* which markup the text is written in (both may be false) */
	bool literal_next; /* the last paragraph ended in "::" */
	struct style styles[DOC_STYLES_MAX];
	int nstyles;
	long item_col; /* the content column of the last list item, -1 after anything else */
};

/* ---- lines ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static void add_lines(struct parser *p, const char *c, size_t n, long page, size_t *cap)
{
	for (size_t at = 0; at <= n;) {
		const char *nl = memchr(c + at, '\n', n - at);
		size_t end = nl ? (size_t)(nl - c) : n;
		if (!nl && at == n)
			break;
		if (p->nlines == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			p->lines = xrealloc(p->lines, *cap * sizeof(*p->lines));
		}
		struct line *l = &p->lines[p->nlines++];
		int col = 0;
		size_t i = at;
		for (; i < end && blank(c[i]); i++)
			col = c[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
		size_t z = end;
		while (z > i && blank(c[z - 1]))
			z--;
		*l = (struct line){c + i, z - i, col, page};
		at = end + 1;
	}
}

/* ---- character tests ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper_start(const char *s, size_t n)
{
	return n && (text_starts_upper(s, n) || is_digit(s[0]));
}

/* A line of one repeated punctuation character (3 or more): an RST
 * adornment, a Setext underline or a thematic break. */
static char adornment(const struct line *l)
{
	if (l->n < 3)
		return 0;
	char c = l->s[0];
	if (!strchr("=-`:'\"~^_*+#<>.!$%&(),/;?@[]{}|\\", c))
		return 0;
	for (size_t i = 1; i < l->n; i++)
		if (l->s[i] != c)
			return 0;
	return c;
}

/* Characters of a UTF-8 string (for adornment lengths). */
static size_t chars(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static bool fence(const struct line *l, char *c, size_t *len)
{
	if (l->n < 3 || (l->s[0] != '`' && l->s[0] != '~'))
		return false;
	size_t k = 0;
	while (k < l->n && l->s[k] == l->s[0])
		k++;
	if (k < 3 || (l->s[0] == '`' && memchr(l->s + k, '`', l->n - k)))
		return false;
	*c = l->s[0];
	*len = k;
	return true;
}

/* "#" to "######" and a blank: the level, and where the title starts. */
static int atx(const struct line *l, size_t *at)
{
	size_t h = 0;
	while (h < l->n && l->s[h] == '#')
		h++;
	if (h == 0 || h > DOC_HEADING_LEVEL_MAX || (h < l->n && !blank(l->s[h])))
		return 0;
	*at = h;
	return (int)h;
}

/* The length of a list marker with its blank ("- ", "3. ", "b) ", "#. "), or 0. */
static size_t list_marker(const char *s, size_t n)
{
	size_t i = 0;
	if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+'))
		i = 1;
	else if (n >= 4 && memcmp(s, "\xe2\x80\xa2", 3) == 0) /* a bullet */
		i = 3;
	else if (n >= 3 && s[0] == '#' && s[1] == '.')
		i = 2;
	else if (is_digit(s[0])) {
		while (i < n && i < 3 && is_digit(s[i]))
			i++;
		if (i >= n || (s[i] != '.' && s[i] != ')'))
			return 0;
		i++;
	} else if (n >= 3 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ')')
		i = 2;
	else if (n >= 4 && s[0] == '(' && s[2] == ')')
		i = 3;
	else
		return 0;
	if (i >= n || !blank(s[i]))
		return 0;
	while (i < n && blank(s[i]))
		i++;
	return i < n ? i : 0;
}

/* "2.3 Scope rules", "4. Results", "1.2.1. Terms": a numbered title. */
static int numbered_heading(const char *s, size_t n)
{
	size_t i = 0;
	int parts = 0;
	while (i < n && is_digit(s[i])) {
		size_t d = i;
		while (i < n && is_digit(s[i]) && i - d < 3)
			i++;
		parts++;
		if (i < n && s[i] == '.' && i + 1 < n && is_digit(s[i + 1]))
			i++;
		else
			break;
	}
	if (parts == 0 || parts > DOC_HEADING_LEVEL_MAX)
		return 0;
	if (i < n && s[i] == '.')
		i++;
	if (i >= n || !blank(s[i]))
		return 0;
	while (i < n && blank(s[i]))
		i++;
	return is_upper_start(s + i, n - i) ? parts : 0;
}

/* A short line that reads as a title: capital or digit first, no closing
 * punctuation, at most DOC_TITLE_WORDS_MAX words. */
static bool title_like(const char *s, size_t n)
{
	if (n == 0 || n > DOC_TITLE_BYTES_MAX || !is_upper_start(s, n))
		return false;
	if (strchr(".,;:!?-", s[n - 1]))
		return false;
	size_t words = 1;
	for (size_t i = 0; i < n; i++)
		words += s[i] == ' ';
	return words <= DOC_TITLE_WORDS_MAX;
}

/* Prose rather than code: letters make most of what is not punctuation
 * that prose uses too (symbols such as = { } < > / _ # count against). */
static bool mostly_letters(const char *s, size_t n, int percent)
{
	size_t letters = 0, other = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80)
			letters++;
		else if (c != ' ' && !strchr(".,;:!?'\"()-", c) && !(c >= '0' && c <= '9'))
			other++;
	}
	return letters * 100 >= (letters + other) * (size_t)percent;
}

/* ---- blocks ---- */

static struct doc_block *add(struct parser *p, enum doc_kind kind, long page)
{
	if (p->count >= DOC_BLOCKS_MAX)
		return NULL;
	if (p->count == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		struct doc_block *bigger = pool_alloc(p->pool, p->cap * sizeof(*bigger));
		if (p->count)
			memcpy(bigger, p->blocks, p->count * sizeof(*bigger));
		p->blocks = bigger;
	}
	struct doc_block *b = &p->blocks[p->count++];
	*b = (struct doc_block){.kind = kind, .page = page, .section = -1};
	return b;
}

/* Lines [from, to) joined by spaces (a paragraph), or by newlines with
 * their indentation beyond the least kept (code). */
static char *join(struct parser *p, size_t from, size_t to, bool code, size_t *len)
{
	struct buf b;
	buf_init(&b);
	int least = -1;
	for (size_t i = from; i < to; i++)
		if (p->lines[i].n && (least < 0 || p->lines[i].indent < least))
			least = p->lines[i].indent;
	for (size_t i = from; i < to; i++) {
		const struct line *l = &p->lines[i];
		if (code) {
			if (b.len || l->n)
				for (int k = least; k >= 0 && k < l->indent; k++)
					buf_putc(&b, ' ');
			buf_append(&b, l->s, l->n);
			buf_putc(&b, '\n');
		} else if (l->n) {
			if (b.len)
				buf_putc(&b, ' ');
			buf_append(&b, l->s, l->n);
		}
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.len--;
	char *s = pool_strndup(p->pool, b.data ? b.data : "", b.len);
	*len = b.len;
	buf_clear(&b);
	return s;
}

static void add_code(struct parser *p, size_t from, size_t to)
{
	while (from < to && p->lines[from].n == 0)
		from++;
	if (from >= to)
		return;
	struct doc_block *b = add(p, DOC_CODE, p->lines[from].page);
	if (!b)
		return;
	b->raw = join(p, from, to, true, &b->raw_len);
	b->text = b->raw;
	b->len = b->raw_len;
}

/* A block of prose from raw text: markup removed. */
static struct doc_block *add_text(struct parser *p, enum doc_kind kind, int level, const char *raw,
                                  size_t raw_len, long page)
{
	size_t n;
	char *t = markup_strip(p->pool, raw, raw_len, 0, &n);
	if (n == 0)
		return NULL;
	struct doc_block *b = add(p, kind, page);
	if (!b)
		return NULL;
	b->level = level;
	b->raw = pool_strndup(p->pool, raw, raw_len);
	b->raw_len = raw_len;
	b->text = t;
	b->len = n;
	return b;
}

/* The level of an RST adornment style, numbered as styles first appear. */
static int style_level(struct parser *p, char c, bool over)
{
	if (p->md && !p->rst && !over && (c == '=' || c == '-'))
		return c == '=' ? 1 : 2; /* Markdown Setext */
	for (int i = 0; i < p->nstyles; i++)
		if (p->styles[i].c == c && p->styles[i].over == over)
			return i + 1 > DOC_HEADING_LEVEL_MAX ? DOC_HEADING_LEVEL_MAX : i + 1;
	if (p->nstyles < DOC_STYLES_MAX)
		p->styles[p->nstyles++] = (struct style){c, over};
	return p->nstyles > DOC_HEADING_LEVEL_MAX ? DOC_HEADING_LEVEL_MAX : p->nstyles;
}

static void add_heading(struct parser *p, const struct line *l, size_t from, size_t to, int level)
{
	while (from < to && blank(l->s[to - 1]))
		to--;
	while (from < to && blank(l->s[from]))
		from++;
	add_text(p, DOC_HEADING, level, l->s + from, to - from, l->page);
}

/* "Term: definition", "**Term** - definition": the term's length, or 0. */
static size_t glossary_term(const char *s, size_t n, size_t *def)
{
	static const char *const seps[] = {": ", " - ", " \xe2\x80\x93 ", " \xe2\x80\x94 "};
	for (size_t k = 0; k < sizeof(seps) / sizeof(seps[0]); k++) {
		size_t sl = strlen(seps[k]);
		for (size_t i = 1; i + sl <= n && i <= DOC_TERM_BYTES_MAX; i++) {
			if (memcmp(s + i, seps[k], sl) != 0)
				continue;
			size_t words = 1;
			for (size_t j = 0; j < i; j++) {
				if (strchr(".;!?", s[j]))
					return 0;
				words += s[j] == ' ';
			}
			if (words > DOC_TERM_WORDS_MAX || i + sl >= n)
				return 0;
			*def = i + sl;
			return i;
		}
	}
	return 0;
}

static void parse_range(struct parser *p, size_t from, size_t to, bool quote, int depth);

/* The first line at or after from that is not blank and indented at most
 * indent, or to. */
static size_t dedent(const struct parser *p, size_t from, size_t to, int indent)
{
	while (from < to && (p->lines[from].n == 0 || p->lines[from].indent > indent))
		from++;
	return from;
}

/* Directives whose body is code, and those with nothing for a reader. Sorted. */
static const char *const code_directives[] = {
    "code",           "code-block",     "doctest",    "highlight", "literalinclude",
    "parsed-literal", "productionlist", "sourcecode", "testcode",  "testoutput",
};
static const char *const skip_directives[] = {
    "autoclass", "autofunction",  "automodule",     "contents", "currentmodule", "figure",
    "image",     "include",       "index",          "meta",     "moduleauthor",  "only",
    "raw",       "sectionauthor", "tabularcolumns", "toctree",
};
static const char *const note_directives[] = {
    "admonition", "attention", "caution",      "danger",         "deprecated",
    "error",      "hint",      "important",    "note",           "seealso",
    "tip",        "topic",     "versionadded", "versionchanged", "warning",
};

static bool named(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

#define NAMED(name, list) named(name, list, sizeof(list) / sizeof(list[0]))

/* ".. name:: argument" and its indented body, at line i; returns the next line. */
static size_t directive(struct parser *p, size_t i, size_t to, int depth)
{
	const struct line *l = &p->lines[i];
	size_t end = dedent(p, i + 1, to, l->indent);
	const char *s = l->s + 2, *z = l->s + l->n;
	while (s < z && blank(*s))
		s++;
	const char *colons = NULL;
	for (const char *c = s; c + 1 < z; c++) {
		if (c[0] == ':' && c[1] == ':') {
			colons = c;
			break;
		}
		if (blank(*c) || *c == '[' || *c == '_' || *c == '|')
			break;
	}
	if (!colons || colons == s || (size_t)(colons - s) >= DOC_NAME_MAX)
		return end; /* a comment, a target, a footnote, a substitution */
	char name[DOC_NAME_MAX];
	memcpy(name, s, (size_t)(colons - s));
	name[colons - s] = '\0';
	const char *colon = strchr(name, ':'); /* "py:function": the domain goes */
	const char *bare = colon ? colon + 1 : name;
	size_t body = i + 1;
	while (body < end && p->lines[body].n && p->lines[body].s[0] == ':') /* options */
		body++;
	if (NAMED(bare, code_directives)) {
		add_code(p, body, end);
		return end;
	}
	if (NAMED(bare, skip_directives))
		return end;
	const char *arg = colons + 2;
	while (arg < z && blank(*arg))
		arg++;
	if (NAMED(bare, note_directives) && arg < z)
		add_text(p, DOC_QUOTE, 0, arg, (size_t)(z - arg), l->page);
	if (depth < DOC_DEPTH_MAX)
		parse_range(p, body, end, true, depth + 1);
	return end;
}

/* Table rows from line i on: Markdown pipes, RST grid and simple tables. */
static size_t table(struct parser *p, size_t i, size_t to)
{
	const struct line *first = &p->lines[i];
	bool simple = first->s[0] == '=';
	for (; i < to; i++) {
		const struct line *l = &p->lines[i];
		if (simple) {
			if (l->n == 0)
				break;
			if (l->s[0] == '=' && strspn(l->s, "= ") >= l->n) {
				continue;
			}
		} else if (l->n == 0 || (l->s[0] != '|' && l->s[0] != '+')) {
			break;
		}
		if (!simple && (l->s[0] == '+' || strspn(l->s, "|-:= +") >= l->n))
			continue; /* a border or separator row */
		struct buf row;
		buf_init(&row);
		for (size_t k = 0; k < l->n;) { /* cells: between pipes, or 2+ blanks apart */
			size_t c = k;
			while (k < l->n && l->s[k] != '|' &&
			       !(simple && k + 1 < l->n && blank(l->s[k]) && blank(l->s[k + 1])))
				k++;
			size_t a = c, b = k;
			while (a < b && blank(l->s[a]))
				a++;
			while (b > a && blank(l->s[b - 1]))
				b--;
			if (b > a) {
				if (row.len)
					buf_puts(&row, " | ");
				buf_append(&row, l->s + a, b - a);
			}
			while (k < l->n && (l->s[k] == '|' || blank(l->s[k])))
				k++;
		}
		if (row.len)
			add_text(p, DOC_TABLE, 0, row.data, row.len, l->page);
		buf_clear(&row);
	}
	return i;
}

/* Whether line i is where a new construct starts (ending a paragraph). */
static bool starts_block(const struct parser *p, size_t i, size_t to)
{
	const struct line *l = &p->lines[i];
	char fc;
	size_t fl, at;
	if (l->n == 0 || fence(l, &fc, &fl) || atx(l, &at) || l->s[0] == '|' || l->s[0] == '>' ||
	    adornment(l))
		return true;
	if (list_marker(l->s, l->n) && !(p->rst && !p->md))
		return true;
	if (l->n >= 3 && l->s[0] == '.' && l->s[1] == '.' && l->s[2] == ' ')
		return true;
	return i + 1 < to && adornment(&p->lines[i + 1]) && !adornment(l) &&
	       p->lines[i + 1].n >= chars(l->s, l->n) && p->lines[i + 1].indent == l->indent;
}

/* A paragraph from line i: returns the next line. */
static size_t paragraph(struct parser *p, size_t i, size_t to, bool quote)
{
	size_t from = i;
	int indent = p->lines[i].indent;
	i++;
	while (i < to && !starts_block(p, i, to) && p->lines[i].indent >= indent &&
	       !(!p->md && i == from + 1 && p->lines[i].indent > indent))
		i++;
	size_t len;
	char *raw = join(p, from, i, false, &len);
	p->literal_next = false;
	if (len >= 2 && raw[len - 1] == ':' && raw[len - 2] == ':') { /* RST literal marker */
		p->literal_next = true;
		len -= 1;
		if (len == 1 || blank(raw[len - 2]))
			len = len >= 2 ? len - 2 : 0;
		while (len && blank(raw[len - 1]))
			len--;
	}
	if (len)
		add_text(p, quote ? DOC_QUOTE : DOC_PARAGRAPH, 0, raw, len, p->lines[from].page);
	return i;
}

/* A list item from line i (marker m bytes long): returns the next line. */
static size_t item(struct parser *p, size_t i, size_t to, size_t m)
{
	const struct line *l = &p->lines[i];
	size_t from = i;
	i++;
	while (i < to && p->lines[i].n && !starts_block(p, i, to) &&
	       !list_marker(p->lines[i].s, p->lines[i].n))
		i++;
	size_t len;
	char *raw = join(p, from, i, false, &len);
	raw += m, len -= m;
	p->literal_next = len >= 2 && raw[len - 1] == ':' && raw[len - 2] == ':';
	if (p->literal_next)
		len -= len >= 3 && raw[len - 3] == ' ' ? 3 : 1;
	size_t def = 0, tl = glossary_term(raw, len, &def);
	struct doc_block *b = add_text(p, DOC_ITEM, 0, raw, len, l->page);
	if (b && tl) {
		size_t n;
		char *term = markup_strip(p->pool, raw, tl, 0, &n);
		if (n)
			b->term = term;
	}
	p->item_col = l->indent + (long)m;
	return i;
}

/* Whether the lines before and after line i (past blanks) are list items:
 * then a numbered line is an item of a loose list, not a heading. */
static bool near_items(const struct parser *p, size_t i, size_t from, size_t to)
{
	size_t b = i;
	while (b > from && p->lines[b - 1].n == 0)
		b--;
	if (b > from && list_marker(p->lines[b - 1].s, p->lines[b - 1].n))
		return true;
	size_t a = i + 1;
	while (a < to && p->lines[a].n == 0)
		a++;
	return a < to && list_marker(p->lines[a].s, p->lines[a].n) &&
	       numbered_heading(p->lines[a].s, p->lines[a].n) <= 1 &&
	       !(a + 1 >= to || p->lines[a + 1].n == 0);
}

static void parse_range(struct parser *p, size_t from, size_t to, bool quote, int depth)
{
	int base = -1;
	for (size_t k = from; k < to; k++)
		if (p->lines[k].n && (base < 0 || p->lines[k].indent < base))
			base = p->lines[k].indent;
	size_t i = from;
	p->item_col = -1;
	p->literal_next = false;
	while (i < to && p->count < DOC_BLOCKS_MAX) {
		const struct line *l = &p->lines[i];
		if (l->n == 0) {
			i++;
			continue;
		}
		char fc;
		size_t fl, at;
		int level;
		if (l->indent > base) { /* an indented block */
			size_t end = dedent(p, i, to, base);
			bool after_blank = i > from && p->lines[i - 1].n == 0;
			struct doc_block *prev = p->count ? &p->blocks[p->count - 1] : NULL;
			if (p->literal_next) {
				add_code(p, i, end);
			} else if (p->item_col >= 0 && l->indent >= p->item_col &&
			           depth < DOC_DEPTH_MAX) {
				parse_range(p, i, end, quote, depth + 1);
			} else if (p->md && !p->rst && after_blank && l->indent >= base + 4) {
				add_code(p, i, end);
			} else if (!p->md && !after_blank && prev &&
			           (prev->kind == DOC_PARAGRAPH || prev->kind == DOC_QUOTE) &&
			           prev->len <= DOC_TERM_BYTES_MAX) {
				/* A definition list: the term, then its definition. */
				size_t stop = i;
				while (stop < end && p->lines[stop].n)
					stop++;
				size_t len;
				char *raw = join(p, i, stop, false, &len);
				const char *term = prev->text;
				long page = prev->page;
				p->count--;
				struct doc_block *b = add_text(p, DOC_ITEM, 0, raw, len, page);
				if (b)
					b->term = term;
				if (depth < DOC_DEPTH_MAX)
					parse_range(p, stop, end, quote, depth + 1);
			} else {
				size_t len;
				char *raw = join(p, i, end, false, &len);
				if (!mostly_letters(raw, len, 70) || depth >= DOC_DEPTH_MAX)
					add_code(p, i, end);
				else
					parse_range(p, i, end, true, depth + 1);
			}
			p->literal_next = false;
			p->item_col = -1;
			i = end;
			continue;
		}
		p->literal_next = false;
		if (fence(l, &fc, &fl)) {
			size_t k = i + 1;
			while (k < to) {
				char c2;
				size_t l2;
				if (fence(&p->lines[k], &c2, &l2) && c2 == fc && l2 >= fl &&
				    p->lines[k].n == l2)
					break;
				k++;
			}
			add_code(p, i + 1, k);
			p->item_col = -1;
			i = k < to ? k + 1 : to;
			continue;
		}
		if (l->n >= 4 && memcmp(l->s, "<!--", 4) == 0) { /* an HTML comment */
			size_t k = i;
			while (k < to && !memmem(p->lines[k].s, p->lines[k].n, "-->", 3))
				k++;
			i = k < to ? k + 1 : to;
			continue;
		}
		if (l->n >= 3 && memcmp(l->s, ">>>", 3) == 0) {
			size_t k = i;
			while (k < to && p->lines[k].n)
				k++;
			add_code(p, i, k);
			i = k;
			continue;
		}
		if (l->n >= 2 && l->s[0] == '.' && l->s[1] == '.' &&
		    (l->n == 2 || blank(l->s[2]))) {
			i = directive(p, i, to, depth);
			p->item_col = -1;
			continue;
		}
		p->item_col = -1;
		char a = adornment(l);
		if (a && i + 2 < to && p->lines[i + 1].n && adornment(&p->lines[i + 2]) == a &&
		    !adornment(&p->lines[i + 1])) { /* overlined title */
			level = style_level(p, a, true);
			add_heading(p, &p->lines[i + 1], 0, p->lines[i + 1].n, level);
			i += 3;
			continue;
		}
		if ((level = atx(l, &at)) > 0) {
			size_t z = l->n; /* closing #s of "## Title ##" go */
			while (z > at && (l->s[z - 1] == '#' || blank(l->s[z - 1])))
				z--;
			add_heading(p, l, at, z, level);
			i++;
			continue;
		}
		char under = i + 1 < to ? adornment(&p->lines[i + 1]) : 0;
		if (!a && under && p->lines[i + 1].indent == l->indent && l->s[0] != '|' &&
		    !list_marker(l->s, l->n) && (p->rst || under == '=' || under == '-') &&
		    (p->lines[i + 1].n >= chars(l->s, l->n) || p->md)) { /* underlined */
			level = style_level(p, under, false);
			add_heading(p, l, 0, l->n, level);
			i += 2;
			continue;
		}
		if (a) { /* a rule, or an adornment without its title */
			i++;
			continue;
		}
		if (l->s[0] == '|' || (l->s[0] == '+' && l->n > 1 && l->s[1] == '-') ||
		    (l->s[0] == '=' && memchr(l->s, ' ', l->n) && strspn(l->s, "= ") >= l->n)) {
			i = table(p, i, to);
			continue;
		}
		if (l->s[0] == '>') {
			size_t k = i;
			struct buf q;
			buf_init(&q);
			while (k < to && p->lines[k].n && p->lines[k].s[0] == '>') {
				const char *s = p->lines[k].s + 1;
				size_t n = p->lines[k].n - 1;
				while (n && (*s == ' ' || *s == '>'))
					s++, n--;
				if (q.len)
					buf_putc(&q, ' ');
				buf_append(&q, s, n);
				k++;
			}
			if (q.len)
				add_text(p, DOC_QUOTE, 0, q.data, q.len, l->page);
			buf_clear(&q);
			i = k;
			continue;
		}
		size_t m = list_marker(l->s, l->n);
		int num = numbered_heading(l->s, l->n);
		bool alone = (i + 1 >= to || p->lines[i + 1].n == 0) &&
		             (i == from || p->lines[i - 1].n == 0);
		if (num && alone && title_like(l->s, l->n) && !p->md &&
		    (num > 1 || !near_items(p, i, from, to))) {
			add_heading(p, l, 0, l->n, num);
			i++;
			continue;
		}
		if (m) {
			i = item(p, i, to, m);
			continue;
		}
		if (p->rst && l->s[0] == ':' && l->n > 2) { /* a field ":name: body" */
			const char *c = memchr(l->s + 1, ':', l->n - 1);
			if (c && c > l->s + 1 && (size_t)(c - l->s) + 1 < l->n && blank(c[1])) {
				size_t k = i + 1;
				while (k < to && p->lines[k].n && p->lines[k].indent > l->indent)
					k++;
				size_t len;
				char *raw = join(p, i, k, false, &len);
				size_t tl = (size_t)(c - l->s) + 2;
				/* Metadata, not a glossary: no term. */
				add_text(p, DOC_ITEM, 0, raw + tl, len - tl, l->page);
				i = k;
				continue;
			}
		}
		i = paragraph(p, i, to, quote);
	}
}

/* Which markup the text is written in, from its lines. */
static void flavour(struct parser *p)
{
	long rst = 0, md = 0;
	for (size_t i = 0; i < p->nlines; i++) {
		const struct line *l = &p->lines[i];
		size_t at;
		char fc;
		if (l->n == 0)
			continue;
		if (l->indent < 4 && atx(l, &at) && at < l->n)
			md += 2;
		else if (l->indent < 4 && fence(l, &fc, &at))
			md += 2;
		else if (l->n >= 4 && l->s[0] == '.' && l->s[1] == '.' && l->s[2] == ' ' &&
		         (memmem(l->s, l->n, "::", 2) || l->s[3] == '_' || l->s[3] == '['))
			rst += 2;
		else if (l->n >= 2 && l->s[l->n - 1] == ':' && l->s[l->n - 2] == ':')
			rst += 1;
		if (i > 0 && adornment(l) && p->lines[i - 1].n && !adornment(&p->lines[i - 1]) &&
		    l->s[0] != '=' && l->s[0] != '-')
			rst += 2; /* an underline Markdown does not know */
		if (i > 1 && adornment(l) && adornment(&p->lines[i - 2]) == adornment(l) &&
		    p->lines[i - 1].n && !adornment(&p->lines[i - 1]))
			rst += 3; /* an overlined title */
		if (memmem(l->s, l->n, "](", 2))
			md += 1;
		if (memmem(l->s, l->n, ":`", 2) || memmem(l->s, l->n, "``", 2) ||
		    memmem(l->s, l->n, "`_", 2))
			rst += 1;
	}
	p->rst = rst > 0 && rst >= md;
	p->md = md > 0 && md > rst;
}

/* Without any heading, short title-like paragraphs standing alone are
 * headings: the first block at level 1, the rest one level below it. */
static void title_lines(struct parser *p)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->blocks[i].kind == DOC_HEADING)
			return;
	bool top = false;
	for (size_t i = 0; i < p->count; i++) {
		struct doc_block *b = &p->blocks[i];
		if (b->kind != DOC_PARAGRAPH || !title_like(b->text, b->len))
			continue;
		b->kind = DOC_HEADING;
		b->level = i == 0 ? 1 : top ? 2 : 1;
		top = top || i == 0;
	}
}

/* Each block's section: the heading above it of a lower level. */
static void sections(struct doc *d)
{
	long stack[DOC_HEADING_LEVEL_MAX + 1];
	int levels[DOC_HEADING_LEVEL_MAX + 1];
	int depth = 0;
	for (size_t i = 0; i < d->count; i++) {
		struct doc_block *b = &d->blocks[i];
		if (b->kind == DOC_HEADING) {
			while (depth > 0 && levels[depth - 1] >= b->level)
				depth--;
			b->section = depth ? stack[depth - 1] : -1;
			if (depth <= DOC_HEADING_LEVEL_MAX) {
				stack[depth] = (long)i;
				levels[depth++] = b->level;
			}
		} else {
			b->section = depth ? stack[depth - 1] : -1;
		}
	}
}

void doc_parse(struct pool *pool, const char *text, size_t len, struct doc *out)
{
	struct parser p = {.pool = pool, .item_col = -1};
	size_t cap = 0;
	if (len > DOC_INPUT_MAX)
		len = DOC_INPUT_MAX;
	long page = 1;
	for (size_t at = 0; at <= len;) { /* page by page */
		const char *ff = memchr(text + at, '\f', len - at);
		size_t end = ff ? (size_t)(ff - text) : len;
		size_t clen;
		const char *c = text_clean(pool, text + at, end - at, &clen);
		if (page > 1) /* a page ends a paragraph: a blank line of the new page */
			add_lines(&p, "\n", 1, page, &cap);
		add_lines(&p, c, clen, page, &cap);
		if (!ff)
			break;
		page++;
		at = end + 1;
	}
	flavour(&p);
	parse_range(&p, 0, p.nlines, false, 0);
	title_lines(&p);
	free(p.lines);
	out->blocks = p.blocks;
	out->count = p.count;
	out->pages = page;
	sections(out);
}

const char *doc_section_path(struct pool *pool, const struct doc *d, size_t i)
{
	if (i >= d->count)
		return "";
	long at = d->blocks[i].kind == DOC_HEADING ? (long)i : d->blocks[i].section;
	long chain[DOC_HEADING_LEVEL_MAX + 1];
	int n = 0;
	for (; at >= 0 && n <= DOC_HEADING_LEVEL_MAX; at = d->blocks[at].section)
		chain[n++] = at;
	struct buf b;
	buf_init(&b);
	for (int k = n - 1; k >= 0; k--) {
		const struct doc_block *h = &d->blocks[chain[k]];
		size_t sep = b.len ? 3 : 0;
		if (b.len + sep + h->len > DOC_PATH_MAX)
			break;
		if (sep)
			buf_puts(&b, " > ");
		buf_append(&b, h->text, h->len);
	}
	const char *s = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return s;
}

bool doc_is_prose(const struct doc_block *b)
{
	return b->kind == DOC_PARAGRAPH || b->kind == DOC_ITEM || b->kind == DOC_QUOTE;
}

/* Whether a sentence is whole and prose: it starts as a sentence does and
 * is made of words. */
static bool whole(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && i < 6) { /* opening quotes and brackets */
		const unsigned char *u = (const unsigned char *)s + i;
		if (s[i] == '"' || s[i] == '\'' || s[i] == '(' || s[i] == '[')
			i++;
		else if (n - i >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
		         (u[2] == 0x9c || u[2] == 0x98))
			i += 3;
		else
			break;
	}
	/* A capital, a digit or a letter of a script without case starts a
	 * sentence; a lower-case letter or a symbol means a fragment. */
	if (i >= n || text_starts_lower(s + i, n - i) ||
	    ((unsigned char)s[i] < 0x80 && !is_upper_start(s + i, n - i)))
		return false;
	size_t words = 1;
	for (size_t k = 0; k < n; k++)
		words += s[k] == ' ';
	return words >= DOC_SENTENCE_WORDS_MIN && mostly_letters(s, n, 75);
}

size_t doc_sentences(struct pool *pool, const struct doc *d, size_t max, struct doc_sentence **out)
{
	size_t cap = 64, n = 0;
	struct doc_sentence *v = pool_alloc(pool, cap * sizeof(*v));
	for (size_t i = 0; i < d->count && n < max; i++) {
		const struct doc_block *b = &d->blocks[i];
		if (!doc_is_prose(b))
			continue;
		struct text_sentence *s = NULL;
		size_t ns = text_sentences(pool, b->text, b->len, max - n, &s);
		for (size_t k = 0; k < ns && n < max; k++) {
			if (!whole(s[k].text, s[k].len))
				continue;
			if (n == cap) {
				cap *= 2;
				struct doc_sentence *bigger =
				    pool_alloc(pool, cap * sizeof(*bigger));
				memcpy(bigger, v, n * sizeof(*v));
				v = bigger;
			}
			char last = s[k].text[s[k].len - 1];
			v[n++] = (struct doc_sentence){s[k].text,  s[k].len,    i,          b->page,
			                               b->section, last == ':', last == '?'};
		}
	}
	*out = v;
	return n;
}

size_t doc_passages(struct pool *pool, const struct doc *d, size_t max_blocks, size_t max_bytes,
                    struct doc_passage **out)
{
	if (max_blocks < 1)
		max_blocks = 1;
	struct doc_passage *v = pool_alloc(pool, (d->count + 1) * sizeof(*v));
	size_t n = 0;
	struct buf b;
	buf_init(&b);
	size_t units = 0, first = 0, last = 0;
	for (size_t i = 0; i <= d->count; i++) {
		const struct doc_block *k = i < d->count ? &d->blocks[i] : NULL;
		bool fits = k && (doc_is_prose(k) || k->kind == DOC_TABLE);
		bool row = fits && units && k->kind == DOC_TABLE && last + 1 == i &&
		           d->blocks[last].kind == DOC_TABLE; /* the same table goes on */
		bool cut =
		    !fits || (units && k->section != d->blocks[first].section) ||
		    (units && !row && (units >= max_blocks || b.len + 2 + k->len > max_bytes));
		if (cut && units) {
			v[n++] = (struct doc_passage){pool_strndup(pool, b.data, b.len),
			                              b.len,
			                              first,
			                              last,
			                              d->blocks[first].page,
			                              d->blocks[first].section,
			                              doc_section_path(pool, d, first)};
			b.len = 0;
			units = 0;
			row = false;
		}
		if (!fits)
			continue;
		if (units == 0)
			first = i;
		else
			buf_puts(&b, row ? "\n" : "\n\n");
		buf_append(&b, k->text, k->len);
		units += row ? 0 : 1;
		last = i;
	}
	buf_clear(&b);
	*out = v;
	return n;
}

const char *doc_render(struct pool *pool, const struct doc *d, size_t max, size_t *len)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < d->count; i++) {
		const struct doc_block *k = &d->blocks[i];
		if (k->kind == DOC_CODE)
			continue;
		size_t mark = b.len;
		if (b.len)
			buf_puts(&b, k->kind == DOC_TABLE && d->blocks[i - 1].kind == DOC_TABLE
			                 ? "\n"
			                 : "\n\n");
		if (k->kind == DOC_HEADING)
			buf_printf(&b, "%.*s ", k->level, "######");
		else if (k->kind == DOC_ITEM && k->term &&
		         strncmp(k->text, k->term, strlen(k->term)))
			buf_printf(&b, "- %s: ", k->term);
		else if (k->kind == DOC_ITEM)
			buf_puts(&b, "- ");
		buf_append(&b, k->text, k->len);
		if (b.len > max) { /* the block that passes max is cut at a space */
			size_t cut = max;
			while (cut > mark && b.data[cut] != ' ')
				cut--;
			b.len = cut;
			while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\n'))
				b.len--;
			break;
		}
	}
	const char *s = pool_strndup(pool, b.data ? b.data : "", b.len);
	if (len)
		*len = b.len;
	buf_clear(&b);
	return s;
}
