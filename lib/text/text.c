/* text: sentence splitting, words, stop words and Snowball stems. */
#include "text/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "core/log.h"

enum {
	TEXT_ABBREV_MAX = 16, /* bytes of a word looked up as an abbreviation */
	TEXT_REPLACEMENT = 0xfffd
};

/* ---- UTF-8 and character classes ---- */

/* Decodes one code point of s (n > 0 bytes); a bad sequence is U+FFFD of one byte. */
static uint32_t utf8_get(const char *text, size_t n, size_t *used)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned char c = s[0];
	size_t need;
	uint32_t cp, min;
	*used = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return TEXT_REPLACEMENT;
	}
	if (n < need)
		return TEXT_REPLACEMENT;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return TEXT_REPLACEMENT;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return TEXT_REPLACEMENT;
	*used = need;
	return cp;
}

/* Encodes cp into dst (4 bytes of room); returns the bytes written. */
static size_t utf8_put(char *dst, uint32_t cp)
{
	unsigned char *d = (unsigned char *)dst;
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xc0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xe0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (unsigned char)(0xf0 | (cp >> 18));
	d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Letters of the scripts we meet in course material; punctuation and symbol
 * blocks are not letters. Deliberately locale-free so results never depend
 * on the machine. */
static bool cp_is_letter(uint32_t cp)
{
	if (cp < 0x80)
		return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
	if (cp == 0xaa || cp == 0xb5 || cp == 0xba)
		return true;
	if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7 || cp == TEXT_REPLACEMENT)
		return false;
	if ((cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
	    (cp >= 0xfe00 && cp <= 0xfe6f) || (cp >= 0xff00 && cp <= 0xff0f) || cp >= 0x1f000)
		return false;
	return true;
}

static bool cp_is_digit(uint32_t cp)
{
	return cp >= '0' && cp <= '9';
}

static uint32_t cp_lower(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 32;
	if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177))
		return cp | 1;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		return (cp & 1) ? cp + 1 : cp;
	if (cp == 0x178)
		return 0xff;
	if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2)
		return cp + 32;
	if (cp >= 0x410 && cp <= 0x42f)
		return cp + 32;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 80;
	return cp;
}

static bool cp_is_upper(uint32_t cp)
{
	return cp_lower(cp) != cp;
}

/* A cased lower-case letter: after a period it means the sentence goes on. */
static bool cp_is_lower(uint32_t cp)
{
	if (cp < 0x80)
		return cp >= 'a' && cp <= 'z';
	return cp < 0x530 && cp_is_letter(cp) && !cp_is_upper(cp);
}

/* Quotes and brackets that may close a sentence after its period. */
static bool cp_is_closer(uint32_t cp)
{
	return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x2019 || cp == 0x201d ||
	       cp == 0xbb || cp == '*' || cp == '_';
}

static bool cp_is_opener(uint32_t cp)
{
	return cp == '"' || cp == '\'' || cp == '(' || cp == '[' || cp == 0x2018 || cp == 0x201c ||
	       cp == 0xab || cp == '*' || cp == '_';
}

bool text_starts_upper(const char *s, size_t len)
{
	size_t used;
	return len > 0 && cp_is_upper(utf8_get(s, len, &used));
}

bool text_starts_lower(const char *s, size_t len)
{
	size_t used;
	return len > 0 && cp_is_lower(utf8_get(s, len, &used));
}

/* ---- cleaning ---- */

