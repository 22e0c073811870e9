/* owned: one of a user's rows by id, and a page of them. */
#include <stdio.h>

#include "app/owned.h"
#include "app/service.h"
#include "data/row.h"
#include "web/page.h"

enum err owned_not_found(struct http_req *req)
{
	return http_error(req, ERR_NOT_FOUND, "Not found.");
}

enum err owned_row(struct http_req *req, const char *stmt, const char *sql, const char *id,
                   PGresult **out)
{
	const char *params[] = {id, req->user_id};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(service_db(), stmt, sql, 2, params, &res);
	if (e != ERR_OK)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return owned_not_found(req);
	}
	*out = res;
	return ERR_OK;
}

enum err owned_list_send(struct http_req *req, const struct owned_list *l)
{
	long limit = http_param_int(req, "limit"), offset = http_param_int(req, "offset");
	char slimit[24], soffset[24];
	snprintf(slimit, sizeof(slimit), "%ld", limit);
	snprintf(soffset, sizeof(soffset), "%ld", offset);
	const char *params[] = {req->user_id, slimit, soffset};
	PGresult *res = NULL, *count = NULL;
	enum err e = db_exec_prepared(service_db(), l->stmt, l->sql, 3, params, &res);
	if (e == ERR_OK)
		e = db_exec_prepared(service_db(), l->count_stmt, l->count_sql, 1, params, &count);
	if (e == ERR_OK)
		e = http_page_headers(req, l->url, limit, offset, row_ll(count, 0, 0));
	if (e == ERR_OK) {
		struct json_object *arr = json_object_new_array();
		for (int i = 0; i < PQntuples(res); i++)
			json_object_array_add(arr, l->json(res, i));
		e = http_send_json(req, 200, arr);
	}
	PQclear(res);
	PQclear(count);
	return e;
}
