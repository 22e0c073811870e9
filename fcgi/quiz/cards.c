/* cards: a card by hand, read, listed, edited, deleted; the settings. */
#include "cards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/owned.h"
#include "app/service.h"
#include "core/log.h"
#include "data/row.h"
#include "events/event.h"
#include "web/page.h"
#include "web/valid.h"

enum {
	COL_ID,
	COL_FRONT,
	COL_BACK,
	COL_TAGS,
	COL_DOCUMENT,
	COL_SOURCE,
	COL_STATE,
	COL_STABILITY,
	COL_DIFFICULTY,
	COL_DUE,
	COL_REPS,
	COL_LAPSES,
	COL_CREATED,
	COL_UPDATED,
	COL_LAST_REVIEW,
	COL_ORIGIN
};

/* A float column rounded to 4 decimals, as a JSON number. */
static struct json_object *number(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	char text[32];
	double x = v ? strtod(v, NULL) : 0.0;
	snprintf(text, sizeof(text), "%.4f", x);
	return json_object_new_double_s(strtod(text, NULL), text);
}

static int col_int(const PGresult *res, int row, int col)
{
	const char *v = db_value(res, row, col);
	return v ? (int)strtol(v, NULL, 10) : 0;
}

struct json_object *cards_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	const char *id = db_value(res, row, COL_ID);
	json_object_object_add(o, "card_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "front", row_str(res, row, COL_FRONT));
	json_object_object_add(o, "back", row_str(res, row, COL_BACK));
	const char *tags = db_value(res, row, COL_TAGS);
	struct json_object *t = tags ? http_json_parse(tags, strlen(tags)) : NULL;
	json_object_object_add(o, "tags", t ? t : json_object_new_array());
	json_object_object_add(o, "document_id", row_str(res, row, COL_DOCUMENT));
	json_object_object_add(o, "source_sentence", row_str(res, row, COL_SOURCE));
	json_object_object_add(o, "origin", row_str(res, row, COL_ORIGIN));
	json_object_object_add(o, "state", row_str(res, row, COL_STATE));
	json_object_object_add(o, "stability", number(res, row, COL_STABILITY));
	json_object_object_add(o, "difficulty", number(res, row, COL_DIFFICULTY));
	json_object_object_add(o, "due", row_str(res, row, COL_DUE));
	json_object_object_add(o, "reps", json_object_new_int(col_int(res, row, COL_REPS)));
	json_object_object_add(o, "lapses", json_object_new_int(col_int(res, row, COL_LAPSES)));
	json_object_object_add(o, "last_review", row_str(res, row, COL_LAST_REVIEW));
	json_object_object_add(o, "created_at", row_str(res, row, COL_CREATED));
	json_object_object_add(o, "updated_at", row_str(res, row, COL_UPDATED));
	return o;
}

enum err cards_not_found(struct http_req *req)
{
	return owned_not_found(req);
}

enum err cards_load(struct http_req *req, const char *id, bool lock, PGresult **out)
{
	if (lock)
		return owned_row(req, "cards_get_lock",
		                 "SELECT " CARDS_SQL_COLUMNS
		                 " FROM cards c WHERE c.id = $1 AND c.user_id = $2 FOR UPDATE",
		                 id, out);
	return owned_row(req, "cards_get",
	                 "SELECT " CARDS_SQL_COLUMNS
	                 " FROM cards c WHERE c.id = $1 AND c.user_id = $2",
	                 id, out);
}

