/* A driver for the events tests and the benchmark (LECTERN_DB_DSN):
 *   tool schema SQLFILE           create the event tables and the test tables
 *   tool publish N USER [DOC]     record N document.uploaded events, one transaction each
 *   tool pace N RATE USER         the same, RATE events per second (benchmark latency)
 *   tool job-add MS [ATTEMPTS]    queue a t-sleep job (3 attempts), print its id;
 *                                 MS -1: a job that fails each attempt
 *   tool job-wait ID TIMEOUT_MS   print "done STATE" (exit 0) or "timeout STATE" (exit 3) */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cfg.h"
#include "data/db.h"
#include "events/event.h"
#include "events/job.h"
#include "core/log.h"
#include "events/outbox.h"

static const char test_tables[] =
    "CREATE TABLE IF NOT EXISTS t_applied (event_id uuid PRIMARY KEY, document_id text, "
    "applied_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE TABLE IF NOT EXISTS t_job_effects (job_id uuid NOT NULL, at timestamptz DEFAULT "
    "now());"
    "CREATE TABLE IF NOT EXISTS t_job_failed (job_id uuid NOT NULL, why text NOT NULL);";

static int tool_schema(struct db *db, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	enum err e = db_exec_script(db, b.data);
	buf_clear(&b);
	if (!e)
		e = db_exec_script(db, test_tables);
	return e ? 1 : 0;
}

static int tool_publish(struct db *db, long count, const char *user, const char *doc, long rate)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < count; i++) {
		if (rate > 0) {
			/* Event i is due at start + i/rate. */
			long long due_ns = (long long)start.tv_sec * 1000000000LL + start.tv_nsec +
			                   i * (1000000000LL / rate);
			struct timespec due = {(time_t)(due_ns / 1000000000LL),
			                       (long)(due_ns % 1000000000LL)};
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) != 0)
				;
		}
		char docid[EVENT_ID_LEN + 1];
		struct event ev;
		event_uuid(docid);
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "document_id", json_object_new_string(doc ? doc : docid));
		json_object_object_add(p, "user_id", json_object_new_string(user));
		json_object_object_add(p, "filename", json_object_new_string("notes.pdf"));
		json_object_object_add(p, "file_type", json_object_new_string("pdf"));
		json_object_object_add(p, "file_size", json_object_new_int(1234));
		if (doc && strcmp(doc, "poison") == 0)
			json_object_object_add(p, "poison", json_object_new_boolean(1));
		if (event_init(&ev, "document.uploaded", "documents", user, p) != ERR_OK)
			return 1;
		enum err e = db_begin(db);
		if (!e)
			e = outbox_add(db, &ev);
		if (!e)
			e = db_commit(db);
		else
			db_rollback(db);
		if (!e)
			printf("%s\n", ev.id);
		event_clear(&ev);
		if (e)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dsn = getenv("LECTERN_DB_DSN");
	struct db *db = NULL;
	long n = 0;
	int rc = 2;
	log_init("events-tool", LOG_LEVEL_WARN);
	if (argc < 2 || !dsn)
		goto usage;
	if (db_connect(dsn, 0, &db) != ERR_OK)
		return 1;
	if (strcmp(argv[1], "schema") == 0 && argc == 3) {
		rc = tool_schema(db, argv[2]);
	} else if (strcmp(argv[1], "publish") == 0 && (argc == 4 || argc == 5) &&
	           cfg_parse_long(argv[2], 1, 10000000, &n)) {
		rc = tool_publish(db, n, argv[3], argc == 5 ? argv[4] : NULL, 0);
	} else if (strcmp(argv[1], "pace") == 0 && argc == 5 &&
	           cfg_parse_long(argv[2], 1, 10000000, &n)) {
		long rate = 0;
		if (!cfg_parse_long(argv[3], 1, 100000, &rate))
			goto usage;
		rc = tool_publish(db, n, argv[4], NULL, rate);
	} else if (strcmp(argv[1], "job-add") == 0 && (argc == 3 || argc == 4) &&
	           cfg_parse_long(argv[2], -1, 600000, &n)) {
		char id[EVENT_ID_LEN + 1], input[64];
		long attempts = 3;
		if (argc == 4 && !cfg_parse_long(argv[3], 1, 100, &attempts))
			goto usage;
		snprintf(input, sizeof(input), "{\"ms\": %ld}", n);
		rc = job_add(db, NULL, "t-sleep", input, attempts, id) == ERR_OK
		         ? (printf("%s\n", id), 0)
		         : 1;
	} else if (strcmp(argv[1], "job-wait") == 0 && argc == 4 &&
	           cfg_parse_long(argv[3], 0, 600000, &n)) {
		struct pool *pool = pool_new();
		struct job_status st;
		enum err e = job_wait(db, argv[2], n, pool, &st);
		if (e == ERR_OK)
			printf("done %s %ld\n", st.state, st.attempts), rc = 0;
		else if (e == ERR_TIMEOUT)
			printf("timeout %s %ld\n", st.state, st.attempts), rc = 3;
		else
			rc = 1;
		pool_free(pool);
	} else {
		goto usage;
	}
	db_close(db);
	return rc;
usage:
	fprintf(stderr, "usage: see the comment at the top of t/events/tool.c\n");
	db_close(db);
	return 2;
}
