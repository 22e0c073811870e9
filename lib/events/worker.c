/* worker: settings, signals, the poll loop, the job runner and its heartbeat. */
#include "core/clock.h"
#include "events/worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "events/outbox.h"

enum {
	WORKER_NAME_MAX = JOB_WORKER_MAX,
	WORKER_GROUP_MAX = 128,
	WORKER_REAP_EVERY_MS = 10000,
	WORKER_POLL_MAX_MS = 1000,
	WORKER_BEAT_MAX_MS = 2000, /* heartbeat at least this often (progress shows) */
	WORKER_STOP_FLUSH_MS = 5000,
	WORKER_MESSAGES_PER_STEP = 100,
	WORKER_BOOTSTRAP_MAX = 1025,     /* LECTERN_KAFKA_BOOTSTRAP's ceiling, plus NUL */
	WORKER_BOOTSTRAP_CHECK_MS = 1000 /* how often the bootstrap file is read again */
};

static struct {
	const char *bootstrap, *kafka_options, *name, *group;
	long consumer_attempts, consumer_retry_ms, processed_retention_s;
	long outbox_batch, outbox_retention_s, message_timeout_ms;
	long lease_ms, job_idle_ms, health_s;
} wcfg;

static const struct cfg_var worker_vars[] = {
    {"LECTERN_KAFKA_BOOTSTRAP", CFG_STRING, NULL, 3, 1024, CFG_REQUIRED, &wcfg.bootstrap,
     "Kafka bootstrap servers host:port[,...] (or _FILE: the lab broker's file)", NULL},
    {"LECTERN_KAFKA_OPTIONS", CFG_STRING, "", 0, 2047, 0, &wcfg.kafka_options,
     "extra librdkafka settings name=value,...", NULL},
    {"LECTERN_WORKER_NAME", CFG_STRING, "", 0, 100, 0, &wcfg.name,
     "this worker's name in the jobs table (default host:pid)", NULL},
    {"LECTERN_CONSUMER_GROUP", CFG_STRING, "", 0, 100, 0, &wcfg.group,
     "Kafka consumer group (default lectern-<service>)", NULL},
    {"LECTERN_CONSUMER_MAX_ATTEMPTS", CFG_INT, "5", 1, 100, 0, &wcfg.consumer_attempts,
     "failed applications of an event before its dead-letter topic", NULL},
    {"LECTERN_CONSUMER_RETRY_MS", CFG_INT, "200", 1, 60000, 0, &wcfg.consumer_retry_ms,
     "first wait before an event is applied again", NULL},
    {"LECTERN_PROCESSED_RETENTION_S", CFG_INT, "2592000", 86400, 315360000, 0,
     &wcfg.processed_retention_s, "keep applied event ids this long (over topic retention)", NULL},
    {"LECTERN_OUTBOX_BATCH", CFG_INT, "200", 1, OUTBOX_BATCH_MAX, 0, &wcfg.outbox_batch,
     "events per relay batch", NULL},
    {"LECTERN_OUTBOX_RETENTION_S", CFG_INT, "86400", 0, 315360000, 0, &wcfg.outbox_retention_s,
     "keep published outbox rows this long", NULL},
    {"LECTERN_KAFKA_MESSAGE_TIMEOUT_MS", CFG_INT, "30000", 1000, 900000, 0,
     &wcfg.message_timeout_ms, "a publication not acknowledged within this is retried later", NULL},
    {"LECTERN_JOB_LEASE_MS", CFG_INT, "30000", 1000, 3600000, 0, &wcfg.lease_ms,
     "a job whose worker stops renewing for this long is run again", NULL},
    {"LECTERN_JOB_IDLE_MS", CFG_INT, "5000", 10, 600000, 0, &wcfg.job_idle_ms,
     "look for due jobs this often without a notification (retries, lost leases)", NULL},
    {"LECTERN_HEALTH_INTERVAL_S", CFG_INT, "60", 1, 86400, 0, &wcfg.health_s,
     "log a health line this often", NULL},
};

static volatile sig_atomic_t worker_stop_flag;

/* The Kafka address in use; the Kafka clients' options point here. */
static char worker_bootstrap[WORKER_BOOTSTRAP_MAX];

/* The job in hand, shared with the heartbeat thread. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const struct job *job; /* NULL when idle */
	atomic_long progress;  /* -1 = unchanged */
	atomic_bool lost;
	bool quit;
} worker_beat = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, -1, false, false};

static struct {
	unsigned long completed, failed, released, lost;
} worker_jobs;

