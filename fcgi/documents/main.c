/* lectern-documents: uploads, extracted text and study notes
 * (CONTRACT.md section 3). The slow work is done by
 * lectern-documents-worker; settings, routes and start-up live here. */
#include <stdlib.h>

#include "documents.h"
#include "core/log.h"
#include "core/program.h"

struct docs_settings docs_cfg;
struct db *docs_db;
struct store *docs_store;
static struct store_config docs_store_cfg;

static const struct cfg_var docs_vars[] = {
    {"LECTERN_DB_DSN", CFG_STRING, NULL, 1, 1024, CFG_REQUIRED | CFG_SECRET, &docs_cfg.db_dsn,
     "Postgres connection string of lectern_documents"},
    {"LECTERN_DB_TIMEOUT_MS", CFG_INT, "5000", 100, 600000, 0, &docs_cfg.db_timeout_ms,
     "statement timeout in milliseconds"},
    {"LECTERN_DOCUMENTS_MAX_BYTES", CFG_INT, "26214400", 1, 1073741824, 0, &docs_cfg.max_bytes,
     "largest document accepted, in bytes (nginx's client_max_body_size must allow it)"},
};

static const struct param_spec list_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, DOCS_LIST_MAX, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec wait_params[] = {
    {"wait", PARAM_QUERY, PARAM_INT, false, 0, DOCS_WAIT_MAX_S, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

/* Not const: the upload's body limit follows LECTERN_DOCUMENTS_MAX_BYTES. */
static struct route docs_routes[] = {
    {"POST", "/upload", docs_upload, wait_params, 0, ROUTE_AUTH | ROUTE_STREAM},
    {"GET", "/health", docs_health, NULL, 0, 0},
    {"GET", "/", docs_list, list_params, 0, ROUTE_AUTH},
    {"GET", "/{id}", docs_get, NULL, 0, ROUTE_AUTH},
    {"DELETE", "/{id}", docs_delete, NULL, 0, ROUTE_AUTH},
    {"GET", "/{id}/download", docs_download, NULL, 0, ROUTE_AUTH},
    {"POST", "/{id}/process", docs_process, NULL, 4096, ROUTE_AUTH},
    {"GET", "/{id}/notes", docs_notes, NULL, 0, ROUTE_AUTH},
    {"POST", "/{id}/regenerate-notes", docs_regenerate_notes, wait_params, 4096, ROUTE_AUTH},
};

static const char *const docs_prefixes[] = {"/api/v1/documents", NULL};

static enum err docs_worker_init(void)
{
	/* A database down at start is reported by /health; db reconnects. */
	enum err e = db_connect(docs_cfg.db_dsn, docs_cfg.db_timeout_ms, &docs_db);
	if (e != ERR_OK && e != ERR_UNAVAILABLE)
		return e;
	return store_open(&docs_store_cfg, &docs_store);
}

static void docs_worker_done(void)
{
	db_close(docs_db);
	store_free(docs_store);
}

static const struct service docs_service = {
    .name = DOCS_SERVICE,
    .prefixes = docs_prefixes,
    .routes = docs_routes,
    .nroutes = sizeof(docs_routes) / sizeof(docs_routes[0]),
    .worker_init = docs_worker_init,
    .worker_done = docs_worker_done,
    .before = NULL,
};

int main(int argc, char **argv)
{
	struct program_common common;
	int status =
	    program_start(DOCS_SERVICE, argc, argv, docs_vars, CFG_COUNT(docs_vars), &common);
	if (status != PROGRAM_CONTINUE)
		return status;
	if (store_config_load(&docs_store_cfg) != ERR_OK)
		return 1;
	/* Judged on Content-Length before a byte is read (413). */
	docs_routes[0].max_body = (size_t)docs_cfg.max_bytes + DOCS_UPLOAD_OVERHEAD;
	struct serve_opts opts = program_serve_opts(&common);
	return serve_run(&docs_service, &opts);
}
