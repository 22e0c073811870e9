/* amazon_vocabulary: the learner's course terms as an Amazon Transcribe
 * custom vocabulary (amazon_impl.h). The table goes into the bucket beside
 * the audio and CreateVocabulary names it (VocabularyFileUri: the list
 * format of Phrases is deprecated); GetVocabulary is polled until READY.
 * An account holds at most 100 vocabularies, so each job has its own,
 * deleted with the job. The course only helps: a vocabulary Transcribe
 * refuses or is slow to build is left out and the job runs without it. */
#include <string.h>

#include "amazon_impl.h"
#include "core/clock.h"
#include "core/log.h"

/* CreateVocabulary; one of that name already there (an earlier attempt of
 * the same task) is taken as made. */
static bool create(const struct amazon_settings *a, const char *name, const char *key,
                   const char *language, struct pool *pool)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "VocabularyName", json_object_new_string(name));
	json_object_object_add(req, "LanguageCode", json_object_new_string(language));
	json_object_object_add(
	    req, "VocabularyFileUri",
	    json_object_new_string(pool_printf(pool, "s3://%s/%s", a->bucket, key)));
	struct extract_result r = {.error = ""};
	enum err e = amazon_call(a, "CreateVocabulary", req, pool, NULL, &r);
	json_object_put(req);
	if (e == ERR_INVALID || e == ERR_CONFLICT) {
		struct json_object *probe = json_object_new_object();
		json_object_object_add(probe, "VocabularyName", json_object_new_string(name));
		e = amazon_call(a, "GetVocabulary", probe, pool, NULL, &r);
		json_object_put(probe);
	}
	return e == ERR_OK;
}

/* Polls GetVocabulary until the vocabulary is READY (true) or FAILED, or
 * vocabulary_wait_ms has passed. */
static bool wait_ready(const struct amazon_settings *a, const char *name, struct pool *pool)
{
	long long deadline = clock_ms() + a->vocabulary_wait_ms;
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "VocabularyName", json_object_new_string(name));
	bool ready = false;
	for (;;) {
		struct json_object *answer = NULL;
		struct extract_result r = {.error = ""};
		if (amazon_call(a, "GetVocabulary", req, pool, &answer, &r) != ERR_OK)
			break;
		const char *state = amazon_str(answer, "VocabularyState");
		if (state && strcmp(state, "READY") == 0) {
			ready = true;
			break;
		}
		if (state && strcmp(state, "FAILED") == 0) {
			const char *why = amazon_str(answer, "FailureReason");
			log_warn("stt: Transcribe refused the vocabulary %s: %s", name,
			         why ? why : "no reason given");
			break;
		}
		if (clock_ms() + a->poll_ms > deadline) {
			log_warn("stt: the vocabulary %s was not ready within %ld ms", name,
			         a->vocabulary_wait_ms);
			break;
		}
		clock_sleep_ms(a->poll_ms);
	}
	json_object_put(req);
	return ready;
}

const char *amazon_vocabulary_make(const struct amazon_settings *a, const char *name,
                                   const char *key, const char *language, const char *text,
                                   struct pool *pool)
{
	struct store_info info;
	if (store_put_buf(a->store, key, "text/plain; charset=utf-8", text, strlen(text), &info) !=
	    ERR_OK) {
		log_warn("stt: could not store the vocabulary %s: transcribing without it", key);
		return NULL;
	}
	if (!create(a, name, key, language, pool) || !wait_ready(a, name, pool)) {
		log_warn("stt: transcribing %s without the course's vocabulary", name);
		return NULL;
	}
	return name;
}

void amazon_vocabulary_remove(const struct amazon_settings *a, const char *name, const char *key,
                              struct pool *pool)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "VocabularyName", json_object_new_string(name));
	struct extract_result r = {.error = ""};
	enum err e = amazon_call(a, "DeleteVocabulary", req, pool, NULL, &r);
	if (e != ERR_OK && e != ERR_NOT_FOUND && e != ERR_INVALID)
		log_warn("stt: could not delete the Transcribe vocabulary %s", name);
	json_object_put(req);
	e = store_delete(a->store, key);
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		log_warn("stt: could not remove the vocabulary table %s", key);
}
