/* cards: the quiz service's flashcards (docs/api.md, "Flashcards").
 *
 * Cards live in the quiz database (sql/quiz/010-cards.sql), each naming its
 * owner; every query names req->user_id, so another user's card is not
 * found, exactly as a missing one. Reviews are scheduled by FSRS-5
 * (text/fsrs.h) and logged in card_reviews; the learner's settings
 * (desired retention, time zone, daily limits) are in card_settings.
 * Cards are made by hand, from a document's replica (its key terms and
 * key sentences) and, by a trigger on submissions, from every question a
 * learner gets wrong. The routes sit under /api/v1/cards; the service
 * strips no prefix from them (main.c lists "" after /api/v1/quizzes), so
 * their patterns are whole paths and never meet the quiz routes. */
#ifndef LECTERN_QUIZ_CARDS_H
#define LECTERN_QUIZ_CARDS_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "events/replica.h"
#include "web/http.h"

#define CARDS_PREFIX "/api/v1/cards"
/* RFC 3339 UTC with milliseconds, computed by Postgres. */
#define CARDS_SQL_TIME(col)                                                                        \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The columns of a card, in the order cards_json reads them. */
#define CARDS_SQL_COLUMNS                                                                          \
	"c.id, c.front, c.back, array_to_json(c.tags)::text, c.document_id, "                      \
	"c.source_sentence, c.state, c.stability, c.difficulty, " CARDS_SQL_TIME(                  \
	    "c.due") ", c.reps, c.lapses, " CARDS_SQL_TIME("c.created_at") ", " CARDS_SQL_TIME("c" \
	                                                                                       "." \
	                                                                                       "u" \
	                                                                                       "p" \
	                                                                                       "d" \
	                                                                                       "a" \
	                                                                                       "t" \
	                                                                                       "e" \
	                                                                                       "d" \
	                                                                                       "_" \
	                                                                                       "a" \
	                                                                                       "t") ", " CARDS_SQL_TIME("c.last_review") ", c.origin"

enum {
	CARDS_FRONT_MAX = 2000, /* characters of a card's front */
	CARDS_BACK_MAX = 4000,  /* characters of its back */
	CARDS_TAGS_MAX = 20,    /* tags of one card */
	CARDS_TAG_MAX = 64,     /* characters of one tag */
	CARDS_LIST_MAX = 100,   /* cards in one page of a list */
	CARDS_DUE_MAX = 100,    /* cards in one answer of /due */
	CARDS_JSON_BODY_MAX = 64 * 1024,
	CARDS_FROM_DOC_MAX = 100,     /* cards made from one document at once */
	CARDS_IMPORT_MAX = 1 << 20,   /* bytes of an imported CSV */
	CARDS_IMPORT_ROWS_MAX = 5000, /* cards in one import */
	CARDS_EXPORT_MAX = 50000      /* cards in one export */
};

/* The card object of the contract from row of res (CARDS_SQL_COLUMNS).
 * The caller owns the result. */
struct json_object *cards_json(const PGresult *res, int row);
/* Loads the caller's card id (FOR UPDATE when lock) into *out (caller
 * PQclear()s); ERR_NOT_FOUND with the message set when there is none. */
enum err cards_load(struct http_req *req, const char *id, bool lock, PGresult **out) MUST_CHECK;
/* The 404 of a card or document that is missing, foreign or malformed. */
enum err cards_not_found(struct http_req *req);
/* Checks the optional `tags` member of the body: an array of at most
 * CARDS_TAGS_MAX distinct tags of 1..CARDS_TAG_MAX characters without
 * spaces, control characters, '"', '&', '<' or '>', not starting with '=',
 * '+', '-' or '@'. *out is a Postgres array literal
 * (pool-owned), NULL when the member is absent. ERR_INVALID with a detail. */
enum err cards_tags_param(struct http_req *req, const char **out) MUST_CHECK;
/* A Postgres text[] literal of tags (each already valid). Pool-owned. */
const char *cards_pg_array(struct pool *pool, const char *const *tags, size_t n);
/* Whether a tag is acceptable (see cards_tags_param). */
bool cards_tag_ok(const char *tag, size_t len);

