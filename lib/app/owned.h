/* owned: the rows a user owns, read the way every service's routes read
 * them: one by its id, where a missing row, another user's and a malformed
 * id all answer the same 404; and a page of them as the list routes answer
 * (docs/api.md, "Lists": limit and offset, X-Total-Count, Link). */
#ifndef LECTERN_OWNED_H
#define LECTERN_OWNED_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "web/http.h"

/* 404 "Not found.": the dispatcher's sentence for a malformed id too, so
 * nothing tells a missing row from another user's or from a malformed id. */
enum err owned_not_found(struct http_req *req);

/* The row of sql ($1 the id, $2 the caller's user id; prepared as stmt on
 * service_db()) into *out, for the caller to PQclear; otherwise the error
 * of the answer sent (owned_not_found when there is no such row). */
enum err owned_row(struct http_req *req, const char *stmt, const char *sql, const char *id,
                   PGresult **out) MUST_CHECK;

/* A list route over one table of the caller's rows. */
struct owned_list {
	const char *stmt, *sql;             /* the page: $1 user id, $2 limit, $3 offset */
	const char *count_stmt, *count_sql; /* how many in all: $1 user id */
	const char *url;                    /* the list's public path, for Link */
	struct json_object *(*json)(const PGresult *res, int row); /* one item */
};

/* Sends 200 with the page the request's limit and offset ask for, as a
 * JSON array of l->json's items, with X-Total-Count and Link. */
enum err owned_list_send(struct http_req *req, const struct owned_list *l) MUST_CHECK;

#endif
