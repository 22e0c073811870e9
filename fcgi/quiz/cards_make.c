/* cards: cards made from a document's replica, and the link dropped when
 * the document is deleted.
 *
 * The study text engine gives two kinds: a key term with the definition the
 * text gives (phrases.h; front the term, back the definition) and a cloze
 * card from a key sentence (quiz.h's short-answer questions: front the
 * sentence with its key phrase blanked, back that phrase). Terms take the
 * first half of the limit and cloze cards the rest; when either kind runs
 * short the other fills in. Each card remembers what it was made from
 * (origin_key), so asking again never repeats a card. */
#include <stdio.h>
#include <string.h>

#include "app/service.h"
#include "cards.h"
#include "core/log.h"
#include "text/doc.h"
#include "text/phrases.h"
#include "text/quiz.h"

enum {
	MAKE_SENTENCES_MAX = 20000, /* sentences read for key terms */
	MAKE_PHRASES_MAX = 200      /* key phrases looked at for definitions */
};

struct made {
	const char **front, **back, **source, **kind;
	size_t n, cap;
};

static void add(struct made *m, const char *front, const char *back, const char *source,
                const char *kind)
{
	if (m->n >= m->cap)
		return;
	m->front[m->n] = front;
	m->back[m->n] = back;
	m->source[m->n] = source;
	m->kind[m->n] = kind;
	m->n++;
}

/* Key terms that the text defines, best first, at most max. */
static enum err terms(struct pool *pool, const struct replica_doc *doc, size_t max, struct made *m)
{
	struct doc d;
	struct doc_sentence *s = NULL;
	doc_parse(pool, doc->text, doc->text_len, &d);
	size_t ns = doc_sentences(pool, &d, MAKE_SENTENCES_MAX, &s);
	struct phrase *ph = NULL;
	size_t nph = 0;
	enum err e = phrases_extract(pool, &d, s, ns, MAKE_PHRASES_MAX, &ph, &nph);
	if (e != ERR_OK)
		return e;
	for (size_t i = 0; i < nph && max > 0; i++) {
		if (!ph[i].definition || !*ph[i].definition)
			continue;
		const char *front = ph[i].alias
		                        ? pool_printf(pool, "%s (%s)", ph[i].text, ph[i].alias)
		                        : ph[i].text;
		add(m, front, ph[i].definition, NULL, "term");
		max--;
	}
	return ERR_OK;
}

/* Cloze cards from the key sentences, at most max. */
static enum err clozes(struct pool *pool, const struct replica_doc *doc, size_t max, struct made *m)
{
	if (max == 0)
		return ERR_OK;
	struct quiz_request q = {max > QUIZ_QUESTIONS_MAX ? QUIZ_QUESTIONS_MAX : max, QUIZ_MEDIUM,
	                         QUIZ_SHORT_ANSWER, doc->id};
	struct quiz_question *qs = NULL;
	size_t n = 0;
	enum err e = quiz_generate(pool, doc->text, doc->text_len, doc->pages, &q, &qs, &n);
	if (e != ERR_OK && e != ERR_UNPROCESSABLE)
		return e;
	for (size_t i = 0; i < n; i++)
		add(m, qs[i].question, qs[i].answer, qs[i].source, "cloze");
	return ERR_OK;
}

static const char *text_array(struct pool *pool, const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, v[i] ? json_object_new_string(v[i]) : NULL);
	const char *out = pool_strdup(pool, http_json_text(a, NULL));
	json_object_put(a);
	return out;
}