char *text_clean(struct pool *pool, const char *text, size_t len, size_t *out_len)
{
	/* Each bad byte grows to three: count them first, so the copy is exact. */
	size_t grow = 0;
	for (size_t i = 0; i < len;) {
		size_t used;
		if (utf8_get(text + i, len - i, &used) == TEXT_REPLACEMENT && used == 1)
			grow += 2;
		i += used;
	}
	char *out = pool_alloc(pool, len + grow + 1);
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t used;
		uint32_t cp = utf8_get(text + i, len - i, &used);
		if (cp == '\r') {
			if (i + 1 < len && text[i + 1] == '\n')
				used = 2;
			cp = '\n';
		} else if (cp == 0x2028 || cp == 0x2029) {
			cp = '\n';
		} else if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0xa0)) {
			cp = ' ';
		} else if (cp == 0xfeff || cp == 0xad) {
			i += used;
			continue;
		}
		o += utf8_put(out + o, cp);
		i += used;
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
}

/* ---- abbreviations and stop words ---- */

static int cmp_word(const void *key, const void *item)
{
	return strcmp(key, *(const char *const *)item);
}

static bool in_list(const char *word, const char *const *list, size_t n)
{
	return bsearch(word, list, n, sizeof(*list), cmp_word) != NULL;
}

/* Sorted (strcmp) lists. */
static const char *const stop_words[] = {
    "a",          "about",    "above",     "after",     "again",     "against", "all",
    "almost",     "along",    "already",   "also",      "although",  "always",  "am",
    "among",      "an",       "and",       "another",   "any",       "anybody", "anyone",
    "anything",   "anywhere", "are",       "aren't",    "around",    "as",      "at",
    "be",         "became",   "because",   "become",    "becomes",   "been",    "before",
    "being",      "below",    "between",   "both",      "but",       "by",      "can",
    "can't",      "cannot",   "could",     "couldn't",  "did",       "didn't",  "do",
    "does",       "doesn't",  "doing",     "don't",     "done",      "down",    "during",
    "each",       "either",   "else",      "enough",    "even",      "ever",    "every",
    "few",        "for",      "from",      "further",   "had",       "hadn't",  "has",
    "hasn't",     "have",     "haven't",   "having",    "he",        "he'd",    "he'll",
    "he's",       "her",      "here",      "here's",    "hers",      "herself", "him",
    "himself",    "his",      "how",       "how's",     "however",   "i",       "i'd",
    "i'll",       "i'm",      "i've",      "if",        "in",        "into",    "is",
    "isn't",      "it",       "it's",      "its",       "itself",    "just",    "let's",
    "may",        "me",       "might",     "more",      "most",      "much",    "must",
    "mustn't",    "my",       "myself",    "neither",   "no",        "nor",     "not",
    "of",         "off",      "often",     "on",        "once",      "only",    "onto",
    "or",         "other",    "others",    "otherwise", "ought",     "our",     "ours",
    "ourselves",  "out",      "over",      "own",       "per",       "perhaps", "quite",
    "rather",     "same",     "shall",     "shan't",    "she",       "she'd",   "she'll",
    "she's",      "should",   "shouldn't", "since",     "so",        "some",    "such",
    "than",       "that",     "that's",    "the",       "their",     "theirs",  "them",
    "themselves", "then",     "there",     "there's",   "therefore", "these",   "they",
    "they'd",     "they'll",  "they're",   "they've",   "this",      "those",   "though",
    "through",    "thus",     "to",        "too",       "toward",    "towards", "under",
    "until",      "up",       "upon",      "us",        "very",      "via",     "was",
    "wasn't",     "we",       "we'd",      "we'll",     "we're",     "we've",   "were",
    "weren't",    "what",     "what's",    "when",      "when's",    "where",   "where's",
    "whether",    "which",    "while",     "who",       "who's",     "whom",    "whose",
    "why",        "why's",    "will",      "with",      "within",    "without", "won't",
    "would",      "wouldn't", "yet",       "you",       "you'd",     "you'll",  "you're",
    "you've",     "your",     "yours",     "yourself",  "yourselves"};

/* A period after these never ends a sentence: they stand before what they name. */
static const char *const abbrev_never[] = {
    "approx", "capt", "cf",  "col", "dr", "e.g",  "eg",  "esp", "gen", "gov", "hon", "i.e", "ie",
    "lt",     "mr",   "mrs", "ms",  "mt", "prof", "rev", "sen", "sgt", "st",  "viz", "vs",
};

