/* consumer: applies events from Kafka exactly once to a service's database.
 *
 * For each message: parse the envelope (lib/event), then in one database
 * transaction record its event_id in processed_events and apply its effect;
 * commit; only then commit the Kafka offset. A redelivered event finds its
 * event_id and is skipped. A message that cannot be parsed, or whose effect
 * keeps failing (max_attempts), is copied with its original bytes and key to
 * "<topic>.dlq" with headers lectern-dlq-reason, -topic, -partition, -offset,
 * -attempts, and its offset is committed: the partition moves on. A database
 * or broker that is down (ERR_UNAVAILABLE, ERR_TIMEOUT) is waited for, never
 * dead-lettered. Messages are handled one at a time, in partition order.
 * Tables: sql/common/001-events.sql. */
#ifndef LECTERN_CONSUMER_H
#define LECTERN_CONSUMER_H

#include <stdbool.h>

#include "data/db.h"
#include "core/err.h"
#include "events/event.h"
#include "events/mq.h"

enum {
	CONSUMER_HANDLERS_MAX = 16, /* topics one consumer handles */
	CONSUMER_REASON_MAX = 256   /* a dead-letter reason */
};

/* Applies ev inside the open transaction on db (never commits or rolls
 * back). ERR_OK to keep the effect; ERR_UNAVAILABLE/ERR_TIMEOUT for a passing
 * failure (retried without counting); other errors count as a failed attempt. */
typedef enum err consumer_apply_fn(struct db *db, const struct event *ev, void *arg);

struct consumer_handler {
	const char *topic;
	consumer_apply_fn *apply;
	void *arg;
};

struct consumer_opts {
	const char *group; /* the Kafka consumer group: one per service */
	long max_attempts; /* failed applications before the dead-letter topic */
	long retry_ms;     /* first wait between attempts (doubles, at most 30 s) */
	long retention_s;  /* processed_events rows older than this are pruned; must
	                    * exceed the topics' retention */
};

struct consumer_stats {
	unsigned long long applied;
	unsigned long long duplicates;
	unsigned long long dead_lettered;
	unsigned long long retries;
	bool holding; /* a message waits for a retry */
};

struct consumer;

/* Joins the group for the handlers' topics. db is the worker's connection
 * (used only inside consumer_step); handlers must outlive the consumer. */
enum err consumer_new(struct db *db, const struct mq_opts *mq, const struct consumer_opts *opts,
                      const struct consumer_handler *handlers, size_t count,
                      struct consumer **out) MUST_CHECK;
/* Leaves the group and frees c (NULL is fine); a held message is redelivered later. */
void consumer_free(struct consumer *c);
/* Handles at most max_messages waiting messages, not waiting for new ones;
 * returns how long (ms) until a held message is due again (-1 when none). */
long consumer_step(struct consumer *c, int max_messages);
/* Makes the Kafka clients anew with mq (its strings must outlive c), e.g.
 * after the broker's address changed: the old ones are dropped without
 * waiting for their broker; a held message is let go (the group delivers
 * it again from the committed offset). */
void consumer_reconnect(struct consumer *c, const struct mq_opts *mq);
/* A descriptor that becomes readable when messages wait; -1 while the
 * clients are being made anew. */
int consumer_fd(const struct consumer *c);
void consumer_stats(const struct consumer *c, struct consumer_stats *out);

#endif
