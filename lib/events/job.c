/* job: the jobs table's state machine and the wait for a job's end. */
#include "core/clock.h"
#include "events/job.h"

#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/cfg.h"
#include "core/log.h"

/* A kind is a short word of [a-z0-9_.-], safe inside an array literal. */
static bool job_kind_ok(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;
	if (n == 0 || n >= JOB_KIND_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)kind[i]) || isdigit((unsigned char)kind[i]) ||
		      kind[i] == '_' || kind[i] == '.' || kind[i] == '-'))
			return false;
	return true;
}

/* The lowercase form of a UUID (as Postgres prints it); false if not one. */
static bool job_id_norm(const char *id, char out[EVENT_ID_LEN + 1])
{
	if (!event_is_uuid(id))
		return false;
	for (size_t i = 0; i <= EVENT_ID_LEN; i++)
		out[i] = (char)tolower((unsigned char)id[i]);
	return true;
}

static long job_limit = JOB_OWNER_LIMIT_DEFAULT;

void job_set_owner_limit(long limit)
{
	job_limit = limit > 0 ? limit : 0;
}

long job_owner_limit(void)
{
	return job_limit;
}

/* The owner as SQL sees it: the one named, else the input's user_id. */
#define JOB_OWNER_SQL "coalesce($1::text, $2::jsonb->>'user_id')"

enum err job_owner_room(struct db *db, const char *owner)
{
	char limit[32];
	const char *v[1];
	if (!owner || job_limit == 0)
		return ERR_OK;
	snprintf(limit, sizeof(limit), "%ld", job_limit);
	const char *p[] = {owner, limit};
	struct pool *pool = pool_new();
	enum err e = db_row(db,
	                    "SELECT count(*) < $2::int FROM jobs WHERE owner = $1 AND "
	                    "state IN ('queued', 'running')",
	                    2, p, pool, 1, v);
	if (e == ERR_OK && v[0][0] != 't')
		e = ERR_RATE_LIMITED;
	pool_free(pool);
	return e;
}

enum err job_add_owned(struct db *db, const char *id, const char *kind, const char *owner,
                       const char *input_json, long max_attempts, char out_id[EVENT_ID_LEN + 1])
{
	char idbuf[EVENT_ID_LEN + 1], attempts[32], limit[32];
	PGresult *res = NULL;
	if (id ? !job_id_norm(id, idbuf) : (event_uuid(idbuf), false))
		return ERR_INVALID;
	if (!job_kind_ok(kind) || max_attempts < 1 || max_attempts > 100) {
		log_error("job: bad kind or max_attempts");
		return ERR_INVALID;
	}
	const char *input = input_json ? input_json : "{}";
	snprintf(attempts, sizeof(attempts), "%ld", max_attempts);
	snprintf(limit, sizeof(limit), "%ld", job_limit);
	/* One owner's adds take turns (until the transaction ends), so that
	 * two at once cannot both see room for one more. */
	const char *lp[] = {owner, input};
	enum err e = ERR_OK;
	if (job_limit > 0 && db_in_transaction(db))
		e = db_exec_prepared(
		    db, "job_add_lock",
		    "SELECT pg_advisory_xact_lock(2116, hashtext(coalesce(" JOB_OWNER_SQL ", '')))",
		    2, lp, NULL);
	const char *p[] = {owner, input, idbuf, kind, attempts, limit};
	if (e == ERR_OK)
		e = db_exec_prepared(
		    db, "job_add",
		    "INSERT INTO jobs (id, kind, owner, input, max_attempts) "
		    "SELECT $3, $4, o.owner, $2::jsonb, $5::int FROM (SELECT " JOB_OWNER_SQL
		    " AS owner) o WHERE o.owner IS NULL OR $6::int = 0 OR "
		    "(SELECT count(*) FROM jobs WHERE owner = o.owner AND "
		    "state IN ('queued', 'running')) < $6::int",
		    6, p, &res);
	if (e)
		return e;
	long n = db_affected(res);
	PQclear(res);
	if (n == 0) {
		log_info("job: %s refused: its owner has %ld unfinished jobs", kind, job_limit);
		return ERR_RATE_LIMITED;
	}
	const char *np[] = {kind};
	e = db_exec_prepared(db, "job_add_notify", "SELECT pg_notify('" JOB_NEW_CHANNEL "', $1)", 1,
	                     np, NULL);
	if (!e && out_id)
		memcpy(out_id, idbuf, sizeof(idbuf));
	return e;
}

