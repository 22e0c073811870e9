/* quiz generate: POST /generate from a document of the replica (JSON
 * document_id) or from an uploaded file (multipart, the [client] path).
 * A small generation is made here: the quiz, quiz.requested and
 * quiz.generated are stored in one transaction and the answer is 201 with
 * the whole quiz, answers included. A large one (many questions, a long
 * text, a model to ask) is a job (requests.c). quiz_make and the records
 * are shared with the worker's job. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "events/event.h"
#include "events/outbox.h"
#include "events/replica.h"
#include "quiz.h"
#include "web/valid.h"

static const char *const difficulty_names[] = {"easy", "medium", "hard", NULL};

static void put_json(void *obj)
{
	json_object_put(obj);
}

/* Reads a JSON body of at most QUIZ_JSON_BODY_MAX bytes into req->body and
 * validates the route's PARAM_BODY entries against it. */
static enum err read_json(struct http_req *req)
{
	if (req->content_length > QUIZ_JSON_BODY_MAX)
		return http_error(req, ERR_TOO_LARGE, "A JSON body is at most %d bytes.",
		                  QUIZ_JSON_BODY_MAX);
	char *data = pool_alloc(req->pool, (size_t)req->content_length + 1);
	size_t got = 0;
	while (got < (size_t)req->content_length) {
		ssize_t n = http_read(req, data + got, (size_t)req->content_length - got);
		if (n <= 0)
			return http_error(req, ERR_INVALID,
			                  "The request body is shorter than its Content-Length.");
		got += (size_t)n;
	}
	struct json_object *body = got ? http_json_parse(data, got) : json_object_new_object();
	if (!body)
		return http_error(req, ERR_INVALID, "The body is not valid JSON.");
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		return http_error(req, ERR_INVALID, "The body must be a JSON object.");
	}
	req->body = body;
	pool_on_free(req->pool, put_json, body);
	return http_params_validate(req);
}

/* Adds the types named in text (comma-separated) to *types. */
static enum err add_types(struct http_req *req, const char *text, unsigned *types)
{
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *w = p;
		size_t wl = n;
		while (wl && (*w == ' ' || *w == '"' || *w == '[')) {
			w++;
			wl--;
		}
		while (wl && (w[wl - 1] == ' ' || w[wl - 1] == '"' || w[wl - 1] == ']'))
			wl--;
		if (wl) {
			enum quiz_type t = quiz_type_parse(w, wl);
			if (!t) {
				http_error_detail(
				    req, "types",
				    "must list multiple_choice, true_false or short_answer");
				return http_error(req, ERR_INVALID, "Unknown question type.");
			}
			*types |= (unsigned)t;
		}
		p += n + (p[n] == ',');
	}
	return ERR_OK;
}

/* The body's `types`: an array of names or one comma-separated string. */
static enum err json_types(struct http_req *req, unsigned *types)
{
	struct json_object *v = NULL;
	if (!req->body || !json_object_object_get_ex(req->body, "types", &v) || !v)
		return ERR_OK;
	if (json_object_is_type(v, json_type_string))
		return add_types(req, json_object_get_string(v), types);
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > 3) {
		http_error_detail(req, "types", "must be an array of question types");
		return http_error(req, ERR_INVALID, "Unknown question type.");
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *t = json_object_array_get_idx(v, i);
		if (!json_object_is_type(t, json_type_string) ||
		    add_types(req, json_object_get_string(t), types) != ERR_OK) {
			http_error_detail(req, "types",
			                  "must list multiple_choice, true_false or short_answer");
			return http_error(req, ERR_INVALID, "Unknown question type.");
		}
	}
	return ERR_OK;
}

/* The questions as stored and as the owner gets them. */
static struct json_object *questions_json(const struct quiz_question *q, size_t n)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *opts = json_object_new_array();
		char qid[EVENT_ID_LEN + 1];
		event_uuid(qid);
		json_object_object_add(o, "id", json_object_new_int64((int64_t)i + 1));
		json_object_object_add(o, "question_id", json_object_new_string(qid));
		json_object_object_add(o, "type",
		                       json_object_new_string(quiz_type_name(q[i].type)));
		json_object_object_add(o, "question", json_object_new_string(q[i].question));
		json_object_object_add(o, "question_text", json_object_new_string(q[i].question));
		for (int k = 0; k < q[i].noptions; k++)
			json_object_array_add(opts, json_object_new_string(q[i].options[k]));
		json_object_object_add(o, "options", opts);
		json_object_object_add(o, "correct_answer",
		                       q[i].type == QUIZ_SHORT_ANSWER
		                           ? json_object_new_string(q[i].answer)
		                           : json_object_new_int(q[i].correct));
		json_object_object_add(o, "explanation", json_object_new_string(q[i].explanation));
		json_object_object_add(o, "points", json_object_new_int(1));
		json_object_object_add(o, "source_sentence", json_object_new_string(q[i].source));
		json_object_object_add(o, "section", json_object_new_string(q[i].section));
		json_object_object_add(o, "page", json_object_new_int64(q[i].page));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* The payload of quiz.requested and quiz.generated. */
