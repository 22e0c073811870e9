/* quiz submit: POST /{id}/submit grades an attempt and keeps it.
 * Answers are keyed by question_id or 1-based number; choice questions take
 * an option index or the option's text, true/false also a boolean or
 * "true"/"false", short answers text matched leniently (text/quiz.h).
 * An unanswered question counts as wrong; an answer to a question the quiz
 * does not have, or of a shape no question takes, is 400. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events/event.h"
#include "quiz.h"
#include "web/valid.h"

/* A member of a stored question. */
static struct json_object *member(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, name, &v) ? v : NULL;
}

/* The position (0-based) of the question that key names, or -1. */
static int question_index(struct json_object *questions, const char *key)
{
	int n = (int)json_object_array_length(questions);
	long v = 0;
	if (valid_long(key, 1, n, &v))
		return (int)v - 1;
	for (int i = 0; i < n; i++) {
		struct json_object *qid =
		    member(json_object_array_get_idx(questions, i), "question_id");
		if (qid && strcasecmp(json_object_get_string(qid), key) == 0)
			return i;
	}
	return -1;
}

/* Trimmed copy of s in pool. */
static const char *trimmed(struct pool *pool, const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return pool_strndup(pool, s, n);
}

/* The option index a choice answer names: *index, or -1 for a text that
 * names no option (a wrong answer). ERR_INVALID for a shape no choice
 * question takes or an index out of range. */
static enum err choice_answer(struct pool *pool, struct json_object *q, struct json_object *a,
                              int *index)
{
	struct json_object *opts = member(q, "options");
	int n = opts ? (int)json_object_array_length(opts) : 0;
	bool tf = strcmp(json_object_get_string(member(q, "type")), "true_false") == 0;
	*index = -1;
	switch (json_object_get_type(a)) {
	case json_type_int: {
		int64_t v = json_object_get_int64(a);
		if (v < 0 || v >= n)
			return ERR_INVALID;
		*index = (int)v;
		return ERR_OK;
	}
	case json_type_double: {
		double v = json_object_get_double(a);
		if (v != floor(v) || v < 0 || v >= n)
			return ERR_INVALID;
		*index = (int)v;
		return ERR_OK;
	}
	case json_type_boolean:
		if (!tf)
			return ERR_INVALID;
		*index = json_object_get_boolean(a) ? 0 : 1;
		return ERR_OK;
	case json_type_string: {
		const char *s = trimmed(pool, json_object_get_string(a));
		for (int i = 0; i < n; i++)
			if (strcasecmp(s, json_object_get_string(
			                      json_object_array_get_idx(opts, i))) == 0) {
				*index = i;
				return ERR_OK;
			}
		long v = 0;
		if (*s && strspn(s, "0123456789") == strlen(s)) {
			if (!valid_long(s, 0, n - 1, &v))
				return ERR_INVALID;
			*index = (int)v;
		}
		return ERR_OK;
	}
	default:
		return ERR_INVALID;
	}
}

/* Grades question q against answer a (NULL when unanswered). */
static enum err grade(struct pool *pool, struct json_object *q, struct json_object *a, bool *right)
{
	*right = false;
	if (!a)
		return ERR_OK;
	struct json_object *correct = member(q, "correct_answer");
	if (strcmp(json_object_get_string(member(q, "type")), "short_answer") == 0) {
		if (!json_object_is_type(a, json_type_string) &&
		    !json_object_is_type(a, json_type_int))
			return ERR_INVALID;
		const char *s = json_object_get_string(a);
		size_t len = json_object_is_type(a, json_type_string)
		                 ? (size_t)json_object_get_string_len(a)
		                 : strlen(s);
		if (len > QUIZ_ANSWER_MAX)
			return ERR_INVALID;
		*right = quiz_answer_matches(json_object_get_string(correct), s, len);
		return ERR_OK;
	}
	int index = -1;
	enum err e = choice_answer(pool, q, a, &index);
	*right = e == ERR_OK && index >= 0 && index == json_object_get_int(correct);
	return e;
}

struct json_object *quiz_result_json(struct json_object *q, size_t i, bool right,
                                     struct json_object *given)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "question_id", json_object_get(member(q, "question_id")));
	json_object_object_add(r, "id", json_object_new_int64((int64_t)i + 1));
	json_object_object_add(r, "is_correct", json_object_new_boolean(right));
	json_object_object_add(r, "user_answer", json_object_get(given));
	json_object_object_add(r, "correct_answer", json_object_get(member(q, "correct_answer")));
	json_object_object_add(r, "explanation", json_object_get(member(q, "explanation")));
	json_object_object_add(r, "points_earned", json_object_new_int(right ? 1 : 0));
	json_object_object_add(r, "points_possible", json_object_new_int(1));
	return r;
}

