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
	enum err e = db_exec_prepared(db, "chat_passages_drop",
	                              "DELETE FROM passages WHERE document_id = $1", 1, p, NULL);
	if (e == ERR_OK)
		e = db_exec_prepared(db, "chat_passage_documents_drop",
		                     "DELETE FROM passage_documents WHERE document_id = $1", 1, p,
		                     NULL);
	return e;
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
	char count[24];
	snprintf(count, sizeof(count), "%zu", n);
	const char *q[] = {doc->id, doc->user_id, config, count};
	if (e == ERR_OK)
		e = db_exec_prepared(db, "chat_passage_documents_add",
		                     "INSERT INTO passage_documents (document_id, user_id, config, "
		                     "passages) VALUES ($1, $2, $3, $4::int)",
		                     4, q, NULL);
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

/* The question is parsed with each configuration the documents searched
 * use ($3 any term, $4 every term, $5 the earlier turns' terms, $6 the
 * phrases, $8 what a passage must match, $9 how many matches are ranked at
 * most); an empty text is no query (NULL), so no function sees an empty
 * one. One GIN index on (user_id, tsv) reads only the owner's postings.
 * The candidates come best first: the passages holding every term (which
 * outrank the others by 1.0), then the rest, at most $9 in all, so a
 * common word cannot fill the ranking with weaker matches; on a small
 * corpus every match is ranked, as before. The earlier turns' rank is only
 * computed for a passage that holds one of their terms (else it is 0). The
 * matches are found once (MATERIALIZED) and then joined to their
 * documents (a search joined first ran once per document of the user,
 * 0.6 s). The plan's shape is fixed by that structure and the
 * question's words are unknown to the planner either way (the tsquery is
 * made per configuration), so the statement is prepared. */
static const char retrieve_sql[] =
    "WITH c AS (SELECT DISTINCT config FROM passage_documents WHERE user_id = $1 "
    "AND ($2::uuid[] IS NULL OR document_id = ANY ($2::uuid[]))), "
    "q AS (SELECT c.config, "
    "CASE WHEN $3 <> '' THEN websearch_to_tsquery(c.config::regconfig, $3) END AS anyq, "
    "CASE WHEN $4 <> '' THEN websearch_to_tsquery(c.config::regconfig, $4) END AS allq, "
    "CASE WHEN $5 <> '' THEN websearch_to_tsquery(c.config::regconfig, $5) END AS prevq, "
    "CASE WHEN $6 <> '' THEN websearch_to_tsquery(c.config::regconfig, $6) END AS phraseq, "
    "websearch_to_tsquery(c.config::regconfig, $8) AS searchq FROM c), "
    "m AS MATERIALIZED (SELECT p.document_id, p.ord, p.section, p.page, p.text, "
    "coalesce(ts_rank_cd(p.tsv, q.anyq, 1) + ts_rank(p.tsv, q.anyq, 1), 0) + p.every "
    "+ CASE WHEN p.tsv @@ q.phraseq THEN 0.5 ELSE 0 END "
    "+ CASE WHEN p.tsv @@ q.prevq THEN 0.3 * ts_rank_cd(p.tsv, q.prevq, 1) ELSE 0 END "
    "AS score FROM q CROSS JOIN LATERAL (SELECT * FROM ("
    "(SELECT p.*, 1.0 AS every FROM passages p WHERE p.user_id = $1 "
    "AND p.config = q.config AND p.tsv @@ q.allq "
    "AND ($2::uuid[] IS NULL OR p.document_id = ANY ($2::uuid[])) LIMIT $9) UNION ALL "
    "(SELECT p.*, 0 FROM passages p WHERE p.user_id = $1 "
    "AND p.config = q.config AND p.tsv @@ q.searchq AND NOT coalesce(p.tsv @@ q.allq, false) "
    "AND ($2::uuid[] IS NULL OR p.document_id = ANY ($2::uuid[])) LIMIT $9)) x LIMIT $9) p) "
    "SELECT m.document_id, d.filename, m.section, m.page, m.text, m.score FROM m "
    "JOIN document_replica d ON d.document_id = m.document_id AND d.deleted_at IS NULL "
    "AND d.user_id = $1 "
    "ORDER BY m.score DESC, m.document_id, m.ord LIMIT $7";

/* Runs retrieve_sql with what passages must match (match). */
static enum err search(struct db *db, struct pool *pool, const char *const base[6],
                       const char *match, size_t max, struct chat_passage **out, size_t *count)
{
	char limit[24], ranked[24];
	snprintf(limit, sizeof(limit), "%zu", max);
	snprintf(ranked, sizeof(ranked), "%d", CHAT_RANKED_MAX);
	const char *p[] = {base[0], base[1], base[2], base[3], base[4],
	                   base[5], limit,   match,   ranked};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(db, "chat_retrieve", retrieve_sql, 9, p, &res);
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

enum err chat_retrieve(struct db *db, struct pool *pool, const char *user_id, const char *docs,
                       const struct answer_term *cur, size_t ncur, const struct answer_term *prev,
                       size_t nprev, const char *phrases, size_t max, struct chat_passage **out,
                       size_t *count)
{
	*out = NULL;
	*count = 0;
	if (ncur == 0 && nprev == 0)
		return ERR_OK;
	const char *any = answer_query_any(pool, cur, ncur);
	const char *was = answer_query_any(pool, prev, nprev);
	const char *base[6] = {
	    user_id, docs, any, answer_query_all(pool, cur, ncur), was, phrases ? phrases : ""};
	/* A question of two words or more is answered only by a passage that
	 * holds two of them (answer.h): only those are searched, which keeps a
	 * common word from making every passage a candidate. A question of one
	 * word (and a follow-up's earlier words) searches any of them; either
	 * way at most CHAT_RANKED_MAX matches are ranked. */
	if (ncur >= 2)
		return search(db, pool, base, answer_query_pairs(pool, cur, ncur), max, out, count);
	const char *broad = *any && *was ? pool_printf(pool, "%s or %s", any, was)
	                    : *any       ? any
	                                 : was;
	return search(db, pool, base, broad, max, out, count);
}

enum err chat_count_documents(struct db *db, struct pool *pool, const char *user_id,
                              const char *docs, long *out)
{
	const char *p[] = {user_id, docs};
	const char *v[1];
	enum err e = db_row(db,
	                    "SELECT count(*) FROM (SELECT 1 FROM document_replica "
	                    "WHERE user_id = $1 AND deleted_at IS NULL AND status = 'processed' "
	                    "AND ($2::uuid[] IS NULL OR document_id = ANY ($2::uuid[])) LIMIT 1) x",
	                    2, p, pool, 1, v);
	*out = e == ERR_OK ? strtol(v[0], NULL, 10) : 0;
	return e;
}