bool cards_tag_ok(const char *tag, size_t len)
{
	if (!valid_text(tag, len, 1, CARDS_TAG_MAX, VALID_TEXT_NO_CONTROL, NULL))
		return false;
	/* No quote, '&', '<', '>' or formula start, so that an export never
	 * needs to quote or guard one (cards_io.c). */
	if (strchr("=+-@", tag[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (strchr(" \"&<>", tag[i]))
			return false;
	return true;
}

const char *cards_pg_array(struct pool *pool, const char *const *tags, size_t n)
{
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, i ? ",\"" : "\"");
		for (const char *c = tags[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *c);
		}
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	const char *out = pool_strdup(pool, b.data);
	buf_clear(&b);
	return out;
}

enum err cards_tags_param(struct http_req *req, const char **out)
{
	struct json_object *arr = NULL;
	*out = NULL;
	if (!req->body || !json_object_object_get_ex(req->body, "tags", &arr))
		return ERR_OK;
	if (!json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > CARDS_TAGS_MAX) {
		http_error_detail(req, "tags", "must be an array of at most 20 tags");
		return http_error(req, ERR_INVALID, "`tags` must be an array of at most 20 tags.");
	}
	size_t n = json_object_array_length(arr);
	const char **tags = pool_alloc(req->pool, (n + 1) * sizeof(*tags));
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(arr, i);
		const char *s =
		    json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;
		size_t len = s ? (size_t)json_object_get_string_len(t) : 0;
		if (!s || !cards_tag_ok(s, len)) {
			http_error_detail(
			    req, "tags", "each tag is 1..64 characters without spaces or controls");
			return http_error(req, ERR_INVALID, "Tag %zu is not a valid tag.", i + 1);
		}
		bool seen = false;
		for (size_t k = 0; k < kept; k++)
			seen = seen || strcmp(tags[k], s) == 0;
		if (!seen)
			tags[kept++] = pool_strdup(req->pool, s);
	}
	*out = cards_pg_array(req->pool, tags, kept);
	return ERR_OK;
}

enum err cards_create(struct http_req *req)
{
	const char *tags = NULL;
	enum err e = cards_tags_param(req, &tags);
	if (e != ERR_OK)
		return e;
	char id[EVENT_ID_LEN + 1];
	event_uuid(id);
	const char *p[] = {id, req->user_id, http_param(req, "front"), http_param(req, "back"),
	                   tags ? tags : "{}"};
	PGresult *res = NULL;
	e = db_exec_prepared(
	    service_db(), "cards_insert",
	    "INSERT INTO cards AS c (id, user_id, front, back, tags, origin) VALUES "
	    "($1, $2, $3, $4, $5, 'manual') RETURNING " CARDS_SQL_COLUMNS,
	    5, p, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *o = cards_json(res, 0);
	PQclear(res);
	return http_send_json(req, 201, o);
}

enum err cards_get(struct http_req *req)
{
	PGresult *res = NULL;
	enum err e = cards_load(req, http_param(req, "id"), false, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *o = cards_json(res, 0);
	PQclear(res);
	return http_send_json(req, 200, o);
}

/* GET /cards: newest first; ?tag= keeps cards with that tag, ?due=true
 * those due now (with no daily limit: that is /due). */
enum err cards_list(struct http_req *req)
{
	long limit = http_param_int(req, "limit"), offset = http_param_int(req, "offset");
	char slimit[24], soffset[24];
	snprintf(slimit, sizeof(slimit), "%ld", limit);
	snprintf(soffset, sizeof(soffset), "%ld", offset);
	const char *tag = http_param(req, "tag");
	const char *p[] = {req->user_id, tag, http_param_bool(req, "due") ? "t" : "f", slimit,
	                   soffset};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(
	    service_db(), "cards_list",
	    "SELECT " CARDS_SQL_COLUMNS ", count(*) OVER () FROM cards c WHERE c.user_id = $1 "
	    "AND ($2::text IS NULL OR $2 = ANY (c.tags)) AND (NOT $3::bool OR c.due <= now()) "
	    "ORDER BY c.created_at DESC, c.id DESC LIMIT $4 OFFSET $5",
	    5, p, &res);
	if (e != ERR_OK)
		return e;
	int n = PQntuples(res);
	long long total = 0;
	if (n > 0) {
		total = strtoll(db_value(res, 0, COL_ORIGIN + 1), NULL, 10);
	} else if (offset > 0) {
		const char *q[] = {req->user_id, tag, p[2]};
		const char *count = NULL;
		PQclear(res);
		res = NULL;
		e = db_row(
		    service_db(),
		    "SELECT count(*) FROM cards c WHERE c.user_id = $1 AND ($2::text IS NULL "
		    "OR $2 = ANY (c.tags)) AND (NOT $3::bool OR c.due <= now())",
		    3, q, req->pool, 1, &count);
		if (e != ERR_OK)
			return e;
		total = strtoll(count, NULL, 10);
	}
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, cards_json(res, i));
	PQclear(res);
	e = http_page_headers(req, CARDS_PREFIX, limit, offset, total);
	if (e != ERR_OK) {
		json_object_put(arr);
		return e;
	}
	return http_send_json(req, 200, arr);
}

/* PATCH /cards/{id}: front, back and tags; the schedule is left alone. */
enum err cards_update(struct http_req *req)
{
	const char *tags = NULL;
	enum err e = cards_tags_param(req, &tags);
	if (e != ERR_OK)
		return e;
	const char *p[] = {http_param(req, "id"), req->user_id, http_param(req, "front"),
	                   http_param(req, "back"), tags};
	PGresult *res = NULL;
	e = db_exec_prepared(service_db(), "cards_update",
	                     "UPDATE cards c SET front = coalesce($3, front), back = coalesce($4, "
	                     "back), tags = coalesce($5::text[], tags), updated_at = now() WHERE "
	                     "id = $1 AND user_id = $2 RETURNING " CARDS_SQL_COLUMNS,
	                     5, p, &res);
	if (e != ERR_OK)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cards_not_found(req);
	}
	struct json_object *o = cards_json(res, 0);
	PQclear(res);
	return http_send_json(req, 200, o);
}

/* DELETE /cards/{id}: its review log stays (stats are measured from it). */
enum err cards_delete(struct http_req *req)
{
	const char *id = http_param(req, "id");
	const char *p[] = {id, req->user_id};
	PGresult *res = NULL;
	enum err e =
	    db_exec_prepared(service_db(), "cards_delete",
	                     "DELETE FROM cards WHERE id = $1 AND user_id = $2", 2, p, &res);
	if (e != ERR_OK)
		return e;
	long n = db_affected(res);
	PQclear(res);
	if (n != 1)
		return cards_not_found(req);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("Card deleted."));
	json_object_object_add(o, "card_id", json_object_new_string(id));
	return http_send_json(req, 200, o);
}

