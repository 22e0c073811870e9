/* outbox: outbox_add and the relay's claim-publish-mark cycle. */
#include "core/clock.h"
#include "events/outbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

enum {
	OUTBOX_PRUNE_EVERY_MS = 60000, /* how often sent rows are pruned */
	OUTBOX_PRUNE_ROWS = 10000,     /* rows deleted per prune */
	OUTBOX_STANDBY_MS = 1000,      /* a relay without the lock tries again after this */
	OUTBOX_BACKOFF_MIN_MS = 100,
	OUTBOX_FLUSH_MS = 5000 /* wait for a batch in flight at free */
};

struct outbox_relay {
	struct db *db;
	struct mq_producer *producer;
	struct mq_opts mq; /* strings owned by the caller, for a new producer */
	struct outbox_relay_opts opts;
	unsigned long listen_generation; /* db_generation when LISTEN ran; 0 = not yet */
	PGresult *batch;                 /* rows in flight (inside the open transaction) */
	enum err *results;               /* per row of batch */
	int pending;                     /* reports still awaited */
	long long due_ms;                /* next claim (monotonic) */
	long long prune_ms;              /* next prune */
	long backoff_ms;                 /* current wait after failures (0 = none) */
	bool woken;
	struct outbox_relay_stats stats;
};

enum err outbox_params(const struct event *ev, struct pool *pool, const char *out[OUTBOX_PARAMS])
{
	char key[EVENT_KEY_MAX];
	struct buf body;
	enum err e = event_key(ev, key, sizeof(key));
	if (e)
		return e;
	buf_init(&body);
	e = event_encode(ev, &body);
	if (e == ERR_OK) {
		out[0] = pool_strdup(pool, ev->id);
		out[1] = pool_strdup(pool, ev->type);
		out[2] = pool_strdup(pool, key);
		out[3] = pool_strndup(pool, body.data, body.len);
	}
	buf_clear(&body);
	return e;
}

enum err outbox_event_params(const char *type, const char *producer, const char *user_id,
                             struct json_object *payload, struct pool *pool,
                             const char *out[OUTBOX_PARAMS])
{
	struct event ev;
	enum err e = event_init(&ev, type, producer, user_id, payload);
	if (e == ERR_OK)
		e = outbox_params(&ev, pool, out);
	event_clear(&ev);
	return e;
}

enum err outbox_add(struct db *db, const struct event *ev)
{
	struct pool *pool = pool_new();
	const char *params[OUTBOX_PARAMS];
	enum err e = outbox_params(ev, pool, params);
	/* One round trip: the row and the relay's wake-up, which Postgres
	 * delivers at commit only, once per transaction however many events. */
	if (e == ERR_OK)
		e = db_exec_prepared(db, "outbox_add",
		                     "WITH added AS (" OUTBOX_INSERT " VALUES ($1, $2, $3, $4)) "
		                     "SELECT " OUTBOX_NOTIFY,
		                     OUTBOX_PARAMS, params, NULL);
	pool_free(pool);
	return e;
}

enum err outbox_record(struct db *db, const char *type, const char *producer, const char *user_id,
                       struct json_object *payload)
{
	struct event ev;
	enum err e = event_init(&ev, type, producer, user_id, payload);
	if (e == ERR_OK)
		e = outbox_add(db, &ev);
	event_clear(&ev);
	return e;
}

static void outbox_delivered(void *msg_opaque, enum err result, void *arg)
{
	struct outbox_relay *r = arg;
	intptr_t i = (intptr_t)msg_opaque - 1;
	if (!r->batch || i < 0 || i >= PQntuples(r->batch))
		return; /* a report for a batch already given up */
	r->results[i] = result;
	r->pending--;
}

static enum err outbox_producer_open(struct outbox_relay *r)
{
	return mq_producer_new(&r->mq, outbox_delivered, r, &r->producer);
}

enum err outbox_relay_new(const char *dsn, const struct mq_opts *mq,
                          const struct outbox_relay_opts *opts, struct outbox_relay **out)
{
	if (opts->batch < 1 || opts->batch > OUTBOX_BATCH_MAX || opts->idle_ms < 1 ||
	    opts->backoff_max_ms < OUTBOX_BACKOFF_MIN_MS || opts->retention_s < 0) {
		log_error("outbox relay: bad options");
		return ERR_INVALID;
	}
	struct outbox_relay *r = xcalloc(1, sizeof(*r));
	r->mq = *mq;
	r->opts = *opts;
	r->due_ms = clock_ms();
	r->prune_ms = r->due_ms;
	enum err e = db_connect(dsn, 30000, &r->db);
	if (e == ERR_UNAVAILABLE) {
		/* db reconnects on first use; the relay retries with backoff. */
		log_warn("outbox relay: database not reachable yet");
	}
	if (e)
		goto bad;
	e = outbox_producer_open(r);
	if (e)
		goto bad;
	*out = r;
	return ERR_OK;
bad:
	outbox_relay_free(r, 0);
	return e;
}