static struct json_object *event_payload(const char *user_id, const char *id,
                                         const struct quiz_ask *a, const char *status)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "quiz_id", json_object_new_string(id));
	json_object_object_add(p, "document_id",
	                       a->document_id ? json_object_new_string(a->document_id) : NULL);
	json_object_object_add(p, "user_id", json_object_new_string(user_id));
	json_object_object_add(p, "num_questions", json_object_new_int64((int64_t)a->q.count));
	json_object_object_add(p, "difficulty",
	                       json_object_new_string(difficulty_names[a->q.difficulty]));
	if (status)
		json_object_object_add(p, "status", json_object_new_string(status));
	return p;
}

const char *quiz_types_array(struct pool *pool, unsigned types)
{
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	for (unsigned t = QUIZ_MULTIPLE_CHOICE; t <= QUIZ_SHORT_ANSWER; t <<= 1)
		if (types & t)
			buf_printf(&b, "%s%s", b.len > 1 ? "," : "",
			           quiz_type_name((enum quiz_type)t));
	buf_putc(&b, '}');
	const char *r = pool_strdup(pool, b.data);
	buf_clear(&b);
	return r;
}

enum err quiz_record_requested(struct db *db, const char *user_id, const char *id,
                               const struct quiz_ask *a)
{
	return outbox_record(db, "quiz.requested", QUIZ_SERVICE, user_id,
	                     event_payload(user_id, id, a, NULL));
}

enum err quiz_record_generated(struct db *db, struct pool *pool, const char *user_id,
                               const char *id, const struct quiz_ask *a,
                               struct json_object *questions, size_t made, const char *generator)
{
	enum err e = ERR_OK;
	if (questions) {
		const char *p[] = {id,
		                   user_id,
		                   a->document_id,
		                   a->document_id ? NULL : a->filename,
		                   a->title,
		                   difficulty_names[a->q.difficulty],
		                   quiz_types_array(pool, a->q.types),
		                   pool_printf(pool, "%zu", made),
		                   http_json_text(questions, NULL),
		                   generator};
		e = db_exec_prepared(
		    db, "quiz_insert",
		    "INSERT INTO quizzes (id, user_id, document_id, source_filename, "
		    "title, difficulty, types, num_questions, questions, generator) "
		    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		    10, p, NULL);
	}
	if (e == ERR_OK)
		e = outbox_record(
		    db, "quiz.generated", QUIZ_SERVICE, user_id,
		    event_payload(user_id, id, a, questions ? "completed" : "failed"));
	return e;
}

enum err quiz_make(struct pool *pool, const struct quiz_ask *a, const char *id,
                   struct json_object **questions, size_t *made, const char **generator)
{
	struct quiz_request q = a->q;
	q.seed = id;
	struct quiz_question *qs = NULL;
	*questions = NULL;
	*generator = "extractive";
	enum err e = quiz_generate(pool, a->text, a->len, a->pages, &q, &qs, made);
	if (e != ERR_OK)
		return e;
	struct llm_client *llm = service_llm();
	size_t from_model = 0;
	if (llm) {
		/* Any failure of the model leaves the extractive quiz (logged). */
		if (quiz_with_llm(llm, pool, qs, *made, &from_model) != ERR_OK)
			log_warn("quiz %s: the model failed; the questions are extractive", id);
		if (from_model)
			*generator = pool_printf(pool, "llm:%s", llm_client_model(llm));
	}
	*questions = questions_json(qs, *made);
	return ERR_OK;
}

const char *quiz_too_short(struct pool *pool, size_t asked, size_t can)
{
	if (can == 0)
		return "This document is too short for a quiz: it has no sentences to ask about.";
	return pool_printf(pool, "This document is too short for %zu questions: it can give %zu.",
	                   asked, can);
}

