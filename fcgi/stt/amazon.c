/* amazon: Amazon Transcribe's batch calls (JSON 1.1, signing name
 * "transcribe") and its transcript format (amazon.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "amazon_impl.h"
#include "core/clock.h"
#include "core/log.h"

/* Transcribe's batch languages (its documentation's table). */
static const char *const languages[] = {
    "af-ZA", "ar-AE", "ar-SA", "da-DK", "de-CH", "de-DE", "en-AB", "en-AU", "en-GB", "en-IE",
    "en-IN", "en-NZ", "en-US", "en-WL", "en-ZA", "es-ES", "es-US", "fa-IR", "fr-CA", "fr-FR",
    "he-IL", "hi-IN", "id-ID", "it-IT", "ja-JP", "ko-KR", "ms-MY", "nl-NL", "pt-BR", "pt-PT",
    "ru-RU", "ta-IN", "te-IN", "th-TH", "tr-TR", "zh-CN", "zh-TW", NULL};

bool amazon_language_known(const char *language)
{
	for (const char *const *l = languages; *l; l++)
		if (strcmp(*l, language) == 0)
			return true;
	return false;
}

const char *amazon_languages(void)
{
	static char list[512];
	if (!list[0])
		for (const char *const *l = languages; *l; l++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			         l == languages ? "" : ", ", *l);
	return list;
}

