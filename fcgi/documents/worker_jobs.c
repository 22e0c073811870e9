/* documents worker jobs: text extraction and study notes. Each job stores
 * its effect, its events and its completion in one transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "docs_worker.h"
#include "events/event.h"
#include "extract/extract_textract.h"
#include "core/log.h"
#include "text/notes.h"
#include "events/outbox.h"

/* A string member of the job's JSON input, copied into pool; NULL if absent. */
static const char *input_string(const struct job *job, struct pool *pool, const char *name)
{
	struct json_object *in = http_json_parse(job->input, strlen(job->input)), *v = NULL;
	const char *out = NULL;
	if (in && json_object_object_get_ex(in, name, &v) &&
	    json_object_is_type(v, json_type_string))
		out = pool_strdup(pool, json_object_get_string(v));
	json_object_put(in);
	return out;
}

/* Adds an event of type with payload (taken) for user_id to the outbox. */
static enum err emit(struct db *db, const char *type, const char *user_id,
                     struct json_object *payload)
{
	return outbox_record(db, type, DOCS_SERVICE, user_id, payload);
}

/* The length of the longest prefix of text[0..len) of at most max bytes that
 * does not cut a UTF-8 character. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;
	return n > 0 ? n : max;
}

struct doc_info {
	const char *id, *user_id, *filename, *file_type, *storage_key;
};

/* document.processed, its text split into ordered chunks of at most
 * DOCS_EVENT_TEXT_CHUNK bytes: payload.chunk = {index, count}. */
static enum err emit_processed(struct db *db, const struct doc_info *d, const char *status,
                               long pages, const char *error, const char *text, size_t len)
{
	size_t count = 0;
	for (size_t at = 0; at < len || count == 0; count++)
		at += len ? utf8_cut(text + at, len - at, DOCS_EVENT_TEXT_CHUNK) : 1;
	size_t at = 0;
	enum err e = ERR_OK;
	for (size_t i = 0; i < count && e == ERR_OK; i++) {
		size_t n = len ? utf8_cut(text + at, len - at, DOCS_EVENT_TEXT_CHUNK) : 0;
		struct json_object *p = json_object_new_object(), *chunk = json_object_new_object();
		json_object_object_add(p, "document_id", json_object_new_string(d->id));
		json_object_object_add(p, "user_id", json_object_new_string(d->user_id));
		json_object_object_add(p, "filename", json_object_new_string(d->filename));
		json_object_object_add(p, "file_type", json_object_new_string(d->file_type));
		json_object_object_add(p, "status", json_object_new_string(status));
		json_object_object_add(p, "pages", json_object_new_int64(pages));
		json_object_object_add(p, "error", error ? json_object_new_string(error) : NULL);
		json_object_object_add(p, "text_length", json_object_new_int64((int64_t)len));
		json_object_object_add(p, "text", json_object_new_string_len(text + at, (int)n));
		json_object_object_add(chunk, "index", json_object_new_int64((int64_t)i));
		json_object_object_add(chunk, "count", json_object_new_int64((int64_t)count));
		json_object_object_add(p, "chunk", chunk);
		e = emit(db, "document.processed", d->user_id, p);
		at += n;
	}
	return e;
}

static enum err emit_notes(struct db *db, const struct doc_info *d, const char *note_id,
                           const struct notes *n)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "note_id", json_object_new_string(note_id));
	json_object_object_add(p, "document_id", json_object_new_string(d->id));
	json_object_object_add(p, "user_id", json_object_new_string(d->user_id));
	json_object_object_add(p, "format", json_object_new_string("markdown"));
	json_object_object_add(p, "generator", json_object_new_string(n->generator));
	json_object_object_add(p, "summary", json_object_new_string(n->summary));
	json_object_object_add(p, "content", json_object_new_string(n->markdown));
	return emit(db, "notes.generated", d->user_id, p);
}

/* Stores a note and its summary on the document; in the caller's transaction. */
static enum err store_note(struct db *db, const struct doc_info *d, const char *note_id,
                           const struct notes *n)
{
	const char *p[] = {note_id, d->id, d->user_id, n->markdown, n->summary, n->generator};
	enum err e =
	    db_exec_prepared(db, "docs_note_insert",
	                     "INSERT INTO notes (id, document_id, user_id, content, summary, "
	                     "generator) VALUES ($1, $2, $3, $4, $5, $6)",
	                     6, p, NULL);
	const char *q[] = {d->id, n->summary};
	if (e == ERR_OK)
		e = db_exec_prepared(db, "docs_note_summary",
		                     "UPDATE documents SET summary = $2, notes_generated = true, "
		                     "updated_at = now() WHERE id = $1",
		                     2, q, NULL);
	return e == ERR_OK ? emit_notes(db, d, note_id, n) : e;
}