/* --- Settings ------------------------------------------------------------ */

enum err cards_settings_load(struct http_req *req, struct cards_settings *out)
{
	const char *p[] = {req->user_id};
	const char *v[4] = {0};
	enum err e = db_row(service_db(),
	                    "SELECT coalesce(max(desired_retention), 0.90)::text, "
	                    "coalesce(max(timezone), 'UTC'), coalesce(max(new_per_day), 20)::text, "
	                    "coalesce(max(reviews_per_day), 200)::text FROM card_settings WHERE "
	                    "user_id = $1",
	                    1, p, req->pool, 4, v);
	if (e != ERR_OK)
		return e;
	out->retention = strtod(v[0], NULL);
	out->timezone = v[1];
	out->new_per_day = strtol(v[2], NULL, 10);
	out->reviews_per_day = strtol(v[3], NULL, 10);
	return ERR_OK;
}

struct json_object *cards_retention_json(double r)
{
	char text[16];
	snprintf(text, sizeof(text), "%.2f", r);
	size_t n = strlen(text);
	while (n > 1 && text[n - 1] == '0' && text[n - 2] != '.')
		text[--n] = '\0';
	return json_object_new_double_s(strtod(text, NULL), text);
}

static enum err settings_send(struct http_req *req, const struct cards_settings *s)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "desired_retention", cards_retention_json(s->retention));
	json_object_object_add(o, "timezone", json_object_new_string(s->timezone));
	json_object_object_add(o, "new_per_day", json_object_new_int64(s->new_per_day));
	json_object_object_add(o, "reviews_per_day", json_object_new_int64(s->reviews_per_day));
	return http_send_json(req, 200, o);
}

enum err cards_settings_get(struct http_req *req)
{
	struct cards_settings s;
	enum err e = cards_settings_load(req, &s);
	return e != ERR_OK ? e : settings_send(req, &s);
}

/* PATCH /cards/settings: desired_retention 0.70..0.97 (a JSON number),
 * timezone an IANA name Postgres knows, the daily limits. */
enum err cards_settings_update(struct http_req *req)
{
	struct cards_settings s;
	enum err e = cards_settings_load(req, &s);
	if (e != ERR_OK)
		return e;
	struct json_object *r = NULL;
	if (json_object_object_get_ex(req->body, "desired_retention", &r)) {
		double x = json_object_get_double(r);
		if (!(json_object_is_type(r, json_type_double) ||
		      json_object_is_type(r, json_type_int)) ||
		    !(x >= 0.70 - 1e-9 && x <= 0.97 + 1e-9)) {
			http_error_detail(req, "desired_retention",
			                  "must be a number in 0.70..0.97");
			return http_error(req, ERR_INVALID,
			                  "desired_retention must be a number from 0.70 to 0.97.");
		}
		s.retention = x;
	}
	const char *tz = http_param(req, "timezone");
	if (tz) {
		const char *p[] = {tz};
		const char *known = NULL;
		e = db_row(service_db(),
		           "SELECT count(*)::text FROM pg_timezone_names WHERE name = $1", 1, p,
		           req->pool, 1, &known);
		if (e != ERR_OK)
			return e;
		if (strcmp(known, "0") == 0) {
			http_error_detail(req, "timezone", "is not an IANA time zone name");
			return http_error(req, ERR_INVALID, "Unknown time zone.");
		}
		s.timezone = tz;
	}
	if (http_param(req, "new_per_day"))
		s.new_per_day = http_param_int(req, "new_per_day");
	if (http_param(req, "reviews_per_day"))
		s.reviews_per_day = http_param_int(req, "reviews_per_day");
	char sr[16], sn[24], sv[24];
	snprintf(sr, sizeof(sr), "%.2f", s.retention);
	snprintf(sn, sizeof(sn), "%ld", s.new_per_day);
	snprintf(sv, sizeof(sv), "%ld", s.reviews_per_day);
	const char *p[] = {req->user_id, sr, s.timezone, sn, sv};
	e = db_exec(service_db(),
	            "INSERT INTO card_settings (user_id, desired_retention, timezone, new_per_day, "
	            "reviews_per_day) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE "
	            "SET desired_retention = $2, timezone = $3, new_per_day = $4, "
	            "reviews_per_day = $5, updated_at = now()",
	            5, p, NULL);
	if (e != ERR_OK)
		return e;
	s.retention = strtod(sr, NULL);
	return settings_send(req, &s);
}
