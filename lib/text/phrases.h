/* phrases: key phrases of a document, with the definitions it gives.
 *
 * The method is RAKE (Rapid Automatic Keyword Extraction, Rose et al.
 * 2010) over the document model, with stems:
 *   - candidates are runs of one to PHRASES_WORDS_MAX words between stop
 *     words, generic words ("example", "use"), numbers, punctuation and
 *     code (code spans, RST code roles and code-like tokens break a run;
 *     code blocks are never read);
 *   - every contiguous part of a run counts as an occurrence of that
 *     shorter candidate too ("light energy" inside "photosynthesis converts
 *     light energy"), the repair of RAKE's blind spot for phrases that
 *     mostly sit in longer runs;
 *   - each word scores degree/frequency (how much it co-occurs inside
 *     candidates against how often it occurs), a candidate the sum of its
 *     words' scores, weighted by log2(1 + occurrences), by appearing in a
 *     heading and by having a definition, and a phrase by its cohesion
 *     (occurrences of the phrase against those of its rarest word, so that
 *     "enzyme controls" loses to "enzyme"); candidates merge by their stems
 *     ("method objects" is "method object");
 *     single words weigh less (SINGLE_WEIGHT) and need PHRASES_WORD_COUNT_MIN
 *     occurrences, so that multiword terms come first where the text has them;
 *   - nested candidates are resolved: a longer phrase replaces a shorter
 *     one it contains ("method object" over "object") unless the shorter
 *     one stands alone far more often.
 * Definitions come from "X is a/an/the ...", "X refers to ...", "X is
 * defined as ...", "X means ...", "X, which ...", "X, also called Y",
 * "... called X" / "known as X", definition lists and "Term: definition"
 * glossary items; acronyms from "Application Programming Interface (API)".
 * Counting keeps within a fixed budget of distinct words and phrases, so
 * memory is bounded whatever the text. Deterministic. */
#ifndef LECTERN_PHRASES_H
#define LECTERN_PHRASES_H

#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"
#include "text/doc.h"

enum {
	PHRASES_WORDS_MAX = 4,           /* words of a candidate */
	PHRASES_TRACKED_MAX = 64 * 1024, /* distinct candidates counted */
	PHRASES_DEFINITION_MAX = 300,    /* bytes of a definition, cut at a space */
	PHRASES_ACRONYM_MAX = 10         /* letters of an acronym */
};

struct phrase {
	const char *text; /* its most common written form ("method object") */
	const char *key;  /* its stems joined by spaces ("method object") */
	int words;
	long count; /* occurrences as a candidate */
	double score;
	const char *definition; /* what the text says it is, or NULL */
	const char *alias;      /* another name: "API" when text is its expansion, the Y of
	                         * "X, also called Y, ..."; or NULL */
	size_t block;           /* where it first occurs (or is defined) */
	long page;
	long section; /* the heading above that block, -1 */
};

/* Up to max key phrases of the document (sentences as doc_sentences gives
 * them), best first, in *out (owned by pool); *count gets how many.
 * ERR_INTERNAL (logged) when the stemmer cannot be created. */
enum err phrases_extract(struct pool *pool, const struct doc *d, const struct doc_sentence *s,
                         size_t ns, size_t max, struct phrase **out, size_t *count) MUST_CHECK;

/* Whether a lower-cased word is too generic to be a key phrase's word
 * ("example", "section", "use") though it is not a stop word. */
bool phrases_is_generic(const char *lower);

#endif
