/* tts_polly_task: a long text as one Amazon Polly synthesis task.
 *
 * StartSpeechSynthesisTask (POST /v1/synthesisTasks) has Polly write the
 * audio as 16 kHz PCM into the store's bucket under a prefix of its own;
 * GetSpeechSynthesisTask (GET /v1/synthesisTasks/{TaskId}) is polled until
 * the task is completed or failed. The object Polly wrote (named in
 * OutputUri: the prefix, the task id, ".pcm") is then read from the store
 * into the same encoders as every other synthesis, and deleted: the
 * service stores and serves the encoded audio like any other. PCM rather
 * than Polly's MP3 or Ogg keeps every format, the duration and the output
 * limit exact and alike. */
#include <json-c/json.h>
#include <poll.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "events/event.h"
#include "speech/tts_polly.h"
#include "speech/tts_polly_impl.h"

enum { TASK_ID_MAX = 100 };

static struct {
	struct store *store;
	const char *bucket, *prefix;
	long poll_ms;
} tasks;

void tts_polly_tasks(struct store *store, const char *bucket, const char *prefix, long poll_ms)
{
	tasks.store = store;
	tasks.bucket = bucket;
	tasks.prefix = prefix;
	tasks.poll_ms = poll_ms;
}

bool tts_polly_task_fits(const struct tts_script *script)
{
	return tasks.store != NULL && script->characters > POLLY_CHARS_MAX;
}

/* The task in an answer, with a TaskId of Polly's documented alphabet. */
static struct json_object *task_of(struct json_object *doc, const char **id)
{
	struct json_object *t = NULL;
	if (doc == NULL || !json_object_object_get_ex(doc, "SynthesisTask", &t) ||
	    !json_object_is_type(t, json_type_object))
		return NULL;
	*id = tts_polly_jstr(t, "TaskId");
	size_t n = *id ? strlen(*id) : 0;
	if (n == 0 || n > TASK_ID_MAX ||
	    strspn(*id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return NULL;
	return t;
}

static enum err start(const struct tts_voice *v, const char *ssml, const char *prefix,
                      struct pool *pool, const char **id)
{
	struct json_object *rq = json_object_new_object(), *doc = NULL;
	json_object_object_add(rq, "Text", json_object_new_string(ssml));
	json_object_object_add(rq, "TextType", json_object_new_string("ssml"));
	json_object_object_add(rq, "VoiceId", json_object_new_string(v->engine_voice));
	json_object_object_add(rq, "OutputFormat", json_object_new_string("pcm"));
	json_object_object_add(rq, "SampleRate", json_object_new_string("16000"));
	json_object_object_add(rq, "OutputS3BucketName", json_object_new_string(tasks.bucket));
	json_object_object_add(rq, "OutputS3KeyPrefix", json_object_new_string(prefix));
	struct aws_json_request r = {"polly",
	                             "POST",
	                             "/v1/synthesisTasks",
	                             NULL,
	                             json_object_to_json_string_ext(rq, JSON_C_TO_STRING_PLAIN),
	                             NULL,
	                             NULL};
	enum err e = aws_json_call(tts_polly_client(), &r, pool, &doc);
	json_object_put(rq);
	if (e == ERR_OK && task_of(doc, id) == NULL) {
		log_error("tts: Polly started a synthesis task without a valid TaskId");
		e = ERR_UNAVAILABLE;
	}
	return e;
}

/* Polls the task until it ends: *key gets the object of a completed one. */
static enum err await(const char *id, const char *prefix, long long deadline, struct pool *pool,
                      struct tts_result *res, const char **key)
{
	const char *path = pool_printf(pool, "/v1/synthesisTasks/%s", id);
	for (;;) {
		struct json_object *doc = NULL;
		struct aws_json_request r = {"polly", "GET", path, NULL, NULL, NULL, NULL};
		enum err e = aws_json_call(tts_polly_client(), &r, pool, &doc);
		const char *same = NULL;
		struct json_object *t = e == ERR_OK ? task_of(doc, &same) : NULL;
		if (e != ERR_OK)
			return e;
		const char *status = t ? tts_polly_jstr(t, "TaskStatus") : NULL;
		if (status == NULL || strcmp(same, id) != 0) {
			log_error("tts: Polly's answer about task %s has no status", id);
			return ERR_UNAVAILABLE;
		}
		if (strcmp(status, "completed") == 0) {
			/* The object is the one under our prefix that OutputUri names. */
			const char *uri = tts_polly_jstr(t, "OutputUri");
			const char *at = uri ? strstr(uri, prefix) : NULL;
			if (at == NULL || store_key_check(at) != ERR_OK) {
				log_error("tts: Polly's task %s wrote no object under %s", id,
				          prefix);
				return ERR_UNAVAILABLE;
			}
			*key = pool_strdup(pool, at);
			return ERR_OK;
		}
		if (strcmp(status, "failed") == 0) {
			const char *why = tts_polly_jstr(t, "TaskStatusReason");
			why = why && why[0] ? why : "it gave no reason";
			size_t n = strlen(why);
			snprintf(res->reason, sizeof(res->reason),
			         "Amazon Polly's synthesis task failed: %s%s", why,
			         why[n - 1] == '.' ? "" : ".");
			log_error("tts: Polly's task %s failed: %s", id, why);
			return ERR_UNPROCESSABLE;
		}
		if (strcmp(status, "scheduled") != 0 && strcmp(status, "inProgress") != 0) {
			log_error("tts: Polly's task %s has an unknown status", id);
			return ERR_UNAVAILABLE;
		}
		if (clock_ms() + tasks.poll_ms > deadline) {
			log_error("tts: Polly's task %s did not finish in time", id);
			return ERR_TIMEOUT;
		}
		(void)poll(NULL, 0, (int)tasks.poll_ms); /* a signal only polls sooner */
	}
}

enum err tts_polly_task(const struct tts_voice *v, const char *ssml, long long deadline,
                        struct pcm_sink *s)
{
	struct pool *pool = pool_new();
	char uuid[EVENT_ID_LEN + 1];
	event_uuid(uuid);
	const char *prefix = pool_printf(pool, "%s%s/", tasks.prefix, uuid), *id = NULL,
	           *key = NULL;
	enum err e = start(v, ssml, prefix, pool, &id);
	if (e == ERR_OK)
		e = await(id, prefix, deadline, pool, s->res, &key);
	if (e == ERR_OK) {
		e = store_get(tasks.store, key, tts_polly_sink, s);
		if (e != ERR_OK && e != ERR_TOO_LARGE)
			log_error("tts: the audio of Polly's task %s could not be read: %s", id,
			          err_message(e));
		/* Encoded or not, Polly's PCM is not kept. */
		if (store_delete(tasks.store, key) != ERR_OK)
			log_warn("tts: Polly's output %s was left in the store", key);
	}
	pool_free(pool);
	return e;
}
