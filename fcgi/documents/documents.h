/* documents: the pieces of the documents service (lectern-documents) and
 * its worker (lectern-documents-worker) shared by their files.
 *
 * Each process holds one Postgres connection and one store, which lib owns
 * (lib/app/service.h: service_db(), service_store()). Every query names the
 * owner (req->user_id), so another user's document is not found, exactly as
 * a missing one. */
#ifndef LECTERN_DOCUMENTS_H
#define LECTERN_DOCUMENTS_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "app/service.h"
#include "data/db.h"
#include "core/err.h"
#include "web/http.h"
#include "storage/store.h"

/* RFC 3339 UTC with milliseconds, computed by Postgres. */
#define DOCS_SQL_TIME(col)                                                                         \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The columns of a document summary, in the order docs_json reads them. */
#define DOCS_SQL_SUMMARY                                                                           \
	"id, filename, file_type, content_type, file_size, sha256, status, error, pages, "         \
	"summary, notes_generated, " DOCS_SQL_TIME("created_at") ", " DOCS_SQL_TIME("updated_at")
/* The same with the extracted text as column DOCS_COL_CONTENT. */
#define DOCS_SQL_FULL DOCS_SQL_SUMMARY ", content"
/* The columns of a note, in the order docs_note_json reads them. */
#define DOCS_SQL_NOTE "id, document_id, content, generator, " DOCS_SQL_TIME("created_at")

enum {
	DOCS_COL_CONTENT = 13, /* index of content in DOCS_SQL_FULL */
	DOCS_WAIT_MAX_S = 30,  /* longest `wait` of an upload (docs/api.md, "Documents") */
	DOCS_WAIT_DEFAULT_S = 10,
	DOCS_UPLOAD_OVERHEAD = 64 * 1024, /* multipart framing and fields on top of the file */
	DOCS_JOB_ATTEMPTS = 3,            /* runs of a job before it fails for good */
	DOCS_LIST_MAX = 100,              /* documents in one page of the list */
	DOCS_LIST_DEFAULT = 20
};

/* The job kinds the worker runs. */
#define DOCS_JOB_PROCESS "document.process" /* extraction, then notes */
#define DOCS_JOB_NOTES "document.notes"     /* notes from the stored text */
/* The service name in store keys, events and logs. */
#define DOCS_SERVICE "documents"

struct docs_settings {
	long max_bytes; /* largest file accepted (LECTERN_DOCUMENTS_MAX_BYTES) */
};

extern struct docs_settings docs_cfg;

/* The document object of the contract from row of res (DOCS_SQL_SUMMARY or,
 * with content, DOCS_SQL_FULL). The caller owns the result. */
struct json_object *docs_json(const PGresult *res, int row, bool with_content);
/* The note object of the contract from row of res (DOCS_SQL_NOTE). */
struct json_object *docs_note_json(const PGresult *res, int row);
/* Loads the caller's document id with its content into *out (caller
 * PQclear()s); ERR_NOT_FOUND, with the message set, when the caller has none. */
enum err docs_load(struct http_req *req, const char *id, PGresult **out) MUST_CHECK;

/* Handlers (one route each). */
/* 429 with Retry-After: the user's queue of jobs is full. */
enum err docs_queue_full(struct http_req *req);
enum err docs_upload(struct http_req *req);
enum err docs_list(struct http_req *req);
enum err docs_get(struct http_req *req);
enum err docs_download(struct http_req *req);
enum err docs_process(struct http_req *req);
enum err docs_notes(struct http_req *req);
enum err docs_regenerate_notes(struct http_req *req);
enum err docs_delete(struct http_req *req);

#endif
