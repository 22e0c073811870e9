/* lectern-stt-worker: the transcription job. The audio is copied from the
 * store to a temporary file and read by lectern-transcribe in the sandbox
 * (decoding and recognition of a stranger's file never run in the worker);
 * the words, the transcription's state, audio.transcription.completed and
 * the job's completion are stored in one transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fdio.h"
#include "amazon.h"
#include "core/log.h"
#include "course.h"
#include "events/job.h"
#include "events/outbox.h"
#include "events/worker.h"
#include "stt.h"

enum { STT_PATH_MAX = 4096 };

static struct extract_limits limits;
static const char *work_dir;
static long cpu_seconds, wall_ms, memory_mb, max_seconds, course_weight, course_bytes;
static struct amazon_settings amazon;

static const struct cfg_var stt_worker_vars[] = {
    {"LECTERN_STT_MAX_SECONDS", CFG_INT, "7200", 1, 86400, 0, &max_seconds,
     "longest audio transcribed, in seconds", NULL},
    {"LECTERN_STT_CPU_SECONDS", CFG_INT, "3600", 1, 86400, 0, &cpu_seconds,
     "CPU seconds one transcription may use", NULL},
    {"LECTERN_STT_WALL_MS", CFG_INT, "5400000", 1000, 86400000, 0, &wall_ms,
     "wall-clock milliseconds one transcription may take", NULL},
    {"LECTERN_STT_MEMORY_MB", CFG_INT, "2048", 256, 65536, 0, &memory_mb,
     "address space of the transcription child, in MiB", NULL},
    {"LECTERN_STT_COURSE_WEIGHT", CFG_INT, "70", 0, 95, 0, &course_weight,
     "percent of the language model given to the learner's documents (0: the general "
     "model alone)",
     NULL},
    {"LECTERN_STT_COURSE_MAX_BYTES", CFG_INT, "2097152", 1024, 67108864, 0, &course_bytes,
     "bytes of the learner's documents (the most recent first) the course model is built from",
     NULL},
    {"LECTERN_TRANSCRIBE_POLL_MS", CFG_INT, "5000", 100, 600000, 0, &amazon.poll_ms,
     "wait between two polls of an Amazon Transcribe job", NULL},
    {"LECTERN_TRANSCRIBE_TIMEOUT_MS", CFG_INT, "7200000", 1000, 86400000, 0, &amazon.timeout_ms,
     "longest wait for an Amazon Transcribe job (then the task is tried again)", NULL},
    {"LECTERN_TRANSCRIBE_VOCABULARY_WAIT_MS", CFG_INT, "600000", 0, 86400000, 0,
     &amazon.vocabulary_wait_ms,
     "longest wait for the custom vocabulary of the learner's course to be ready (then the job "
     "runs without it)",
     NULL},
    {"LECTERN_TRANSCRIBE_SPEAKERS", CFG_INT, "10", 0, AMAZON_SPEAKERS_MAX, 0, &amazon.speakers,
     "speakers Amazon Transcribe tells apart (MaxSpeakerLabels, 2-30; 0 or 1: no labels)", NULL},
    {"LECTERN_WORK_DIR", CFG_STRING, "/tmp", 1, 1024, 0, &work_dir,
     "directory for the temporary copy of the audio being read", NULL},
};
const struct cfg_table stt_worker_table = {"transcription", stt_worker_vars,
                                           CFG_COUNT(stt_worker_vars)};

/* The recogniser's progress through the audio, as the job's (10-95%). */
static void on_progress(long percent)
{
	worker_job_progress(10 + percent * 85 / 100);
}