/* Before a number these never end a sentence ("Fig. 3", "p. 12"). */
static const char *const abbrev_numbered[] = {
    "art", "ch",   "chap", "eq",  "eqs",  "fig", "figs", "no",  "nos",
    "p",   "para", "pp",   "ref", "refs", "sec", "tab",  "vol",
};

/* These may end a sentence: they do when a stop word ("The", "It") follows. */
static const char *const abbrev_maybe[] = {
    "al",  "apr", "aug", "ca",  "co",  "corp", "dec", "dept", "ed",
    "eds", "est", "etc", "feb", "inc", "jan",  "jr",  "jul",  "jun",
    "ltd", "mar", "max", "min", "nov", "oct",  "sep", "sept", "sr",
};

#define LIST_LEN(a) (sizeof(a) / sizeof((a)[0]))

bool text_is_stop_word(const char *lower)
{
	return in_list(lower, stop_words, LIST_LEN(stop_words));
}

/* ---- words ---- */

/* Lower-cases n bytes of s into dst (cap bytes with NUL), cut at a character. */
static size_t lower_into(const char *s, size_t n, char *dst, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t used;
		uint32_t cp = cp_lower(utf8_get(s + i, n - i, &used));
		if (cp == 0x2019)
			cp = '\'';
		char tmp[4];
		size_t k = utf8_put(tmp, cp);
		if (o + k + 1 > cap)
			break;
		memcpy(dst + o, tmp, k);
		o += k;
		i += used;
	}
	dst[o] = '\0';
	return o;
}

/* Whether s[i] begins a character that belongs inside a word. */
static bool word_char(uint32_t cp)
{
	return cp_is_letter(cp) || cp_is_digit(cp);
}

/* The end of the word starting at i (a word character). */
static size_t word_end(const char *s, size_t len, size_t i)
{
	uint32_t prev = 0;
	while (i < len) {
		size_t used;
		uint32_t cp = utf8_get(s + i, len - i, &used);
		if (word_char(cp) || (cp >= 0x300 && cp <= 0x36f)) {
			prev = cp;
			i += used;
			continue;
		}
		/* An inner apostrophe ("don't") or decimal point ("3.14") stays. */
		size_t used2 = 0;
		uint32_t next = i + used < len ? utf8_get(s + i + used, len - i - used, &used2) : 0;
		if ((cp == '\'' || cp == 0x2019) && cp_is_letter(prev) && cp_is_letter(next)) {
			i += used;
			continue;
		}
		if ((cp == '.' || cp == ',') && cp_is_digit(prev) && cp_is_digit(next)) {
			i += used;
			continue;
		}
		break;
	}
	return i;
}

size_t text_words(struct pool *pool, const char *s, size_t len, size_t max, struct text_word **out)
{
	size_t cap = len / 2 + 1;
	if (cap > max)
		cap = max;
	struct text_word *words = pool_alloc(pool, (cap ? cap : 1) * sizeof(*words));
	size_t n = 0;
	for (size_t i = 0; i < len && n < cap;) {
		size_t used;
		uint32_t cp = utf8_get(s + i, len - i, &used);
		if (!word_char(cp)) {
			i += used;
			continue;
		}
		size_t end = word_end(s, len, i);
		char lower[TEXT_WORD_MAX + 1];
		size_t ln = lower_into(s + i, end - i, lower, sizeof(lower));
		words[n].lower = pool_strndup(pool, lower, ln);
		words[n].start = s + i;
		words[n].len = end - i;
		n++;
		i = end;
	}
	*out = words;
	return n;
}

/* ---- sentence splitting ---- */

struct splitter {
	struct pool *pool;
	struct text_sentence *items;
	size_t count, max;
	struct buf para;          /* the paragraph or list item being gathered */
	enum text_kind para_kind; /* TEXT_SENTENCE or TEXT_ITEM */
};

