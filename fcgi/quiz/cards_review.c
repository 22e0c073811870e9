/* cards: the due list, a review scheduled by FSRS, and the stats.
 *
 * "Today" is the learner's calendar day in their time zone (card_settings,
 * UTC by default): the daily limits count the reviews logged since its
 * start. New cards count against new_per_day (the review that first shows
 * them), every other review against reviews_per_day. All times are
 * Postgres's now(), so one transaction sees one instant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/service.h"
#include "cards.h"
#include "text/fsrs.h"

/* The start of the learner's day: the timestamp of local midnight. */
#define CARDS_SQL_TODAY "(date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2)"

/* GET /cards/due: cards seen before that are due now, then new cards,
 * within what is left of today's limits, oldest due first. */
enum err cards_due(struct http_req *req)
{
	char slimit[24];
	snprintf(slimit, sizeof(slimit), "%ld", http_param_int(req, "limit"));
	const char *p[] = {req->user_id, slimit};
	PGresult *res = NULL;
	/* One round trip: the settings (or their defaults), today's counts, then
	 * the two index walks. */
	enum err e = db_exec_prepared(
	    service_db(), "cards_due",
	    "WITH s AS (SELECT coalesce(max(timezone), 'UTC') AS tz, coalesce(max(new_per_day), "
	    "20) AS np, coalesce(max(reviews_per_day), 200) AS rp FROM card_settings WHERE "
	    "user_id = $1), "
	    "done AS (SELECT count(*) FILTER (WHERE state_before = 'new') AS n, "
	    "count(*) FILTER (WHERE state_before <> 'new') AS r FROM card_reviews WHERE "
	    "user_id = $1 AND reviewed_at >= (SELECT date_trunc('day', now() AT TIME ZONE tz) AT "
	    "TIME ZONE tz FROM s)), "
	    "seen AS (SELECT * FROM cards c WHERE c.user_id = $1 AND c.state <> 'new' AND "
	    "c.due <= now() ORDER BY c.due, c.id LIMIT least($2::int, greatest(0, (SELECT rp "
	    "FROM s) - (SELECT r FROM done)))), "
	    "fresh AS (SELECT * FROM cards c WHERE c.user_id = $1 AND c.state = 'new' AND "
	    "c.due <= now() ORDER BY c.created_at, c.id LIMIT least($2::int, greatest(0, (SELECT "
	    "np FROM s) - (SELECT n FROM done)))) "
	    "SELECT " CARDS_SQL_COLUMNS " FROM (SELECT * FROM seen UNION ALL SELECT * FROM "
	    "fresh) c ORDER BY c.due, c.created_at, c.id LIMIT $2",
	    2, p, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	int n = PQntuples(res);
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, cards_json(res, i));
	PQclear(res);
	char count[24];
	snprintf(count, sizeof(count), "%d", n);
	e = http_add_header(req, "X-Total-Count", count);
	if (e != ERR_OK) {
		json_object_put(arr);
		return e;
	}
	return http_send_json(req, 200, arr);
}

/* An interval in days as a JSON number with 6 decimals. */
static struct json_object *days_json(double days)
{
	char text[32];
	snprintf(text, sizeof(text), "%.6f", days);
	return json_object_new_double_s(strtod(text, NULL), text);
}

/* POST /cards/{id}/review {rating: 1..4}: the card rescheduled, its next
 * due time and what each rating would have given, in one transaction with
 * the review's log row. */