struct json_object *amazon_member(struct json_object *o, const char *name, enum json_type type)
{
	struct json_object *v = NULL;
	if (o == NULL || !json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *amazon_str(struct json_object *o, const char *name)
{
	struct json_object *v = amazon_member(o, name, json_type_string);
	return v ? json_object_get_string(v) : NULL;
}

/* A number Transcribe writes as a string ("1.25"); -1 when there is none. */
static double num_member(struct json_object *o, const char *name)
{
	const char *s = amazon_str(o, name);
	char *end = NULL;
	double d = s ? strtod(s, &end) : -1;
	return s && end != s && *end == '\0' && isfinite(d) && d >= 0 ? d : -1;
}

/* Transcribe's MediaFormat of a container stt detected; NULL for none. */
static const char *media_format(const char *format)
{
	static const char *const taken[] = {"wav", "mp3", "ogg", "flac", "webm", "m4a", NULL};
	for (const char *const *t = taken; *t; t++)
		if (strcmp(*t, format) == 0)
			return *t;
	return NULL;
}

static const char *call_error(enum err e)
{
	switch (e) {
	case ERR_FORBIDDEN:
		return "Amazon Transcribe refused the credentials";
	case ERR_TIMEOUT:
		return "Amazon Transcribe did not answer in time";
	case ERR_INVALID:
		return "Amazon Transcribe could not take the audio";
	default:
		return "Amazon Transcribe is not available";
	}
}

enum err amazon_call(const struct amazon_settings *a, const char *op, struct json_object *req,
                     struct pool *pool, struct json_object **answer, struct extract_result *r)
{
	char target[64];
	snprintf(target, sizeof(target), "Transcribe.%s", op);
	struct aws_json_request q = {
	    .service = "transcribe",
	    .method = "POST",
	    .path = "/",
	    .target = target,
	    .body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
	};
	enum err e = aws_json_call(a->aws, &q, pool, answer);
	if (e == ERR_OK && answer && *answer == NULL)
		e = ERR_UNAVAILABLE;
	if (e != ERR_OK)
		r->error = call_error(e);
	return e;
}

/* StartTranscriptionJob; a job of that name already there (an earlier
 * attempt of the same task) is taken as started. */
static enum err start(const struct amazon_settings *a, const char *name, const char *key,
                      const char *out_key, const char *format, const char *language,
                      const char *vocabulary, struct pool *pool, struct extract_result *r)
{
	struct json_object *req = json_object_new_object(), *media = json_object_new_object(),
	                   *answer = NULL;
	json_object_object_add(req, "TranscriptionJobName", json_object_new_string(name));
	json_object_object_add(req, "LanguageCode", json_object_new_string(language));
	json_object_object_add(req, "MediaFormat", json_object_new_string(format));
	json_object_object_add(
	    media, "MediaFileUri",
	    json_object_new_string(pool_printf(pool, "s3://%s/%s", a->bucket, key)));
	json_object_object_add(req, "Media", media);
	json_object_object_add(req, "OutputBucketName", json_object_new_string(a->bucket));
	json_object_object_add(req, "OutputKey", json_object_new_string(out_key));
	struct json_object *settings = json_object_new_object();
	if (a->speakers >= 2) {
		json_object_object_add(settings, "ShowSpeakerLabels", json_object_new_boolean(1));
		json_object_object_add(settings, "MaxSpeakerLabels",
		                       json_object_new_int64(a->speakers));
	}
	if (vocabulary)
		json_object_object_add(settings, "VocabularyName",
		                       json_object_new_string(vocabulary));
	if (json_object_object_length(settings) > 0)
		json_object_object_add(req, "Settings", settings);
	else
		json_object_put(settings);
	enum err e = amazon_call(a, "StartTranscriptionJob", req, pool, &answer, r);
	json_object_put(req);
	if (e != ERR_INVALID && e != ERR_CONFLICT)
		return e;
	/* ConflictException (a 400 or a 409): is it the job of an earlier
	 * attempt? Then it is polled; else the refusal stands. */
	const char *why = r->error;
	struct json_object *probe = json_object_new_object();
	json_object_object_add(probe, "TranscriptionJobName", json_object_new_string(name));
	bool exists = amazon_call(a, "GetTranscriptionJob", probe, pool, &answer, r) == ERR_OK;
	json_object_put(probe);
	r->error = exists ? "" : why;
	if (exists)
		log_info("stt: Transcribe job %s exists already (an earlier attempt): polling it",
		         name);
	return exists ? ERR_OK : e;
}

/* Polls GetTranscriptionJob until the job ends: ERR_OK when COMPLETED. */
static enum err wait_job(const struct amazon_settings *a, const char *name, struct pool *pool,
                         struct extract_result *r)
{
	long long deadline = clock_ms() + a->timeout_ms;
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "TranscriptionJobName", json_object_new_string(name));
	enum err e;
	for (;;) {
		struct json_object *answer = NULL;
		e = amazon_call(a, "GetTranscriptionJob", req, pool, &answer, r);
		if (e != ERR_OK)
			break;
		struct json_object *job =
		    amazon_member(answer, "TranscriptionJob", json_type_object);
		const char *status = amazon_str(job, "TranscriptionJobStatus");
		if (status && strcmp(status, "COMPLETED") == 0)
			break;
		if (status && strcmp(status, "FAILED") == 0) {
			const char *why = amazon_str(job, "FailureReason");
			r->error =
			    pool_printf(pool, "Amazon Transcribe could not read the audio: %s",
			                why ? why : "no reason given");
			log_warn("stt: Transcribe job %s failed: %s", name, r->error);
			e = ERR_INVALID;
			break;
		}
		if (clock_ms() + a->poll_ms > deadline) {
			r->error =
			    pool_printf(pool, "Amazon Transcribe did not finish within %ld seconds",
			                (a->timeout_ms + 999) / 1000);
			log_warn("stt: Transcribe job %s: %s", name, r->error);
			e = ERR_TIMEOUT;
			break;
		}
		clock_sleep_ms(a->poll_ms);
	}
	json_object_put(req);
	return e;
}

static enum err to_buf(void *arg, const void *data, size_t len)
{
	struct buf *b = arg;
	if (b->len + len > AMAZON_TRANSCRIPT_MAX)
		return ERR_TOO_LARGE;
	buf_append(b, data, len);
	return ERR_OK;
}

/* One word of the answer from a "pronunciation" item. */
static struct json_object *word_of(struct json_object *item, double *conf, double *end)
{
	struct json_object *alts = amazon_member(item, "alternatives", json_type_array);
	struct json_object *alt =
	    alts && json_object_array_length(alts) > 0 ? json_object_array_get_idx(alts, 0) : NULL;
	const char *content = amazon_str(alt, "content");
	double start = num_member(item, "start_time");
	*end = num_member(item, "end_time");
	*conf = num_member(alt, "confidence");
	if (content == NULL || start < 0 || *end < start)
		return NULL;
	if (*conf < 0 || *conf > 1)
		*conf = 0;
	struct json_object *w = json_object_new_object();
	json_object_object_add(w, "word", json_object_new_string(content));
	json_object_object_add(w, "start", json_object_new_double(start));
	json_object_object_add(w, "end", json_object_new_double(*end));
	json_object_object_add(w, "confidence", json_object_new_double(round(*conf * 1000) / 1000));
	const char *speaker = amazon_str(item, "speaker_label");
	if (speaker)
		json_object_object_add(w, "speaker", json_object_new_string(speaker));
	return w;
}

/* The speakers' turns ([{speaker, start, end}]), or NULL when unlabelled. */
static struct json_object *speakers_of(struct json_object *results)
{
	struct json_object *labels = amazon_member(results, "speaker_labels", json_type_object);
	struct json_object *segs = amazon_member(labels, "segments", json_type_array);
	if (segs == NULL)
		return NULL;
	struct json_object *out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(segs); i++) {
		struct json_object *s = json_object_array_get_idx(segs, i);
		const char *who = amazon_str(s, "speaker_label");
		double start = num_member(s, "start_time"), end = num_member(s, "end_time");
		if (who == NULL || start < 0 || end < start)
			continue;
		struct json_object *turn = json_object_new_object();
		json_object_object_add(turn, "speaker", json_object_new_string(who));
		json_object_object_add(turn, "start", json_object_new_double(start));
		json_object_object_add(turn, "end", json_object_new_double(end));
		json_object_array_add(out, turn);
	}
	return out;
}