/* Whether the line starting at c[at] is empty or missing. */
static bool next_line_blank(const char *c, size_t clen, size_t at)
{
	for (size_t i = at; i < clen && c[i] != '\n'; i++)
		if (c[i] != ' ' && c[i] != '\t')
			return false;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Stores one piece, trimmed and with runs of blanks collapsed to one space;
 * a piece longer than TEXT_SENTENCE_MAX is cut at spaces, each part again
 * without a blank at either end. */
static void emit(struct splitter *sp, const char *text, size_t len, enum text_kind kind, int level)
{
	char *s = pool_alloc(sp->pool, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_blank(text[i]))
			s[n++] = text[i];
		else if (n && s[n - 1] != ' ')
			s[n++] = ' ';
	}
	while (n && s[n - 1] == ' ')
		n--;
	while (n && sp->count < sp->max) {
		size_t take = n;
		if (take > TEXT_SENTENCE_MAX) {
			take = TEXT_SENTENCE_MAX;
			while (take > TEXT_SENTENCE_MAX / 2 && s[take] != ' ')
				take--;
			if (s[take] != ' ') { /* no space: cut at a character boundary */
				take = TEXT_SENTENCE_MAX;
				while (take && ((unsigned char)s[take] & 0xc0) == 0x80)
					take--;
			}
		}
		size_t keep = take;
		while (keep && s[keep - 1] == ' ')
			keep--;
		struct text_sentence *t = &sp->items[sp->count++];
		t->text = pool_strndup(sp->pool, s, keep);
		t->len = keep;
		t->kind = kind;
		t->level = level;
		s += take, n -= take;
		while (n && *s == ' ')
			s++, n--;
	}
}

/* The lower-cased word ending just before p[end] (at most TEXT_ABBREV_MAX bytes). */
static void word_before(const char *p, size_t start, size_t end, char *dst)
{
	size_t b = end;
	while (b > start && p[b - 1] != ' ')
		b--;
	while (b < end) { /* leading brackets and quotes are not part of it */
		size_t used;
		if (!cp_is_opener(utf8_get(p + b, end - b, &used)))
			break;
		b += used;
	}
	if (end - b >= TEXT_ABBREV_MAX) {
		dst[0] = '\0';
		return;
	}
	lower_into(p + b, end - b, dst, TEXT_ABBREV_MAX);
}

