/* topics: the one table of Lectern's Kafka topics (docs/api.md, "Events").
 *
 * The lab broker, `lectern-admin topics`, the producers and the consumers all
 * read this table; nothing else names a topic's partitions, retention, key or
 * producer. Every topic has a dead-letter twin "<name>.dlq" with the same
 * partition count and TOPIC_DLQ_RETENTION_MS. */
#ifndef LECTERN_TOPICS_H
#define LECTERN_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum {
	TOPIC_NAME_MAX = 64,       /* longest topic name, ".dlq" included */
	TOPIC_BOOTSTRAP_MAX = 1024 /* longest bootstrap server list */
};

#define TOPIC_DLQ_SUFFIX ".dlq"
#define TOPIC_DLQ_RETENTION_MS (14LL * 24 * 3600 * 1000)

struct topic {
	const char *name; /* also the envelope's event_type */
	int partitions;
	long long retention_ms;
	const char *key_field; /* the payload field that keys the message (order per key) */
	const char *producer;  /* the only service that publishes it */
};

/* The twelve topics, in docs/api.md order. */
extern const struct topic topics[];
extern const size_t topics_count;

/* The topic called name, or NULL. A ".dlq" name is not in the table. */
const struct topic *topic_find(const char *name);
/* Writes "<name>.dlq" into out (out_size >= TOPIC_NAME_MAX); false if cut. */
bool topic_dlq_name(const char *name, char *out, size_t out_size);

/* Creates every topic and its .dlq on a real Kafka cluster through the admin
 * API (partitions, replication_factor, retention.ms). A topic that already
 * exists counts as created. ERR_UNAVAILABLE when the cluster does not answer
 * within timeout_ms, ERR_INTERNAL when Kafka refuses a topic (logged). */
enum err topics_create_all(const char *bootstrap, int replication_factor,
                           int timeout_ms) MUST_CHECK;

#endif
