/* passages: the learner's documents cut into passages and searched with
 * Postgres full-text search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "core/log.h"
#include "text/doc.h"
#include "text/lang.h"

enum {
	PASSAGE_BLOCKS = 3,   /* prose blocks of one passage (doc_passages: 1-3) */
	PASSAGES_MAX = 100000 /* passages of one document */
};

static enum err drop(struct db *db, const char *document_id)
{
	const char *p[] = {document_id};
	return db_exec_prepared(db, "chat_passages_drop",
	                        "DELETE FROM passages WHERE document_id = $1", 1, p, NULL);
}

/* A document is complete (or failed): its passages anew, in the consumer's
 * transaction, in one statement (a JSON array of them). */
static enum err on_complete(struct db *db, const struct replica_doc *doc, void *arg)
{
	(void)arg;
	enum err e = drop(db, doc->id);
	if (e != ERR_OK || strcmp(doc->status, "processed") != 0 || doc->text_len == 0)
		return e;
	struct pool *pool = pool_new();
	struct doc d;
	doc_parse(pool, doc->text, doc->text_len, &d);
	struct doc_passage *ps = NULL;
	size_t n = doc_passages(pool, &d, PASSAGE_BLOCKS, CHAT_PASSAGE_BYTES, &ps);
	if (n > PASSAGES_MAX)
		n = PASSAGES_MAX;
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "ord", json_object_new_int64((int64_t)i));
		json_object_object_add(o, "section",
		                       json_object_new_string(ps[i].path ? ps[i].path : ""));
		json_object_object_add(o, "page",
		                       json_object_new_int64(ps[i].page > 0 ? ps[i].page : 1));
		json_object_object_add(o, "text",
		                       json_object_new_string_len(ps[i].text, (int)ps[i].len));
		json_object_array_add(arr, o);
	}
	const char *config = lang_ts_config(doc->text, doc->text_len);
	const char *p[] = {doc->id, doc->user_id, config, http_json_text(arr, NULL)};
	e = db_exec_prepared(
	    db, "chat_passages_add",
	    "INSERT INTO passages (document_id, ord, user_id, config, section, page, text, tsv) "
	    "SELECT $1::uuid, x.ord, $2::text, $3::text, x.section, x.page, x.text, "
	    "setweight(to_tsvector($3::text::regconfig, x.section), 'A') || "
	    "setweight(to_tsvector($3::text::regconfig, x.text), 'D') "
	    "FROM json_to_recordset($4::json) AS x(ord int, section text, page int, text text)",
	    4, p, NULL);
	if (e == ERR_OK)
		log_info("chat: document %s: %zu passages (%s)", doc->id, n, config);
	json_object_put(arr);
	pool_free(pool);
	return e;
}

static enum err on_deleted(struct db *db, const char *document_id, const char *user_id, void *arg)
{
	(void)user_id;
	(void)arg;
	return drop(db, document_id);
}

const struct replica_hooks chat_replica_hooks = {on_complete, on_deleted, NULL};

/* The phrase of each pair of neighbouring terms is written by the caller;
 * here the any-term, all-term and earlier-turn queries. The configurations
 * are the fixed set lang_ts_config answers with, so the GIN index serves
 * each (a passage is matched only with its own document's configuration). */
static const char retrieve_sql[] =
    "WITH q AS (SELECT c.config, websearch_to_tsquery(c.config::regconfig, $3) AS anyq, "
    "websearch_to_tsquery(c.config::regconfig, $4) AS allq, "
    "websearch_to_tsquery(c.config::regconfig, $5) AS prevq, "
    "websearch_to_tsquery(c.config::regconfig, $6) AS phraseq "
    "FROM unnest(ARRAY['english','french','german','spanish','italian','portuguese','dutch',"
    "'simple']) AS c(config)) "
    "SELECT p.document_id, d.filename, p.section, p.page, p.text, "
    "ts_rank_cd(p.tsv, q.anyq, 1) + ts_rank(p.tsv, q.anyq, 1) "
    "+ CASE WHEN p.tsv @@ q.allq THEN 1.0 ELSE 0 END "
    "+ CASE WHEN $6 <> '' AND p.tsv @@ q.phraseq THEN 0.5 ELSE 0 END "
    "+ 0.3 * ts_rank_cd(p.tsv, q.prevq, 1) AS score "
    "FROM q JOIN passages p ON p.config = q.config AND p.tsv @@ (q.anyq || q.prevq) "
    "JOIN document_replica d ON d.document_id = p.document_id AND d.deleted_at IS NULL "
    "AND d.user_id = $1 "
    "WHERE p.user_id = $1 AND ($2::uuid[] IS NULL OR p.document_id = ANY ($2::uuid[])) "
    "ORDER BY score DESC, p.document_id, p.ord LIMIT $7";

enum err chat_retrieve(struct db *db, struct pool *pool, const char *user_id, const char *docs,
                       const struct answer_term *cur, size_t ncur, const struct answer_term *prev,
                       size_t nprev, const char *phrases, size_t max, struct chat_passage **out,
                       size_t *count)
{
	*out = NULL;
	*count = 0;
	if (ncur == 0 && nprev == 0)
		return ERR_OK;
	char limit[24];
	snprintf(limit, sizeof(limit), "%zu", max);
	const char *p[] = {user_id,
	                   docs,
	                   answer_query_any(pool, cur, ncur),
	                   answer_query_all(pool, cur, ncur),
	                   answer_query_any(pool, prev, nprev),
	                   phrases ? phrases : "",
	                   limit};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(db, "chat_retrieve", retrieve_sql, 7, p, &res);
	if (e != ERR_OK)
		return e;
	int rows = PQntuples(res);
	struct chat_passage *r = pool_alloc(pool, sizeof(*r) * (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		r[i].document_id = pool_strdup(pool, db_value(res, i, 0));
		r[i].filename = pool_strdup(pool, db_value(res, i, 1));
		r[i].section = pool_strdup(pool, db_value(res, i, 2));
		r[i].page = strtol(db_value(res, i, 3), NULL, 10);
		r[i].text = pool_strdup(pool, db_value(res, i, 4));
		r[i].rank = strtod(db_value(res, i, 5), NULL);
	}
	PQclear(res);
	*out = r;
	*count = (size_t)rows;
	return ERR_OK;
}

enum err chat_count_documents(struct db *db, struct pool *pool, const char *user_id,
                              const char *docs, long *out)
{
	const char *p[] = {user_id, docs};
	const char *v[1];
	enum err e = db_row(db,
	                    "SELECT count(*) FROM document_replica WHERE user_id = $1 "
	                    "AND deleted_at IS NULL AND status = 'processed' "
	                    "AND ($2::uuid[] IS NULL OR document_id = ANY ($2::uuid[]))",
	                    2, p, pool, 1, v);
	*out = e == ERR_OK ? strtol(v[0], NULL, 10) : 0;
	return e;
}
