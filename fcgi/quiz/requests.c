/* quiz requests: a generation that runs as a job (many questions, a long
 * text, or a model to ask). The request stores what was asked, queues its
 * job and records quiz.requested in one transaction, then waits up to
 * `wait` seconds for the worker (job_wait, woken by LISTEN/NOTIFY); the
 * worker makes the quiz under the request's id and records quiz.generated
 * with it, so GET /{id} finds the request, then the quiz. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "events/replica.h"
#include "events/worker.h"
#include "quiz.h"
#include "web/valid.h"

static const char *const difficulty_names[] = {"easy", "medium", "hard", NULL};

/* The request, its job and quiz.requested, in one transaction. */
static enum err enqueue(struct http_req *req, const char *id, const struct quiz_ask *a,
                        char job_id[EVENT_ID_LEN + 1])
{
	struct db *db = service_db();
	const char *input = pool_printf(req->pool, "{\"quiz_id\":\"%s\"}", id);
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = job_add(db, NULL, QUIZ_JOB_GENERATE, input, QUIZ_JOB_ATTEMPTS, job_id);
	if (e == ERR_OK) {
		const char *p[] = {id,
		                   req->user_id,
		                   a->document_id,
		                   a->document_id ? NULL : a->filename,
		                   a->title,
		                   difficulty_names[a->q.difficulty],
		                   quiz_types_array(req->pool, a->q.types),
		                   pool_printf(req->pool, "%zu", a->q.count),
		                   pool_printf(req->pool, "%ld", a->pages > 0 ? a->pages : 1),
		                   a->document_id ? NULL : a->text,
		                   job_id};
		e = db_exec_prepared(db, "quiz_request_insert",
		                     "INSERT INTO quiz_requests (id, user_id, document_id, "
		                     "source_filename, title, difficulty, types, num_questions, "
		                     "pages, text, job_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
		                     "$9, $10, $11)",
		                     11, p, NULL);
	}
	if (e == ERR_OK)
		e = quiz_record_requested(db, req->user_id, id, a);
	return db_end(db, e);
}

/* The state of a request without a quiz: 202 while it runs (with its status
 * URL), 200 with the error once it failed. */
static enum err answer_state(struct http_req *req, const char *id, const char *state,
                             const char *error)
{
	bool failed = strcmp(state, "failed") == 0;
	const char *url = pool_printf(req->pool, "/api/v1/quizzes/%s", id);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "quiz_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string(state));
	json_object_object_add(o, "status_url", json_object_new_string(url));
	json_object_object_add(o, "error", error ? json_object_new_string(error) : NULL);
	enum err e = failed ? ERR_OK : http_add_header(req, "Location", url);
	if (e != ERR_OK) {
		json_object_put(o);
		return e;
	}
	return http_send_json(req, failed ? 200 : 202, o);
}

/* The caller's request: status, error, its HTTP status and the job's id;
 * ERR_NOT_FOUND when there is none. */
static enum err load_request(struct http_req *req, const char *id, const char *v[4])
{
	const char *p[] = {id, req->user_id};
	return db_row(service_db(),
	              "SELECT status, error, error_status::text, job_id FROM quiz_requests WHERE "
	              "id = $1 AND user_id = $2",
	              2, p, req->pool, 4, v);
}

enum err quiz_generate_job(struct http_req *req, const char *id, const struct quiz_ask *a)
{
	char job_id[EVENT_ID_LEN + 1];
	enum err e = enqueue(req, id, a, job_id);
	if (e != ERR_OK)
		return e;
	log_info("quiz %s: %zu questions queued as job %s", id, a->q.count, job_id);
	long wait = http_param(req, "wait") ? http_param_int(req, "wait") : QUIZ_WAIT_DEFAULT_S;
	struct job_status js;
	e = job_wait(service_db(), job_id, wait * 1000, req->pool, &js);
	if (e == ERR_TIMEOUT)
		return answer_state(
		    req, id, strcmp(js.state, "running") == 0 ? "processing" : "queued", NULL);
	if (e != ERR_OK) {
		log_warn("quiz %s: waiting for job %s failed; answering 202", id, job_id);
		return answer_state(req, id, "queued", NULL);
	}
	const char *v[4];
	e = load_request(req, id, v);
	if (e != ERR_OK)
		return e == ERR_NOT_FOUND ? quiz_not_found(req) : e;
	if (strcmp(v[0], "completed") == 0)
		return quiz_answer_made(req, id);
	/* Failed: the document gone (404), the text too short (422), or every
	 * attempt failed (503, also when the failure could not be recorded). */
	if (v[1] && v[2] && strcmp(v[2], "503") != 0)
		return http_error(req, strcmp(v[2], "404") == 0 ? ERR_NOT_FOUND : ERR_UNPROCESSABLE,
		                  "%s", v[1]);
	return http_error(req, ERR_UNAVAILABLE, "%s", QUIZ_NOT_MADE);
}

