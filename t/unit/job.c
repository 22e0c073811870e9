/* Unit tests for job's fairness and bounds against a private Postgres with
 * the real migrations: a flooding owner does not keep another's one job
 * waiting, the owner with the fewest running jobs goes first, each owner's
 * queue is bounded, and job_wait answers at once when its gate refuses. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/migrate.h"
#include "events/job.h"
#include "tap.h"
#include "testenv.h"

static const char *const alice = "a1a1a1a1-0000-4000-8000-000000000001";
static const char *const bob = "b0b0b0b0-0000-4000-8000-000000000002";
static const char *const carol = "c0c0c0c0-0000-4000-8000-000000000003";
static const char *const dave = "d0d0d0d0-0000-4000-8000-000000000004";
static const char *const erin = "e0e0e0e0-0000-4000-8000-000000000005";
static const char *const kinds[] = {"t-fair"};

/* Adds one job of owner, in a transaction as services do. */
static enum err add(struct db *db, const char *kind, const char *owner, char id[EVENT_ID_LEN + 1])
{
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = job_add_owned(db, NULL, kind, owner, "{}", 3, id);
	return db_end(db, e);
}

/* Claims the next t-fair job; its owner's name, or "none". */
static const char *claim(struct db *db, struct pool *pool, struct job *job)
{
	if (job_claim(db, kinds, 1, "t-worker", 60000, pool, job) != ERR_OK)
		return "none";
	const char *p[] = {job->id}, *v[1];
	if (db_row(db, "SELECT coalesce(owner, '') FROM jobs WHERE id = $1", 1, p, pool, 1, v) !=
	    ERR_OK)
		return "?";
	return strcmp(v[0], alice) == 0   ? "alice"
	       : strcmp(v[0], bob) == 0   ? "bob"
	       : strcmp(v[0], carol) == 0 ? "carol"
	                                  : "other";
}

static int gate_takes, gate_gives;
static bool gate_refuse(void)
{
	gate_takes++;
	return false;
}
static bool gate_admit(void)
{
	gate_takes++;
	return true;
}
static void gate_give(void)
{
	gate_gives++;
}

