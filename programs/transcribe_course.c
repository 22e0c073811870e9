/* transcribe_course: tunes the recogniser to the learner's course with the
 * two files the stt worker wrote from their documents (fcgi/stt/course.h):
 * the words of PREFIX.dic the dictionary lacks are added with their
 * pronunciation, and the trigram model PREFIX.lm is interpolated with the
 * general model, the search then uses the pair. Files are only read here
 * (the sandbox allows no writing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pocketsphinx.h>
#include <sphinxbase/ngram_model.h>

#include "transcribe.h"

enum { LINE_MAX_BYTES = 1024 };

/* Adds the words of path the dictionary lacks; how many. */
static long add_words(ps_decoder_t *ps, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char line[LINE_MAX_BYTES];
	long added = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *phones = strchr(line, ' ');
		if (phones == NULL || phones == line)
			continue;
		*phones++ = '\0';
		char *known = ps_lookup_word(ps, line);
		if (known == NULL && ps_add_word(ps, line, phones, FALSE) >= 0)
			added++;
		free(known);
	}
	fclose(f);
	return added;
}

long transcribe_course(ps_decoder_t *ps, const char *prefix, double weight)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s.dic", prefix);
	long added = add_words(ps, path);
	if (added < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.lm", prefix);
	cmd_ln_t *config = ps_get_config(ps);
	ngram_model_t *course = ngram_model_read(config, path, NGRAM_ARPA, ps_get_logmath(ps));
	/* The decoder's model is a set of one, "default", whose words are all
	 * the dictionary's: nested in ours it would make every dictionary word
	 * known, 62 000 words the general model lacks in the search tree (60%
	 * more channels, half again the CPU, nothing recognised better). The
	 * model inside is the one to interpolate. */
	ngram_model_t *decoders = ps_get_lm(ps, TRANSCRIBE_DEFAULT_SEARCH);
	ngram_model_t *general = decoders ? ngram_model_set_lookup(decoders, "default") : NULL;
	if (general == NULL)
		general = decoders;
	if (course == NULL || general == NULL) {
		if (course)
			ngram_model_free(course);
		return -1;
	}
	/* The set takes references of its own (ngram_model_set_init retains
	 * each model): the one ngram_model_read gave us goes (keeping it, and
	 * retaining the general model, leaked both, 32 MB, at ps_free). */
	ngram_model_t *models[] = {general, course};
	char *names[] = {"general", "course"};
	const float32 weights[] = {(float32)(1 - weight), (float32)weight};
	ngram_model_t *set = ngram_model_set_init(config, models, names, weights, 2);
	ngram_model_free(course);
	if (set == NULL)
		return -1;
	int ok = ps_set_lm(ps, "course", set) == 0 && ps_set_search(ps, "course") == 0;
	ngram_model_free(set); /* the search keeps its own reference */
	return ok ? added : -1;
}