enum err stt_worker_init(void)
{
	extract_on_progress(on_progress);
	if (stt_cfg.engine == STT_ENGINE_TRANSCRIBE) {
		/* Transcribe reads the audio from S3 and needs keys: a worker that
		 * cannot call it stops here rather than failing every task. */
		const struct aws_config *aws = service_aws_config();
		const struct store_config *store = service_store_config();
		if (!*aws->access_key_id || !*aws->secret_access_key) {
			log_error(
			    "config: LECTERN_STT_ENGINE=transcribe needs AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY");
			return ERR_INVALID;
		}
		if (store->kind != STORE_S3) {
			log_error(
			    "config: LECTERN_STT_ENGINE=transcribe needs LECTERN_STORE=s3 (it "
			    "reads the audio from the bucket)");
			return ERR_INVALID;
		}
		amazon.aws = service_aws();
		amazon.store = service_store();
		amazon.bucket = store->bucket;
		log_info("transcription: by Amazon Transcribe (region %s, bucket %s)", aws->region,
		         amazon.bucket);
	}
	extract_limits_default(&limits);
	limits.cpu_seconds = cpu_seconds;
	limits.wall_ms = wall_ms;
	limits.memory_mb = memory_mb;
	limits.max_media_seconds = max_seconds;
	limits.max_text_bytes = 64L * 1024 * 1024;
	return ERR_OK;
}

struct task {
	const char *id, *user_id, *language, *key, *format;
};

static enum err write_fd(void *arg, const void *data, size_t len)
{
	if (fd_write_all(*(int *)arg, data, len))
		return ERR_OK;
	log_error("stt worker: writing the temporary copy: %s", strerror(errno));
	return ERR_INTERNAL;
}

/* The text of the task's user's documents (the most recent first), NULL
 * when they have none or the course is not used. */
static const char *course_text(struct db *db, const struct task *t, struct pool *pool)
{
	if (course_weight == 0)
		return NULL;
	char max[24];
	snprintf(max, sizeof(max), "%ld", course_bytes);
	const char *p[] = {t->user_id, max};
	const char *text = NULL;
	if (db_row(db,
	           "SELECT left(string_agg(left(text, $2::int), E'\\n\\n' ORDER BY updated_at "
	           "DESC), $2::int) FROM document_replica WHERE user_id = $1 AND deleted_at IS "
	           "NULL AND status = 'processed' AND text IS NOT NULL",
	           2, p, pool, 1, &text) != ERR_OK)
		return NULL;
	return text;
}

/* The course model of the task's user into files at prefix (of cap):
 * false when they have no document, or it could not be built (the general
 * model is then used alone). */
static bool course_files(struct db *db, const struct task *t, struct pool *pool, char *prefix,
                         size_t cap)
{
	const char *text = course_text(db, t, pool);
	if (text == NULL)
		return false;
	snprintf(prefix, cap, "%s/lectern-course-XXXXXX", work_dir);
	int fd = mkstemp(prefix);
	if (fd < 0) {
		log_error("stt worker: cannot create a file in %s: %s", work_dir, strerror(errno));
		return false;
	}
	close(fd);
	struct course_stats st;
	enum err e = course_write(text, strlen(text), prefix, &st);
	unlink(prefix);
	if (e == ERR_OK)
		log_info(
		    "transcription %s: course model of %ld sentences, %ld words (%ld distinct, "
		    "%ld pronounced), %ld trigrams",
		    t->id, st.sentences, st.words, st.vocabulary, st.pronounced, st.trigrams);
	return e == ERR_OK;
}

/* The task's audio copied from the store into a temporary file at path
 * (of STT_PATH_MAX), to be removed by the caller when ERR_OK. A missing
 * object is ERR_INVALID with r->error set. */
static enum err fetch(const struct task *t, char *path, struct extract_result *r)
{
	snprintf(path, STT_PATH_MAX, "%s/lectern-audio-XXXXXX", work_dir);
	int fd = mkstemp(path);
	if (fd < 0) {
		log_error("stt worker: cannot create a file in %s: %s", work_dir, strerror(errno));
		return ERR_INTERNAL;
	}
	enum err e = store_get(service_store(), t->key, write_fd, &fd);
	if (close(fd) != 0 && e == ERR_OK)
		e = ERR_INTERNAL;
	if (e == ERR_NOT_FOUND) {
		*r = (struct extract_result){.text = "", .error = "the stored audio is missing"};
		e = ERR_INVALID;
	}
	if (e != ERR_OK)
		unlink(path);
	return e;
}

