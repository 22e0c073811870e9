/* lectern-documents and lectern-documents-worker: uploads, extracted text
 * and study notes (docs/api.md, "Documents"). This file is the service's
 * descriptor; handlers are in docs.c and upload.c, the worker's settings in
 * worker.c and its jobs in worker_jobs.c. */
#include "docs_worker.h"

struct docs_settings docs_cfg;

static const struct cfg_var docs_vars[] = {
    {"LECTERN_DOCUMENTS_MAX_BYTES", CFG_INT, "26214400", 1, 1073741824, 0, &docs_cfg.max_bytes,
     "largest document accepted, in bytes (nginx's client_max_body_size must allow it)", NULL},
};
static const struct cfg_table docs_table = {"documents", docs_vars, CFG_COUNT(docs_vars)};

static const struct param_spec list_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, DOCS_LIST_MAX, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec upload_params[] = {
    {"wait", PARAM_FORM, PARAM_INT, false, 0, DOCS_WAIT_MAX_S, NULL, NULL},
    {"wait", PARAM_QUERY, PARAM_INT, false, 0, DOCS_WAIT_MAX_S, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
/* Every /{id} route: a document id, or 404 before the handler runs. */
static const struct param_spec id_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec id_wait_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {"wait", PARAM_QUERY, PARAM_INT, false, 0, DOCS_WAIT_MAX_S, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

/* Not const: the upload's body limit follows LECTERN_DOCUMENTS_MAX_BYTES. */
static struct route docs_routes[] = {
    {"POST", "/upload", docs_upload, upload_params, 0, ROUTE_AUTH | ROUTE_STREAM},
    {"GET", "/", docs_list, list_params, 0, ROUTE_AUTH},
    {"GET", "/{id}", docs_get, id_params, 0, ROUTE_AUTH},
    {"DELETE", "/{id}", docs_delete, id_params, 0, ROUTE_AUTH},
    {"GET", "/{id}/download", docs_download, id_params, 0, ROUTE_AUTH},
    {"POST", "/{id}/process", docs_process, id_params, 4096, ROUTE_AUTH},
    {"GET", "/{id}/notes", docs_notes, id_params, 0, ROUTE_AUTH},
    {"POST", "/{id}/regenerate-notes", docs_regenerate_notes, id_wait_params, 4096, ROUTE_AUTH},
};

/* The upload's body limit follows LECTERN_DOCUMENTS_MAX_BYTES: judged on
 * Content-Length before a byte is read (413). */
static enum err docs_configure(void)
{
	docs_routes[0].max_body = (size_t)docs_cfg.max_bytes + DOCS_UPLOAD_OVERHEAD;
	return service_is_worker() ? docs_worker_configure() : ERR_OK;
}

static const struct worker_job_kind docs_jobs[] = {
    {DOCS_JOB_PROCESS, docs_job_process, NULL, docs_job_process_failed},
    {DOCS_JOB_NOTES, docs_job_notes, NULL, NULL},
};

static const struct service_def docs_service = {
    .name = DOCS_SERVICE,
    .clients = SERVICE_DB | SERVICE_STORE | SERVICE_LLM | SERVICE_AWS,
    .settings = (const struct cfg_table *const[]){&docs_table, NULL},
    .configure = docs_configure,
    .routes = docs_routes,
    .nroutes = CFG_COUNT(docs_routes),
    .jobs = docs_jobs,
    .njobs = CFG_COUNT(docs_jobs),
    .worker_settings = (const struct cfg_table *const[]){&docs_worker_table, NULL},
    .worker_init = docs_worker_init,
};

int main(int argc, char **argv)
{
	return service_main(&docs_service, argc, argv);
}