/* Loads what the jobs need of document id; ERR_NOT_FOUND when it is gone. */
static enum err load_doc(struct db *db, struct pool *pool, const char *id, struct doc_info *d)
{
	const char *v[5];
	const char *p[] = {id};
	enum err e = db_row(db,
	                    "SELECT id, user_id, filename, file_type, storage_key FROM documents "
	                    "WHERE id = $1",
	                    1, p, pool, 5, v);
	if (e != ERR_OK)
		return e;
	*d = (struct doc_info){v[0], v[1], v[2], v[3], v[4]};
	return ERR_OK;
}

static enum err write_fd(void *arg, const void *data, size_t len)
{
	if (fd_write_all(*(int *)arg, data, len))
		return ERR_OK;
	log_error("documents worker: writing the temporary copy: %s", strerror(errno));
	return ERR_INTERNAL;
}

/* Which engine reads a document of type under LECTERN_EXTRACT_ENGINE:
 * Textract reads images, and PDFs only where it can fetch them (S3); the
 * rest is always read locally, as Textract does not read DOCX or text. */
enum reader { READ_LOCAL, READ_TEXTRACT_IMAGE, READ_TEXTRACT_S3 };

static enum reader reader_for(const struct doc_info *d, enum extract_type type)
{
	if (docs_w.engine != DOCS_ENGINE_TEXTRACT)
		return READ_LOCAL;
	if (type == EXTRACT_TYPE_PNG || type == EXTRACT_TYPE_JPG)
		return READ_TEXTRACT_IMAGE;
	if (type != EXTRACT_TYPE_PDF)
		return READ_LOCAL;
	if (docs_w.bucket != NULL)
		return READ_TEXTRACT_S3;
	log_info("document %s: PDF read by the local engine (Textract reads PDFs only from S3, "
	         "and the store is a directory)",
	         d->id);
	return READ_LOCAL;
}

/* Reads the document into r. Textract reads a PDF in place in the bucket;
 * anything else is first copied to a temporary file. */
static enum err extract(const struct doc_info *d, struct pool *pool, struct extract_result *r)
{
	enum extract_type type = extract_type_parse(d->file_type);
	enum reader reader = reader_for(d, type);
	if (reader == READ_TEXTRACT_S3)
		return extract_textract_s3(docs_w.aws, docs_w.bucket, d->storage_key,
		                           docs_w.textract_poll_ms, docs_w.textract_timeout_ms,
		                           &docs_w.limits, pool, r);
	char path[DOCS_PATH_MAX];
	snprintf(path, sizeof(path), "%s/lectern-document-XXXXXX", docs_w.work_dir);
	int fd = mkstemp(path);
	if (fd < 0) {
		log_error("documents worker: cannot create a file in %s: %s", docs_w.work_dir,
		          strerror(errno));
		return ERR_INTERNAL;
	}
	enum err e = store_get(service_store(), d->storage_key, write_fd, &fd);
	struct stat st;
	if (e == ERR_OK && reader == READ_TEXTRACT_IMAGE && fstat(fd, &st) == 0 &&
	    st.st_size > EXTRACT_TEXTRACT_BYTES_MAX) {
		/* Past what Textract takes inline: the local OCR can still read it. */
		log_info("document %s: image of %lld bytes read by the local engine (Textract "
		         "takes at most %d bytes)",
		         d->id, (long long)st.st_size, EXTRACT_TEXTRACT_BYTES_MAX);
		reader = READ_LOCAL;
	}
	if (close(fd) != 0 && e == ERR_OK)
		e = ERR_INTERNAL;
	if (e == ERR_NOT_FOUND) {
		memset(r, 0, sizeof(*r));
		r->text = "";
		r->error = "the stored file is missing";
		e = ERR_INVALID;
	} else if (e == ERR_OK && reader == READ_TEXTRACT_IMAGE) {
		e = extract_textract_image(docs_w.aws, path, &docs_w.limits, pool, r);
	} else if (e == ERR_OK) {
		e = extract_file(path, type, &docs_w.limits, pool, r);
	}
	unlink(path);
	return e;
}

/* Marks the document failed with why and publishes that, unless it is
 * already processed or failed; also completes job when given. */
static enum err mark_failed(struct db *db, const struct job *job, const struct doc_info *d,
                            const char *why)
{
	const char *p[] = {d->id, why};
	PGresult *res = NULL;
	enum err e = db_begin(db);
	if (e == ERR_OK)
		e = db_exec_prepared(
		    db, "docs_failed",
		    "UPDATE documents SET status = 'failed', error = $2, content = NULL, "
		    "updated_at = now() WHERE id = $1 AND status IN ('uploaded', 'processing')",
		    2, p, &res);
	if (e == ERR_OK && db_affected(res) == 1)
		e = emit_processed(db, d, "failed", 0, why, "", 0);
	if (e == ERR_OK && job)
		e = job_complete(db, job, "{\"status\": \"failed\"}");
	e = db_end(db, e);
	PQclear(res);
	log_info("document %s failed: %s", d->id, why);
	return e;
}

/* A processing job that failed for good (its last attempt's error, or its
 * worker lost): the document would read "processing" for ever, so it
 * fails with a sentence and POST /{id}/process can run it again. */