/* Amazon Transcribe reads the audio from the bucket, but the file is first
 * decoded here in the sandbox ("probe"): what is not audio, or is longer
 * than LECTERN_STT_MAX_SECONDS, fails before Transcribe is paid for it,
 * and the measured duration is the transcription's. An English course's
 * terms go with the job as its vocabulary. */
static enum err run_amazon(struct db *db, const struct task *t, bool last, struct pool *pool,
                           struct extract_result *r)
{
	char path[STT_PATH_MAX];
	enum err e = fetch(t, path, r);
	if (e != ERR_OK)
		return e;
	e = extract_run("lectern-transcribe", "probe", path, "the audio", &limits, pool, r);
	unlink(path);
	if (e != ERR_OK)
		return e;
	struct json_object *probe = http_json_parse(r->text, r->text_len), *d = NULL;
	struct amazon_job job = {t->id, t->key, t->format, t->language, NULL, -1, last};
	if (json_object_object_get_ex(probe, "duration", &d))
		job.duration = json_object_get_double(d);
	json_object_put(probe);
	const char *text = strncmp(t->language, "en-", 3) == 0 ? course_text(db, t, pool) : NULL;
	struct buf terms;
	buf_init(&terms);
	long n = text ? course_terms(text, strlen(text), AMAZON_VOCABULARY_MAX, &terms) : 0;
	if (n > 0) {
		job.vocabulary = pool_strdup(pool, terms.data);
		log_info("transcription %s: a vocabulary of %ld course terms", t->id, n);
	}
	buf_clear(&terms);
	e = amazon_transcribe(&amazon, &job, pool, r);
	/* Transcribe's trouble, not the file's: the task is tried again. */
	return e == ERR_UNAVAILABLE || e == ERR_TIMEOUT || e == ERR_FORBIDDEN ? ERR_INTERNAL : e;
}

/* Reads the task's audio in the sandbox into r (or has Amazon Transcribe
 * read it from the bucket; last: no attempt follows). */
static enum err run(struct db *db, const struct task *t, bool last, struct pool *pool,
                    struct extract_result *r)
{
	if (stt_cfg.engine == STT_ENGINE_TRANSCRIBE)
		return run_amazon(db, t, last, pool, r);
	char path[STT_PATH_MAX], course[STT_PATH_MAX];
	enum err e = fetch(t, path, r);
	if (e != ERR_OK)
		return e;
	bool tuned = course_files(db, t, pool, course, sizeof(course));
	/* The language, then the course model's share and files. */
	const char *arg = tuned ? pool_printf(pool, "%s %.2f %s", t->language,
	                                      (double)course_weight / 100, course)
	                        : t->language;
	e = extract_run("lectern-transcribe", arg, path, "the audio", &limits, pool, r);
	/* The recogniser tuned to a course sometimes crashes inside the n-gram
	 * library on a course word the general model lacks (docs/design.md,
	 * "Speech to text"): the general model alone then reads the audio, so a
	 * good recording is not called malformed. A malformed one fails again,
	 * at once, in the decoder. */
	if (tuned && e == ERR_INVALID) {
		log_warn("transcription %s: the recogniser failed with the course (%s); again "
		         "without it",
		         t->id, r->error);
		e = extract_run("lectern-transcribe", t->language, path, "the audio", &limits, pool,
		                r);
	}
	if (tuned)
		course_remove(course);
	unlink(path);
	return e;
}

/* audio.transcription.completed; in the caller's transaction. */
static enum err emit_completed(struct db *db, const struct task *t, const char *status,
                               struct json_object *text, double confidence, double duration,
                               const char *error)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "task_id", json_object_new_string(t->id));
	json_object_object_add(p, "user_id", json_object_new_string(t->user_id));
	json_object_object_add(p, "status", json_object_new_string(status));
	json_object_object_add(p, "text", text);
	json_object_object_add(p, "confidence", error ? NULL : json_object_new_double(confidence));
	json_object_object_add(p, "duration_seconds",
	                       error ? NULL : json_object_new_double(duration));
	json_object_object_add(p, "error", error ? json_object_new_string(error) : NULL);
	return outbox_record(db, "audio.transcription.completed", STT_SERVICE, t->user_id, p);
}