/* Ends the batch: marks the acknowledged rows sent, counts the failed ones,
 * commits. */
static void outbox_finish(struct outbox_relay *r)
{
	int n = PQntuples(r->batch);
	struct buf sent, failed;
	buf_init(&sent);
	buf_init(&failed);
	buf_putc(&sent, '{');
	buf_putc(&failed, '{');
	int nsent = 0, nfailed = 0;
	enum err why = ERR_OK;
	for (int i = 0; i < n; i++) {
		struct buf *b = r->results[i] == ERR_OK ? &sent : &failed;
		if (r->results[i] == ERR_OK ? nsent++ : nfailed++)
			buf_putc(b, ',');
		buf_puts(b, PQgetvalue(r->batch, i, 0));
		if (r->results[i] != ERR_OK)
			why = r->results[i];
	}
	buf_putc(&sent, '}');
	buf_putc(&failed, '}');
	enum err e = ERR_OK;
	if (nsent) {
		const char *p[] = {sent.data};
		e = db_exec_prepared(
		    r->db, "outbox_sent",
		    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", 1, p, NULL);
	}
	if (!e && nfailed) {
		const char *p[] = {failed.data, err_message(why)};
		e = db_exec_prepared(
		    r->db, "outbox_failed",
		    "UPDATE outbox SET attempts = attempts + 1, last_error = left($2, 256) "
		    "WHERE id = ANY($1::bigint[])",
		    2, p, NULL);
	}
	if (!e)
		e = db_commit(r->db);
	else
		db_rollback(r->db);
	if (!e) {
		r->stats.published += (unsigned long long)nsent;
		r->stats.failed += (unsigned long long)nfailed;
	} else {
		/* Not marked: the acknowledged rows go out again (consumers deduplicate). */
		log_warn("outbox relay: could not mark %d published rows: %s", nsent,
		         err_message(e));
	}
	r->stats.broker_ok = nfailed == 0;
	if (nfailed || e) {
		if (nfailed)
			log_warn("outbox relay: %d of %d events not acknowledged: %s", nfailed, n,
			         err_message(why));
		r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : OUTBOX_BACKOFF_MIN_MS;
		if (r->backoff_ms > r->opts.backoff_max_ms)
			r->backoff_ms = r->opts.backoff_max_ms;
		r->due_ms = clock_ms() + r->backoff_ms;
	} else {
		r->backoff_ms = 0;
		r->due_ms = clock_ms(); /* there may be more */
	}
	buf_clear(&sent);
	buf_clear(&failed);
	PQclear(r->batch);
	r->batch = NULL;
	free(r->results);
	r->results = NULL;
	r->pending = 0;
	/* The idempotence guarantee is gone with a fatal error: only a new
	 * producer (a new producer id) may publish again. */
	if (r->producer && mq_producer_fatal(r->producer)) {
		log_warn("outbox relay: making a new producer after a fatal error");
		mq_producer_free(r->producer, 0);
		r->producer = NULL;
		if (outbox_producer_open(r) != ERR_OK)
			r->due_ms = clock_ms() + r->opts.backoff_max_ms;
	}
}

static void outbox_fail(struct outbox_relay *r, const char *what, enum err e)
{
	log_warn("outbox relay: %s: %s", what, err_message(e));
	if (db_in_transaction(r->db))
		db_rollback(r->db);
	r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : OUTBOX_BACKOFF_MIN_MS;
	if (r->backoff_ms > r->opts.backoff_max_ms)
		r->backoff_ms = r->opts.backoff_max_ms;
	r->due_ms = clock_ms() + r->backoff_ms;
}

/* LISTENs on a new connection and collects notifications. */
static void outbox_listen(struct outbox_relay *r)
{
	PGconn *conn = db_conn(r->db);
	if (r->listen_generation != db_generation(r->db) || !conn) {
		if (db_exec(r->db, "LISTEN " OUTBOX_CHANNEL, 0, NULL, NULL) != ERR_OK)
			return;
		r->listen_generation = db_generation(r->db);
		r->woken = true; /* notifications may have been missed meanwhile */
		conn = db_conn(r->db);
	}
	if (!conn || !PQconsumeInput(conn))
		return;
	PGnotify *n;
	while ((n = PQnotifies(conn))) {
		r->woken = true;
		PQfreemem(n);
	}
}

static void outbox_prune(struct outbox_relay *r)
{
	char secs[32], rows[32];
	snprintf(secs, sizeof(secs), "%ld", r->opts.retention_s);
	snprintf(rows, sizeof(rows), "%d", OUTBOX_PRUNE_ROWS);
	const char *p[] = {secs, rows};
	PGresult *res = NULL;
	r->prune_ms = clock_ms() + OUTBOX_PRUNE_EVERY_MS;
	if (db_exec_prepared(
	        r->db, "outbox_prune",
	        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at < "
	        "now() - make_interval(secs => $1::bigint) ORDER BY sent_at LIMIT $2::int)",
	        2, p, &res) == ERR_OK) {
		r->stats.pruned += (unsigned long long)db_affected(res);
		PQclear(res);
	}
}

/* Claims the next batch and hands it to the producer. */
static void outbox_claim(struct outbox_relay *r)
{
	PGresult *res = NULL;
	enum err e = db_begin(r->db);
	if (e) {
		outbox_fail(r, "cannot begin", e);
		return;
	}
	e = db_exec_prepared(r->db, "outbox_lock",
	                     "SELECT pg_try_advisory_xact_lock(" OUTBOX_LOCK_KEY ")", 0, NULL,
	                     &res);
	if (e) {
		outbox_fail(r, "cannot take the relay lock", e);
		return;
	}
	r->stats.leader = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!r->stats.leader) {
		db_rollback(r->db);
		r->due_ms = clock_ms() + OUTBOX_STANDBY_MS;
		return;
	}
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", r->opts.batch);
	const char *p[] = {limit};
	e = db_exec_prepared(r->db, "outbox_claim",
	                     "SELECT id, topic, msg_key, body FROM outbox WHERE sent_at IS NULL "
	                     "ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED",
	                     1, p, &res);
	if (e) {
		outbox_fail(r, "cannot claim a batch", e);
		return;
	}
	int n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		if ((e = db_commit(r->db)) != ERR_OK)
			outbox_fail(r, "cannot commit", e);
		else
			r->due_ms = clock_ms() + r->opts.idle_ms;
		return;
	}
	r->batch = res;
	r->results = xcalloc((size_t)n, sizeof(*r->results));
	r->pending = n;
	/* A row without a report (producer given up) counts as not acknowledged. */
	for (int i = 0; i < n; i++)
		r->results[i] = ERR_UNAVAILABLE;
	for (int i = 0; i < n; i++) {
		const char *key = PQgetvalue(res, i, 2);
		e = mq_produce(r->producer, PQgetvalue(res, i, 1), key, strlen(key),
		               PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3), NULL, 0,
		               (void *)(intptr_t)(i + 1));
		if (e) {
			r->results[i] = e;
			r->pending--;
		}
	}
}

