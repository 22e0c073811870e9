/* lectern-transcribe: recognises the speech of one audio file in a process
 * of its own, confined as lectern-extract is (extract/extract_sandbox.h).
 *
 * Not a command for people: the stt worker runs it through extract_run with
 * the audio on descriptor 4, the limits on 5 and the answer pipe on 3;
 * argv[1] is the language, then optionally the course model's weight and
 * the prefix of its files ("en-US 0.5 /dir/lectern-course-x", see
 * transcribe_course.c); argv[1] "probe" only decodes and measures the
 * audio ({"duration": seconds}). The audio is decoded (transcribe_decode.c), cut
 * at silences into segments of at most SEGMENT_MAX_S seconds, and each
 * segment is one pocketsphinx utterance; word times are the segment's start
 * plus the recogniser's frames (100 a second). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <pocketsphinx.h>

#include "transcribe.h"

enum {
	FRAME = TRANSCRIBE_RATE / 100, /* samples in 10 ms, one recogniser frame */
	SEGMENT_MIN_S = 8,             /* a segment is cut at the first pause after this */
	SEGMENT_MAX_S = 30,            /* and at its quietest frame before this */
	PAUSE_FRAMES = 25              /* 250 ms of quiet make a pause */
};

/* The languages the embedded engine has (the service checks them first). */
static const char language_en_us[] = "en-US";

/* Mean square of the frame at s. */
static double frame_energy(const int16_t *s)
{
	double sum = 0;
	for (int i = 0; i < FRAME; i++)
		sum += (double)s[i] * s[i];
	return sum / FRAME;
}

/* The frame (index) where the segment starting at frame from ends: the
 * middle of the first pause after SEGMENT_MIN_S, else the quietest frame of
 * the last quarter before SEGMENT_MAX_S, else the end. */
static size_t segment_end(const double *energy, size_t nframes, size_t from, double quiet)
{
	size_t min = from + SEGMENT_MIN_S * 100, max = from + SEGMENT_MAX_S * 100;
	if (max >= nframes)
		return nframes;
	size_t run = 0;
	for (size_t f = min; f < max; f++) {
		run = energy[f] < quiet ? run + 1 : 0;
		if (run == PAUSE_FRAMES)
			return f - PAUSE_FRAMES / 2;
	}
	size_t best = max - (max - min) / 4;
	for (size_t f = best; f < max; f++)
		if (energy[f] < energy[best])
			best = f;
	return best;
}

/* A word of the dictionary as a word of the transcript: "read(2)" is
 * "read"; fillers and silences are none. */
static bool word_text(const char *w, char *out, size_t cap)
{
	if (w == NULL || w[0] == '<' || w[0] == '[' || w[0] == '+' || strcmp(w, "(NULL)") == 0)
		return false;
	size_t n = strcspn(w, "(");
	if (n == 0 || n >= cap)
		return false;
	memcpy(out, w, n);
	out[n] = '\0';
	return true;
}

struct result {
	struct json_object *words;
	struct buf text;
	double confidence_sum;
	long nwords;
};

/* Recognises samples [from, to) (in frames) as one utterance. */
static enum err recognise(ps_decoder_t *ps, const struct transcribe_audio *a, size_t from,
                          size_t to, struct result *r, struct extract_out *o)
{
	if (ps_start_utt(ps) < 0)
		return extract_fail(o, ERR_INTERNAL, "the recogniser could not start");
	size_t n = (to - from) * FRAME;
	if (from * FRAME + n > a->n)
		n = a->n - from * FRAME;
	if (ps_process_raw(ps, a->samples + from * FRAME, n, FALSE, TRUE) < 0) {
		ps_end_utt(ps);
		return extract_fail(o, ERR_INTERNAL, "the recogniser failed on the audio");
	}
	ps_end_utt(ps);
	logmath_t *lmath = ps_get_logmath(ps);
	double offset = (double)from / 100;
	for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
		char w[256];
		if (!word_text(ps_seg_word(seg), w, sizeof(w)))
			continue;
		int sf = 0, ef = 0;
		int32 ascr = 0, lscr = 0, lback = 0;
		ps_seg_frames(seg, &sf, &ef);
		double conf = logmath_exp(lmath, ps_seg_prob(seg, &ascr, &lscr, &lback));
		if (!(conf >= 0) || conf > 1)
			conf = conf > 1 ? 1 : 0;
		struct json_object *word = json_object_new_object();
		json_object_object_add(word, "word", json_object_new_string(w));
		json_object_object_add(word, "start", json_object_new_double(offset + sf / 100.0));
		json_object_object_add(word, "end",
		                       json_object_new_double(offset + (ef + 1) / 100.0));
		json_object_object_add(word, "confidence",
		                       json_object_new_double(round(conf * 1000) / 1000));
		json_object_array_add(r->words, word);
		if (r->text.len > 0)
			buf_append(&r->text, " ", 1);
		buf_append(&r->text, w, strlen(w));
		r->confidence_sum += conf;
		r->nwords++;
	}
	return ERR_OK;
}