/* Marks the task failed with why, unless it is finished already; also
 * completes job when given. */
static enum err mark_failed(struct db *db, const struct job *job, const struct task *t,
                            const char *why)
{
	const char *p[] = {t->id, why};
	PGresult *res = NULL;
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = db_exec_prepared(db, "stt_failed",
		                     "UPDATE transcriptions SET status = 'failed', error = $2, "
		                     "completed_at = now() WHERE id = $1 AND status IN ('queued', "
		                     "'processing')",
		                     2, p, &res);
	if (e == ERR_OK && db_affected(res) == 1)
		e = emit_completed(db, t, "failed", NULL, 0, 0, why);
	if (e == ERR_OK && job)
		e = job_complete(db, job, "{\"status\": \"failed\"}");
	e = db_end(db, e);
	PQclear(res);
	log_info("transcription %s failed: %s", t->id, why);
	return e;
}

/* Stores the child's answer (JSON text: duration, text, confidence, words). */
static enum err mark_completed(struct db *db, const struct job *job, const struct task *t,
                               const struct extract_result *r)
{
	struct json_object *out = http_json_parse(r->text, r->text_len), *text = NULL,
	                   *words = NULL, *conf = NULL, *dur = NULL, *speakers = NULL;
	if (!out || !json_object_object_get_ex(out, "text", &text) ||
	    !json_object_object_get_ex(out, "words", &words) ||
	    !json_object_object_get_ex(out, "confidence", &conf) ||
	    !json_object_object_get_ex(out, "duration", &dur)) {
		json_object_put(out);
		return mark_failed(db, job, t, "the recogniser's answer could not be read");
	}
	char sconf[32], sdur[32];
	double confidence = json_object_get_double(conf), duration = json_object_get_double(dur);
	snprintf(sconf, sizeof(sconf), "%.3f", confidence);
	snprintf(sdur, sizeof(sdur), "%.3f", duration);
	/* Speakers only from an engine that labels them (else null). */
	if (json_object_object_get_ex(out, "speakers", &speakers) &&
	    !json_object_is_type(speakers, json_type_array))
		speakers = NULL;
	const char *p[] = {t->id,
	                   json_object_get_string(text),
	                   sconf,
	                   sdur,
	                   http_json_text(words, NULL),
	                   r->engine,
	                   speakers ? http_json_text(speakers, NULL) : NULL};
	PGresult *res = NULL;
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = db_exec_prepared(
		    db, "stt_completed",
		    "UPDATE transcriptions SET status = 'completed', error = NULL, "
		    "text = $2, confidence = $3, duration_seconds = $4, "
		    "words = $5, engine = $6, speakers = $7, completed_at = now() WHERE id = $1",
		    7, p, &res);
	if (e == ERR_OK && db_affected(res) == 1)
		e = emit_completed(db, t, "completed", json_object_get(text), confidence, duration,
		                   NULL);
	if (e == ERR_OK)
		e = job_complete(db, job, "{\"status\": \"completed\"}");
	e = db_end(db, e);
	PQclear(res);
	if (e == ERR_OK)
		log_info("transcription %s completed: %.1f s of audio, %zu words", t->id, duration,
		         json_object_array_length(words));
	json_object_put(out);
	return e;
}

/* Removes the audio of transcriptions older than the retention period
 * (a few at a time, at each job). */
