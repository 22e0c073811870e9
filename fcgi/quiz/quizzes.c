/* quiz: reading, listing and deleting one's quizzes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/owned.h"
#include "core/log.h"
#include "quiz.h"
#include "data/row.h"
#include "web/page.h"

enum {
	COL_ID,
	COL_TITLE,
	COL_DIFFICULTY,
	COL_DOCUMENT,
	COL_CREATED,
	COL_COUNT,
	COL_QUESTIONS,
	COL_GENERATOR,
	COL_FILENAME,
	COL_TYPES,
	COL_BEST,
	COL_ATTEMPTS
};

/* The fields the learner must not see before answering. */
static void strip_answers(struct json_object *questions)
{
	static const char *const hidden[] = {"correct_answer", "explanation", "source_sentence",
	                                     "section",        "page",        NULL};
	for (size_t i = 0; i < json_object_array_length(questions); i++) {
		struct json_object *q = json_object_array_get_idx(questions, i);
		for (size_t k = 0; hidden[k]; k++)
			json_object_object_del(q, hidden[k]);
	}
}

struct json_object *quiz_json(const PGresult *res, int row, bool with_answers, bool summary)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, COL_ID);
	json_object_object_add(o, "quiz_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "title", row_str(res, row, COL_TITLE));
	json_object_object_add(o, "difficulty", row_str(res, row, COL_DIFFICULTY));
	json_object_object_add(o, "document_id", row_str(res, row, COL_DOCUMENT));
	json_object_object_add(o, "source_filename", row_str(res, row, COL_FILENAME));
	json_object_object_add(o, "created_at", row_str(res, row, COL_CREATED));
	json_object_object_add(o, "num_questions",
	                       json_object_new_int64(row_ll(res, row, COL_COUNT)));
	struct json_object *types = json_object_new_array();
	const char *t = db_value(res, row, COL_TYPES);
	while (t && *t) {
		size_t n = strcspn(t, ",");
		json_object_array_add(types, json_object_new_string_len(t, (int)n));
		t += n + (t[n] == ',');
	}
	json_object_object_add(o, "types", types);
	json_object_object_add(o, "generator", row_str(res, row, COL_GENERATOR));
	json_object_object_add(o, "score", row_number(res, row, COL_BEST));
	json_object_object_add(o, "best_percentage", row_number(res, row, COL_BEST));
	json_object_object_add(o, "attempts",
	                       json_object_new_int64(row_ll(res, row, COL_ATTEMPTS)));
	if (summary)
		return o;
	const char *qtext = db_value(res, row, COL_QUESTIONS);
	struct json_object *questions = qtext ? http_json_parse(qtext, strlen(qtext)) : NULL;
	if (!questions)
		questions = json_object_new_array();
	if (!with_answers)
		strip_answers(questions);
	json_object_object_add(o, "questions", questions);
	return o;
}

/* owned_not_found, under the name the quiz routes use. */
enum err quiz_not_found(struct http_req *req)
{
	return owned_not_found(req);
}

enum err quiz_load(struct http_req *req, const char *id, PGresult **out)
{
	return owned_row(req, "quiz_get",
	                 "SELECT " QUIZ_SQL_COLUMNS
	                 " FROM quizzes q WHERE q.id = $1 AND q.user_id = $2",
	                 id, out);
}

static struct json_object *list_item(const PGresult *res, int row)
{
	return quiz_json(res, row, false, true);
}

/* GET /quizzes and GET /quizzes/history: the same list. */
enum err quiz_list(struct http_req *req)
{
	const struct owned_list list = {
	    .stmt = "quiz_list",
	    .sql = "SELECT " QUIZ_SQL_COLUMNS " FROM quizzes q WHERE q.user_id = "
	           "$1 ORDER BY q.created_at DESC, q.id DESC LIMIT $2 OFFSET $3",
	    .count_stmt = "quiz_count",
	    .count_sql = "SELECT count(*) FROM quizzes WHERE user_id = $1",
	    .url =
	        strcmp(req->path, "/history") == 0 ? "/api/v1/quizzes/history" : "/api/v1/quizzes",
	    .json = list_item,
	};
	return owned_list_send(req, &list);
}

enum err quiz_get(struct http_req *req)
{
	PGresult *res = NULL;
	const char *id = http_param(req, "id");
	enum err e = quiz_load(req, id, &res);
	if (e == ERR_NOT_FOUND) {
		/* A quiz still being made answers with its request's state. One
		 * made between the two reads is read again (404 if deleted since). */
		enum quiz_request_found found;
		enum err r = quiz_request_get(req, id, &found);
		if (r != ERR_OK || found == QUIZ_REQUEST_ANSWERED)
			return r;
		if (found == QUIZ_REQUEST_MADE)
			e = quiz_load(req, id, &res);
	}
	if (e != ERR_OK)
		return e;
	e = http_send_json(req, 200,
	                   quiz_json(res, 0, http_param_bool(req, "include_answers"), false));
	PQclear(res);
	return e;
}