enum err cards_review(struct http_req *req)
{
	const char *id = http_param(req, "id");
	long rating = http_param_int(req, "rating");
	struct cards_settings s;
	enum err e = cards_settings_load(req, &s);
	if (e != ERR_OK)
		return e;
	e = db_begin(service_db());
	if (e != ERR_OK)
		return e;
	PGresult *res = NULL;
	const char *elapsed = NULL;
	struct fsrs_outcome out[4];
	struct fsrs_card card = {FSRS_NEW, 0, 0};
	e = cards_load(req, id, true, &res);
	if (e == ERR_OK) {
		const char *p[] = {id};
		e = db_row(
		    service_db(),
		    "SELECT coalesce(extract(epoch FROM now() - last_review) / 86400, 0)::text "
		    "FROM cards WHERE id = $1",
		    1, p, req->pool, 1, &elapsed);
	}
	const char *before = res ? db_value(res, 0, 6) : NULL;
	if (e == ERR_OK) {
		int st = fsrs_state_parse(before);
		card.state = st < 0 ? FSRS_NEW : (enum fsrs_state)st;
		card.stability = strtod(db_value(res, 0, 7), NULL);
		card.difficulty = strtod(db_value(res, 0, 8), NULL);
		double t = strtod(elapsed, NULL);
		if (!fsrs_next(NULL, &card, t < 0 ? 0 : t, s.retention, out))
			e = ERR_INTERNAL;
	}
	PGresult *upd = NULL;
	if (e == ERR_OK) {
		const struct fsrs_outcome *o = &out[rating - 1];
		char ss[32], sd[32], si[32], sr[8], sl[8], st[16];
		snprintf(ss, sizeof(ss), "%.17g", o->card.stability);
		snprintf(sd, sizeof(sd), "%.17g", o->card.difficulty);
		snprintf(si, sizeof(si), "%.9f", o->interval_days);
		snprintf(sr, sizeof(sr), "%ld", rating);
		snprintf(sl, sizeof(sl), "%d",
		         rating == FSRS_AGAIN && card.state == FSRS_REVIEW ? 1 : 0);
		snprintf(st, sizeof(st), "%s", fsrs_state_name(o->card.state));
		const char *p[] = {id, req->user_id, st, ss, sd, si, sl};
		e = db_exec_prepared(
		    service_db(), "cards_reviewed",
		    "UPDATE cards c SET state = $3, stability = $4, difficulty = $5, due = now() + "
		    "$6::float8 * interval '1 day', last_review = now(), reps = reps + 1, lapses = "
		    "lapses + $7::int, updated_at = now() WHERE id = $1 AND user_id = $2 "
		    "RETURNING " CARDS_SQL_COLUMNS,
		    7, p, &upd);
		if (e == ERR_OK) {
			const char *q[] = {id, req->user_id, sr, before, elapsed ? elapsed : "0",
			                   ss, sd,           si};
			e = db_exec_prepared(
			    service_db(), "cards_log",
			    "INSERT INTO card_reviews (card_id, user_id, rating, "
			    "state_before, elapsed_days, stability, difficulty, "
			    "interval_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			    8, q, NULL);
		}
	}
	if (res)
		PQclear(res);
	e = db_end(service_db(), e);
	if (e != ERR_OK) {
		if (upd)
			PQclear(upd);
		return e;
	}
	struct json_object *o = json_object_new_object();
	struct json_object *c = cards_json(upd, 0);
	PQclear(upd);
	struct json_object *due = NULL;
	json_object_object_get_ex(c, "due", &due);
	json_object_object_add(o, "next_due", json_object_get(due));
	json_object_object_add(o, "card", c);
	json_object_object_add(o, "rating", json_object_new_int((int)rating));
	static const char *const names[] = {"again", "hard", "good", "easy"};
	struct json_object *iv = json_object_new_object();
	for (int g = 0; g < 4; g++)
		json_object_object_add(iv, names[g], days_json(out[g].interval_days));
	json_object_object_add(o, "intervals", iv);
	return http_send_json(req, 200, o);
}

/* GET /cards/stats: what is due today, what was done, the retention the
 * log shows (share of reviews of review cards not rated again) and the
 * streak of days with a review, ending today or yesterday. */
enum err cards_stats(struct http_req *req)
{
	struct cards_settings s;
	enum err e = cards_settings_load(req, &s);
	if (e != ERR_OK)
		return e;
	char snew[24], srev[24];
	snprintf(snew, sizeof(snew), "%ld", s.new_per_day);
	snprintf(srev, sizeof(srev), "%ld", s.reviews_per_day);
	const char *p[] = {req->user_id, s.timezone, snew, srev};
	const char *v[11] = {0};
	e = db_row(
	    service_db(),
	    "WITH today AS (SELECT " CARDS_SQL_TODAY " AS start), "
	    "log AS (SELECT * FROM card_reviews WHERE user_id = $1), "
	    "done AS (SELECT count(*) FILTER (WHERE state_before = 'new') AS n, "
	    "count(*) FILTER (WHERE state_before <> 'new') AS r, count(*) AS a FROM log WHERE "
	    "reviewed_at >= (SELECT start FROM today)), "
	    "days AS (SELECT DISTINCT (reviewed_at AT TIME ZONE $2)::date AS d FROM log), "
	    "runs AS (SELECT d, d - (row_number() OVER (ORDER BY d))::int AS grp FROM days), "
	    "last AS (SELECT max(d) AS d FROM days) "
	    "SELECT (SELECT least(count(*), greatest(0, $4::int - (SELECT r FROM done))) FROM "
	    "cards WHERE user_id = $1 AND state <> 'new' AND due < (SELECT start FROM today) + "
	    "interval '1 day')::text, "
	    "(SELECT least(count(*), greatest(0, $3::int - (SELECT n FROM done))) FROM cards "
	    "WHERE user_id = $1 AND state = 'new')::text, "
	    "(SELECT a FROM done)::text, (SELECT count(*) FROM log)::text, "
	    "(SELECT count(*) FROM log WHERE state_before = 'review')::text, "
	    "(SELECT round(avg((rating > 1)::int), 4)::float8 FROM log WHERE state_before = "
	    "'review')::text, "
	    "(SELECT count(*) FROM runs WHERE grp = (SELECT grp FROM runs WHERE d = (SELECT d "
	    "FROM last)) AND (SELECT d FROM last) >= (now() AT TIME ZONE $2)::date - 1)::text, "
	    "(SELECT count(*) FROM cards WHERE user_id = $1)::text, "
	    "(SELECT count(*) FROM cards WHERE user_id = $1 AND state = 'new')::text, "
	    "(SELECT count(*) FROM cards WHERE user_id = $1 AND state IN ('learning', "
	    "'relearning'))::text, "
	    "(SELECT count(*) FROM cards WHERE user_id = $1 AND state = 'review')::text",
	    4, p, req->pool, 11, v);
	if (e != ERR_OK)
		return e;
	struct json_object *o = json_object_new_object();
	long due_reviews = strtol(v[0], NULL, 10), due_new = strtol(v[1], NULL, 10);
	json_object_object_add(o, "due_today", json_object_new_int64(due_reviews + due_new));
	json_object_object_add(o, "due_reviews", json_object_new_int64(due_reviews));
	json_object_object_add(o, "due_new", json_object_new_int64(due_new));
	json_object_object_add(o, "reviews_today", json_object_new_int64(strtol(v[2], NULL, 10)));
	json_object_object_add(o, "reviews_total", json_object_new_int64(strtol(v[3], NULL, 10)));
	json_object_object_add(o, "retention_reviews",
	                       json_object_new_int64(strtol(v[4], NULL, 10)));
	json_object_object_add(o, "retention",
	                       v[5] ? json_object_new_double_s(strtod(v[5], NULL), v[5]) : NULL);
	json_object_object_add(o, "desired_retention", cards_retention_json(s.retention));
	json_object_object_add(o, "streak", json_object_new_int64(strtol(v[6], NULL, 10)));
	json_object_object_add(o, "cards", json_object_new_int64(strtol(v[7], NULL, 10)));
	json_object_object_add(o, "new", json_object_new_int64(strtol(v[8], NULL, 10)));
	json_object_object_add(o, "learning", json_object_new_int64(strtol(v[9], NULL, 10)));
	json_object_object_add(o, "review", json_object_new_int64(strtol(v[10], NULL, 10)));
	json_object_object_add(o, "timezone", json_object_new_string(s.timezone));
	return http_send_json(req, 200, o);
}
