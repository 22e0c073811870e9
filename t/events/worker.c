/* A worker for the events tests: consumes document.uploaded into t_applied
 * and runs "t-sleep" jobs that record their effect in t_job_effects, and
 * the failure of one that failed for good in t_job_failed. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/service.h"
#include "events/job.h"

/* Applies document.uploaded; a payload with "poison": true always fails. */
static enum err t_apply(struct db *db, const struct event *ev, void *arg)
{
	struct json_object *v = NULL;
	if (json_object_object_get_ex(ev->payload, "poison", &v) && json_object_get_boolean(v))
		return ERR_INTERNAL;
	const char *doc = "";
	if (json_object_object_get_ex(ev->payload, "document_id", &v))
		doc = json_object_get_string(v);
	const char *p[] = {ev->id, doc};
	return db_exec(db, "INSERT INTO t_applied (event_id, document_id) VALUES ($1, $2)", 2, p,
	               NULL);
}

/* Sleeps input.ms in small steps, then completes with its effect. */
static enum err t_sleep(struct db *db, const struct job *job, struct pool *pool, void *arg)
{
	long ms = 0;
	struct json_object *in = json_tokener_parse(job->input), *v = NULL;
	if (in && json_object_object_get_ex(in, "ms", &v))
		ms = json_object_get_int64(v);
	json_object_put(in);
	if (ms < 0)
		return ERR_INTERNAL; /* fails every attempt */
	for (long slept = 0; slept < ms; slept += 50) {
		if (worker_stopping())
			return ERR_UNAVAILABLE;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
		worker_job_progress(slept * 100 / ms);
	}
	enum err e = db_begin(db);
	const char *p[] = {job->id};
	if (!e)
		e = db_exec(db, "INSERT INTO t_job_effects (job_id) VALUES ($1)", 1, p, NULL);
	if (!e)
		e = job_complete(db, job, "{\"ok\": true}");
	return db_end(db, e);
}

/* Records why a job failed for good (the hook services use for their
 * resource's status and event). */
static void t_failed(struct db *db, const struct job *job, const char *why, struct pool *pool,
                     void *arg)
{
	(void)pool;
	(void)arg;
	const char *p[] = {job->id, why};
	if (db_exec(db, "INSERT INTO t_job_failed (job_id, why) VALUES ($1, $2)", 2, p, NULL) !=
	    ERR_OK)
		fprintf(stderr, "t-sleep: the failure of %s could not be recorded\n", job->id);
}

static const struct consumer_handler t_handlers[] = {{"document.uploaded", t_apply, NULL}};
static const struct worker_job_kind t_jobs[] = {{"t-sleep", t_sleep, NULL, t_failed}};

/* Declared as the documents service's worker: it consumes that group's
 * topics and runs in its database. */
static const struct service_def t_service = {
    .name = "documents",
    .clients = SERVICE_DB,
    .jobs = t_jobs,
    .njobs = 1,
    .consumers = t_handlers,
    .nconsumers = 1,
};

int main(int argc, char **argv)
{
	return service_main(&t_service, argc, argv);
}