bool worker_stopping(void)
{
	return worker_stop_flag != 0;
}

void worker_job_progress(long percent)
{
	atomic_store(&worker_beat.progress, percent < 0 ? 0 : percent > 100 ? 100 : percent);
}

bool worker_job_lost(void)
{
	return atomic_load(&worker_beat.lost);
}

static void worker_on_signal(int sig)
{
	worker_stop_flag = sig;
}

/* The heartbeat thread: renews the lease of the job in hand on its own
 * connection, so a long step of a job handler never loses it. */
static void *worker_heartbeat(void *arg)
{
	struct db *db = arg;
	long every =
	    wcfg.lease_ms / 3 < WORKER_BEAT_MAX_MS ? wcfg.lease_ms / 3 : WORKER_BEAT_MAX_MS;
	pthread_mutex_lock(&worker_beat.lock);
	while (!worker_beat.quit) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += every / 1000;
		until.tv_nsec += (every % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&worker_beat.cond, &worker_beat.lock, &until);
		if (worker_beat.quit || !worker_beat.job || atomic_load(&worker_beat.lost))
			continue;
		struct job job = *worker_beat.job;
		pthread_mutex_unlock(&worker_beat.lock);
		long progress = atomic_exchange(&worker_beat.progress, -1);
		enum err e = job_renew(db, &job, wcfg.lease_ms, progress);
		if (e == ERR_CONFLICT)
			atomic_store(&worker_beat.lost, true);
		pthread_mutex_lock(&worker_beat.lock);
	}
	pthread_mutex_unlock(&worker_beat.lock);
	return NULL;
}

static void worker_beat_set(const struct job *job)
{
	pthread_mutex_lock(&worker_beat.lock);
	worker_beat.job = job;
	atomic_store(&worker_beat.progress, -1);
	atomic_store(&worker_beat.lost, false);
	pthread_mutex_unlock(&worker_beat.lock);
}

static const struct worker_job_kind *worker_kind(const struct worker_def *def, const char *kind)
{
	for (size_t i = 0; i < def->njobs; i++)
		if (strcmp(def->jobs[i].kind, kind) == 0)
			return &def->jobs[i];
	return NULL;
}

/* Hands a job that failed for good to its kind's hook. */
static void worker_job_failed(struct db *db, const struct worker_job_kind *k, const struct job *job,
                              const char *why)
{
	struct pool *pool = pool_new();
	k->failed(db, job, why, pool, k->arg);
	if (db_in_transaction(db)) {
		log_error("job %s: its failure hook left a transaction open", job->id);
		db_rollback(db);
	}
	pool_free(pool);
}

/* A job reaped after its worker was lost on the last attempt. */
static void worker_reaped(struct db *db, const struct job *job, void *arg)
{
	const struct worker_job_kind *k = worker_kind(arg, job->kind);
	if (k && k->failed)
		worker_job_failed(db, k, job, JOB_LOST_ERROR);
}

/* Claims and runs one job; false when none was due. */
static bool worker_run_one(const struct worker_def *def, struct db *db, const char *name)
{
	const char *kinds[WORKER_JOB_KINDS_MAX];
	for (size_t i = 0; i < def->njobs; i++)
		kinds[i] = def->jobs[i].kind;
	struct pool *pool = pool_new();
	struct job job;
	bool ran = false;
	enum err e = job_claim(db, kinds, def->njobs, name, wcfg.lease_ms, pool, &job);
	if (e)
		goto out;
	ran = true;
	log_set_request_id(job.id);
	log_info("job %s (%s) attempt %ld of %ld started", job.id, job.kind, job.attempt,
	         job.max_attempts);
	const struct worker_job_kind *k = worker_kind(def, job.kind);
	worker_beat_set(&job);
	e = k->run(db, &job, pool, k->arg);
	worker_beat_set(NULL);
	if (db_in_transaction(db)) {
		log_error("job %s: handler left a transaction open", job.id);
		db_rollback(db);
		if (!e)
			e = ERR_INTERNAL;
	}
	if (e == ERR_OK) {
		enum err c = job_settle(db, &job);
		/* ERR_CONFLICT: the handler completed it already (or lost it). */
		if (c == ERR_OK || c == ERR_CONFLICT) {
			worker_jobs.completed++;
			log_info("job %s done", job.id);
		}
	} else if (e == ERR_CONFLICT) {
		worker_jobs.lost++;
	} else if (e == ERR_UNAVAILABLE && worker_stopping()) {
		if (job_release(db, &job) == ERR_OK)
			worker_jobs.released++;
	} else if (job_fail(db, &job, err_message(e), e != ERR_INVALID) == ERR_OK) {
		worker_jobs.failed++;
		if (k->failed && (e == ERR_INVALID || job.attempt >= job.max_attempts))
			worker_job_failed(db, k, &job, err_message(e));
	}
out:
	log_set_request_id(NULL);
	pool_free(pool);
	return ran;
}

