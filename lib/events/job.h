/* job: slow work in the jobs table (sql/common/001-events.sql), run by workers.
 *
 * A job is queued -> running -> completed | failed. A worker claims it with
 * FOR UPDATE SKIP LOCKED and holds a lease (lease_until) that it renews while
 * it runs; a job whose lease passed (its worker died) is claimed again. The
 * attempt number is the lease's fencing token: a worker that lost its lease
 * can no longer complete, fail or renew the job. Failures are retried with
 * exponential backoff until max_attempts. Completion and final failure send
 * pg_notify('job_done', id), which job_wait listens for.
 *
 * Fairness: a job has an owner (a user id). A claim takes the next job of
 * the owner with the fewest jobs running, and among equals of the one who
 * has waited longest since a job of theirs last started (round robin; each
 * owner's jobs in their own order), so one user's thousand jobs never stand
 * in front of another user's one. Each owner may
 * have at most job_owner_limit unfinished (queued or running) jobs: job_add
 * refuses more with ERR_RATE_LIMITED (429). */
#ifndef LECTERN_JOB_H
#define LECTERN_JOB_H

#include <stdbool.h>

#include "data/db.h"
#include "core/err.h"
#include "events/event.h"
#include "core/mem.h"

#define JOB_CHANNEL "job_done"
/* job_add notifies this channel (payload: the kind) to wake idle workers. */
#define JOB_NEW_CHANNEL "lectern_job"

enum {
	JOB_KIND_MAX = 64,      /* a job kind ("ocr") */
	JOB_WORKER_MAX = 128,   /* a worker's name (host:pid) */
	JOB_KINDS_MAX = 16,     /* kinds one claim asks for */
	JOB_ERROR_MAX = 1024,   /* stored error text */
	JOB_BACKOFF_BASE_S = 5, /* first retry after this; doubles */
	JOB_BACKOFF_MAX_S = 600,
	JOB_OWNER_LIMIT_DEFAULT = 100, /* unfinished jobs of one owner */
	JOB_RETRY_AFTER_S = 10         /* Retry-After of a refusal: about one job's time */
};

/* A claimed job; strings are in the pool given to job_claim. */
struct job {
	char id[EVENT_ID_LEN + 1];
	char kind[JOB_KIND_MAX];
	char worker[JOB_WORKER_MAX];
	long attempt; /* 1 for the first run; the fencing token */
	long max_attempts;
	const char *input; /* JSON text */
};

/* What status endpoints show; strings are in the pool. */
struct job_status {
	const char *state; /* "queued", "running", "completed", "failed" */
	long progress;     /* 0..100 */
	long attempts;
	const char *result; /* JSON text or NULL */
	const char *error;  /* or NULL */
};

/* Queues a job. id may be NULL (a new UUID) or the caller's (a task id);
 * input_json is a JSON object text; max_attempts 1..100. Call it in the
 * transaction that stores the job's input (workers are woken at its
 * commit; the owner's bound is exact only then). The id goes to out_id.
 * The owner is the input's "user_id" member when it has one (else none).
 * ERR_RATE_LIMITED when the owner already has job_owner_limit unfinished
 * jobs (answer 429 with Retry-After: JOB_RETRY_AFTER_S). */
enum err job_add(struct db *db, const char *id, const char *kind, const char *input_json,
                 long max_attempts, char out_id[EVENT_ID_LEN + 1]) MUST_CHECK;
/* As job_add with the owner named (a user id; NULL: the input's user_id). */
enum err job_add_owned(struct db *db, const char *id, const char *kind, const char *owner,
                       const char *input_json, long max_attempts,
                       char out_id[EVENT_ID_LEN + 1]) MUST_CHECK;
/* ERR_RATE_LIMITED when owner's queue is full (a cheap early check before
 * a request does costly work; job_add checks again). */
enum err job_owner_room(struct db *db, const char *owner) MUST_CHECK;
/* The bound of every owner's unfinished jobs (0: none); the process's
 * settings set it once (LECTERN_JOBS_PER_USER). */
void job_set_owner_limit(long limit);
long job_owner_limit(void);
/* A prefork process that waits in job_wait serves nobody else meanwhile, so
 * a pool admits waits through a gate: take() says whether this wait may
 * block (else job_wait looks once and answers ERR_TIMEOUT at once), give()
 * ends an admitted wait. Unset (workers, tools): every wait is admitted. */
void job_set_wait_gate(bool (*take)(void), void (*give)(void));
/* The error a reaped job is failed with. */
#define JOB_LOST_ERROR "the worker was lost during its last attempt"
/* Marks running jobs whose lease passed and that have no attempt left as
 * failed with JOB_LOST_ERROR (and notifies), then calls each (may be NULL)
 * with every one of them (its input valid during the call), so that the
 * job's service can record the failure as its own. Returns how many. */
long job_reap(struct db *db, void (*each)(struct db *db, const struct job *job, void *arg),
              void *arg);
/* Claims the oldest due job of one of the kinds (queued and due, or running
 * with an expired lease) for worker, with a lease of lease_ms.
 * ERR_NOT_FOUND when none. */
enum err job_claim(struct db *db, const char *const *kinds, size_t nkinds, const char *worker,
                   long lease_ms, struct pool *pool, struct job *out) MUST_CHECK;
/* Extends the lease (and sets progress 0..100 unless progress < 0).
 * ERR_CONFLICT when the job is no longer this worker's. */
enum err job_renew(struct db *db, const struct job *job, long lease_ms, long progress) MUST_CHECK;
/* Completes the job with result_json (may be NULL). Call it inside the
 * transaction that stores the job's effect, so both happen once.
 * ERR_CONFLICT when the job is no longer this worker's (roll back then). */
enum err job_complete(struct db *db, const struct job *job, const char *result_json) MUST_CHECK;
/* As job_complete with no result, for the runner after a handler returned
 * ERR_OK: quiet when the handler already completed the job itself
 * (ERR_CONFLICT then, as when the job was lost). */
enum err job_settle(struct db *db, const struct job *job) MUST_CHECK;
/* Records a failed attempt: queued again after a backoff while attempts are
 * left and retry is true, else failed for good (and notifies). */
enum err job_fail(struct db *db, const struct job *job, const char *error, bool retry) MUST_CHECK;
/* Gives the job back untouched (a stopping worker): queued, due now, and
 * this attempt not counted. */
enum err job_release(struct db *db, const struct job *job) MUST_CHECK;
/* The job's status. ERR_NOT_FOUND when there is no such job. */
enum err job_get(struct db *db, const char *id, struct pool *pool,
                 struct job_status *out) MUST_CHECK;
/* Waits up to timeout_ms for the job to be completed or failed, woken by
 * LISTEN job_done (no polling), and fills out with its status either way.
 * ERR_OK when it finished, ERR_TIMEOUT when it had not (answer 202),
 * ERR_NOT_FOUND when there is no such job. Must be called outside a
 * transaction; leaves no LISTEN behind. */
enum err job_wait(struct db *db, const char *id, long timeout_ms, struct pool *pool,
                  struct job_status *out) MUST_CHECK;

#endif