enum err quiz_request_get(struct http_req *req, const char *id, enum quiz_request_found *found)
{
	*found = QUIZ_REQUEST_NONE;
	const char *v[4];
	enum err e = load_request(req, id, v);
	if (e == ERR_NOT_FOUND)
		return ERR_OK;
	if (e != ERR_OK)
		return e;
	if (strcmp(v[0], "completed") == 0) {
		*found = QUIZ_REQUEST_MADE;
		return ERR_OK;
	}
	*found = QUIZ_REQUEST_ANSWERED;
	if (strcmp(v[0], "failed") == 0)
		return answer_state(req, id, "failed", v[1]);
	/* Still queued here: the job says whether it runs or gave up. */
	struct job_status js;
	e = job_get(service_db(), v[3], req->pool, &js);
	if (e != ERR_OK && e != ERR_NOT_FOUND)
		return e;
	if (e == ERR_OK && strcmp(js.state, "failed") == 0)
		return answer_state(req, id, "failed", QUIZ_NOT_MADE);
	return answer_state(
	    req, id, e == ERR_OK && strcmp(js.state, "running") == 0 ? "processing" : "queued",
	    NULL);
}

enum err quiz_request_delete(struct http_req *req, const char *id, bool *deleted)
{
	const char *p[] = {id, req->user_id};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(service_db(), "quiz_request_delete",
	                              "DELETE FROM quiz_requests WHERE id = $1 AND user_id = $2", 2,
	                              p, &res);
	*deleted = e == ERR_OK && db_affected(res) == 1;
	PQclear(res);
	return e;
}

/* The job's end when no quiz can be made: the request failed with the
 * learner's sentence, quiz.generated "failed", the job done (when job is
 * not NULL; else the runner fails it). */
static enum err fail_request(struct db *db, struct pool *pool, const struct job *job,
                             const char *user_id, const char *id, const struct quiz_ask *a,
                             int status, const char *message)
{
	const char *p[] = {id, message, pool_printf(pool, "%d", status)};
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = db_exec_prepared(db, "quiz_request_fail",
		                     "UPDATE quiz_requests SET status = 'failed', error = $2, "
		                     "error_status = $3, text = NULL WHERE id = $1",
		                     3, p, NULL);
	if (e == ERR_OK)
		e = quiz_record_generated(db, pool, user_id, id, a, NULL, 0, NULL);
	if (e == ERR_OK && job)
		e = job_complete(db, job, NULL);
	log_info("quiz %s: not generated: %s", id, message);
	return db_end(db, e);
}

/* The quiz_id of the job's input, or NULL. */
static const char *input_id(const struct job *job, struct pool *pool)
{
	struct json_object *o = http_json_parse(job->input, strlen(job->input)), *v = NULL;
	const char *id = NULL;
	if (o && json_object_object_get_ex(o, "quiz_id", &v) &&
	    json_object_is_type(v, json_type_string) && event_is_uuid(json_object_get_string(v)))
		id = pool_strdup(pool, json_object_get_string(v));
	json_object_put(o);
	return id;
}

/* The queued request id as asked (v: its columns, as selected here, in
 * pool); ERR_NOT_FOUND when it is gone or no longer queued. */
static enum err load_ask(struct db *db, struct pool *pool, const char *id, const char *v[9],
                         struct quiz_ask *a)
{
	const char *p[] = {id};
	enum err e = db_row(db,
	                    "SELECT user_id, document_id, source_filename, title, difficulty, "
	                    "array_to_string(types, ','), num_questions, pages, text FROM "
	                    "quiz_requests WHERE id = $1 AND status = 'queued'",
	                    1, p, pool, 9, v);
	if (e != ERR_OK)
		return e;
	memset(a, 0, sizeof(*a));
	a->document_id = v[1];
	a->filename = v[2];
	a->title = v[3];
	size_t idx = 1;
	valid_enum(v[4], difficulty_names, &idx);
	a->q.difficulty = (enum quiz_difficulty)idx;
	for (const char *t = v[5]; *t;) {
		size_t n = strcspn(t, ",");
		a->q.types |= (unsigned)quiz_type_parse(t, n);
		t += n + (t[n] == ',');
	}
	a->q.count = strtoul(v[6], NULL, 10);
	a->pages = strtol(v[7], NULL, 10);
	return ERR_OK;
}

