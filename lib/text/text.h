/* text: sentences, words, stop words and stems of English text.
 *
 * The input is what the extractors produce: UTF-8 prose with Markdown
 * headings ("# Title"), list items and table rows. Invalid UTF-8 never
 * stops the work: each bad byte becomes U+FFFD. Everything returned is
 * owned by the pool passed in. Stemming is Snowball English (libstemmer). */
#ifndef LECTERN_TEXT_H
#define LECTERN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	TEXT_WORD_MAX = 64,         /* bytes of one lower-cased word; longer words are cut */
	TEXT_SENTENCE_MAX = 2048,   /* bytes of one sentence; a longer run is cut at a space */
	TEXT_HEADING_LEVEL_MAX = 6, /* deepest Markdown heading ("######") */
	TEXT_TITLE_WORDS_MAX = 12,  /* a plain line this short may be a title */
	TEXT_TITLE_BYTES_MAX = 100
};

enum text_kind {
	TEXT_SENTENCE, /* a sentence of a paragraph */
	TEXT_HEADING,  /* a heading: Markdown (level 1-6) or a title-like line (level 0) */
	TEXT_ITEM,     /* a sentence of a list item (marker removed) */
	TEXT_TABLE     /* a table row ("| a | b |"), cells joined by " | " */
};

struct text_sentence {
	const char *text; /* trimmed, spaces collapsed, valid UTF-8 */
	size_t len;       /* strlen(text) */
	enum text_kind kind;
	int level; /* TEXT_HEADING: 1-6 from '#', 0 for a title-like line */
};

struct text_word {
	const char *lower; /* lower-cased word (NUL-terminated, at most TEXT_WORD_MAX bytes) */
	const char *start; /* the word as written, inside the text given */
	size_t len;        /* its length in bytes there */
};

/* A copy of len bytes of text that is valid UTF-8 without NUL: invalid bytes
 * become U+FFFD, CR LF and CR become LF, other control characters a space,
 * a BOM and soft hyphens vanish. *out_len (may be NULL) gets its length. */
char *text_clean(struct pool *pool, const char *text, size_t len, size_t *out_len);

/* Splits text into at most max sentences, headings, list items and table
 * rows, in document order; returns how many were stored in *out (an array
 * owned by pool). Knows abbreviations (Dr., e.g., U.S., etc.), decimals,
 * initials and ellipses; a heading or a short title-like line is never
 * glued to the sentence after it; wrapped lines of a paragraph are joined. */
size_t text_split(struct pool *pool, const char *text, size_t len, size_t max,
                  struct text_sentence **out);

/* Splits one paragraph (valid UTF-8 without NUL, as text_clean gives;
 * line breaks join lines) into at most max sentences of kind
 * TEXT_SENTENCE, with text_split's rules but no headings, items or rows;
 * returns how many were stored in *out (owned by pool). */
size_t text_sentences(struct pool *pool, const char *text, size_t len, size_t max,
                      struct text_sentence **out);

/* Splits s into at most max words (letters and digits, with inner
 * apostrophes and decimal points); returns how many were stored in *out. */
size_t text_words(struct pool *pool, const char *s, size_t len, size_t max, struct text_word **out);

/* Whether a lower-cased word is an English stop word ("the", "which", "isn't"). */
bool text_is_stop_word(const char *lower);

/* Whether the first character of s (UTF-8) is an upper-case letter. */
bool text_starts_upper(const char *s, size_t len);
/* Whether the first character of s (UTF-8) is a lower-case letter (of a
 * script with case; Chinese or Arabic letters are neither). */
bool text_starts_lower(const char *s, size_t len);

struct text_stemmer;

/* A Snowball English stemmer; ERR_INTERNAL (logged) if libstemmer has none.
 * Not thread-safe: one per thread. Free it with text_stemmer_free. */
enum err text_stemmer_new(struct text_stemmer **out) MUST_CHECK;
void text_stemmer_free(struct text_stemmer *st);
/* Stems the lower-case word lower (len bytes) into dst (cap bytes, NUL
 * added, cut if needed); returns the length written. */
size_t text_stem(struct text_stemmer *st, const char *lower, size_t len, char *dst, size_t cap);

#endif
