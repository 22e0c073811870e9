/* markup: inline markup removed from a line of prose.
 *
 * What Markdown, reStructuredText and HTML put around words is dropped and
 * the words kept: emphasis (*x*, **x**, _x_), code spans (`x`, ``x``),
 * links and images ([text](url), ![alt](url), [text][ref], `text <url>`_,
 * word_), RST roles (:class:`C`, :meth:`~a.b` gives "b", :pep:`8`),
 * substitutions (|name|), HTML tags, footnote and citation markers ([1]_,
 * [#]_, [^1], [12]) and backslash escapes. Blanks are collapsed and the
 * result trimmed. The input is valid UTF-8 (text_clean's output). */
#ifndef LECTERN_MARKUP_H
#define LECTERN_MARKUP_H

#include <stddef.h>

#include "core/mem.h"

enum {
	MARKUP_CODE_BREAK = 1 /* code spans and code roles become " ; " (a phrase break) */
};

/* The text of s (n bytes) without its inline markup, owned by pool;
 * *out_len (may be NULL) gets its length. flags: 0 or MARKUP_CODE_BREAK. */
char *markup_strip(struct pool *pool, const char *s, size_t n, int flags, size_t *out_len);

#endif