/* Whether the request is large enough to run as a job: many questions, a
 * long text, or a model to ask (whose answer may take seconds). */
static bool as_job(const struct quiz_ask *a)
{
	return service_llm() || (long)a->q.count > quiz_cfg.job_questions ||
	       (long)a->len > quiz_cfg.job_bytes;
}

/* A title from the request, else from the file or document's name. */
static const char *title_for(struct http_req *req, const struct quiz_ask *a)
{
	const char *t = http_param(req, "title");
	if (t && *t)
		return t;
	if (a->filename && *a->filename)
		return pool_printf(req->pool, "Quiz: %s", a->filename);
	return "Quiz";
}

/* Made in the request: the quiz and both events in one transaction. */
static enum err generate_now(struct http_req *req, const char *id, const struct quiz_ask *a)
{
	struct json_object *questions = NULL;
	size_t made = 0;
	const char *generator = NULL;
	enum err e = quiz_make(req->pool, a, id, &questions, &made, &generator);
	if (e != ERR_OK && e != ERR_UNPROCESSABLE)
		return e;
	enum err made_e = e;
	struct db *db = service_db();
	e = db_begin(db);
	if (e == ERR_OK)
		e = quiz_record_requested(db, req->user_id, id, a);
	if (e == ERR_OK)
		e = quiz_record_generated(db, req->pool, req->user_id, id, a, questions, made,
		                          generator);
	e = db_end(db, e);
	json_object_put(questions);
	if (made_e == ERR_UNPROCESSABLE) {
		if (e != ERR_OK)
			log_warn("quiz %s: the failed generation's events were not recorded", id);
		return http_error(req, made_e, "%s", quiz_too_short(req->pool, a->q.count, made));
	}
	if (e != ERR_OK)
		return e;
	log_info("quiz %s: %zu questions (%s) from %s", id, made, difficulty_names[a->q.difficulty],
	         a->document_id ? "a document" : "an upload");
	return quiz_answer_made(req, id);
}

enum err quiz_generate_handler(struct http_req *req)
{
	struct quiz_ask a = {0};
	unsigned types = 0;
	enum err e;
	const char *form_types = NULL;
	bool multipart = strncasecmp(req->content_type, "multipart/", 10) == 0;
	if (multipart) {
		e = quiz_read_upload(req, &a.text, &a.len, &a.pages, &a.filename, &form_types);
		if (e == ERR_OK && form_types)
			e = add_types(req, form_types, &types);
	} else {
		e = read_json(req);
		if (e == ERR_OK)
			e = json_types(req, &types);
	}
	if (e != ERR_OK)
		return e;
	if (!a.text) {
		a.document_id = http_param(req, "document_id");
		if (!a.document_id) {
			http_error_detail(req, "document_id", "is required without a file");
			return http_error(
			    req, ERR_INVALID,
			    "Send a `document_id`, or a `file` as multipart/form-data.");
		}
		struct replica_doc doc;
		e = replica_load(service_db(), req->pool, a.document_id, req->user_id, &doc);
		if (e == ERR_NOT_FOUND)
			return quiz_not_found(req);
		if (e != ERR_OK)
			return e;
		a.text = doc.text;
		a.len = doc.text_len;
		a.pages = doc.pages;
		a.filename = doc.filename;
	}
	size_t idx = 1;
	valid_enum(http_param(req, "difficulty"), difficulty_names, &idx);
	a.q.difficulty = (enum quiz_difficulty)idx;
	a.q.count = (size_t)http_param_int(req, "num_questions");
	a.q.types = types ? types : (QUIZ_MULTIPLE_CHOICE | QUIZ_TRUE_FALSE);
	a.title = title_for(req, &a);

	char id[EVENT_ID_LEN + 1];
	event_uuid(id);
	if (as_job(&a))
		return quiz_generate_job(req, id, &a);
	return generate_now(req, id, &a);
}

enum err quiz_answer_made(struct http_req *req, const char *id)
{
	PGresult *res = NULL;
	enum err e = quiz_load(req, id, &res);
	if (e != ERR_OK)
		return e;
	e = http_add_header(req, "Location", pool_printf(req->pool, "/api/v1/quizzes/%s", id));
	if (e == ERR_OK)
		e = http_send_json(req, 201, quiz_json(res, 0, true, false));
	PQclear(res);
	return e;
}