static void worker_health(struct outbox_relay *relay, struct consumer *consumer)
{
	struct outbox_relay_stats rs;
	struct consumer_stats cs = {0};
	outbox_relay_stats(relay, &rs);
	if (consumer)
		consumer_stats(consumer, &cs);
	log_info("health relay_leader=%d broker_ok=%d published=%llu publish_failures=%llu "
	         "pruned=%llu applied=%llu duplicates=%llu dead_lettered=%llu holding=%d "
	         "jobs_completed=%lu jobs_failed=%lu jobs_released=%lu jobs_lost=%lu",
	         rs.leader, rs.broker_ok, rs.published, rs.failed, rs.pruned, cs.applied,
	         cs.duplicates, cs.dead_lettered, cs.holding, worker_jobs.completed,
	         worker_jobs.failed, worker_jobs.released, worker_jobs.lost);
}

/* Reads the main connection's notifications; true if a job was announced. */
static bool worker_job_notified(struct db *db)
{
	PGconn *conn = db_conn(db);
	bool hit = false;
	PGnotify *n;
	if (!conn || !PQconsumeInput(conn))
		return false;
	while ((n = PQnotifies(conn))) {
		hit = true;
		PQfreemem(n);
	}
	return hit;
}

/* Reads the bootstrap file into out (trimmed); false when it is missing,
 * empty or too long (a broker between stop and start): keep the old one. */
static bool worker_bootstrap_read(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(out, 1, size, f);
	fclose(f);
	if (n == 0 || n >= size)
		return false;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	return n > 0 && memchr(out, '\0', n) == NULL;
}

/* The lab broker gets new ports when it restarts and writes them to its
 * file: when the address there changed, the Kafka clients are made anew
 * (librdkafka keeps to the address it was given). */
static void worker_bootstrap_check(const char *path, struct mq_opts *mq, struct outbox_relay *relay,
                                   struct consumer *consumer)
{
	char now[WORKER_BOOTSTRAP_MAX];
	if (!worker_bootstrap_read(path, now, sizeof(now)) || strcmp(now, worker_bootstrap) == 0)
		return;
	log_info("kafka bootstrap changed from %s to %s: reconnecting", worker_bootstrap, now);
	memcpy(worker_bootstrap, now, strlen(now) + 1);
	mq->bootstrap = worker_bootstrap;
	outbox_relay_reconnect(relay, mq);
	if (consumer)
		consumer_reconnect(consumer, mq);
}

struct cfg_table worker_settings(void)
{
	return (struct cfg_table){"worker", worker_vars, CFG_COUNT(worker_vars)};
}