/* The learner's settings (defaults when there is no row). */
struct cards_settings {
	double retention;     /* desired retention, 0.70..0.97 */
	const char *timezone; /* IANA name ("Europe/Paris"); pool-owned */
	long new_per_day;     /* new cards shown per day */
	long reviews_per_day; /* reviews shown per day */
};
enum err cards_settings_load(struct http_req *req, struct cards_settings *out) MUST_CHECK;
/* A retention (0.9) as a JSON number written without trailing zeros. */
struct json_object *cards_retention_json(double r);

/* Handlers (one route each). */
enum err cards_create(struct http_req *req);
enum err cards_list(struct http_req *req);
enum err cards_get(struct http_req *req);
enum err cards_update(struct http_req *req);
enum err cards_delete(struct http_req *req);
enum err cards_due(struct http_req *req);
enum err cards_review(struct http_req *req);
enum err cards_stats(struct http_req *req);
enum err cards_settings_get(struct http_req *req);
enum err cards_settings_update(struct http_req *req);
enum err cards_from_document(struct http_req *req);
enum err cards_export(struct http_req *req);
enum err cards_import(struct http_req *req);

/* The replica hook of document.deleted: the learner's cards of that
 * document stay, without the link. */
extern const struct replica_hooks cards_replica_hooks;

/* The parameters of the routes (cards_routes.c). */
extern const struct param_spec cards_create_params[], cards_list_params[], cards_id_params[],
    cards_update_params[], cards_due_params[], cards_review_params[], cards_settings_params[],
    cards_from_document_params[], cards_export_params[];

/* The routes, to append to the service's table (literal paths before {id}). */
/* clang-format off */
#define CARDS_ROUTES \
	{"GET", CARDS_PREFIX "/due", cards_due, cards_due_params, 0, ROUTE_AUTH}, \
	{"GET", CARDS_PREFIX "/stats", cards_stats, NULL, 0, ROUTE_AUTH}, \
	{"GET", CARDS_PREFIX "/settings", cards_settings_get, NULL, 0, ROUTE_AUTH}, \
	{"PATCH", CARDS_PREFIX "/settings", cards_settings_update, cards_settings_params, \
	 CARDS_JSON_BODY_MAX, ROUTE_AUTH | ROUTE_JSON}, \
	{"GET", CARDS_PREFIX "/export", cards_export, cards_export_params, 0, ROUTE_AUTH}, \
	{"POST", CARDS_PREFIX "/import", cards_import, NULL, CARDS_IMPORT_MAX, \
	 ROUTE_AUTH | ROUTE_STREAM}, \
	{"POST", CARDS_PREFIX "/from-document", cards_from_document, cards_from_document_params, \
	 CARDS_JSON_BODY_MAX, ROUTE_AUTH | ROUTE_JSON}, \
	{"POST", CARDS_PREFIX, cards_create, cards_create_params, CARDS_JSON_BODY_MAX, \
	 ROUTE_AUTH | ROUTE_JSON}, \
	{"GET", CARDS_PREFIX, cards_list, cards_list_params, 0, ROUTE_AUTH}, \
	{"GET", CARDS_PREFIX "/{id}", cards_get, cards_id_params, 0, ROUTE_AUTH}, \
	{"PATCH", CARDS_PREFIX "/{id}", cards_update, cards_update_params, CARDS_JSON_BODY_MAX, \
	 ROUTE_AUTH | ROUTE_JSON}, \
	{"DELETE", CARDS_PREFIX "/{id}", cards_delete, cards_id_params, 0, ROUTE_AUTH}, \
	{"POST", CARDS_PREFIX "/{id}/review", cards_review, cards_review_params, \
	 CARDS_JSON_BODY_MAX, ROUTE_AUTH | ROUTE_JSON}
/* clang-format on */

#endif