/* Reads "LANGUAGE[ WEIGHT PREFIX]" into language (of cap), weight and
 * prefix (NULL when absent). */
static bool parse_arg(const char *arg, char *language, size_t cap, double *weight,
                      const char **prefix)
{
	size_t n = strcspn(arg, " ");
	if (n == 0 || n >= cap)
		return false;
	memcpy(language, arg, n);
	language[n] = '\0';
	*prefix = NULL;
	if (arg[n] == '\0')
		return true;
	char *end = NULL;
	*weight = strtod(arg + n + 1, &end);
	if (end == arg + n + 1 || *end != ' ' || !(*weight >= 0 && *weight < 1) || end[1] == '\0')
		return false;
	*prefix = end + 1;
	return true;
}

/* "probe": the audio decoded and measured, not recognised. Amazon
 * Transcribe reads the file itself; this is how the worker learns first
 * that the file is audio within the duration limit, and its duration. */
static enum err probe(int fd, const struct extract_limits *l, struct extract_out *o)
{
	struct transcribe_audio a = {0};
	enum err e = transcribe_decode(fd, l, &a, o);
	if (e == ERR_OK) {
		char answer[64];
		snprintf(answer, sizeof(answer), "{\"duration\":%.3f}",
		         (double)a.n / TRANSCRIBE_RATE);
		if (!extract_out_puts(o, answer))
			e = extract_fail_text_over(o);
		o->engine = "probe";
	}
	free(a.samples);
	return e;
}

static enum err transcribe(const char *arg, int fd, const struct extract_limits *l,
                           struct extract_out *o)
{
	if (strcmp(arg, "probe") == 0)
		return probe(fd, l, o);
	char language[64];
	double weight = 0;
	const char *course = NULL;
	if (!parse_arg(arg, language, sizeof(language), &weight, &course))
		return extract_fail(o, ERR_INVALID, "the recogniser's arguments are not valid");
	if (strcmp(language, language_en_us) != 0)
		return extract_fail(o, ERR_INVALID, "the language %s is not available", language);
	struct transcribe_audio a = {0};
	struct result r = {.words = json_object_new_array()};
	buf_init(&r.text);
	double *energy = NULL;
	enum err e = transcribe_decode(fd, l, &a, o);
	ps_decoder_t *ps = NULL;
	if (e == ERR_OK && (ps = transcribe_recogniser()) == NULL)
		e = extract_fail(o, ERR_INTERNAL, "the speech recogniser could not be loaded");
	/* The course: if its files cannot be used, the general model alone. */
	long course_words = -1;
	if (e == ERR_OK && course != NULL && weight > 0)
		course_words = transcribe_course(ps, course, weight);
	size_t nframes = a.n / FRAME, segments = 0;
	if (e == ERR_OK && (energy = malloc((nframes + 1) * sizeof(*energy))) == NULL)
		e = extract_fail(o, ERR_TOO_LARGE, "the audio needs more memory than allowed");
	double peak = 0;
	for (size_t f = 0; e == ERR_OK && f < nframes; f++) {
		energy[f] = frame_energy(a.samples + f * FRAME);
		if (energy[f] > peak)
			peak = energy[f];
	}
	/* Quiet: 30 dB under the loudest frame. */
	double quiet = peak / 1000;
	for (size_t from = 0; e == ERR_OK && from < nframes; segments++) {
		size_t to = segment_end(energy, nframes, from, quiet);
		e = recognise(ps, &a, from, to, &r, o);
		from = to;
		/* How far into the audio, for the job's progress. */
		extract_out_progress((long)(from * 100 / nframes));
	}
	if (e == ERR_OK) {
		struct json_object *out = json_object_new_object();
		json_object_object_add(out, "duration",
		                       json_object_new_double((double)a.n / TRANSCRIBE_RATE));
		json_object_object_add(
		    out, "text",
		    json_object_new_string_len(r.text.data ? r.text.data : "", (int)r.text.len));
		double conf = r.nwords ? r.confidence_sum / (double)r.nwords : 0;
		json_object_object_add(out, "confidence",
		                       json_object_new_double(round(conf * 1000) / 1000));
		json_object_object_add(out, "segments", json_object_new_int64((int64_t)segments));
		json_object_object_add(out, "words", json_object_get(r.words));
		json_object_object_add(out, "course_words",
		                       course_words >= 0 ? json_object_new_int64(course_words)
		                                         : NULL);
		const char *s = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
		if (!extract_out_puts(o, s))
			e = extract_fail_text_over(o);
		json_object_put(out);
		o->engine = course_words >= 0 ? "pocketsphinx+course" : "pocketsphinx";
	}
	if (ps != NULL)
		ps_free(ps);
	free(energy);
	free(a.samples);
	buf_clear(&r.text);
	json_object_put(r.words);
	return e;
}

int main(int argc, char **argv)
{
	return extract_child_serve(argc, argv, transcribe);
}