int worker_run(const struct worker_def *def, const char *dsn)
{
	char name[WORKER_NAME_MAX], group[WORKER_GROUP_MAX], logname[64];
	snprintf(logname, sizeof(logname), "%s-worker", def->service);
	if (def->njobs > WORKER_JOB_KINDS_MAX) {
		log_error("worker: at most %d job kinds", WORKER_JOB_KINDS_MAX);
		return 1;
	}
	if (wcfg.name[0]) {
		snprintf(name, sizeof(name), "%s", wcfg.name);
	} else {
		char host[64] = "localhost";
		gethostname(host, sizeof(host) - 1);
		snprintf(name, sizeof(name), "%s:%ld", host, (long)getpid());
	}
	snprintf(group, sizeof(group), "%s%s", wcfg.group[0] ? "" : "lectern-",
	         wcfg.group[0] ? wcfg.group : def->service);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal; /* no SA_RESTART: poll returns at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = 1;
	struct db *db = NULL, *beat_db = NULL;
	struct outbox_relay *relay = NULL;
	struct consumer *consumer = NULL;
	bool beating = false;
	pthread_t beat;
	snprintf(worker_bootstrap, sizeof(worker_bootstrap), "%s", wcfg.bootstrap);
	/* As cfg_load: the variable itself wins over its _FILE. */
	const char *bootstrap_file =
	    getenv("LECTERN_KAFKA_BOOTSTRAP") ? NULL : getenv("LECTERN_KAFKA_BOOTSTRAP_FILE");
	struct mq_opts mq = {worker_bootstrap, logname, wcfg.kafka_options,
	                     wcfg.message_timeout_ms};
	struct outbox_relay_opts ro = {wcfg.outbox_batch, 5000, 10000, wcfg.outbox_retention_s};
	struct consumer_opts co = {group, wcfg.consumer_attempts, wcfg.consumer_retry_ms,
	                           wcfg.processed_retention_s};

	if (db_connect(dsn, 60000, &db) != ERR_OK ||
	    outbox_relay_new(dsn, &mq, &ro, &relay) != ERR_OK)
		goto out;
	if (def->nhandlers &&
	    consumer_new(db, &mq, &co, def->handlers, def->nhandlers, &consumer) != ERR_OK)
		goto out;
	if (def->njobs) {
		if (db_connect(dsn, 10000, &beat_db) != ERR_OK)
			goto out;
		if (pthread_create(&beat, NULL, worker_heartbeat, beat_db) != 0) {
			log_error("cannot start the heartbeat thread");
			goto out;
		}
		beating = true;
	}
	log_info("worker %s up: group=%s topics=%zu job_kinds=%zu", name, group, def->nhandlers,
	         def->njobs);

	unsigned long listen_generation = 0;
	long long job_due = 0, reap_due = 0, health_due = clock_ms() + wcfg.health_s * 1000;
	long long bootstrap_due = clock_ms() + WORKER_BOOTSTRAP_CHECK_MS;
	while (!worker_stopping()) {
		long wait = WORKER_POLL_MAX_MS;
		if (bootstrap_file && *bootstrap_file && clock_ms() >= bootstrap_due) {
			worker_bootstrap_check(bootstrap_file, &mq, relay, consumer);
			bootstrap_due = clock_ms() + WORKER_BOOTSTRAP_CHECK_MS;
		}
		long t = outbox_relay_step(relay);
		if (t < wait)
			wait = t;
		if (consumer) {
			t = consumer_step(consumer, WORKER_MESSAGES_PER_STEP);
			if (t >= 0 && t < wait)
				wait = t;
		}
		long long now = clock_ms();
		if (def->njobs) {
			if (listen_generation != db_generation(db) &&
			    db_exec(db, "LISTEN " JOB_NEW_CHANNEL, 0, NULL, NULL) == ERR_OK) {
				listen_generation = db_generation(db);
				job_due = now;
			}
			if (worker_job_notified(db))
				job_due = now;
			if (now >= reap_due) {
				job_reap(db, worker_reaped, (void *)def);
				reap_due = now + WORKER_REAP_EVERY_MS;
			}
			if (now >= job_due && !worker_stopping()) {
				if (worker_run_one(def, db, name)) {
					wait = 0; /* maybe more */
				} else {
					job_due = now + wcfg.job_idle_ms;
				}
			}
			now = clock_ms();
			if (job_due > now && job_due - now < wait)
				wait = (long)(job_due - now);
			else if (job_due <= now)
				wait = 0;
		}
		if (now >= health_due) {
			worker_health(relay, consumer);
			health_due = now + wcfg.health_s * 1000;
		}
		if (wait <= 0 || worker_stopping())
			continue;
		struct pollfd pfd[4];
		int relay_fds[2], n = 0;
		outbox_relay_fds(relay, relay_fds);
		for (int i = 0; i < 2; i++)
			if (relay_fds[i] >= 0)
				pfd[n++] = (struct pollfd){.fd = relay_fds[i], .events = POLLIN};
		if (consumer)
			pfd[n++] = (struct pollfd){.fd = consumer_fd(consumer), .events = POLLIN};
		PGconn *conn = db_conn(db);
		if (def->njobs && conn && PQsocket(conn) >= 0)
			pfd[n++] = (struct pollfd){.fd = PQsocket(conn), .events = POLLIN};
		if (poll(pfd, (nfds_t)n, (int)wait) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
	}
	log_info("stopping (signal %d)", (int)worker_stop_flag);
	status = 0;
out:
	if (beating) {
		pthread_mutex_lock(&worker_beat.lock);
		worker_beat.quit = true;
		pthread_cond_signal(&worker_beat.cond);
		pthread_mutex_unlock(&worker_beat.lock);
		pthread_join(beat, NULL);
	}
	if (relay)
		worker_health(relay, consumer);
	consumer_free(consumer);
	outbox_relay_free(relay, WORKER_STOP_FLUSH_MS);
	db_close(beat_db);
	db_close(db);
	return status;
}
