/* consumer: the exactly-once effect loop over a Kafka consumer group. */
#include "core/clock.h"
#include "events/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

enum {
	CONSUMER_DLQ_FLUSH_MS = 10000, /* wait for the dead-letter topic's ack */
	CONSUMER_RETRY_MAX_MS = 30000,
	CONSUMER_PRUNE_EVERY_MS = 600000,
	CONSUMER_PRUNE_ROWS = 10000,
	CONSUMER_REOPEN_MS = 1000 /* retry making the clients after a failure */
};

struct consumer {
	struct db *db;
	struct mq_consumer *mc;  /* NULL while being made anew */
	struct mq_producer *dlq; /* likewise */
	struct mq_opts mq;       /* strings owned by the caller, for new clients */
	struct consumer_opts opts;
	const struct consumer_handler *handlers;
	size_t count;
	struct mq_message held; /* a message waiting for its next attempt */
	bool holding;
	long attempts;    /* failed attempts that count, for held */
	long wait_ms;     /* current retry wait */
	long long due_ms; /* next attempt of held */
	long long prune_ms;
	enum err dlq_result;
	struct consumer_stats stats;
};

enum consumer_outcome { CONSUMER_DONE, CONSUMER_RETRY };

static void consumer_dlq_delivered(void *msg_opaque, enum err result, void *arg)
{
	struct consumer *c = arg;
	c->dlq_result = result;
}

/* Makes the clients that are missing. */
static enum err consumer_open(struct consumer *c)
{
	const char *names[CONSUMER_HANDLERS_MAX];
	enum err e = ERR_OK;
	for (size_t i = 0; i < c->count; i++)
		names[i] = c->handlers[i].topic;
	if (!c->dlq)
		e = mq_producer_new(&c->mq, consumer_dlq_delivered, c, &c->dlq);
	if (!e && !c->mc)
		e = mq_consumer_new(&c->mq, c->opts.group, names, c->count, &c->mc);
	return e;
}

enum err consumer_new(struct db *db, const struct mq_opts *mq, const struct consumer_opts *opts,
                      const struct consumer_handler *handlers, size_t count, struct consumer **out)
{
	if (count == 0 || count > CONSUMER_HANDLERS_MAX || opts->max_attempts < 1 ||
	    opts->retry_ms < 1 || !opts->group || !*opts->group) {
		log_error("consumer: bad options");
		return ERR_INVALID;
	}
	for (size_t i = 0; i < count; i++) {
		if (!topic_find(handlers[i].topic) || !handlers[i].apply) {
			log_error("consumer: no such topic %s", handlers[i].topic);
			return ERR_INVALID;
		}
	}
	struct consumer *c = xcalloc(1, sizeof(*c));
	c->db = db;
	c->opts = *opts;
	c->handlers = handlers;
	c->count = count;
	c->prune_ms = clock_ms();
	c->mq = *mq;
	enum err e = consumer_open(c);
	if (e) {
		consumer_free(c);
		return e;
	}
	*out = c;
	return ERR_OK;
}

void consumer_free(struct consumer *c)
{
	if (!c)
		return;
	if (c->holding)
		mq_message_free(&c->held);
	mq_consumer_free(c->mc);
	mq_producer_free(c->dlq, 0);
	free(c);
}

