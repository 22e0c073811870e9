/* course: the learner's documents as something the recogniser can use, a
 * trigram language model of their sentences (ARPA) and the pronunciation of
 * their words (flite's CMU lexicon and letter-to-sound rules, in the phones
 * of pocketsphinx's US English model).
 *
 * lectern-transcribe interpolates the model with its general one and adds
 * the words its dictionary lacks, so that course terms ("glycolysis",
 * "Golgi") and the course's phrasing are heard. The text is the service's
 * own replica of the documents (events/replica.h); bench/stt builds the
 * same from its document. */
#ifndef LECTERN_STT_COURSE_H
#define LECTERN_STT_COURSE_H

#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	COURSE_ORDER = 3,         /* trigrams */
	COURSE_WORD_MAX = 40,     /* longer tokens are not words */
	COURSE_VOCABULARY = 60000 /* distinct words kept (then sentences are cut) */
};

struct course_stats {
	long sentences, words, vocabulary, bigrams, trigrams, pronounced;
};

/* Writes prefix".lm" and prefix".dic" from text[0..len) (UTF-8 prose; words
 * are runs of ASCII letters and apostrophes, a sentence ends at . ! ? ; :
 * or a blank line). ERR_NOT_FOUND when the text has no sentence,
 * ERR_INTERNAL when a file cannot be written (logged). */
enum err course_write(const char *text, size_t len, const char *prefix,
                      struct course_stats *stats) MUST_CHECK;

/* Appends to out the terms of text[0..len) (words the dictionary of
 * pocketsphinx's US English model lacks, the most frequent first) as an Amazon Transcribe
 * vocabulary table (Phrase, SoundsLike, IPA, DisplayAs; tab-separated, a header line) of at most
 * max bytes: the number of terms, 0 (nothing appended) when none. */
long course_terms(const char *text, size_t len, size_t max, struct buf *out);

/* Removes the two files of prefix (missing ones are fine). */
void course_remove(const char *prefix);

#endif
