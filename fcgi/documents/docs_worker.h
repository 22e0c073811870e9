/* docs_worker: what the files of lectern-documents-worker share. */
#ifndef LECTERN_DOCS_WORKER_H
#define LECTERN_DOCS_WORKER_H

#include "documents.h"
#include "extract.h"
#include "llm.h"
#include "worker.h"

enum {
	/* Bytes of extracted text in one document.processed event: JSON escaping
	 * can at worst multiply text by six, which keeps an event well under
	 * EVENT_MAX_BYTES (1 MiB). */
	DOCS_EVENT_TEXT_CHUNK = 128 * 1024,
	DOCS_PATH_MAX = 4096 /* bytes of the temporary file's path */
};

/* The worker's process-wide clients and settings. */
struct docs_worker_state {
	struct store *store;
	struct llm_client *llm; /* NULL: extractive notes only */
	struct extract_limits limits;
	const char *work_dir; /* where the document is copied to be read */
};

extern struct docs_worker_state docs_w;

/* DOCS_JOB_PROCESS: extracts the document's text in the sandbox, stores it
 * with new notes, publishes document.processed and notes.generated. A file
 * that cannot be read marks the document failed (the job completes). */
enum err docs_job_process(struct db *db, const struct job *job, struct pool *pool, void *arg);
/* DOCS_JOB_NOTES: new notes (input note_id) from the stored text. */
enum err docs_job_notes(struct db *db, const struct job *job, struct pool *pool, void *arg);

#endif