/* Copies m to <topic>.dlq and waits for the broker's ack. */
static enum consumer_outcome consumer_dead_letter(struct consumer *c, const struct mq_message *m,
                                                  const char *reason)
{
	char dlq[TOPIC_NAME_MAX], partition[16], offset[32], attempts[16];
	if (!topic_dlq_name(m->topic, dlq, sizeof(dlq))) {
		log_error("consumer: topic name %s too long for a dead-letter topic", m->topic);
		return CONSUMER_RETRY;
	}
	snprintf(partition, sizeof(partition), "%d", m->partition);
	snprintf(offset, sizeof(offset), "%lld", m->offset);
	snprintf(attempts, sizeof(attempts), "%ld", c->attempts);
	if (!c->dlq && consumer_open(c) != ERR_OK)
		return CONSUMER_RETRY;
	const struct mq_header h[] = {
	    {"lectern-dlq-reason", reason, strlen(reason)},
	    {"lectern-dlq-topic", m->topic, strlen(m->topic)},
	    {"lectern-dlq-partition", partition, strlen(partition)},
	    {"lectern-dlq-offset", offset, strlen(offset)},
	    {"lectern-dlq-attempts", attempts, strlen(attempts)},
	};
	c->dlq_result = ERR_UNAVAILABLE;
	enum err e = mq_produce(c->dlq, dlq, m->key, m->key_len, m->value, m->len, h,
	                        sizeof(h) / sizeof(h[0]), NULL);
	if (!e)
		e = mq_producer_flush(c->dlq, CONSUMER_DLQ_FLUSH_MS);
	if (!e)
		e = c->dlq_result;
	if (e) {
		log_warn("consumer: cannot dead-letter %s [%d] @%lld yet: %s", m->topic,
		         m->partition, m->offset, err_message(e));
		if (mq_producer_fatal(c->dlq)) {
			/* Only a new producer (a new producer id) publishes again. */
			log_warn("consumer: making a new dead-letter producer after a fatal error");
			mq_producer_free(c->dlq, 0);
			c->dlq = NULL;
		}
		return CONSUMER_RETRY;
	}
	log_warn("consumer: %s [%d] @%lld sent to %s: %s", m->topic, m->partition, m->offset, dlq,
	         reason);
	c->stats.dead_lettered++;
	return CONSUMER_DONE;
}

static const struct consumer_handler *consumer_handler_of(const struct consumer *c,
                                                          const char *topic)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->handlers[i].topic, topic) == 0)
			return &c->handlers[i];
	return NULL;
}

/* One attempt at m. */
static enum consumer_outcome consumer_handle(struct consumer *c, const struct mq_message *m)
{
	char reason[CONSUMER_REASON_MAX];
	struct event ev;
	const char *why = NULL;
	if (event_decode(m->value, m->len, &ev, &why) != ERR_OK) {
		snprintf(reason, sizeof(reason), "invalid envelope: %s", why);
		return consumer_dead_letter(c, m, reason);
	}
	enum consumer_outcome out = CONSUMER_DONE;
	const struct consumer_handler *h = consumer_handler_of(c, m->topic);
	if (strcmp(ev.type, m->topic) != 0 || !h) {
		snprintf(reason, sizeof(reason), "event_type %s does not belong on topic %s",
		         ev.type, m->topic);
		out = consumer_dead_letter(c, m, reason);
		goto out;
	}
	log_set_request_id(ev.id);
	PGresult *res = NULL;
	const char *params[] = {ev.id, ev.type};
	enum err e = db_begin(c->db);
	if (!e)
		e = db_exec_prepared(
		    c->db, "consumer_seen",
		    "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) "
		    "ON CONFLICT (event_id) DO NOTHING",
		    2, params, &res);
	if (!e && db_affected(res) == 0) {
		PQclear(res);
		db_rollback(c->db);
		c->stats.duplicates++;
		log_debug("consumer: %s %s applied before: skipped", ev.type, ev.id);
		goto out;
	}
	if (res)
		PQclear(res);
	if (!e)
		e = h->apply(c->db, &ev, h->arg);
	if (!e)
		e = db_commit(c->db);
	else
		db_rollback(c->db);
	if (!e) {
		c->stats.applied++;
		goto out;
	}
	c->stats.retries++;
	if (e == ERR_UNAVAILABLE || e == ERR_TIMEOUT) {
		log_warn("consumer: %s %s must wait: %s", ev.type, ev.id, err_message(e));
		out = CONSUMER_RETRY;
		goto out;
	}
	c->attempts++;
	if (c->attempts < c->opts.max_attempts) {
		log_warn("consumer: %s %s failed (attempt %ld of %ld): %s", ev.type, ev.id,
		         c->attempts, c->opts.max_attempts, err_message(e));
		out = CONSUMER_RETRY;
		goto out;
	}
	snprintf(reason, sizeof(reason), "failed %ld times: %s", c->attempts, err_code(e));
	out = consumer_dead_letter(c, m, reason);
out:
	log_set_request_id(NULL);
	event_clear(&ev);
	return out;
}