/* "U.S", "Ph.D", "e.g": letters joined by single periods. */
static bool is_dotted(const char *w)
{
	bool dot = false;
	for (const char *c = w; *c; c++) {
		if (*c == '.') {
			if (c == w || c[1] == '\0' || c[-1] == '.')
				return false;
			dot = true;
		} else if ((unsigned char)*c < 0x80 &&
		           !((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')) {
			return false;
		}
	}
	return dot;
}

/* The period at p[dot] with the next sentence's first letter at p[next]:
 * does a sentence end there? */
static bool period_ends(const char *p, size_t n, size_t start, size_t dot, size_t next, uint32_t nc)
{
	char w[TEXT_ABBREV_MAX];
	word_before(p, start, dot, w);
	if (!w[0])
		return true;
	if (in_list(w, abbrev_never, LIST_LEN(abbrev_never)))
		return false;
	if (in_list(w, abbrev_numbered, LIST_LEN(abbrev_numbered)) && cp_is_digit(nc))
		return false;
	size_t used, wl = strlen(w);
	bool initial = cp_is_letter(utf8_get(w, wl, &used)) && used == wl; /* "J." */
	if (!(initial || is_dotted(w) || in_list(w, abbrev_maybe, LIST_LEN(abbrev_maybe))))
		return true;
	/* An abbreviation or initial ends the sentence only before a word that
	 * starts sentences (The, It, In), never before a name (U.S. Congress). */
	size_t e = next;
	while (e < n && p[e] != ' ' && e - next < TEXT_ABBREV_MAX - 1) {
		uint32_t cp = utf8_get(p + e, n - e, &used);
		if (!cp_is_letter(cp) && cp != '\'')
			break;
		e += used;
	}
	char nw[TEXT_ABBREV_MAX];
	lower_into(p + next, e - next, nw, sizeof(nw));
	return nw[0] && text_is_stop_word(nw);
}

/* Splits the gathered paragraph into sentences. */
static void flush(struct splitter *sp)
{
	const char *p = sp->para.data;
	size_t n = sp->para.len, start = 0, i = 0;
	while (i < n) {
		size_t used;
		uint32_t cp = utf8_get(p + i, n - i, &used);
		if (cp != '.' && cp != '!' && cp != '?' && cp != 0x2026) {
			i += used;
			continue;
		}
		size_t first = i, dots = 0;
		bool strong = false, ellipsis = false;
		while (i < n) {
			cp = utf8_get(p + i, n - i, &used);
			if (cp == '.')
				dots++;
			else if (cp == '!' || cp == '?')
				strong = true;
			else if (cp == 0x2026)
				ellipsis = true;
			else
				break;
			i += used;
		}
		if (dots >= 2 && !strong)
			ellipsis = true;
		while (i < n && cp_is_closer(utf8_get(p + i, n - i, &used)))
			i += used;
		if (i >= n || p[i] != ' ')
			continue; /* inside a token: 3.14, example.com, or the end */
		size_t end = i, next = i + 1, k = next;
		uint32_t nc = 0;
		while (k < n) { /* the first letter or digit of what follows */
			nc = utf8_get(p + k, n - k, &used);
			if (!cp_is_opener(nc))
				break;
			k += used;
		}
		bool ends;
		if (cp_is_lower(nc))
			ends = false;
		else if (ellipsis)
			ends = cp_is_upper(nc);
		else if (strong)
			ends = true;
		else
			ends = period_ends(p, n, start, first, k, nc);
		if (!ends)
			continue;
		emit(sp, p + start, end - start, sp->para_kind, 0);
		start = next;
		i = next;
	}
	if (start < n)
		emit(sp, p + start, n - start, sp->para_kind, 0);
	sp->para.len = 0;
	if (sp->para.data)
		sp->para.data[0] = '\0';
	sp->para_kind = TEXT_SENTENCE;
}

/* Adds one line to the paragraph: spaces collapsed, a word broken by a
 * hyphen at the line's end ("exam-" "ple") joined again. */
static void gather(struct splitter *sp, const char *s, size_t n)
{
	struct buf *b = &sp->para;
	if (b->len) {
		size_t used;
		uint32_t first = utf8_get(s, n, &used);
		if (b->len >= 2 && b->data[b->len - 1] == '-' && b->data[b->len - 2] != ' ' &&
		    b->data[b->len - 2] != '-' && cp_is_lower(first))
			b->data[--b->len] = '\0';
		else
			buf_putc(b, ' ');
	}
	bool space = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			space = true;
			continue;
		}
		if (space && b->len && b->data[b->len - 1] != ' ')
			buf_putc(b, ' ');
		space = false;
		buf_putc(b, s[i]);
	}
}

/* "#" to "######" and a space: the heading's level and where its text starts. */
static int heading_level(const char *s, size_t n, size_t *text_at)
{
	size_t h = 0;
	while (h < n && s[h] == '#')
		h++;
	if (h == 0 || h > TEXT_HEADING_LEVEL_MAX || (h < n && s[h] != ' ' && s[h] != '\t'))
		return 0;
	*text_at = h;
	return (int)h;
}

