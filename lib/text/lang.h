/* lang: the language of a text, as a Postgres text search configuration.
 *
 * Counts the most common function words of each language Postgres ships a
 * Snowball configuration for (English, French, German, Spanish, Italian,
 * Portuguese, Dutch) in the first LANG_SAMPLE_MAX bytes; the language whose
 * words make up a clear share of the text wins, and "simple" (no stemming,
 * no stop words) is the answer when none does. Deterministic. */
#ifndef LECTERN_LANG_H
#define LECTERN_LANG_H

#include <stddef.h>

enum {
	LANG_SAMPLE_MAX = 64 * 1024 /* bytes of text looked at */
};

/* "english", "french", "german", "spanish", "italian", "portuguese",
 * "dutch" or "simple": a static string. */
const char *lang_ts_config(const char *text, size_t len);

#endif