int main(void)
{
	struct testenv_postgres pg;
	struct db *db = NULL;
	char dsn[TESTENV_DSN_MAX], sql[PATH_MAX], id[EVENT_ID_LEN + 1], bob_job[EVENT_ID_LEN + 1];
	log_init("t-job", LOG_LEVEL_WARN);
	const char *src = getenv("LECTERN_SRCDIR");
	snprintf(sql, sizeof(sql), "%s/sql", src ? src : ".");
	if (!ok(testenv_postgres_start(&pg), "private Postgres starts"))
		return tap_done();
	if (!ok(testenv_postgres_create_db(&pg, "t_job", "t-job-pw", dsn, sizeof(dsn)) &&
	            db_connect(dsn, 0, &db) == ERR_OK,
	        "database") ||
	    !ok(migrate_run(db, sql, "documents") == ERR_OK, "the shared migrations apply"))
		goto out;
	struct pool *pool = pool_new();
	struct job job;

	/* Alice floods first; bob's one job comes after all of hers. */
	job_set_owner_limit(0);
	bool added = true;
	for (int i = 0; i < 30; i++)
		added &= add(db, "t-fair", alice, id) == ERR_OK;
	ok(added, "alice queues 30 jobs");
	ok(add(db, "t-fair", bob, bob_job) == ERR_OK, "then bob queues one");
	is_str(claim(db, pool, &job), "alice", "the first claim is alice's oldest");
	struct job bobs;
	is_str(claim(db, pool, &bobs), "bob",
	       "the second is bob's: alice has a job running, bob none (FIFO would make it 31st)");
	is_str(bobs.id, bob_job, "bob's own job");
	/* Bob's runs, alice's first is done: among owners with as few running,
	 * the one served longest ago (or never) goes first. */
	ok(job_complete(db, &job, NULL) == ERR_OK, "alice's first completes");
	ok(add(db, "t-fair", bob, id) == ERR_OK && add(db, "t-fair", carol, id) == ERR_OK,
	   "bob queues another, then carol one");
	is_str(claim(db, pool, &job), "carol", "carol (nothing running, never served) first");
	struct job a2;
	is_str(claim(db, pool, &a2), "alice", "then alice (nothing running)");
	is_str(claim(db, pool, &job), "bob",
	       "then bob: one running each, bob served longer ago than alice");
	/* A job nobody owns is one more group, not last in line. */
	ok(job_add(db, NULL, "t-fair", "{}", 3, id) == ERR_OK, "an ownerless job");
	is_str(claim(db, pool, &job), "other", "is claimed before alice's remaining 28");
	/* The owner can come from the input. */
	ok(job_add(db, NULL, "t-fair", "{\"user_id\": \"c0c0c0c0-0000-4000-8000-000000000003\"}", 3,
	           id) == ERR_OK,
	   "job_add takes the owner from the input's user_id");
	const char *p[] = {id}, *v[1];
	ok(db_row(db, "SELECT owner FROM jobs WHERE id = $1", 1, p, pool, 1, v) == ERR_OK &&
	       strcmp(v[0], carol) == 0,
	   "carol owns it");

	/* The bound: alice has 29 unfinished (28 queued, 1 running). */
	job_set_owner_limit(30);
	ok(job_owner_room(db, alice) == ERR_OK, "room for alice's 30th");
	ok(add(db, "t-fair", alice, id) == ERR_OK, "her 30th is queued");
	ok(job_owner_room(db, alice) == ERR_RATE_LIMITED, "the early check says full");
	ok(add(db, "t-fair", alice, id) == ERR_RATE_LIMITED, "her 31st is refused");
	ok(job_add(db, NULL, "t-fair", "{\"user_id\": \"a1a1a1a1-0000-4000-8000-000000000001\"}", 3,
	           id) == ERR_RATE_LIMITED,
	   "also when the owner comes from the input, outside a transaction");
	ok(job_owner_room(db, bob) == ERR_OK && add(db, "t-fair", bob, id) == ERR_OK,
	   "bob is not limited by alice's queue");
	ok(job_add(db, NULL, "t-fair", "{}", 3, id) == ERR_OK, "ownerless jobs are not bounded");
	ok(job_owner_room(db, NULL) == ERR_OK, "nor checked");
	ok(job_fail(db, &a2, "gone", false) == ERR_OK,
	   "one of alice's running jobs fails for good");
	ok(add(db, "t-fair", alice, id) == ERR_OK, "a finished job makes room again");
	ok(add(db, "t-fair", alice, id) == ERR_RATE_LIMITED, "for one");
	job_set_owner_limit(0);
	ok(add(db, "t-fair", alice, id) == ERR_OK, "0 means no bound");

	/* One worker, one job at a time (nothing ever running at a claim):
	 * owners take turns although all of dave's jobs are older. */
	const char *rr[] = {"t-rr"};
	bool queued = true;
	for (int i = 0; i < 4; i++)
		queued &= add(db, "t-rr", dave, id) == ERR_OK;
	queued &= add(db, "t-rr", erin, id) == ERR_OK && add(db, "t-rr", erin, id) == ERR_OK;
	ok(queued, "dave queues 4, then erin 2");
	char order[16] = "";
	for (int i = 0; i < 6; i++) {
		if (job_claim(db, rr, 1, "t-worker", 60000, pool, &job) != ERR_OK)
			break;
		const char *jp[] = {job.id}, *jv[1];
		if (db_row(db, "SELECT owner FROM jobs WHERE id = $1", 1, jp, pool, 1, jv) !=
		        ERR_OK ||
		    job_complete(db, &job, NULL) != ERR_OK)
			break;
		order[i] = strcmp(jv[0], dave) == 0 ? 'd' : strcmp(jv[0], erin) == 0 ? 'e' : '?';
	}
	is_str(order, "dededd", "served in turns (FIFO would be ddddee)");

	/* The wait gate: refused, job_wait looks once and answers at once. */
	char wid[EVENT_ID_LEN + 1];
	struct job_status st;
	ok(add(db, "t-gate", bob, wid) == ERR_OK, "a job to wait for");
	job_set_wait_gate(gate_refuse, gate_give);
	is_long(job_wait(db, wid, 60000, pool, &st), ERR_TIMEOUT, "a refused wait times out now");
	ok(gate_takes == 1 && gate_gives == 0, "the gate was asked once, nothing to give back");
	is_str(st.state, "queued", "with the job's status filled in");
	is_long(job_wait(db, wid, 0, pool, &st), ERR_TIMEOUT, "a zero wait");
	is_long(gate_takes, 1, "does not ask the gate");
	job_set_wait_gate(gate_admit, gate_give);
	const char *gk[] = {"t-gate"};
	ok(job_claim(db, gk, 1, "t-worker", 60000, pool, &job) == ERR_OK &&
	       job_complete(db, &job, "{\"ok\": true}") == ERR_OK,
	   "the job completes");
	is_long(job_wait(db, wid, 5000, pool, &st), ERR_OK, "an admitted wait sees it done");
	ok(gate_takes == 2 && gate_gives == 1, "and gives its admission back");
	job_set_wait_gate(NULL, NULL);
	pool_free(pool);
out:
	db_close(db);
	testenv_postgres_stop(&pg);
	return tap_done();
}
