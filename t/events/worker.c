/* A worker for the events tests: consumes document.uploaded into t_applied
 * and runs "t-sleep" jobs that record their effect in t_job_effects. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events/job.h"
#include "events/worker.h"

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
	if (!e)
		return db_commit(db);
	db_rollback(db);
	return e;
}

int main(int argc, char **argv)
{
	static const struct consumer_handler handlers[] = {{"document.uploaded", t_apply, NULL}};
	static const struct worker_job_kind jobs[] = {{"t-sleep", t_sleep, NULL}};
	struct worker_def def = {"documents", handlers, 1, jobs, 1, NULL, 0};
	return worker_main(&def, argc, argv);
}