enum err job_add(struct db *db, const char *id, const char *kind, const char *input_json,
                 long max_attempts, char out_id[EVENT_ID_LEN + 1])
{
	return job_add_owned(db, id, kind, NULL, input_json, max_attempts, out_id);
}

long job_reap(struct db *db, void (*each)(struct db *db, const struct job *job, void *arg),
              void *arg)
{
	PGresult *res = NULL;
	if (db_exec_prepared(
	        db, "job_reap",
	        "WITH r AS (UPDATE jobs SET state = 'failed', lease_until = NULL, "
	        "error = '" JOB_LOST_ERROR "', finished_at = now(), updated_at = now() "
	        "WHERE state = 'running' AND lease_until < now() AND attempts >= max_attempts "
	        "RETURNING id, kind, attempts, max_attempts, input::text) "
	        "SELECT r.*, pg_notify('" JOB_CHANNEL "', id::text) FROM r",
	        0, NULL, &res) != ERR_OK)
		return 0;
	long n = PQntuples(res);
	if (n)
		log_warn("job: %ld jobs failed for good after their worker was lost", n);
	for (long i = 0; each && i < n; i++) {
		struct job job = {.input = PQgetvalue(res, (int)i, 4)};
		snprintf(job.id, sizeof(job.id), "%s", PQgetvalue(res, (int)i, 0));
		snprintf(job.kind, sizeof(job.kind), "%s", PQgetvalue(res, (int)i, 1));
		cfg_parse_long(PQgetvalue(res, (int)i, 2), 0, 1000, &job.attempt);
		cfg_parse_long(PQgetvalue(res, (int)i, 3), 0, 1000, &job.max_attempts);
		each(db, &job, arg);
	}
	PQclear(res);
	return n;
}

/* Unfinished: what jobs_owner_open indexes. */
#define JOB_OPEN "state IN ('queued', 'running')"
/* Due jobs looked at per owner (more than one: the first may be locked). */
#define JOB_HEADS "3"
/* Queued and due, or running with a lease that passed and attempts left. */
#define JOB_DUE                                                                                    \
	"((state = 'queued' AND run_after <= now()) OR (state = 'running' AND "                    \
	"lease_until < now() AND attempts < max_attempts))"
#define JOB_DUE_J                                                                                  \
	"((j.state = 'queued' AND j.run_after <= now()) OR (j.state = 'running' AND "              \
	"j.lease_until < now() AND j.attempts < j.max_attempts))"