/* One attempt at the quiz of request id. */
static enum err generate(struct db *db, const struct job *job, struct pool *pool, const char *id)
{
	const char *p[] = {id};
	const char *v[9];
	struct quiz_ask a;
	enum err e = load_ask(db, pool, id, v, &a);
	if (e == ERR_NOT_FOUND)
		return ERR_OK; /* deleted, or already done by an earlier attempt */
	if (e != ERR_OK)
		return e;
	const char *user_id = v[0];
	if (a.document_id) {
		struct replica_doc doc;
		e = replica_load(db, pool, a.document_id, user_id, &doc);
		if (e == ERR_NOT_FOUND)
			return fail_request(db, pool, job, user_id, id, &a, 404,
			                    "The document was deleted before its quiz was made.");
		if (e != ERR_OK)
			return e;
		a.text = doc.text;
		a.len = doc.text_len;
		a.pages = doc.pages;
	} else {
		a.text = v[8] ? v[8] : "";
		a.len = strlen(a.text);
	}
	struct json_object *questions = NULL;
	size_t made = 0;
	const char *generator = NULL;
	e = quiz_make(pool, &a, id, &questions, &made, &generator);
	if (e == ERR_UNPROCESSABLE)
		return fail_request(db, pool, job, user_id, id, &a, 422,
		                    quiz_too_short(pool, a.q.count, made));
	if (e != ERR_OK)
		return e;
	/* The request is claimed first: its row lock orders this with a delete
	 * (quiz_delete removes the request, then the quiz), and a request deleted
	 * while its quiz was made leaves no quiz behind. */
	PGresult *res = NULL;
	e = db_begin(db);
	if (e == ERR_OK)
		e = db_exec_prepared(db, "quiz_request_done",
		                     "UPDATE quiz_requests SET status = 'completed', text = NULL "
		                     "WHERE id = $1 AND status = 'queued'",
		                     1, p, &res);
	if (e == ERR_OK && db_affected(res) != 1)
		e = ERR_NOT_FOUND;
	PQclear(res);
	if (e == ERR_OK)
		e = quiz_record_generated(db, pool, user_id, id, &a, questions, made, generator);
	if (e == ERR_OK)
		e = job_complete(db, job, NULL);
	e = db_end(db, e);
	json_object_put(questions);
	if (e == ERR_NOT_FOUND) {
		log_info("quiz %s: deleted while it was made; nothing kept", id);
		return ERR_OK;
	}
	if (e == ERR_OK)
		log_info("quiz %s: %zu questions (%s, %s)", id, made,
		         difficulty_names[a.q.difficulty], generator);
	return e;
}

/* After the job failed for good (its last attempt's error, or its worker
 * lost): the request fails with a sentence for the learner, and
 * quiz.generated says "failed", as for a text too short. Nothing when the
 * request is gone or finished, or when the database is what failed (the
 * request's status then still reads the job's: failed, with the same
 * sentence). */
void quiz_job_generate_failed(struct db *db, const struct job *job, const char *why,
                              struct pool *pool, void *arg)
{
	(void)arg;
	const char *v[9], *id = input_id(job, pool);
	struct quiz_ask a;
	if (!id || load_ask(db, pool, id, v, &a) != ERR_OK)
		return;
	log_warn("quiz %s: every attempt failed (last: %s)", id, why);
	if (fail_request(db, pool, NULL, v[0], id, &a, 503, QUIZ_NOT_MADE) != ERR_OK)
		log_warn("quiz %s: the failure could not be recorded", id);
}

/* Finished requests older than LECTERN_QUIZ_REQUEST_RETENTION_HOURS, a
 * batch at each job: completed ones (their quiz stays, GET finds it),
 * failed ones, and queued ones whose job is over (a worker that died on
 * the last attempt). Their quiz ids then answer 404 unless made. */
static void sweep(struct db *db)
{
	char hours[24];
	snprintf(hours, sizeof(hours), "%ld", quiz_cfg.request_retention_hours);
	const char *p[] = {hours};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(
	    db, "quiz_request_sweep",
	    "DELETE FROM quiz_requests WHERE id IN (SELECT r.id FROM quiz_requests r WHERE "
	    "r.created_at < now() - make_interval(hours => $1::int) AND (r.status <> 'queued' "
	    "OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.job_id AND j.state IN "
	    "('queued', 'running'))) LIMIT 100 FOR UPDATE SKIP LOCKED)",
	    1, p, &res);
	if (e == ERR_OK && db_affected(res) > 0)
		log_info("quiz worker: removed %ld finished generation requests", db_affected(res));
	PQclear(res);
}

enum err quiz_job_generate(struct db *db, const struct job *job, struct pool *pool, void *arg)
{
	(void)arg;
	const char *id = input_id(job, pool);
	if (!id)
		return ERR_INVALID;
	sweep(db);
	return generate(db, job, pool, id);
}