/* POST /cards/from-document {document_id, limit}: 201 with the new cards. */
enum err cards_from_document(struct http_req *req)
{
	const char *doc_id = http_param(req, "document_id");
	size_t limit = (size_t)http_param_int(req, "limit");
	struct replica_doc doc;
	enum err e = replica_load(service_db(), req->pool, doc_id, req->user_id, &doc);
	if (e == ERR_NOT_FOUND)
		return http_error(req, ERR_NOT_FOUND, "No such processed document.");
	if (e != ERR_OK)
		return e;
	struct made m = {0};
	m.cap = limit;
	m.front = pool_alloc(req->pool, limit * sizeof(char *));
	m.back = pool_alloc(req->pool, limit * sizeof(char *));
	m.source = pool_alloc(req->pool, limit * sizeof(char *));
	m.kind = pool_alloc(req->pool, limit * sizeof(char *));
	size_t half = (limit + 1) / 2;
	e = terms(req->pool, &doc, half, &m);
	if (e == ERR_OK)
		e = clozes(req->pool, &doc, limit - m.n, &m);
	if (e == ERR_OK && m.n < limit) {
		/* Cloze cards ran short: more terms, past those already taken. */
		struct made more = m;
		more.n = 0;
		more.cap = limit;
		more.front = pool_alloc(req->pool, limit * sizeof(char *));
		more.back = pool_alloc(req->pool, limit * sizeof(char *));
		more.source = pool_alloc(req->pool, limit * sizeof(char *));
		more.kind = pool_alloc(req->pool, limit * sizeof(char *));
		e = terms(req->pool, &doc, limit, &more);
		for (size_t i = half; e == ERR_OK && i < more.n && m.n < limit; i++)
			add(&m, more.front[i], more.back[i], more.source[i], more.kind[i]);
	}
	if (e != ERR_OK)
		return e;
	const char *p[] = {req->user_id,
	                   doc_id,
	                   text_array(req->pool, m.front, m.n),
	                   text_array(req->pool, m.back, m.n),
	                   text_array(req->pool, m.source, m.n),
	                   text_array(req->pool, m.kind, m.n)};
	PGresult *res = NULL;
	e = db_exec_prepared(
	    service_db(), "cards_from_document",
	    "INSERT INTO cards AS c (id, user_id, front, back, tags, document_id, source_sentence, "
	    "origin, origin_key) SELECT gen_random_uuid(), $1, f.front, f.back, ARRAY['document', "
	    "f.kind], $2::uuid, f.source, 'document', 'doc:' || $2::text || ':' || md5(f.front) "
	    "FROM "
	    "(SELECT f.value AS front, b.value AS back, s.value AS source, k.value AS kind, f.n "
	    "FROM jsonb_array_elements_text($3::jsonb) WITH ORDINALITY f(value, n) "
	    "JOIN jsonb_array_elements_text($4::jsonb) WITH ORDINALITY b(value, n) USING (n) "
	    "JOIN jsonb_array_elements_text($5::jsonb) WITH ORDINALITY s(value, n) USING (n) "
	    "JOIN jsonb_array_elements_text($6::jsonb) WITH ORDINALITY k(value, n) USING (n)) f "
	    "WHERE f.front <> '' AND f.back <> '' ORDER BY f.n "
	    "ON CONFLICT (user_id, origin_key) WHERE origin_key IS NOT NULL DO NOTHING "
	    "RETURNING " CARDS_SQL_COLUMNS,
	    6, p, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	int n = PQntuples(res);
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, cards_json(res, i));
	PQclear(res);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "document_id", json_object_new_string(doc_id));
	json_object_object_add(o, "created", json_object_new_int(n));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)m.n - n));
	json_object_object_add(o, "cards", arr);
	return http_send_json(req, 201, o);
}

/* document.deleted: the cards stay, the link and nothing else goes. */
static enum err unlink_document(struct db *db, const char *document_id, const char *user_id,
                                void *arg)
{
	(void)arg;
	(void)user_id; /* a document id names one owner's document */
	const char *p[] = {document_id};
	enum err e = db_exec(db,
	                     "UPDATE cards SET document_id = NULL, updated_at = now() WHERE "
	                     "document_id = $1",
	                     1, p, NULL);
	if (e == ERR_OK)
		log_info("cards: document %s deleted, its cards kept without the link",
		         document_id);
	return e;
}

const struct replica_hooks cards_replica_hooks = {NULL, unlink_document, NULL};