/* The length of a list marker with its space ("- ", "3. ", "b) ", "• "), or 0. */
static size_t list_marker(const char *s, size_t n)
{
	size_t used, i = 0;
	uint32_t cp = n ? utf8_get(s, n, &used) : 0;
	if (cp == '-' || cp == '*' || cp == '+' || cp == 0x2022 || cp == 0x2023 || cp == 0x25e6 ||
	    cp == 0x25aa || cp == 0x2013) {
		i = used;
	} else if (cp_is_digit(cp)) {
		while (i < n && i < 3 && cp_is_digit((unsigned char)s[i]))
			i++;
		if (i >= n || (s[i] != '.' && s[i] != ')'))
			return 0;
		i++;
	} else if (cp < 0x80 && cp_is_letter(cp) && n > 1 && s[1] == ')') {
		i = 2;
	} else if (cp == '(' && n > 2 && s[2] == ')' && cp_is_letter((unsigned char)s[1])) {
		i = 3;
	} else {
		return 0;
	}
	return (i < n && (s[i] == ' ' || s[i] == '\t')) ? i + 1 : 0;
}

/* "---", "***", "___" (with spaces): a thematic break. */
static bool is_rule(const char *s, size_t n)
{
	size_t marks = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == s[0] && (s[0] == '-' || s[0] == '*' || s[0] == '_' || s[0] == '='))
			marks++;
		else if (s[i] != ' ')
			return false;
	}
	return marks >= 3;
}

/* A short line without closing punctuation that starts with a capital or a
 * digit, and either stands alone or is written in title case: a title. */
static bool title_like(const char *s, size_t n, bool alone)
{
	if (n == 0 || n > TEXT_TITLE_BYTES_MAX)
		return false;
	size_t used, e = n;
	while (e > 0) { /* look past closing quotes and brackets */
		size_t b = e - 1;
		while (b > 0 && ((unsigned char)s[b] & 0xc0) == 0x80)
			b--;
		uint32_t cp = utf8_get(s + b, e - b, &used);
		if (cp == '.' || cp == '!' || cp == '?' || cp == ',' || cp == ';' || cp == ':' ||
		    cp == '-' || cp == 0x2026)
			return false;
		if (!cp_is_closer(cp))
			break;
		e = b;
	}
	uint32_t first = utf8_get(s, n, &used);
	if (!cp_is_upper(first) && !cp_is_digit(first))
		return false;
	size_t words = 0;
	bool title_case = true;
	for (size_t i = 0; i < n;) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		size_t w = i;
		while (i < n && s[i] != ' ')
			i++;
		words++;
		uint32_t c = utf8_get(s + w, i - w, &used);
		if (i - w >= 4 && !cp_is_upper(c) && !cp_is_digit(c))
			title_case = false;
	}
	return words <= TEXT_TITLE_WORDS_MAX && (alone || title_case);
}

/* A table row: cells without their pipes, joined by " | "; separator rows vanish. */
static void table_row(struct splitter *sp, const char *s, size_t n)
{
	struct buf row;
	buf_init(&row);
	bool separator = true;
	size_t i = 1;
	while (i < n) {
		size_t c = i;
		while (i < n && s[i] != '|')
			i++;
		size_t a = c, z = i;
		while (a < z && s[a] == ' ')
			a++;
		while (z > a && s[z - 1] == ' ')
			z--;
		for (size_t k = a; k < z; k++)
			if (s[k] != '-' && s[k] != ':')
				separator = false;
		if (z > a) {
			if (row.len)
				buf_puts(&row, " | ");
			buf_append(&row, s + a, z - a);
		}
		i++;
	}
	if (!separator && row.len)
		emit(sp, row.data, row.len, TEXT_TABLE, 0);
	buf_clear(&row);
}