void docs_job_process_failed(struct db *db, const struct job *job, const char *why,
                             struct pool *pool, void *arg)
{
	(void)arg;
	const char *id = input_string(job, pool, "document_id");
	struct doc_info d;
	if (!id || load_doc(db, pool, id, &d) != ERR_OK)
		return;
	log_warn("document %s: processing failed for good (%s)", id, why);
	if (mark_failed(db, NULL, &d,
	                strcmp(why, JOB_LOST_ERROR) == 0
	                    ? "the document could not be processed: its worker stopped during "
	                      "the last attempt"
	                    : "the document could not be processed (an internal error); try "
	                      "again later") != ERR_OK)
		log_warn("document %s: its failure could not be recorded", id);
}

enum err docs_job_process(struct db *db, const struct job *job, struct pool *pool, void *arg)
{
	(void)arg;
	const char *id = input_string(job, pool, "document_id");
	struct doc_info d;
	if (!id)
		return ERR_INVALID;
	enum err e = load_doc(db, pool, id, &d);
	if (e == ERR_NOT_FOUND)
		return ERR_OK; /* deleted meanwhile: nothing to do */
	if (e != ERR_OK)
		return e;
	const char *p[] = {id};
	e = db_exec_prepared(db, "docs_processing",
	                     "UPDATE documents SET status = 'processing', error = NULL, "
	                     "updated_at = now() WHERE id = $1",
	                     1, p, NULL);
	if (e != ERR_OK)
		return e;
	worker_job_progress(10);
	struct extract_result r;
	e = extract(&d, pool, &r);
	/* A Textract failure (refused, unavailable, timed out, unreadable) fails
	 * the document with Textract's sentence, never a silent local reading:
	 * POST /{id}/process runs it again once Textract is back. */
	if (e == ERR_INTERNAL)
		return e; /* ours, not the file's: retried */
	if (e != ERR_OK)
		return mark_failed(
		    db, job, &d, r.error && *r.error ? r.error : "the document could not be read");
	worker_job_progress(60);
	struct notes n;
	e = notes_generate(service_llm(), pool, *r.title ? r.title : d.filename, r.text, r.text_len,
	                   &n);
	if (e != ERR_OK)
		return e;
	worker_job_progress(90);
	char note_id[EVENT_ID_LEN + 1], pages[24];
	event_uuid(note_id);
	snprintf(pages, sizeof(pages), "%ld", r.pages);
	const char *u[] = {id, pages, r.title, r.author, r.engine, r.text};
	PGresult *res = NULL;
	e = db_begin(db);
	if (e == ERR_OK)
		e = db_exec_prepared(
		    db, "docs_processed",
		    "UPDATE documents SET status = 'processed', error = NULL, pages = $2, "
		    "title = $3, author = $4, engine = $5, content = $6, "
		    "updated_at = now() WHERE id = $1",
		    6, u, &res);
	bool gone = e == ERR_OK && db_affected(res) != 1;
	if (e == ERR_OK && !gone)
		e = emit_processed(db, &d, "processed", r.pages, NULL, r.text, r.text_len);
	if (e == ERR_OK && !gone && *n.markdown)
		e = store_note(db, &d, note_id, &n);
	if (e == ERR_OK)
		e = job_complete(db, job, gone ? NULL : "{\"status\": \"processed\"}");
	e = db_end(db, e);
	PQclear(res);
	if (e == ERR_OK && !gone)
		log_info("document %s processed: %ld pages, %zu bytes of text, notes by %s", id,
		         r.pages, r.text_len, n.generator);
	return e;
}

enum err docs_job_notes(struct db *db, const struct job *job, struct pool *pool, void *arg)
{
	(void)arg;
	const char *id = input_string(job, pool, "document_id");
	const char *note_id = input_string(job, pool, "note_id");
	if (!id || !note_id || !event_is_uuid(note_id))
		return ERR_INVALID;
	struct doc_info d;
	enum err e = load_doc(db, pool, id, &d);
	if (e == ERR_NOT_FOUND)
		return ERR_OK;
	if (e != ERR_OK)
		return e;
	const char *v[2];
	const char *p[] = {id};
	e = db_row(db,
	           "SELECT coalesce(title, ''), coalesce(content, '') FROM documents WHERE id = $1",
	           1, p, pool, 2, v);
	if (e == ERR_NOT_FOUND)
		return ERR_OK;
	if (e != ERR_OK)
		return e;
	struct notes n;
	e = notes_generate(service_llm(), pool, *v[0] ? v[0] : d.filename, v[1], strlen(v[1]), &n);
	if (e != ERR_OK)
		return e;
	if (!*n.markdown)
		return ERR_INVALID; /* no sentences to take notes of */
	e = db_begin(db);
	if (e == ERR_OK)
		e = store_note(db, &d, note_id, &n);
	if (e == ERR_OK)
		e = job_complete(db, job, NULL);
	e = db_end(db, e);
	return e;
}
