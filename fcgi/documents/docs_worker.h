/* docs_worker: what the files of lectern-documents-worker share. */
#ifndef LECTERN_DOCS_WORKER_H
#define LECTERN_DOCS_WORKER_H

#include "storage/aws.h"
#include "documents.h"
#include "extract/extract.h"
#include "text/llm.h"
#include "events/worker.h"

enum {
	/* Bytes of extracted text in one document.processed event: JSON escaping
	 * can at worst multiply text by six, which keeps an event well under
	 * EVENT_MAX_BYTES (1 MiB). */
	DOCS_EVENT_TEXT_CHUNK = 128 * 1024,
	DOCS_PATH_MAX = 4096 /* bytes of the temporary file's path */
};

/* LECTERN_EXTRACT_ENGINE: who reads PDFs and images. */
enum docs_engine {
	DOCS_ENGINE_LOCAL,   /* poppler, tesseract: every type in the sandbox */
	DOCS_ENGINE_TEXTRACT /* Amazon Textract: images always, PDFs when they are in S3 */
};

/* The worker's own settings and state (its clients are lib's). */
struct docs_worker_state {
	struct extract_limits limits;
	const char *work_dir; /* where the document is copied to be read */
	enum docs_engine engine;
	struct aws_client *aws;   /* Textract's client; NULL with the local engine */
	const char *bucket;       /* the S3 bucket of the store; NULL with the file store */
	long textract_poll_ms;    /* between two polls of an asynchronous job */
	long textract_timeout_ms; /* an asynchronous job's longest wait */
};

extern struct docs_worker_state docs_w;

/* The worker's settings (extraction limits and engine), and their set-up
 * once the settings and clients are in place (the descriptor's worker_init). */
extern const struct cfg_table docs_worker_table;
enum err docs_worker_configure(void) MUST_CHECK;
enum err docs_worker_init(void) MUST_CHECK;

/* DOCS_JOB_PROCESS: extracts the document's text in the sandbox, stores it
 * with new notes, publishes document.processed and notes.generated. A file
 * that cannot be read marks the document failed (the job completes). */
enum err docs_job_process(struct db *db, const struct job *job, struct pool *pool, void *arg);
/* Its failure hook (worker_job_failed_fn): the document is marked failed
 * and document.processed says so when the job failed for good. */
void docs_job_process_failed(struct db *db, const struct job *job, const char *why,
                             struct pool *pool, void *arg);
/* DOCS_JOB_NOTES: new notes (input note_id) from the stored text. */
enum err docs_job_notes(struct db *db, const struct job *job, struct pool *pool, void *arg);

#endif
