/* chat: the chat service's shared declarations (docs/api.md, "Chat"). */
#ifndef LECTERN_CHAT_H
#define LECTERN_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/service.h"
#include "events/replica.h"
#include "text/answer.h"

enum {
	CHAT_MESSAGE_MAX = 4000,   /* characters of a message */
	CHAT_TITLE_MAX = 200,      /* characters of a session title */
	CHAT_TITLE_AUTO = 60,      /* characters of a title taken from the first question */
	CHAT_DOCS_MAX = 100,       /* document_ids of a session or message */
	CHAT_BODY_MAX = 64 * 1024, /* bytes of a request body */
	CHAT_HISTORY_TURNS = 2,    /* earlier questions whose terms a follow-up borrows */
	CHAT_RANKED_MAX = 100,     /* matches of one search that are ranked */
	CHAT_PASSAGES = 12,        /* passages retrieval hands to the answer engine */
	CHAT_EXCERPT_MAX = 400,    /* bytes of a source's excerpt */
	CHAT_PASSAGE_BYTES = 1500  /* bytes of a passage when one is built */
};

/* Timestamps as the contract writes them. */
#define CHAT_SQL_TIME(col)                                                                         \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The columns of a session object, in chat_session_json's order. */
#define CHAT_SQL_SESSION                                                                           \
	"id, title, document_ids::text[], message_count, " CHAT_SQL_TIME(                          \
	    "created_at") ", " CHAT_SQL_TIME("updated_at")

/* --- sessions.c ---------------------------------------------------------- */
enum err chat_session_create(struct http_req *req);
enum err chat_session_list(struct http_req *req);
enum err chat_session_get(struct http_req *req);
enum err chat_session_delete(struct http_req *req);
/* The session object of row of res (CHAT_SQL_SESSION). */
struct json_object *chat_session_json(const PGresult *res, int row);
/* Loads session id of the caller into *out (CHAT_SQL_SESSION, caller
 * PQclears); ERR_NOT_FOUND for another user's or a missing one. */
enum err chat_session_load(struct http_req *req, const char *id, PGresult **out) MUST_CHECK;
/* Reads the body member document_ids (absent: *out NULL): an array of at
 * most CHAT_DOCS_MAX ids of the caller's documents, as a Postgres array
 * literal (pool-owned); ERR_INVALID for a wrong type, ERR_NOT_FOUND when one
 * is not a document of the caller's. */
enum err chat_doc_ids(struct http_req *req, const char **out, size_t *count) MUST_CHECK;

/* --- messages.c ---------------------------------------------------------- */
enum err chat_message_post(struct http_req *req);
enum err chat_message_list(struct http_req *req);

/* --- passages.c ---------------------------------------------------------- */
/* Builds and drops a document's passages with the replica (worker). */
extern const struct replica_hooks chat_replica_hooks;

/* A passage retrieval found. */
struct chat_passage {
	const char *document_id;
	const char *filename;
	const char *section;
	long page;
	const char *text;
	double rank;
};

/* The best passages (at most max) of user_id's documents (of docs, a
 * Postgres array literal, or all when NULL) for the question's terms cur
 * and the earlier turns' prev; phrases as answer_query_phrases gives them.
 * Pool-owned. */
enum err chat_retrieve(struct db *db, struct pool *pool, const char *user_id, const char *docs,
                       const struct answer_term *cur, size_t ncur, const struct answer_term *prev,
                       size_t nprev, const char *phrases, size_t max, struct chat_passage **out,
                       size_t *count) MUST_CHECK;
/* Whether user_id has a processed document (of docs when not NULL): *out is
 * 1 or 0, as counting stops at the first. */
enum err chat_count_documents(struct db *db, struct pool *pool, const char *user_id,
                              const char *docs, long *out) MUST_CHECK;

#endif