static void sweep(struct db *db, struct pool *pool)
{
	char hours[24];
	snprintf(hours, sizeof(hours), "%ld", stt_cfg.retention_hours);
	const char *p[] = {hours};
	PGresult *res = NULL;
	if (db_exec_prepared(
	        db, "stt_sweep",
	        "UPDATE transcriptions t SET storage_key = NULL FROM ("
	        "SELECT id, storage_key FROM transcriptions WHERE storage_key IS NOT "
	        "NULL AND status IN ('completed', 'failed') AND completed_at < now() - "
	        "make_interval(hours => $1::int) LIMIT 100 FOR UPDATE SKIP LOCKED) old "
	        "WHERE t.id = old.id RETURNING old.storage_key",
	        1, p, &res) != ERR_OK)
		return;
	for (int i = 0; i < PQntuples(res); i++)
		if (store_delete(service_store(), db_value(res, i, 0)) != ERR_OK)
			log_warn("stt worker: could not remove the expired audio %s",
			         db_value(res, i, 0));
	if (PQntuples(res) > 0)
		log_info("stt worker: removed %d expired audio files", PQntuples(res));
	PQclear(res);
	(void)pool;
}

/* The task of job into t (strings in pool); ERR_INVALID without a task id,
 * ERR_NOT_FOUND when it was deleted. */
static enum err load_task(struct db *db, const struct job *job, struct pool *pool, struct task *t)
{
	struct json_object *in = http_json_parse(job->input, strlen(job->input)), *v = NULL;
	const char *id = NULL;
	if (in && json_object_object_get_ex(in, "task_id", &v) &&
	    json_object_is_type(v, json_type_string))
		id = pool_strdup(pool, json_object_get_string(v));
	json_object_put(in);
	if (!id)
		return ERR_INVALID;
	const char *row[5];
	const char *p[] = {id};
	enum err e = db_row(db,
	                    "SELECT id, user_id, language, storage_key, format FROM transcriptions "
	                    "WHERE id = $1",
	                    1, p, pool, 5, row);
	if (e == ERR_OK)
		*t = (struct task){row[0], row[1], row[2], row[3], row[4]};
	return e;
}

void stt_job_transcribe_failed(struct db *db, const struct job *job, const char *why,
                               struct pool *pool, void *arg)
{
	(void)arg;
	struct task t;
	if (load_task(db, job, pool, &t) != ERR_OK)
		return;
	log_warn("transcription %s: failed for good (%s)", t.id, why);
	if (mark_failed(db, NULL, &t,
	                strcmp(why, JOB_LOST_ERROR) == 0
	                    ? "the audio could not be transcribed: its worker stopped during the "
	                      "last attempt"
	                    : "the audio could not be transcribed (an internal error); try again "
	                      "later") != ERR_OK)
		log_warn("transcription %s: its failure could not be recorded", t.id);
}

enum err stt_job_transcribe(struct db *db, const struct job *job, struct pool *pool, void *arg)
{
	(void)arg;
	struct task t;
	enum err e = load_task(db, job, pool, &t);
	if (e == ERR_NOT_FOUND)
		return ERR_OK; /* deleted meanwhile: nothing to do */
	if (e != ERR_OK)
		return e;
	const char *p[] = {t.id};
	if (t.key == NULL)
		return mark_failed(db, job, &t, "the audio is no longer stored");
	e = db_exec_prepared(db, "stt_processing",
	                     "UPDATE transcriptions SET status = 'processing' WHERE id = $1", 1, p,
	                     NULL);
	if (e != ERR_OK)
		return e;
	worker_job_progress(10);
	bool last = job->attempt >= job->max_attempts;
	struct extract_result r = {.text = "", .error = ""};
	e = run(db, &t, last, pool, &r);
	/* Ours, not the file's: retried; after the last attempt the task fails
	 * with the reason (else it would say "processing" for ever). */
	if (e == ERR_INTERNAL && !last)
		return e;
	if (e == ERR_INTERNAL && (!r.error || !*r.error))
		r.error = "the audio could not be transcribed (every attempt failed)";
	if (e != ERR_OK)
		e = mark_failed(db, job, &t,
		                r.error && *r.error ? r.error : "the audio could not be read");
	else
		e = mark_completed(db, job, &t, &r);
	if (e == ERR_OK)
		sweep(db, pool);
	return e;
}