long outbox_relay_step(struct outbox_relay *r)
{
	if (r->producer)
		mq_producer_poll(r->producer, 0);
	if (r->batch) {
		if (r->pending > 0)
			return r->opts.idle_ms; /* the producer's descriptor wakes us */
		outbox_finish(r);
	}
	outbox_listen(r);
	long long now = clock_ms();
	bool backing_off = r->backoff_ms > 0 && now < r->due_ms;
	if (!backing_off && now >= r->prune_ms)
		outbox_prune(r);
	if (backing_off || (!r->woken && now < r->due_ms))
		return (long)(r->due_ms - now);
	r->woken = false;
	if (!r->producer && outbox_producer_open(r) != ERR_OK) {
		r->due_ms = now + r->opts.backoff_max_ms;
		return r->opts.backoff_max_ms;
	}
	outbox_claim(r);
	if (r->batch)
		return r->pending ? r->opts.idle_ms : 0;
	now = clock_ms();
	return r->due_ms > now ? (long)(r->due_ms - now) : 0;
}

void outbox_relay_reconnect(struct outbox_relay *r, const struct mq_opts *mq)
{
	r->mq = *mq;
	/* Freeing reports what was in flight as failed; the batch then ends. */
	mq_producer_free(r->producer, 0);
	r->producer = NULL;
	if (r->batch)
		outbox_finish(r);
	r->backoff_ms = 0;
	r->woken = true;
	r->due_ms = clock_ms();
	/* A failure is logged by mq; outbox_relay_step tries again. */
	(void)outbox_producer_open(r);
}

void outbox_relay_fds(struct outbox_relay *r, int fds[2])
{
	PGconn *conn = db_conn(r->db);
	fds[0] = conn ? PQsocket(conn) : -1;
	fds[1] = r->producer ? mq_producer_fd(r->producer) : -1;
}

void outbox_relay_stats(const struct outbox_relay *r, struct outbox_relay_stats *out)
{
	*out = r->stats;
}

void outbox_relay_free(struct outbox_relay *r, int timeout_ms)
{
	if (!r)
		return;
	if (r->batch && r->producer) {
		long long until = clock_ms() + timeout_ms;
		while (r->pending > 0 && clock_ms() < until)
			mq_producer_poll(r->producer, 50);
		if (r->pending == 0)
			outbox_finish(r);
	}
	if (r->batch) {
		/* Unacknowledged: the rows stay unsent and go out again later. */
		db_rollback(r->db);
		PQclear(r->batch);
		free(r->results);
		r->batch = NULL;
	}
	mq_producer_free(r->producer, 0);
	db_close(r->db);
	free(r);
}