size_t text_split(struct pool *pool, const char *text, size_t len, size_t max,
                  struct text_sentence **out)
{
	size_t clen;
	const char *c = text_clean(pool, text, len, &clen);
	/* A sentence needs at least two bytes of text and its separator. */
	size_t cap = clen / 2 + 1;
	struct splitter sp = {.pool = pool, .max = cap < max ? cap : max};
	sp.items = pool_alloc(pool, (sp.max ? sp.max : 1) * sizeof(*sp.items));
	buf_init(&sp.para);
	size_t at = 0;
	while (at < clen && sp.count < sp.max) {
		const char *nl = memchr(c + at, '\n', clen - at);
		size_t end = nl ? (size_t)(nl - c) : clen;
		const char *s = c + at;
		size_t n = end - at;
		at = nl ? end + 1 : clen;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		size_t h, m;
		int level;
		if (n == 0) {
			flush(&sp);
		} else if ((level = heading_level(s, n, &h)) > 0) {
			flush(&sp);
			size_t z = n; /* closing #s of "## Title ##" go */
			while (z > h && (s[z - 1] == '#' || s[z - 1] == ' '))
				z--;
			emit(&sp, s + h, z - h, TEXT_HEADING, level);
		} else if (is_rule(s, n)) {
			flush(&sp);
		} else if (s[0] == '|') {
			flush(&sp);
			table_row(&sp, s, n);
		} else if ((m = list_marker(s, n)) > 0) {
			flush(&sp);
			sp.para_kind = TEXT_ITEM;
			gather(&sp, s + m, n - m);
		} else if (sp.para.len == 0 && title_like(s, n, next_line_blank(c, clen, at))) {
			emit(&sp, s, n, TEXT_HEADING, 0);
		} else {
			gather(&sp, s, n);
		}
	}
	flush(&sp);
	buf_clear(&sp.para);
	*out = sp.items;
	return sp.count;
}

size_t text_sentences(struct pool *pool, const char *text, size_t len, size_t max,
                      struct text_sentence **out)
{
	/* A sentence ends at a mark, or is cut past TEXT_SENTENCE_MAX. */
	size_t cap = len / (TEXT_SENTENCE_MAX / 2) + 2;
	for (size_t i = 0; i < len; i++)
		cap += text[i] == '.' || text[i] == '!' || text[i] == '?' ||
		       (text[i] == '\xe2' && i + 2 < len && text[i + 1] == '\x80' &&
		        text[i + 2] == '\xa6');
	struct splitter sp = {.pool = pool, .max = cap < max ? cap : max};
	sp.items = pool_alloc(pool, (sp.max ? sp.max : 1) * sizeof(*sp.items));
	buf_init(&sp.para);
	for (size_t at = 0; at < len;) { /* line by line, as a paragraph's lines */
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *s = text + at;
		size_t n = end - at;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		if (n)
			gather(&sp, s, n);
		at = end + 1;
	}
	flush(&sp);
	buf_clear(&sp.para);
	*out = sp.items;
	return sp.count;
}

/* ---- stemming ---- */

struct text_stemmer {
	struct sb_stemmer *sb;
};

enum err text_stemmer_new(struct text_stemmer **out)
{
	struct sb_stemmer *sb = sb_stemmer_new("english", NULL);
	if (!sb) {
		log_error("text: libstemmer has no English stemmer");
		return ERR_INTERNAL;
	}
	struct text_stemmer *st = xcalloc(1, sizeof(*st));
	st->sb = sb;
	*out = st;
	return ERR_OK;
}

void text_stemmer_free(struct text_stemmer *st)
{
	if (!st)
		return;
	sb_stemmer_delete(st->sb);
	free(st);
}

size_t text_stem(struct text_stemmer *st, const char *lower, size_t len, char *dst, size_t cap)
{
	if (cap == 0)
		return 0;
	const sb_symbol *r = sb_stemmer_stem(st->sb, (const sb_symbol *)lower, (int)len);
	const char *src = r ? (const char *)r : lower; /* NULL only when out of memory */
	size_t n = r ? (size_t)sb_stemmer_length(st->sb) : len;
	if (n >= cap) {
		n = cap - 1;
		while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}
