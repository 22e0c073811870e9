/* doc: the document model every text engine shares (notes, quiz, chat).
 *
 * doc_parse reads the text that extraction stores and that the
 * document.processed event carries, so any service rebuilds the same model
 * from that text alone. It reads:
 *   - pages: a form feed ('\f') starts the next page (PDF extraction);
 *   - headings: Markdown ATX ("## Title") and Setext (underlined with = or
 *     -), reStructuredText titles (underlined, or over- and underlined, with
 *     any adornment character; levels by the order styles first appear),
 *     numbered plain-text headings ("2.3 Scope rules", level by depth) and,
 *     in a text without any of these, short title-like lines standing alone;
 *   - code: fenced (``` and ~~~), indented (Markdown), RST literal blocks
 *     after "::" and code directives, interactive ">>>" sessions; kept as
 *     written, never a heading, sentence or phrase;
 *   - list items, table rows (Markdown pipes, RST grid and simple tables),
 *     quotes ("> ", RST block quotes and admonitions), RST definition lists
 *     and "Term: definition" glossary items (the block's term);
 *   - RST comments, targets, substitutions and non-content directives
 *     (toctree, index, image, ...) are left out.
 * Text of every block but code has its inline markup removed (markup.h).
 * Deterministic; everything returned is owned by the pool given. */
#ifndef LECTERN_DOC_H
#define LECTERN_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"

enum {
	DOC_INPUT_MAX = 8 * 1024 * 1024, /* bytes of text read; the rest is ignored */
	DOC_BLOCKS_MAX = 200000,         /* blocks kept; the rest is ignored */
	DOC_HEADING_LEVEL_MAX = 6,
	DOC_PATH_MAX = 400 /* bytes of a section path ("A > B > C"), cut at a title */
};

enum doc_kind {
	DOC_HEADING,   /* level 1-6 */
	DOC_PARAGRAPH, /* prose */
	DOC_ITEM,      /* a list item, a definition or a glossary entry (term set) */
	DOC_TABLE,     /* one table row, cells joined by " | " */
	DOC_CODE,      /* code as written (text = raw) */
	DOC_QUOTE      /* a quote, block quote or admonition's paragraph */
};

struct doc_block {
	enum doc_kind kind;
	int level;       /* DOC_HEADING: 1-6; 0 otherwise */
	const char *raw; /* the block's lines as written (markup kept) */
	size_t raw_len;
	const char *text; /* plain text on one line, markup removed; code: as raw */
	size_t len;
	const char *term; /* DOC_ITEM of a definition list or glossary: the term; else NULL */
	long page;        /* 1-based page of its first line */
	long section;     /* index of the heading it sits under (a heading: its parent); -1 */
};

struct doc {
	struct doc_block *blocks;
	size_t count;
	long pages; /* form feeds + 1 */
};

/* Parses len bytes of text (any bytes: invalid UTF-8 is repaired) into *out. */
void doc_parse(struct pool *pool, const char *text, size_t len, struct doc *out);

/* The titles of the headings above block i (and i itself when it is a
 * heading), outermost first, joined by " > "; "" outside any section. */
const char *doc_section_path(struct pool *pool, const struct doc *d, size_t i);

/* Whether a block's kind holds prose that sentences come from. */
bool doc_is_prose(const struct doc_block *b);

struct doc_sentence {
	const char *text; /* markup-free, starts a sentence, trimmed */
	size_t len;
	size_t block; /* index of its block */
	long page;
	long section;  /* as its block's */
	bool lead_in;  /* ends in ':' (introduces what follows) */
	bool question; /* ends in '?' */
};

/* The complete sentences of the prose blocks (paragraphs, items, quotes),
 * in order, at most max: never a fragment that starts in lower case or
 * after a cut, never mostly code or symbols.
 * Returns how many were stored in *out. */
size_t doc_sentences(struct pool *pool, const struct doc *d, size_t max, struct doc_sentence **out);

/* The document as clean, sectioned text for a model's prompt: headings as
 * Markdown heading lines, prose with its markup removed ("- " before list
 * items, "Term: " before definitions), table rows, no code; blocks
 * separated by blank lines, at most max bytes (the block that passes max
 * is cut at a space).
 * *len (may be NULL) gets its length; owned by pool. */
const char *doc_render(struct pool *pool, const struct doc *d, size_t max, size_t *len);

struct doc_passage {
	const char *text; /* one to three prose blocks, joined by blank lines */
	size_t len;
	size_t first, last; /* block indexes */
	long page;
	long section;
	const char *path; /* doc_section_path of its section */
};

/* Passages for retrieval: runs of one to max_blocks (1-3) consecutive prose
 * blocks and tables under one heading, cut before a heading or code and
 * when adding a block would pass max_bytes (a single longer block is one
 * passage). Returns how many were stored in *out. */
size_t doc_passages(struct pool *pool, const struct doc *d, size_t max_blocks, size_t max_bytes,
                    struct doc_passage **out);

#endif
