/* bench/jobs_bench: the fair job claim under a flood, on a private Postgres.
 *
 *   bench/jobs_bench [FLOOD] [USERS]
 *
 * One user queues FLOOD jobs, then USERS other users one job each; a single
 * worker claims and completes every job in turn (one transaction each, as
 * lectern-*-worker does). Prints the claim+complete rate while the flood is
 * queued, and how many of the flooder's jobs ran before the last of the
 * other users' (first in, first out would be all FLOOD of them). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cfg.h"
#include "core/log.h"
#include "data/migrate.h"
#include "events/job.h"
#include "testenv.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long flood = 5000, users = 50;
	if ((argc > 1 && !cfg_parse_long(argv[1], 1, 1000000, &flood)) ||
	    (argc > 2 && !cfg_parse_long(argv[2], 1, 100000, &users))) {
		fprintf(stderr, "usage: %s [FLOOD] [USERS]\n", argv[0]);
		return 2;
	}
	struct testenv_postgres pg;
	struct db *db = NULL;
	char dsn[TESTENV_DSN_MAX], sql[PATH_MAX], id[EVENT_ID_LEN + 1], owner[64];
	const char *src = getenv("LECTERN_SRCDIR");
	log_init("jobs-bench", LOG_LEVEL_WARN);
	snprintf(sql, sizeof(sql), "%s/sql", src ? src : ".");
	if (!testenv_postgres_start(&pg) ||
	    !testenv_postgres_create_db(&pg, "bench_jobs", "bench-jobs-pw", dsn, sizeof(dsn)) ||
	    db_connect(dsn, 0, &db) != ERR_OK || migrate_run(db, sql, "documents") != ERR_OK) {
		fprintf(stderr, "no database\n");
		return 1;
	}
	job_set_owner_limit(0);
	double t0 = now_s();
	bool ok = db_begin(db) == ERR_OK;
	for (long i = 0; ok && i < flood; i++)
		ok = job_add_owned(db, NULL, "bench", "f1f1f1f1-0000-4000-8000-000000000000", "{}",
		                   3, id) == ERR_OK;
	for (long u = 0; ok && u < users; u++) {
		snprintf(owner, sizeof(owner), "00000000-0000-4000-8000-%012ld", u + 1);
		ok = job_add_owned(db, NULL, "bench", owner, "{}", 3, id) == ERR_OK;
	}
	if (!ok || db_commit(db) != ERR_OK) {
		fprintf(stderr, "queueing failed\n");
		return 1;
	}
	double t1 = now_s();
	const char *kinds[] = {"bench"};
	long claimed = 0, flood_before = 0, others = 0;
	double t_others = 0;
	struct pool *pool = pool_new();
	struct job job;
	while (job_claim(db, kinds, 1, "bench-worker", 60000, pool, &job) == ERR_OK) {
		const char *p[] = {job.id}, *v[1];
		if (db_row(db, "SELECT owner FROM jobs WHERE id = $1", 1, p, pool, 1, v) !=
		        ERR_OK ||
		    job_complete(db, &job, NULL) != ERR_OK)
			break;
		claimed++;
		if (strncmp(v[0], "f1f1f1f1", 8) == 0) {
			if (others < users)
				flood_before++;
		} else if (++others == users) {
			t_others = now_s() - t1;
		}
		if (claimed % 1000 == 0) {
			pool_free(pool);
			pool = pool_new();
		}
	}
	double t2 = now_s();
	printf("jobs: %ld queued (%ld by one user, 1 each by %ld others) in %.2f s\n",
	       flood + users, flood, users, t1 - t0);
	printf("jobs: %ld claimed and completed by one worker in %.2f s: %.0f jobs/s\n", claimed,
	       t2 - t1, (double)claimed / (t2 - t1));
	printf("jobs: the others' %ld jobs all done after %.2f s, behind %ld of the flooder's "
	       "(FIFO: %ld)\n",
	       users, t_others, flood_before, flood);
	pool_free(pool);
	db_close(db);
	testenv_postgres_stop(&pg);
	return claimed == flood + users ? 0 : 1;
}