enum err job_claim(struct db *db, const char *const *kinds, size_t nkinds, const char *worker,
                   long lease_ms, struct pool *pool, struct job *out)
{
	struct buf arr;
	char lease[32];
	PGresult *res = NULL;
	if (nkinds == 0 || nkinds > JOB_KINDS_MAX || !worker || strlen(worker) >= JOB_WORKER_MAX ||
	    lease_ms < 1)
		return ERR_INVALID;
	buf_init(&arr);
	buf_putc(&arr, '{');
	for (size_t i = 0; i < nkinds; i++) {
		if (!job_kind_ok(kinds[i])) {
			buf_clear(&arr);
			return ERR_INVALID;
		}
		buf_printf(&arr, "%s%s", i ? "," : "", kinds[i]);
	}
	buf_putc(&arr, '}');
	snprintf(lease, sizeof(lease), "%ld", lease_ms);
	const char *p[] = {arr.data, worker, lease};
	/* Due jobs are ranked by their owner's running jobs plus their place
	 * in that owner's queue, then by how long ago the owner last had a
	 * job started (round robin among owners), then by age. Only the first
	 * few due jobs of each owner are looked at: the owners are found by
	 * skipping through the index (one probe per owner, not a scan of every
	 * queued job), so a claim costs the number of owners, not of jobs.
	 * The lock is taken on jobs itself with the due conditions repeated
	 * there, so a job another worker claimed meanwhile is re-checked (or
	 * skipped), never claimed twice. */
	enum err e = db_exec_prepared(
	    db, "job_claim",
	    "WITH RECURSIVE owners AS ("
	    "(SELECT owner AS o FROM jobs WHERE " JOB_OPEN " AND owner IS NOT NULL "
	    "ORDER BY owner LIMIT 1) UNION ALL SELECT (SELECT owner FROM jobs WHERE " JOB_OPEN
	    " AND owner > w.o ORDER BY owner LIMIT 1) FROM owners w WHERE w.o IS NOT NULL), "
	    "busy AS (SELECT coalesce(owner, '') AS o, count(*) AS n FROM jobs "
	    "WHERE state = 'running' AND lease_until >= now() GROUP BY 1), "
	    "due AS (SELECT f.id, f.run_after, w.o, row_number() OVER (PARTITION BY w.o "
	    "ORDER BY f.run_after, f.id) AS pos FROM owners w CROSS JOIN LATERAL "
	    "(SELECT id, run_after FROM jobs WHERE owner = w.o AND kind = ANY($1::text[]) "
	    "AND " JOB_DUE " ORDER BY run_after, id LIMIT " JOB_HEADS ") f "
	    "UNION ALL SELECT id, run_after, '', row_number() OVER (ORDER BY run_after, id) "
	    "FROM (SELECT id, run_after FROM jobs WHERE owner IS NULL AND kind = ANY($1::text[]) "
	    "AND " JOB_DUE " ORDER BY run_after, id LIMIT " JOB_HEADS ") n), "
	    "pick AS (SELECT j.id, d.o FROM jobs j JOIN due d ON d.id = j.id "
	    "LEFT JOIN busy b ON b.o = d.o LEFT JOIN job_owners s ON s.owner = d.o "
	    "WHERE " JOB_DUE_J " ORDER BY coalesce(b.n, 0) + d.pos, "
	    "s.last_started NULLS FIRST, d.run_after, d.id LIMIT 1 FOR UPDATE OF j SKIP LOCKED), "
	    "served AS (INSERT INTO job_owners (owner, last_started) "
	    "SELECT o, clock_timestamp() FROM pick ON CONFLICT (owner) "
	    "DO UPDATE SET last_started = excluded.last_started) "
	    "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $2, "
	    "lease_until = now() + make_interval(secs => $3::bigint / 1000.0), "
	    "started_at = now(), updated_at = now() "
	    "WHERE id = (SELECT id FROM pick) "
	    "RETURNING id, kind, attempts, max_attempts, input::text",
	    3, p, &res);
	buf_clear(&arr);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return ERR_NOT_FOUND;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(out->kind, sizeof(out->kind), "%s", PQgetvalue(res, 0, 1));
	snprintf(out->worker, sizeof(out->worker), "%s", worker);
	cfg_parse_long(PQgetvalue(res, 0, 2), 0, 1000, &out->attempt);
	cfg_parse_long(PQgetvalue(res, 0, 3), 0, 1000, &out->max_attempts);
	out->input = pool_strdup(pool, PQgetvalue(res, 0, 4));
	PQclear(res);
	return ERR_OK;
}

/* The job's identity as statement parameters: id, worker, attempt. */
struct job_token {
	char attempt[32];
	const char *p[3];
};

static void job_token(const struct job *job, struct job_token *t)
{
	snprintf(t->attempt, sizeof(t->attempt), "%ld", job->attempt);
	t->p[0] = job->id;
	t->p[1] = job->worker;
	t->p[2] = t->attempt;
}

#define JOB_MINE "id = $1 AND worker = $2 AND attempts = $3::int AND state = 'running'"

