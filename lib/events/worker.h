/* worker: the skeleton of every lectern-<service>-worker.
 *
 * One loop, one thread, waiting in poll(2) on everything at once: the outbox
 * relay (its database notifications and the broker's acks), the consumer
 * group (messages) and the job queue (notifications of new jobs). A job runs
 * in the loop's thread while a heartbeat thread, on its own connection,
 * renews its lease and writes its progress. SIGTERM or SIGINT stops the loop
 * gracefully: the job in hand finishes (or is released if its handler gives
 * up with ERR_UNAVAILABLE), the batch in flight is waited for, offsets of
 * applied messages are committed, then the clients close. A health line is
 * logged every LECTERN_HEALTH_INTERVAL_S seconds and at exit. The loop never
 * waits for Kafka (except a dead-lettering, up to 10 s for its ack), so jobs
 * run on while the broker is away.
 *
 * LECTERN_KAFKA_BOOTSTRAP_FILE (used when LECTERN_KAFKA_BOOTSTRAP is not set)
 * is read again every second: when the address in it changes (the lab
 * broker restarted on new ports), the Kafka clients are made anew; unsent
 * outbox rows go out through the new producer. A missing or empty file (a
 * broker between stop and start) keeps the address in use.
 *
 * Settings (environment; see worker.c for bounds and defaults; the
 * database and log level are the service's, lib/app/service.h):
 *   LECTERN_KAFKA_BOOTSTRAP (or LECTERN_KAFKA_BOOTSTRAP_FILE,
 *   e.g. the lab broker's bootstrap file), LECTERN_KAFKA_OPTIONS,
 *   LECTERN_WORKER_NAME, LECTERN_CONSUMER_GROUP,
 *   LECTERN_CONSUMER_MAX_ATTEMPTS, LECTERN_CONSUMER_RETRY_MS,
 *   LECTERN_PROCESSED_RETENTION_S, LECTERN_OUTBOX_BATCH,
 *   LECTERN_OUTBOX_RETENTION_S, LECTERN_KAFKA_MESSAGE_TIMEOUT_MS,
 *   LECTERN_JOB_LEASE_MS, LECTERN_JOB_IDLE_MS, LECTERN_HEALTH_INTERVAL_S. */
#ifndef LECTERN_WORKER_H
#define LECTERN_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cfg.h"
#include "events/consumer.h"
#include "data/db.h"
#include "events/job.h"

enum { WORKER_JOB_KINDS_MAX = JOB_KINDS_MAX };

/* Runs one claimed job, outside any transaction, on the worker's connection.
 * Return ERR_OK after calling job_complete in the transaction that stores
 * the job's effect (if it did not, the runner completes it with no result);
 * ERR_UNAVAILABLE to give the job back when worker_stopping(); ERR_INVALID
 * to fail it for good; any other error to retry it after a backoff. */
typedef enum err worker_job_fn(struct db *db, const struct job *job, struct pool *pool, void *arg);

/* Called once a job has failed for good, so that its service records the
 * failure where its users look (the resource's status, its event): after
 * the last attempt's error or ERR_INVALID, or when the worker running the
 * last attempt was lost (then in whichever worker reaps it, why being
 * JOB_LOST_ERROR). Outside any transaction; the job's row says failed. */
typedef void worker_job_failed_fn(struct db *db, const struct job *job, const char *why,
                                  struct pool *pool, void *arg);

struct worker_job_kind {
	const char *kind;
	worker_job_fn *run;
	void *arg;
	worker_job_failed_fn *failed; /* may be NULL */
};

struct worker_def {
	const char *service;                     /* "documents": names the log and the group */
	const struct consumer_handler *handlers; /* the topics it consumes (may be none) */
	size_t nhandlers;
	const struct worker_job_kind *jobs; /* the job kinds it runs (may be none) */
	size_t njobs;
};

/* The worker's settings (Kafka, consumer group, relay, jobs) as a table, for
 * the service start-up to load and list with the others. */
struct cfg_table worker_settings(void);
/* Runs with the loaded settings on the database dsn until SIGTERM/SIGINT;
 * returns the exit status (0 after a graceful stop, 1 when it could not
 * start). Logging is set up by the caller. */
int worker_run(const struct worker_def *def, const char *dsn);
/* True once a stop was asked: long job handlers should check it. */
bool worker_stopping(void);
/* Sets the progress (0..100) of the job in hand; the heartbeat stores it. */
void worker_job_progress(long percent);
/* True when the job in hand was taken over by another worker (lease lost). */
bool worker_job_lost(void);

#endif
