/* quiz service: the pieces of lectern-quiz and lectern-quiz-worker shared
 * by their files (docs/api.md, "Quizzes").
 *
 * Each process holds one Postgres connection, which lib owns
 * (service_db()). Every query names the owner (req->user_id), so another
 * user's quiz is not found, exactly as a missing one. Documents are read
 * only from the replica that document.processed keeps (events/replica.h). */
#ifndef LECTERN_QUIZ_SERVICE_H
#define LECTERN_QUIZ_SERVICE_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app/service.h"
#include "core/err.h"
#include "events/job.h"
#include "extract/extract.h"
#include "text/quiz.h"
#include "web/http.h"

/* RFC 3339 UTC with milliseconds, computed by Postgres. */
#define QUIZ_SQL_TIME(col)                                                                         \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The columns of a quiz, in the order quiz_json reads them; the last one
 * is the best percentage of its attempts (NULL before the first). */
#define QUIZ_SQL_COLUMNS                                                                           \
	"q.id, q.title, q.difficulty, q.document_id, " QUIZ_SQL_TIME(                              \
	    "q.created_at") ", q.num_questions, q.questions, q.generator, q.source_filename, "     \
	                    "array_to_string(q.types, ','), "                                      \
	                    "(SELECT max(s.percentage) FROM submissions s WHERE s.quiz_id = "      \
	                    "q.id), "                                                              \
	                    "(SELECT count(*) FROM submissions s WHERE s.quiz_id = q.id)"

#define QUIZ_SERVICE "quiz"

enum {
	QUIZ_LIST_MAX = 100, /* quizzes in one page of the list */
	QUIZ_TITLE_MAX = 200,
	QUIZ_JSON_BODY_MAX = 64 * 1024,   /* a JSON generate or submit body */
	QUIZ_UPLOAD_OVERHEAD = 64 * 1024, /* multipart framing and fields on top of the file */
	QUIZ_PATH_MAX = 4096,             /* bytes of the temporary file's path */
	QUIZ_DEFAULT_QUESTIONS = 5,
	QUIZ_WAIT_MAX_S = 30, /* `wait` of a generation that runs as a job */
	QUIZ_WAIT_DEFAULT_S = 10,
	QUIZ_JOB_ATTEMPTS = 3 /* tries of a generation job (a model or database failure) */
};

#define QUIZ_JOB_GENERATE "quiz_generate"
/* What the learner reads when every attempt at a generation job failed. */
#define QUIZ_NOT_MADE "The quiz could not be generated; try again."

struct quiz_settings {
	long max_bytes;       /* largest uploaded file (LECTERN_QUIZ_MAX_BYTES) */
	const char *work_dir; /* where an upload is written to be read */
	struct extract_limits limits;
	long job_questions;           /* more questions than this run as a job */
	long job_bytes;               /* so does a text longer than this */
	long request_retention_hours; /* finished job requests kept this long */
};

/* What a generation asks for, after validation. */
struct quiz_ask {
	const char *document_id; /* or NULL for an uploaded file */
	const char *filename;    /* the file's or the document's name */
	const char *text;
	size_t len;
	long pages;
	struct quiz_request q; /* seed unset: the quiz id is given apart */
	const char *title;
};

extern struct quiz_settings quiz_cfg;

/* The quiz object of the contract from row of res (QUIZ_SQL_COLUMNS);
 * with_answers keeps correct answers and explanations, summary leaves the
 * questions out and adds the best score. The caller owns the result. */
struct json_object *quiz_json(const PGresult *res, int row, bool with_answers, bool summary);
/* Loads the caller's quiz id into *out (caller PQclear()s); ERR_NOT_FOUND,
 * with the message set, when the caller has none. */
enum err quiz_load(struct http_req *req, const char *id, PGresult **out) MUST_CHECK;
/* The 404 of a quiz or document that is missing, foreign or malformed. */
enum err quiz_not_found(struct http_req *req);

/* The result of question q (the i-th, 0-based; a stored question) for an
 * answer given (NULL when none), as submit and results show it. */
struct json_object *quiz_result_json(struct json_object *q, size_t i, bool right,
                                     struct json_object *given);

/* Handlers (one route each). */
enum err quiz_generate_handler(struct http_req *req);
enum err quiz_list(struct http_req *req);
enum err quiz_get(struct http_req *req);
enum err quiz_delete(struct http_req *req);
enum err quiz_submit(struct http_req *req);
enum err quiz_results(struct http_req *req);

/* The questions for quiz id as stored (JSON array, caller puts it) and
 * how many; extractive, then rewritten by the model when LECTERN_LLM_*
 * names one (*generator "llm:<model>" when any question came from it).
 * ERR_UNPROCESSABLE when the text gives fewer than asked (*made says how
 * many it can give). */
enum err quiz_make(struct pool *pool, const struct quiz_ask *a, const char *id,
                   struct json_object **questions, size_t *made, const char **generator) MUST_CHECK;
/* The sentence of a 422 for a text too short for asked questions. */
const char *quiz_too_short(struct pool *pool, size_t asked, size_t can);
/* types as a Postgres array literal, in pool. */
const char *quiz_types_array(struct pool *pool, unsigned types);
/* In the caller's transaction: quiz.requested; then the quiz (when
 * questions is not NULL) and quiz.generated, "completed" or "failed". */
enum err quiz_record_requested(struct db *db, const char *user_id, const char *id,
                               const struct quiz_ask *a) MUST_CHECK;
enum err quiz_record_generated(struct db *db, struct pool *pool, const char *user_id,
                               const char *id, const struct quiz_ask *a,
                               struct json_object *questions, size_t made,
                               const char *generator) MUST_CHECK;
/* 201 with the caller's quiz id, answers included, and its Location. */
enum err quiz_answer_made(struct http_req *req, const char *id);

/* Generation as a job (requests.c): the request, its job and quiz.requested
 * in one transaction, then a wait of up to `wait` seconds for the worker:
 * 201 with the quiz, the failure (404, 422), or 202 with a status URL. */
enum err quiz_generate_job(struct http_req *req, const char *id, const struct quiz_ask *a);
/* What quiz_request_get found for an id with no quiz. */
enum quiz_request_found {
	QUIZ_REQUEST_NONE,     /* no request of the caller's: 404 */
	QUIZ_REQUEST_MADE,     /* completed: its quiz is there now, or was deleted */
	QUIZ_REQUEST_ANSWERED, /* its state was sent: 202 while it runs, 200 failed */
};
/* The caller's request id that had no quiz when asked. */
enum err quiz_request_get(struct http_req *req, const char *id,
                          enum quiz_request_found *found) MUST_CHECK;
/* Deletes the caller's request id; *deleted says whether there was one. */
enum err quiz_request_delete(struct http_req *req, const char *id, bool *deleted) MUST_CHECK;
/* The worker's job: makes the quiz of a stored request. */
enum err quiz_job_generate(struct db *db, const struct job *job, struct pool *pool, void *arg);
/* Its failure hook (worker_job_failed_fn): the request fails and
 * quiz.generated says so once the job failed for good. */
void quiz_job_generate_failed(struct db *db, const struct job *job, const char *why,
                              struct pool *pool, void *arg);

/* The text of an uploaded file (multipart part `file`) read in the
 * extraction sandbox, with the form's fields validated into req and its
 * `types` fields joined by commas into *types (NULL when none); *text is
 * pool-owned, NULL when the form names a document_id instead of a file.
 * Errors carry the client's sentence (http_error). */
enum err quiz_read_upload(struct http_req *req, const char **text, size_t *len, long *pages,
                          const char **filename, const char **types) MUST_CHECK;

#endif
