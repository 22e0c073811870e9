/* programs/transcribe_course.c: the recogniser tuned to a course knows the
 * general model's words and the course's, and no others. The decoder's own
 * model is a set over the whole dictionary; interpolated as it was, every
 * dictionary word counted as known and 62 000 words the general model
 * lacks entered the search tree, half again the CPU (bench/stt). Also: the
 * course's words are added and known (transcribe_course answers -1 unless
 * the course search is set), and under the sanitizers nothing leaks (the
 * set retains its models: an extra reference leaked 32 MB). */
#include <pocketsphinx.h>
#include <sphinxbase/ngram_model.h>
#include <stdio.h>
#include <string.h>

#include "../../fcgi/stt/course.h"
#include "../../programs/transcribe.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

/* How many of the set's words (all the dictionary's, once a search mapped
 * them) count as known to one of its models. */
static long known_words(ngram_model_t *set)
{
	long known = 0;
	for (int32 w = 0; ngram_word(set, w) != NULL; w++)
		known += ngram_model_set_known_wid(set, w) != 0;
	return known;
}

int main(void)
{
	log_init("test", LOG_LEVEL_ERROR);
	char dir[TESTENV_PATH_MAX], prefix[TESTENV_PATH_MAX + 16];
	if (!ok(testenv_tempdir(dir, sizeof(dir)), "a temporary directory"))
		return tap_done();
	snprintf(prefix, sizeof(prefix), "%s/course", dir);
	const char *text = "Glycolysis splits glucose in the cytoplasm. The mitochondria make "
	                   "adenosine triphosphate. Eukaryotic cells have a nucleus; prokaryotic "
	                   "cells do not. Glycolysis comes before the citric acid cycle.";
	struct course_stats st;
	if (!is_long(course_write(text, strlen(text), prefix, &st), ERR_OK, "a course model"))
		return tap_done();
	ps_decoder_t *ps = transcribe_recogniser();
	if (!ok(ps != NULL, "the recogniser loads"))
		return tap_done();
	ngram_model_t *decoders = ps_get_lm(ps, TRANSCRIBE_DEFAULT_SEARCH);
	if (!ok(decoders != NULL, "the decoder's search is " TRANSCRIBE_DEFAULT_SEARCH))
		return tap_done();
	long general = known_words(decoders);
	ok(general > 50000, "the general search knows the general model's words (%ld)", general);

	long added = transcribe_course(ps, prefix, 0.7);
	ok(added >= 1, "the course's unknown words are added to the dictionary (%ld)", added);
	ngram_model_t *course = ps_get_lm(ps, "course");
	if (ok(course != NULL, "with its model")) {
		long known = known_words(course);
		ok(known > general && known <= general + st.vocabulary,
		   "it knows the general words and at most the course's %ld more (%ld)",
		   st.vocabulary, known);
		int32 w = ngram_wid(course, "glycolysis");
		ok(w >= 0 && ngram_model_set_known_wid(course, w), "\"glycolysis\" is known");
	}
	ps_free(ps);
	course_remove(prefix);
	testenv_remove_tree(dir);
	return tap_done();
}