enum err job_renew(struct db *db, const struct job *job, long lease_ms, long progress)
{
	struct job_token t;
	char lease[32], prog[32];
	PGresult *res = NULL;
	job_token(job, &t);
	snprintf(lease, sizeof(lease), "%ld", lease_ms);
	snprintf(prog, sizeof(prog), "%ld", progress > 100 ? 100 : progress);
	const char *p[] = {t.p[0], t.p[1], t.p[2], lease, prog};
	enum err e =
	    db_exec_prepared(db, "job_renew",
	                     "UPDATE jobs SET lease_until = now() + make_interval(secs => "
	                     "$4::bigint / 1000.0), progress = CASE WHEN $5::int < 0 THEN "
	                     "progress ELSE $5::int END, updated_at = now() WHERE " JOB_MINE,
	                     5, p, &res);
	if (e)
		return e;
	long n = db_affected(res);
	PQclear(res);
	if (n == 0) {
		log_warn("job %s: lease lost (attempt %ld)", job->id, job->attempt);
		return ERR_CONFLICT;
	}
	return ERR_OK;
}

/* Completes the job if this worker still holds it; says so when not and warn. */
static enum err job_complete_held(struct db *db, const struct job *job, const char *result_json,
                                  bool warn)
{
	struct job_token t;
	PGresult *res = NULL;
	job_token(job, &t);
	const char *p[] = {t.p[0], t.p[1], t.p[2], result_json};
	enum err e = db_exec_prepared(
	    db, "job_complete",
	    "WITH c AS (UPDATE jobs SET state = 'completed', progress = 100, result = $4::jsonb, "
	    "error = NULL, lease_until = NULL, finished_at = now(), updated_at = now() "
	    "WHERE " JOB_MINE " RETURNING id) SELECT pg_notify('" JOB_CHANNEL "', id::text) FROM c",
	    4, p, &res);
	if (e)
		return e;
	int n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		if (warn)
			log_warn("job %s: not completed: no longer this worker's (attempt %ld)",
			         job->id, job->attempt);
		return ERR_CONFLICT;
	}
	return ERR_OK;
}

enum err job_complete(struct db *db, const struct job *job, const char *result_json)
{
	return job_complete_held(db, job, result_json, true);
}

enum err job_settle(struct db *db, const struct job *job)
{
	return job_complete_held(db, job, NULL, false);
}

enum err job_fail(struct db *db, const struct job *job, const char *error, bool retry)
{
	struct job_token t;
	char base[16], cap[16];
	PGresult *res = NULL;
	job_token(job, &t);
	snprintf(base, sizeof(base), "%d", JOB_BACKOFF_BASE_S);
	snprintf(cap, sizeof(cap), "%d", JOB_BACKOFF_MAX_S);
	const char *p[] = {t.p[0], t.p[1], t.p[2], error ? error : "failed", retry ? "t" : "f",
	                   base,   cap};
	enum err e = db_exec_prepared(
	    db, "job_fail",
	    "UPDATE jobs SET state = CASE WHEN $5::bool AND attempts < max_attempts "
	    "THEN 'queued' ELSE 'failed' END, "
	    "run_after = now() + make_interval(secs => least($6::int * power(2, attempts - 1), "
	    "$7::int)), "
	    "finished_at = CASE WHEN $5::bool AND attempts < max_attempts THEN NULL ELSE now() "
	    "END, "
	    "error = left($4, 1024), lease_until = NULL, updated_at = now() "
	    "WHERE " JOB_MINE " RETURNING state",
	    7, p, &res);
	if (e)
		return e;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return ERR_CONFLICT;
	}
	bool final = strcmp(PQgetvalue(res, 0, 0), "failed") == 0;
	PQclear(res);
	log_warn("job %s attempt %ld failed%s: %s", job->id, job->attempt, final ? " for good" : "",
	         error ? error : "");
	if (final) {
		const char *np[] = {job->id};
		e = db_exec_prepared(db, "job_notify", "SELECT pg_notify('" JOB_CHANNEL "', $1)", 1,
		                     np, NULL);
	}
	return e;
}

enum err job_release(struct db *db, const struct job *job)
{
	struct job_token t;
	job_token(job, &t);
	return db_exec_prepared(db, "job_release",
	                        "UPDATE jobs SET state = 'queued', attempts = attempts - 1, "
	                        "run_after = now(), lease_until = NULL, worker = NULL, "
	                        "updated_at = now() WHERE " JOB_MINE,
	                        3, t.p, NULL);
}

