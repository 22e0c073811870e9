/* lang: a text's language from its function words (see lang.h). */
#include "text/lang.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

enum {
	LANG_WORD_MAX = 16, /* a function word is shorter */
	LANG_HITS_MIN = 8,  /* fewer hits: too little text to tell */
	LANG_SHARE_MIN = 12 /* percent of the words that must be the language's */
};

struct lang {
	const char *config;
	const char *const *words; /* NULL-terminated */
};

static const char *const en[] = {"the",  "and", "of",   "to",    "is",    "in",  "that", "it",
                                 "for",  "are", "with", "this",  "as",    "was", "be",   "by",
                                 "from", "not", "or",   "which", "these", NULL};
static const char *const fr[] = {"le",  "la",   "les",  "des",  "et",  "est",   "une",
                                 "un",  "du",   "dans", "que",  "qui", "pour",  "sur",
                                 "pas", "avec", "au",   "sont", "par", "cette", NULL};
static const char *const de[] = {"der", "die", "und",  "das",    "ist",  "nicht", "den",
                                 "mit", "von", "sich", "des",    "auf",  "ein",   "eine",
                                 "dem", "zu",  "im",   "werden", "auch", "wird",  NULL};
static const char *const es[] = {"el",  "la",   "los",  "las", "y",    "es",   "en",
                                 "que", "del",  "por",  "con", "una",  "para", "se",
                                 "su",  "como", "pero", "sus", "este", "son",  NULL};
static const char *const it[] = {"il",  "della", "che",  "di",    "e",      "è",     "la",
                                 "per", "sono",  "con",  "gli",   "una",    "del",   "dei",
                                 "nel", "non",   "alla", "delle", "questo", "anche", NULL};
static const char *const pt[] = {"o",  "os",  "da",  "do",   "que", "e",    "em",
                                 "um", "uma", "não", "para", "com", "dos",  "das",
                                 "se", "no",  "na",  "são",  "ao",  "pelo", NULL};
static const char *const nl[] = {"de",    "het", "een",  "en",   "van",  "is",   "dat",
                                 "niet",  "op",  "zijn", "voor", "met",  "ook",  "worden",
                                 "wordt", "aan", "bij",  "door", "deze", "naar", NULL};

static const struct lang langs[] = {
    {"english", en}, {"french", fr},     {"german", de}, {"spanish", es},
    {"italian", it}, {"portuguese", pt}, {"dutch", nl},
};

static int lang_of(const char *w, const struct lang *l)
{
	for (size_t i = 0; l->words[i]; i++)
		if (strcmp(w, l->words[i]) == 0)
			return 1;
	return 0;
}

const char *lang_ts_config(const char *text, size_t len)
{
	enum { NLANG = sizeof(langs) / sizeof(langs[0]) };
	long hits[NLANG] = {0}, words = 0;
	if (len > LANG_SAMPLE_MAX)
		len = LANG_SAMPLE_MAX;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		if (!(isalpha(c) || c >= 0x80)) {
			i++;
			continue;
		}
		char w[LANG_WORD_MAX];
		size_t n = 0;
		bool longer = false;
		while (i < len &&
		       (isalpha((unsigned char)text[i]) || (unsigned char)text[i] >= 0x80)) {
			if (n + 1 < sizeof(w))
				w[n++] = (char)tolower((unsigned char)text[i]);
			else
				longer = true;
			i++;
		}
		w[n] = '\0';
		words++;
		if (longer)
			continue;
		for (size_t k = 0; k < NLANG; k++)
			hits[k] += lang_of(w, &langs[k]);
	}
	size_t best = 0;
	for (size_t k = 1; k < NLANG; k++)
		if (hits[k] > hits[best])
			best = k;
	if (hits[best] < LANG_HITS_MIN || hits[best] * 100 < words * LANG_SHARE_MIN)
		return "simple";
	return langs[best].config;
}