enum err quiz_delete(struct http_req *req)
{
	const char *id = http_param(req, "id");
	const char *params[] = {id, req->user_id};
	struct db *db = service_db();
	/* Its request first (a quiz still being made is never made): the
	 * worker claims the request before it stores the quiz, so a quiz made
	 * meanwhile is committed before the second statement looks. */
	bool request = false;
	PGresult *res = NULL;
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = quiz_request_delete(req, id, &request);
	if (e == ERR_OK)
		e = db_exec_prepared(db, "quiz_delete",
		                     "DELETE FROM quizzes WHERE id = $1 AND user_id = $2", 2,
		                     params, &res);
	long n = e == ERR_OK ? db_affected(res) : 0;
	PQclear(res);
	e = db_end(db, e);
	if (e != ERR_OK)
		return e;
	if (n != 1 && !request)
		return quiz_not_found(req);
	log_info("quiz %s deleted with its submissions", id);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("Quiz deleted."));
	json_object_object_add(o, "quiz_id", json_object_new_string(id));
	return http_send_json(req, 200, o);
}

/* An attempt's results as submit showed them. Attempts store only what
 * was right, by position (an array of booleans); the rest comes from the
 * quiz's questions and the stored answers (keyed by 1-based position).
 * Takes stored (may be NULL); the caller keeps answers. */
static struct json_object *full_results(struct json_object *questions, struct json_object *stored,
                                        struct json_object *answers)
{
	if (!stored || !json_object_is_type(stored, json_type_array) || !questions)
		return stored ? stored : json_object_new_array();
	size_t n = json_object_array_length(stored);
	struct json_object *out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(stored, i), *given = NULL;
		struct json_object *q = json_object_array_get_idx(questions, i);
		if (!json_object_is_type(v, json_type_boolean) || !q) {
			/* An attempt stored whole (before booleans): as it is. */
			json_object_array_add(out, json_object_get(v));
			continue;
		}
		char key[24];
		snprintf(key, sizeof(key), "%zu", i + 1);
		json_object_object_get_ex(answers, key, &given);
		json_object_array_add(out,
		                      quiz_result_json(q, i, json_object_get_boolean(v), given));
	}
	json_object_put(stored);
	return out;
}

enum err quiz_results(struct http_req *req)
{
	const char *id = http_param(req, "id");
	PGresult *quiz = NULL, *subs = NULL;
	enum err e = quiz_load(req, id, &quiz);
	if (e != ERR_OK)
		return e;
	const char *params[] = {id};
	e = db_exec_prepared(
	    service_db(), "quiz_submissions",
	    "SELECT id, score, max_score, percentage, " QUIZ_SQL_TIME(
	        "created_at") ", results, answers FROM submissions WHERE quiz_id = "
	                      "$1 ORDER BY created_at DESC, id DESC",
	    1, params, &subs);
	if (e != ERR_OK)
		goto out;
	const char *qtext = db_value(quiz, 0, COL_QUESTIONS);
	struct json_object *questions = qtext ? http_json_parse(qtext, strlen(qtext)) : NULL;
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	long long best = -1;
	int best_row = -1;
	for (int i = 0; i < PQntuples(subs); i++) {
		struct json_object *s = json_object_new_object();
		const char *sid = db_value(subs, i, 0), *r = db_value(subs, i, 5);
		const char *ans = db_value(subs, i, 6);
		json_object_object_add(s, "submission_id", json_object_new_string(sid));
		json_object_object_add(s, "id", json_object_new_string(sid));
		json_object_object_add(s, "score", json_object_new_int64(row_ll(subs, i, 1)));
		json_object_object_add(s, "max_score", json_object_new_int64(row_ll(subs, i, 2)));
		json_object_object_add(s, "percentage", row_number(subs, i, 3));
		json_object_object_add(s, "created_at", row_str(subs, i, 4));
		struct json_object *rj = r ? http_json_parse(r, strlen(r)) : NULL;
		struct json_object *aj = ans ? http_json_parse(ans, strlen(ans)) : NULL;
		if (!aj)
			aj = json_object_new_object();
		json_object_object_add(s, "results", full_results(questions, rj, aj));
		json_object_object_add(s, "answers", aj);
		json_object_array_add(arr, s);
		if (row_ll(subs, i, 1) > best) {
			best = row_ll(subs, i, 1);
			best_row = i;
		}
	}
	json_object_object_add(o, "quiz_id", json_object_new_string(id));
	json_object_object_add(o, "title", row_str(quiz, 0, COL_TITLE));
	json_object_object_add(o, "difficulty", row_str(quiz, 0, COL_DIFFICULTY));
	json_object_object_add(o, "submissions", arr);
	json_object_object_add(o, "total_attempts", json_object_new_int(PQntuples(subs)));
	json_object_object_add(o, "best_score", best_row < 0 ? NULL : json_object_new_int64(best));
	json_object_object_add(o, "best_percentage",
	                       best_row < 0 ? NULL : row_number(quiz, 0, COL_BEST));
	e = http_send_json(req, 200, o);
	json_object_put(questions);
out:
	PQclear(quiz);
	PQclear(subs);
	return e;
}
