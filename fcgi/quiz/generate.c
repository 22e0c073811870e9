/* quiz generate: POST /generate from a document of the replica (JSON
 * document_id) or from an uploaded file (multipart, the [client] path).
 * The quiz, quiz.requested and quiz.generated are stored in one
 * transaction; the answer is 201 with the whole quiz, answers included. */
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

/* What a request asks for, after validation. */
struct ask {
	const char *document_id; /* or NULL for an uploaded file */
	const char *filename;    /* the file's or the document's name */
	const char *text;
	size_t len;
	long pages;
	struct quiz_request q;
	const char *title;
};

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
static struct json_object *event_payload(const struct http_req *req, const char *id,
                                         const struct ask *a, const char *status)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "quiz_id", json_object_new_string(id));
	json_object_object_add(p, "document_id",
	                       a->document_id ? json_object_new_string(a->document_id) : NULL);
	json_object_object_add(p, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(p, "num_questions", json_object_new_int64((int64_t)a->q.count));
	json_object_object_add(p, "difficulty",
	                       json_object_new_string(difficulty_names[a->q.difficulty]));
	if (status)
		json_object_object_add(p, "status", json_object_new_string(status));
	return p;
}

/* Both events, and the quiz itself when it was made, in one transaction. */
static enum err record(struct http_req *req, const char *id, const struct ask *a,
                       struct json_object *questions, size_t made)
{
	struct db *db = service_db();
	enum err e = db_begin(db);
	if (e == ERR_OK && questions) {
		char count[24];
		snprintf(count, sizeof(count), "%zu", made);
		struct buf types;
		buf_init(&types);
		buf_putc(&types, '{');
		for (unsigned t = QUIZ_MULTIPLE_CHOICE; t <= QUIZ_SHORT_ANSWER; t <<= 1)
			if (a->q.types & t)
				buf_printf(&types, "%s%s", types.len > 1 ? "," : "",
				           quiz_type_name((enum quiz_type)t));
		buf_putc(&types, '}');
		const char *p[] = {id,
		                   req->user_id,
		                   a->document_id,
		                   a->document_id ? NULL : a->filename,
		                   a->title,
		                   difficulty_names[a->q.difficulty],
		                   types.data,
		                   count,
		                   http_json_text(questions, NULL)};
		e = db_exec_prepared(
		    db, "quiz_insert",
		    "INSERT INTO quizzes (id, user_id, document_id, source_filename, "
		    "title, difficulty, types, num_questions, questions) VALUES ($1, "
		    "$2, $3, $4, $5, $6, $7, $8, $9)",
		    9, p, NULL);
		buf_clear(&types);
	}
	if (e == ERR_OK)
		e = outbox_record(db, "quiz.requested", QUIZ_SERVICE, req->user_id,
		                  event_payload(req, id, a, NULL));
	if (e == ERR_OK)
		e = outbox_record(db, "quiz.generated", QUIZ_SERVICE, req->user_id,
		                  event_payload(req, id, a, questions ? "completed" : "failed"));
	return db_end(db, e);
}

/* A title from the request, else from the file or document's name. */
static const char *title_for(struct http_req *req, const struct ask *a)
{
	const char *t = http_param(req, "title");
	if (t && *t)
		return t;
	if (a->filename && *a->filename)
		return pool_printf(req->pool, "Quiz: %s", a->filename);
	return "Quiz";
}

enum err quiz_generate_handler(struct http_req *req)
{
	struct ask a = {0};
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
	a.q.seed = id;
	struct quiz_question *qs = NULL;
	size_t made = 0;
	e = quiz_generate(req->pool, a.text, a.len, a.pages, &a.q, &qs, &made);
	if (e == ERR_UNPROCESSABLE) {
		if (record(req, id, &a, NULL, 0) != ERR_OK)
			log_warn("quiz %s: the failed generation's events were not recorded", id);
		if (made == 0)
			return http_error(
			    req, e,
			    "This document is too short for a quiz: it has no sentences "
			    "to ask about.");
		return http_error(req, e,
		                  "This document is too short for %zu questions: it can give %zu.",
		                  a.q.count, made);
	}
	if (e != ERR_OK)
		return e;
	struct json_object *questions = questions_json(qs, made);
	e = record(req, id, &a, questions, made);
	json_object_put(questions);
	if (e != ERR_OK)
		return e;
	log_info("quiz %s: %zu questions (%s) from %s", id, made, difficulty_names[a.q.difficulty],
	         a.document_id ? "a document" : "an upload");
	PGresult *res = NULL;
	e = quiz_load(req, id, &res);
	if (e != ERR_OK)
		return e;
	e = http_add_header(req, "Location", pool_printf(req->pool, "/api/v1/quizzes/%s", id));
	if (e == ERR_OK)
		e = http_send_json(req, 201, quiz_json(res, 0, true, false));
	PQclear(res);
	return e;
}
