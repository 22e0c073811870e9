/* mq: the Kafka clients of Lectern (librdkafka), a producer and a
 * consumer-group member, each living for the process.
 *
 * The producer is idempotent (enable.idempotence=true, acks=all): a message
 * the broker acknowledged is written once and in order per partition, and
 * its delivery report says so. The consumer never commits by itself
 * (enable.auto.commit=false): the caller commits a message's offset after
 * the message's effect is durable. librdkafka's own log lines go to lib/log. */
#ifndef LECTERN_MQ_H
#define LECTERN_MQ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum {
	MQ_OPTIONS_MAX = 2048, /* the extra settings text */
	MQ_OPTION_MAX = 256,   /* one "name=value" of it */
	MQ_HEADERS_MAX = 16    /* headers of one message */
};

/* How to reach Kafka. */
struct mq_opts {
	const char *bootstrap;   /* "host:port[,host:port...]" */
	const char *client_id;   /* the service, for the broker's logs */
	const char *extra;       /* NULL or "name=value,name=value" librdkafka settings, applied
	                          * last (tests: fetch.wait.max.ms=10,session.timeout.ms=6000,
	                          * heartbeat.interval.ms=500) */
	long message_timeout_ms; /* producer: give up on a message after this (0 = 30000) */
};

struct mq_header {
	const char *name;
	const void *value;
	size_t len;
};

/* Called once per produced message from mq_producer_poll, with the opaque
 * given to mq_produce and ERR_OK when the broker acknowledged it, else
 * ERR_UNAVAILABLE (timed out, broker down) or ERR_INTERNAL (refused). */
typedef void mq_delivered_fn(void *msg_opaque, enum err result, void *arg);

struct mq_producer;

/* A new idempotent producer; on_delivery(msg_opaque, result, arg) reports
 * each message. ERR_INVALID for a bad setting. Free with mq_producer_free. */
enum err mq_producer_new(const struct mq_opts *opts, mq_delivered_fn *on_delivery, void *arg,
                         struct mq_producer **out) MUST_CHECK;
/* Waits up to timeout_ms for messages in flight, then frees p (NULL is fine);
 * messages still unacknowledged are reported as ERR_UNAVAILABLE. */
void mq_producer_free(struct mq_producer *p, int timeout_ms);
/* Queues one message (key may be NULL). ERR_UNAVAILABLE when the local queue
 * is full, ERR_INTERNAL when the producer hit a fatal error (make a new one). */
enum err mq_produce(struct mq_producer *p, const char *topic, const void *key, size_t key_len,
                    const void *value, size_t len, const struct mq_header *headers, size_t nheaders,
                    void *msg_opaque) MUST_CHECK;
/* Serves delivery reports, waiting up to timeout_ms for the first. */
void mq_producer_poll(struct mq_producer *p, int timeout_ms);
/* Messages queued and not yet reported. */
int mq_producer_in_flight(struct mq_producer *p);
/* Polls until every message is reported or timeout_ms passed; ERR_TIMEOUT
 * when some are still in flight. */
enum err mq_producer_flush(struct mq_producer *p, int timeout_ms) MUST_CHECK;
/* True after a fatal error (the idempotence guarantee is lost). */
bool mq_producer_fatal(struct mq_producer *p);
/* A descriptor that becomes readable when reports wait (for poll(2)). */
int mq_producer_fd(const struct mq_producer *p);

/* One received message; the pointers live until mq_message_free. */
struct mq_message {
	const char *topic;
	int partition;
	long long offset;
	const void *key; /* NULL when the message has none */
	size_t key_len;
	const void *value;
	size_t len;
	void *native; /* the librdkafka message */
};

struct mq_consumer;

/* Joins consumer group `group` and subscribes to topics (auto.offset.reset
 * earliest: a new group reads what was published before it joined). */
enum err mq_consumer_new(const struct mq_opts *opts, const char *group, const char *const *topics,
                         size_t ntopics, struct mq_consumer **out) MUST_CHECK;
/* Leaves the group (committed offsets stay) and frees c (NULL is fine). */
void mq_consumer_free(struct mq_consumer *c);
/* Frees c (NULL is fine) without leaving the group, for a broker that is
 * gone: leaving would wait for it. The group forgets the member after
 * session.timeout.ms. */
void mq_consumer_drop(struct mq_consumer *c);
/* Waits up to timeout_ms for a message. ERR_OK fills out (free it with
 * mq_message_free); ERR_NOT_FOUND when none came (errors are logged). */
enum err mq_consumer_poll(struct mq_consumer *c, int timeout_ms, struct mq_message *out) MUST_CHECK;
void mq_message_free(struct mq_message *m);
/* The value of header name of m, or NULL; *len gets its length. */
const void *mq_message_header(const struct mq_message *m, const char *name, size_t *len);
/* How far consumer group `group` is behind on each of topics: lags[i] gets
 * the sum over topics[i]'s partitions of the newest offset minus the group's
 * committed one (the oldest when it has none). Asks the broker with a client
 * of its own, each call waiting at most timeout_ms; ERR_UNAVAILABLE when the
 * broker does not answer. */
enum err mq_group_lag(const struct mq_opts *opts, const char *group, const char *const *topics,
                      size_t ntopics, int timeout_ms, long long *lags) MUST_CHECK;
/* Commits m's offset + 1 for its partition (asynchronously: a lost commit
 * only redelivers, which consumers deduplicate). */
enum err mq_commit(struct mq_consumer *c, const struct mq_message *m) MUST_CHECK;
/* A descriptor that becomes readable when messages wait (for poll(2)). */
int mq_consumer_fd(const struct mq_consumer *c);

#endif
