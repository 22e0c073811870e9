/* topics: the topic table and its creation on a real Kafka cluster. */
#include "events/topics.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

enum { TOPICS_ERRSTR_MAX = 512, TOPICS_ALL_MAX = 64 };

#define DAYS(n) ((long long)(n)*24 * 3600 * 1000)

/* Keys follow docs/api.md, "Events": the user id unless a topic states
 * otherwise; per-user order also keeps a document's uploaded, processed and
 * deleted events in order for every consumer. Partition counts favour the
 * busy topics (documents, chat). */
const struct topic topics[] = {
    {"audio.generation.requested", 3, DAYS(7), "user_id", "tts"},
    {"audio.generation.completed", 3, DAYS(7), "user_id", "tts"},
    {"audio.generation.deleted", 3, DAYS(7), "user_id", "tts"},
    {"audio.transcription.requested", 3, DAYS(7), "user_id", "stt"},
    {"audio.transcription.completed", 3, DAYS(7), "user_id", "stt"},
    {"chat.message", 6, DAYS(7), "user_id", "chat"},
    {"document.uploaded", 6, DAYS(7), "user_id", "documents"},
    {"document.processed", 6, DAYS(7), "user_id", "documents"},
    {"document.deleted", 6, DAYS(7), "user_id", "documents"},
    {"notes.generated", 3, DAYS(7), "user_id", "documents"},
    {"quiz.requested", 3, DAYS(7), "user_id", "quiz"},
    {"quiz.generated", 3, DAYS(7), "user_id", "quiz"},
};
const size_t topics_count = sizeof(topics) / sizeof(topics[0]);

const struct topic *topic_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < topics_count; i++)
		if (strcmp(topics[i].name, name) == 0)
			return &topics[i];
	return NULL;
}

bool topic_dlq_name(const char *name, char *out, size_t out_size)
{
	int n = snprintf(out, out_size, "%s%s", name, TOPIC_DLQ_SUFFIX);
	return n > 0 && (size_t)n < out_size;
}

/* Adds one NewTopic to the array; false when librdkafka refuses it. */
static bool topics_add_new(rd_kafka_NewTopic_t **arr, size_t *n, const char *name, int partitions,
                           int replication_factor, long long retention_ms)
{
	char errstr[TOPICS_ERRSTR_MAX];
	rd_kafka_NewTopic_t *nt =
	    rd_kafka_NewTopic_new(name, partitions, replication_factor, errstr, sizeof(errstr));
	if (!nt) {
		log_error("topics: %s: %s", name, errstr);
		return false;
	}
	char retention[32];
	snprintf(retention, sizeof(retention), "%lld", retention_ms);
	if (rd_kafka_NewTopic_set_config(nt, "retention.ms", retention) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_error("topics: %s: cannot set retention.ms", name);
		rd_kafka_NewTopic_destroy(nt);
		return false;
	}
	arr[(*n)++] = nt;
	return true;
}

enum err topics_create_all(const char *bootstrap, int replication_factor, int timeout_ms)
{
	enum err e = ERR_INTERNAL;
	char errstr[TOPICS_ERRSTR_MAX];
	rd_kafka_t *rk = NULL;
	rd_kafka_queue_t *queue = NULL;
	rd_kafka_AdminOptions_t *opts = NULL;
	rd_kafka_event_t *ev = NULL;
	rd_kafka_NewTopic_t *arr[TOPICS_ALL_MAX];
	size_t n = 0;

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		log_error("topics: bootstrap.servers: %s", errstr);
		rd_kafka_conf_destroy(conf);
		e = ERR_INVALID;
		goto out;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		log_error("topics: cannot create a Kafka client: %s", errstr);
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	for (size_t i = 0; i < topics_count; i++) {
		char dlq[TOPIC_NAME_MAX];
		if (!topic_dlq_name(topics[i].name, dlq, sizeof(dlq)) ||
		    !topics_add_new(arr, &n, topics[i].name, topics[i].partitions,
		                    replication_factor, topics[i].retention_ms) ||
		    !topics_add_new(arr, &n, dlq, topics[i].partitions, replication_factor,
		                    TOPIC_DLQ_RETENTION_MS))
			goto out;
	}
	queue = rd_kafka_queue_new(rk);
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr)) ||
	    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr))) {
		log_error("topics: timeout: %s", errstr);
		e = ERR_INVALID;
		goto out;
	}
	rd_kafka_CreateTopics(rk, arr, n, opts, queue);
	ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
	if (!ev) {
		log_error("topics: no answer from %s within %d ms", bootstrap, timeout_ms);
		e = ERR_UNAVAILABLE;
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		log_error("topics: CreateTopics failed: %s", rd_kafka_event_error_string(ev));
		e = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__TIMED_OUT ? ERR_UNAVAILABLE
		                                                             : ERR_INTERNAL;
		goto out;
	}
	const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
	size_t cnt = 0;
	const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &cnt);
	e = ERR_OK;
	for (size_t i = 0; i < cnt; i++) {
		rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(results[i]);
		const char *name = rd_kafka_topic_result_name(results[i]);
		if (terr == RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_info("topics: created %s", name);
		} else if (terr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			log_info("topics: %s exists already", name);
		} else {
			const char *why = rd_kafka_topic_result_error_string(results[i]);
			log_error("topics: %s: %s", name, why ? why : rd_kafka_err2str(terr));
			e = ERR_INTERNAL;
		}
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (opts)
		rd_kafka_AdminOptions_destroy(opts);
	if (queue)
		rd_kafka_queue_destroy(queue);
	for (size_t i = 0; i < n; i++)
		rd_kafka_NewTopic_destroy(arr[i]);
	if (rk)
		rd_kafka_destroy(rk);
	return e;
}