enum err job_get(struct db *db, const char *id, struct pool *pool, struct job_status *out)
{
	char idbuf[EVENT_ID_LEN + 1];
	const char *v[5];
	if (!job_id_norm(id, idbuf))
		return ERR_NOT_FOUND;
	const char *p[] = {idbuf};
	enum err e = db_row(
	    db, "SELECT state, progress, attempts, result::text, error FROM jobs WHERE id = $1", 1,
	    p, pool, 5, v);
	if (e)
		return e;
	out->state = v[0];
	out->progress = 0;
	out->attempts = 0;
	cfg_parse_long(v[1], 0, 100, &out->progress);
	cfg_parse_long(v[2], 0, 1000, &out->attempts);
	out->result = v[3];
	out->error = v[4];
	return ERR_OK;
}

static struct {
	bool (*take)(void);
	void (*give)(void);
} job_gate;

void job_set_wait_gate(bool (*take)(void), void (*give)(void))
{
	job_gate.take = take;
	job_gate.give = give;
}

static bool job_finished(const struct job_status *s)
{
	return strcmp(s->state, "completed") == 0 || strcmp(s->state, "failed") == 0;
}

/* Reads waiting notifications; true if one names id. */
static bool job_notified(PGconn *conn, const char *id)
{
	bool hit = false;
	PGnotify *n;
	if (!conn || !PQconsumeInput(conn))
		return false;
	while ((n = PQnotifies(conn))) {
		if (strcmp(n->relname, JOB_CHANNEL) == 0 && strcmp(n->extra, id) == 0)
			hit = true;
		PQfreemem(n);
	}
	return hit;
}

enum err job_wait(struct db *db, const char *id, long timeout_ms, struct pool *pool,
                  struct job_status *out)
{
	char idbuf[EVENT_ID_LEN + 1];
	if (!job_id_norm(id, idbuf))
		return ERR_NOT_FOUND;
	if (db_in_transaction(db)) {
		log_error("job_wait inside a transaction: the notification could never arrive");
		return ERR_INTERNAL;
	}
	/* Refused a wait: look once (the loop below) and answer at once. */
	bool admitted = false;
	if (timeout_ms > 0 && job_gate.take) {
		admitted = job_gate.take();
		if (!admitted)
			timeout_ms = 0;
	}
	long long deadline = clock_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	unsigned long generation = 0;
	enum err e;
	for (;;) {
		if (generation != db_generation(db)) {
			/* LISTEN first, then look: a completion between the two is not missed. */
			e = db_exec(db, "LISTEN " JOB_CHANNEL, 0, NULL, NULL);
			if (e)
				goto out;
			generation = db_generation(db);
			job_notified(db_conn(db), idbuf);
			e = job_get(db, idbuf, pool, out);
			if (e || job_finished(out))
				goto out;
		}
		/* A notification that arrived while job_get read its result is
		 * already queued in libpq and will never show on the socket: look
		 * at the queue before every wait. */
		if (job_notified(db_conn(db), idbuf)) {
			e = job_get(db, idbuf, pool, out);
			if (e || job_finished(out))
				goto out;
			continue;
		}
		long long left = deadline - clock_ms();
		if (left <= 0) {
			e = ERR_TIMEOUT;
			goto out;
		}
		PGconn *conn = db_conn(db);
		struct pollfd pfd = {.fd = conn ? PQsocket(conn) : -1, .events = POLLIN};
		if (pfd.fd < 0) {
			generation = 0; /* reconnect and LISTEN again */
			continue;
		}
		int rc = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (rc > 0 && pfd.revents && !PQconsumeInput(conn))
			generation = 0; /* the connection broke: reconnect and LISTEN again */
		/* EINTR, a timeout or input: the top of the loop decides. */
	}
out:
	if (db_conn(db) && generation == db_generation(db)) {
		if (db_exec(db, "UNLISTEN " JOB_CHANNEL, 0, NULL, NULL) == ERR_OK)
			job_notified(db_conn(db), "");
	}
	if (admitted && job_gate.give)
		job_gate.give();
	return e;
}