bool amazon_answer(const char *transcript, size_t len, double duration, struct pool *pool,
                   const char **out)
{
	struct json_tokener *tok = json_tokener_new_ex(AWS_JSON_DEPTH_MAX);
	struct json_object *doc = tok ? json_tokener_parse_ex(tok, transcript, (int)len) : NULL;
	if (tok)
		json_tokener_free(tok);
	struct json_object *results = amazon_member(doc, "results", json_type_object);
	struct json_object *texts = amazon_member(results, "transcripts", json_type_array);
	struct json_object *items = amazon_member(results, "items", json_type_array);
	if (texts == NULL || items == NULL) {
		json_object_put(doc);
		return false;
	}
	const char *text = json_object_array_length(texts) > 0
	                       ? amazon_str(json_object_array_get_idx(texts, 0), "transcript")
	                       : "";
	struct json_object *words = json_object_new_array();
	double conf_sum = 0, last = 0;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *item = json_object_array_get_idx(items, i);
		const char *type = amazon_str(item, "type");
		double conf = 0, end = 0;
		struct json_object *w =
		    type && strcmp(type, "pronunciation") == 0 ? word_of(item, &conf, &end) : NULL;
		if (w == NULL)
			continue;
		json_object_array_add(words, w);
		conf_sum += conf;
		last = end > last ? end : last;
	}
	size_t n = json_object_array_length(words);
	struct json_object *answer = json_object_new_object();
	json_object_object_add(answer, "duration",
	                       json_object_new_double(duration >= 0 ? duration : last));
	json_object_object_add(answer, "text", json_object_new_string(text ? text : ""));
	json_object_object_add(
	    answer, "confidence",
	    json_object_new_double(n ? round(conf_sum / (double)n * 1000) / 1000 : 0));
	json_object_object_add(answer, "words", words);
	json_object_object_add(answer, "speakers", speakers_of(results));
	*out = pool_strdup(pool, json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN));
	json_object_put(answer);
	json_object_put(doc);
	return true;
}

