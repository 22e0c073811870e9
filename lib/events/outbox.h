/* outbox: events recorded with the change that caused them, and the relay
 * that publishes them to Kafka (docs/design.md, "Data ownership and events").
 *
 * A request calls outbox_add inside its own transaction: the event exists
 * exactly when the change does, and no request ever waits on Kafka. The
 * relay (in the service's worker) publishes unsent rows in id order with the
 * idempotent producer and marks them sent only after the broker acknowledged
 * them. Tables: sql/common/001-events.sql.
 *
 * Several relays on one database: each batch is claimed, published and
 * marked inside one transaction that first takes the transaction-level
 * advisory lock OUTBOX_LOCK_KEY (pg_try_advisory_xact_lock). One relay at a
 * time publishes, whole batches follow each other, and a relay that dies
 * loses its lock with its transaction; the rows are also claimed FOR UPDATE
 * SKIP LOCKED, so no row is ever published by two relays at once. Order per
 * key is the id order, as long as the broker acknowledges; a message the
 * broker refused is retried after later ones (delivery is at least once). */
#ifndef LECTERN_OUTBOX_H
#define LECTERN_OUTBOX_H

#include <stdbool.h>

#include "data/db.h"
#include "core/err.h"
#include "events/event.h"
#include "events/mq.h"

/* The advisory lock key of the relays ("outbox" in ASCII). */
#define OUTBOX_LOCK_KEY "122550254464888"
/* The channel outbox_add notifies at commit, to wake the relay at once. */
#define OUTBOX_CHANNEL "lectern_outbox"

enum {
	OUTBOX_BATCH_MAX = 1000, /* rows in one relay batch */
	OUTBOX_ERROR_MAX = 256   /* stored text of a publication error */
};

/* Records ev (encoded, with its key) in the outbox. Call it inside the
 * transaction of the change (db_begin ... db_commit): the event is published
 * if and only if the transaction commits. ERR_INVALID when ev has no key,
 * ERR_TOO_LARGE when it is too big; database errors as db_exec. */
enum err outbox_add(struct db *db, const struct event *ev) MUST_CHECK;
/* Builds the event (event_init: type, producer, user_id; payload is taken
 * even on error) and records it with outbox_add, in the caller's
 * transaction. The one call a handler or job makes to publish. */
enum err outbox_record(struct db *db, const char *type, const char *producer, const char *user_id,
                       struct json_object *payload) MUST_CHECK;

/* For a statement that records its own event: one round trip instead of a
 * transaction around two statements. The statement inserts with
 * OUTBOX_INSERT " SELECT $A::uuid, $B, $C, $D FROM <its rows>" from the four
 * parameters outbox_params gives (event id, topic, key, envelope; in pool)
 * and selects OUTBOX_NOTIFY once; a statement that changes no row then
 * records nothing. Errors as outbox_add. */
enum { OUTBOX_PARAMS = 4 };
#define OUTBOX_INSERT "INSERT INTO outbox (event_id, topic, msg_key, body)"
#define OUTBOX_NOTIFY "pg_notify('" OUTBOX_CHANNEL "', '')"
enum err outbox_params(const struct event *ev, struct pool *pool,
                       const char *out[OUTBOX_PARAMS]) MUST_CHECK;
/* outbox_params of a new event (event_init; payload is taken even on error). */
enum err outbox_event_params(const char *type, const char *producer, const char *user_id,
                             struct json_object *payload, struct pool *pool,
                             const char *out[OUTBOX_PARAMS]) MUST_CHECK;

struct outbox_relay_opts {
	long batch;          /* rows per batch (1..OUTBOX_BATCH_MAX) */
	long idle_ms;        /* look again this often without a notification */
	long backoff_max_ms; /* longest wait after a failed batch */
	long retention_s;    /* sent rows are deleted after this */
};

struct outbox_relay_stats {
	unsigned long long published; /* rows marked sent */
	unsigned long long failed;    /* publications that failed (retried later) */
	unsigned long long pruned;
	bool leader;    /* held the lock at the last attempt */
	bool broker_ok; /* the last batch was acknowledged */
};

struct outbox_relay;

/* A relay with its own database connection (dsn) and its own idempotent
 * producer. Free with outbox_relay_free. */
enum err outbox_relay_new(const char *dsn, const struct mq_opts *mq,
                          const struct outbox_relay_opts *opts,
                          struct outbox_relay **out) MUST_CHECK;
/* Waits up to timeout_ms for a batch in flight (its rows then stay unsent
 * unless acknowledged), then frees r (NULL is fine). */
void outbox_relay_free(struct outbox_relay *r, int timeout_ms);
/* Does what is due without blocking on the broker: reads notifications,
 * collects delivery reports, finishes a batch (marks it sent, commits),
 * claims and sends the next one, prunes. Errors are logged and retried later
 * with backoff; the return value says how long (ms) until it wants to run
 * again when nothing wakes it. */
long outbox_relay_step(struct outbox_relay *r);
/* Replaces the producer by a new one made with mq (its strings must outlive
 * r), e.g. after the broker's address changed. A batch in flight ends at
 * once: rows the old producer had not seen acknowledged stay unsent and go
 * out again through the new one, immediately. */
void outbox_relay_reconnect(struct outbox_relay *r, const struct mq_opts *mq);
/* The descriptors to poll(2) for input: the database connection (notifies)
 * and the producer's reports. Writes 2 descriptors (-1 when absent). */
void outbox_relay_fds(struct outbox_relay *r, int fds[2]);
void outbox_relay_stats(const struct outbox_relay *r, struct outbox_relay_stats *out);

#endif