/* Settles m after an attempt: commits and frees it, or holds it for later. */
static void consumer_settle(struct consumer *c, struct mq_message *m, enum consumer_outcome o)
{
	if (o == CONSUMER_RETRY) {
		if (!c->holding) {
			c->held = *m;
			c->holding = true;
			c->wait_ms = c->opts.retry_ms;
		} else {
			c->wait_ms = c->wait_ms * 2 > CONSUMER_RETRY_MAX_MS ? CONSUMER_RETRY_MAX_MS
			                                                    : c->wait_ms * 2;
		}
		c->due_ms = clock_ms() + c->wait_ms;
		return;
	}
	/* A lost commit only means a redelivery, which processed_events absorbs. */
	if (mq_commit(c->mc, m) != ERR_OK)
		log_debug("consumer: offset commit deferred to the next one");
	mq_message_free(m);
	c->holding = false;
	c->attempts = 0;
}

static void consumer_prune(struct consumer *c)
{
	char secs[32], rows[32];
	snprintf(secs, sizeof(secs), "%ld", c->opts.retention_s);
	snprintf(rows, sizeof(rows), "%d", CONSUMER_PRUNE_ROWS);
	const char *p[] = {secs, rows};
	c->prune_ms = clock_ms() + CONSUMER_PRUNE_EVERY_MS;
	if (db_in_transaction(c->db))
		return;
	if (db_exec_prepared(c->db, "consumer_prune",
	                     "DELETE FROM processed_events WHERE event_id IN (SELECT event_id FROM "
	                     "processed_events WHERE processed_at < now() - "
	                     "make_interval(secs => $1::bigint) LIMIT $2::int)",
	                     2, p, NULL) != ERR_OK)
		log_debug("consumer: prune failed, next time then");
}

void consumer_reconnect(struct consumer *c, const struct mq_opts *mq)
{
	c->mq = *mq;
	/* A message belongs to its client: free it first. */
	if (c->holding)
		mq_message_free(&c->held);
	c->holding = false;
	c->attempts = 0;
	mq_consumer_drop(c->mc);
	c->mc = NULL;
	mq_producer_free(c->dlq, 0);
	c->dlq = NULL;
	/* A failure is logged by mq; consumer_step tries again. */
	(void)consumer_open(c);
}

long consumer_step(struct consumer *c, int max_messages)
{
	long long now = clock_ms();
	if ((!c->mc || !c->dlq) && consumer_open(c) != ERR_OK)
		return CONSUMER_REOPEN_MS;
	if (c->opts.retention_s > 0 && now >= c->prune_ms)
		consumer_prune(c);
	if (c->holding) {
		if (now < c->due_ms)
			return (long)(c->due_ms - now);
		consumer_settle(c, &c->held, consumer_handle(c, &c->held));
		if (c->holding)
			return c->wait_ms;
	}
	for (int i = 0; i < max_messages; i++) {
		struct mq_message m;
		if (mq_consumer_poll(c->mc, 0, &m) != ERR_OK)
			break;
		c->attempts = 0;
		consumer_settle(c, &m, consumer_handle(c, &m));
		if (c->holding)
			return c->wait_ms;
	}
	return -1;
}

int consumer_fd(const struct consumer *c)
{
	return c->mc ? mq_consumer_fd(c->mc) : -1;
}

void consumer_stats(const struct consumer *c, struct consumer_stats *out)
{
	*out = c->stats;
	out->holding = c->holding;
}