/* Reads the transcript at out_key into the answer. */
static enum err read_transcript(const struct amazon_settings *a, const char *out_key,
                                double duration, struct pool *pool, struct extract_result *r)
{
	struct buf b;
	buf_init(&b);
	enum err e = store_get(a->store, out_key, to_buf, &b);
	const char *answer = NULL;
	if (e == ERR_OK && !amazon_answer(b.data ? b.data : "", b.len, duration, pool, &answer)) {
		log_error("stt: the Transcribe transcript %s is not one", out_key);
		e = ERR_UNAVAILABLE;
	}
	if (e == ERR_OK) {
		r->text = answer;
		r->text_len = strlen(answer);
	} else {
		r->error = e == ERR_TOO_LARGE
		               ? "the transcript is too large"
		               : "the transcript of Amazon Transcribe could not be read";
		if (e == ERR_NOT_FOUND)
			e = ERR_UNAVAILABLE;
	}
	buf_clear(&b);
	return e;
}

/* DeleteTranscriptionJob and the transcript: nothing of the audio stays
 * with Transcribe (failures are only logged). */
static void clean_up(const struct amazon_settings *a, const char *name, const char *out_key,
                     struct pool *pool)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "TranscriptionJobName", json_object_new_string(name));
	struct extract_result ignored = {.error = ""};
	if (amazon_call(a, "DeleteTranscriptionJob", req, pool, NULL, &ignored) != ERR_OK)
		log_warn("stt: could not delete the Transcribe job %s", name);
	json_object_put(req);
	enum err e = store_delete(a->store, out_key);
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		log_warn("stt: could not remove the transcript %s", out_key);
}

enum err amazon_transcribe(const struct amazon_settings *a, const struct amazon_job *job,
                           struct pool *pool, struct extract_result *r)
{
	*r = (struct extract_result){
	    .text = "", .title = "", .author = "", .engine = "transcribe", .error = ""};
	const char *media = media_format(job->format);
	if (media == NULL) {
		r->error =
		    pool_printf(pool, "Amazon Transcribe does not take %s audio", job->format);
		return ERR_INVALID;
	}
	/* Beside the audio: "stt/USER/ID/audio" -> "stt/USER/ID/transcript.json". */
	const char *slash = strrchr(job->key, '/');
	int dir = slash ? (int)(slash - job->key) : 0;
	const char *out_key = pool_printf(pool, "%.*s/transcript.json", dir, job->key);
	const char *vocabulary_key = pool_printf(pool, "%.*s/vocabulary.txt", dir, job->key);
	const char *name = pool_printf(pool, "lectern-%s", job->id);
	bool tuned = job->vocabulary && *job->vocabulary;
	const char *vocabulary = tuned
	                             ? amazon_vocabulary_make(a, name, vocabulary_key,
	                                                      job->language, job->vocabulary, pool)
	                             : NULL;
	enum err e = start(a, name, job->key, out_key, media, job->language, vocabulary, pool, r);
	bool started = e == ERR_OK;
	if (started) {
		e = wait_job(a, name, pool, r);
		if (e == ERR_OK)
			e = read_transcript(a, out_key, job->duration, pool, r);
	}
	/* A job that may still finish (or have started: a start that timed
	 * out) is left for the next attempt, and so is its vocabulary; after
	 * the last attempt none would reuse them, and an account holds 100
	 * vocabularies. */
	bool pending = e == ERR_TIMEOUT || e == ERR_UNAVAILABLE;
	bool ended = !pending || job->last;
	if (ended && (started || pending))
		clean_up(a, name, out_key, pool);
	if (tuned && ended)
		amazon_vocabulary_remove(a, name, vocabulary_key, pool);
	if (e == ERR_OK && vocabulary)
		r->engine = "transcribe+course";
	return e;
}