/* A percentage with at most two decimals, as JSON number text. */
static struct json_object *percentage(long score, long max, char out[16])
{
	snprintf(out, 16, "%.2f", max ? 100.0 * (double)score / (double)max : 0.0);
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	return json_object_new_double_s(strtod(out, NULL), out);
}

/* The learner's answers in the quiz's order (NULL where none), from the
 * body's `answers` object; ERR_INVALID (with the message set) for a
 * question the quiz does not have or an answer no question takes. */
static enum err collect(struct http_req *req, struct json_object *questions,
                        struct json_object ***out)
{
	struct json_object *answers = NULL;
	if (!json_object_object_get_ex(req->body, "answers", &answers) ||
	    !json_object_is_type(answers, json_type_object)) {
		http_error_detail(req, "answers", "must be an object of question ids to answers");
		return http_error(req, ERR_INVALID, "The body needs an `answers` object.");
	}
	size_t n = json_object_array_length(questions);
	struct json_object **by = pool_alloc(req->pool, (n + 1) * sizeof(*by));
	memset(by, 0, (n + 1) * sizeof(*by));
	json_object_object_foreach(answers, key, value)
	{
		int i = question_index(questions, key);
		if (i < 0) {
			http_error_detail(req, "answers",
			                  "names a question the quiz does not have");
			return http_error(req, ERR_INVALID, "The quiz has no question \"%.64s\".",
			                  key);
		}
		if (value && json_object_get_type(value) != json_type_null)
			by[i] = value;
	}
	*out = by;
	return ERR_OK;
}

/* Questions of quizzes taken lately, per pool process: a quiz's questions
 * never change once it is made, so a submit after the first reads nothing
 * (no query, no JSON parse of the whole quiz). The insert of the attempt
 * still names the quiz and its owner, so a quiz deleted since (by any
 * process) stores nothing and answers 404. */
enum { CACHE_SLOTS = 16 };
static struct cached {
	char id[EVENT_ID_LEN + 1];
	char user[EVENT_ID_LEN + 1];
	struct json_object *questions; /* one reference held here */
	unsigned long used;            /* cache_clock when last taken */
} cache[CACHE_SLOTS];
static unsigned long cache_clock;

/* A new reference to the cached questions of id for user, or NULL. */
static struct json_object *cache_get(const char *id, const char *user)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].questions && strcmp(cache[i].id, id) == 0 &&
		    strcmp(cache[i].user, user) == 0) {
			cache[i].used = ++cache_clock;
			return json_object_get(cache[i].questions);
		}
	return NULL;
}

/* Keeps a reference to questions, in place of the least recently used. */
static void cache_put(const char *id, const char *user, struct json_object *questions)
{
	if (strlen(id) > EVENT_ID_LEN || strlen(user) > EVENT_ID_LEN)
		return;
	int slot = 0;
	for (int i = 1; i < CACHE_SLOTS; i++)
		if (cache[i].used < cache[slot].used)
			slot = i;
	json_object_put(cache[slot].questions);
	snprintf(cache[slot].id, sizeof(cache[slot].id), "%s", id);
	snprintf(cache[slot].user, sizeof(cache[slot].user), "%s", user);
	cache[slot].questions = json_object_get(questions);
	cache[slot].used = ++cache_clock;
}

static void cache_drop(const char *id)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].questions && strcmp(cache[i].id, id) == 0) {
			json_object_put(cache[i].questions);
			memset(&cache[i], 0, sizeof(cache[i]));
		}
}

/* The caller's quiz id's questions (a reference the caller puts), from
 * the cache or the database; ERR_NOT_FOUND (message set) when none. */
static enum err load_questions(struct http_req *req, const char *id, struct json_object **out)
{
	*out = cache_get(id, req->user_id);
	if (*out)
		return ERR_OK;
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(
	    service_db(), "quiz_questions",
	    "SELECT questions FROM quizzes WHERE id = $1 AND user_id = $2", 2, params, &res);
	if (e != ERR_OK)
		return e;
	if (PQntuples(res) == 1)
		*out = http_json_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	bool found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return quiz_not_found(req);
	if (!*out || !json_object_is_type(*out, json_type_array)) {
		json_object_put(*out);
		*out = NULL;
		return ERR_INTERNAL;
	}
	cache_put(id, req->user_id, *out);
	return ERR_OK;
}

/* Keeps an attempt (p: the submissions columns) in one statement, which
 * finds the quiz by id and owner (nothing stored, ERR_NOT_FOUND, when it
 * is gone) and commits without waiting for the WAL to reach the disk
 * (synchronous_commit off for this transaction only, set_config's third
 * argument). That wait held a pool process for an fsync per attempt
 * (5.6 ms a commit with four writers on this project's test machine, 0.8
 * ms without), which on a quiet machine bounds a pool of four at a few
 * hundred attempts a second. What a crash of the database server may
 * cost is the last fraction of a second of attempts, never a torn or
 * inconsistent row; quizzes, deletes and events stay durable. */
static enum err store_attempt(const char *const p[8])
{
	PGresult *res = NULL;
	enum err e = db_exec_prepared(
	    service_db(), "quiz_submit",
	    "INSERT INTO submissions (id, quiz_id, user_id, score, max_score, percentage, "
	    "answers, results) SELECT $1::uuid, q.id, q.user_id, $4::integer, $5::integer, "
	    "$6::numeric, $7::jsonb, $8::jsonb FROM quizzes q, (SELECT "
	    "set_config('synchronous_commit', 'off', true)) AS async WHERE q.id = $2::uuid AND "
	    "q.user_id = $3::uuid",
	    8, p, &res);
	if (e == ERR_OK && db_affected(res) != 1)
		e = ERR_NOT_FOUND;
	PQclear(res);
	return e;
}

enum err quiz_submit(struct http_req *req)
{
	const char *id = http_param(req, "id");
	struct json_object *questions = NULL;
	enum err e = load_questions(req, id, &questions);
	if (e != ERR_OK)
		return e;
	struct json_object **given = NULL;
	struct json_object *results = json_object_new_array(), *stored = json_object_new_object();
	/* Stored: what was right, by position; GET /results rebuilds the rest
	 * from the quiz (a tenth of the bytes to write, none to compress). */
	struct json_object *verdicts = json_object_new_array();
	e = collect(req, questions, &given);
	size_t n = json_object_array_length(questions);
	long score = 0;
	for (size_t i = 0; e == ERR_OK && i < n; i++) {
		struct json_object *q = json_object_array_get_idx(questions, i);
		bool right = false;
		e = grade(req->pool, q, given[i], &right);
		if (e != ERR_OK) {
			http_error_detail(req, "answers",
			                  "has an answer of a shape the question does not take");
			e = http_error(
			    req, ERR_INVALID,
			    "The answer to question %zu is not an option index, an option's "
			    "text%s.",
			    i + 1,
			    strcmp(json_object_get_string(member(q, "type")), "short_answer") == 0
			        ? " or text"
			        : "");
			break;
		}
		score += right;
		json_object_array_add(results, quiz_result_json(q, i, right, given[i]));
		json_object_array_add(verdicts, json_object_new_boolean(right));
		if (given[i]) {
			char key[24];
			snprintf(key, sizeof(key), "%zu", i + 1);
			json_object_object_add(stored, key, json_object_get(given[i]));
		}
	}
	char sid[EVENT_ID_LEN + 1], sscore[24], smax[24], spct[16];
	event_uuid(sid);
	snprintf(sscore, sizeof(sscore), "%ld", score);
	snprintf(smax, sizeof(smax), "%zu", n);
	struct json_object *pct = percentage(score, (long)n, spct);
	if (e == ERR_OK) {
		const char *p[] = {sid,
		                   id,
		                   req->user_id,
		                   sscore,
		                   smax,
		                   spct,
		                   http_json_text(stored, NULL),
		                   http_json_text(verdicts, NULL)};
		e = store_attempt(p);
		if (e == ERR_NOT_FOUND) {
			cache_drop(id);
			e = quiz_not_found(req);
		}
	}
	if (e == ERR_OK) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "submission_id", json_object_new_string(sid));
		json_object_object_add(o, "id", json_object_new_string(sid));
		json_object_object_add(o, "quiz_id", json_object_new_string(id));
		json_object_object_add(o, "score", json_object_new_int64(score));
		json_object_object_add(o, "max_score", json_object_new_int64((int64_t)n));
		json_object_object_add(o, "percentage", json_object_get(pct));
		json_object_object_add(o, "results", json_object_get(results));
		e = http_send_json(req, 200, o);
	}
	json_object_put(pct);
	json_object_put(results);
	json_object_put(verdicts);
	json_object_put(stored);
	json_object_put(questions);
	return e;
}
