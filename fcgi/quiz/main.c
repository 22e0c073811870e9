/* lectern-quiz and lectern-quiz-worker: quizzes generated from the
 * learner's documents, taken and graded (docs/api.md, "Quizzes"), and
 * flashcards (docs/api.md, "Flashcards"). This file is the service's
 * descriptor; handlers are in generate.c, upload.c, quizzes.c and submit.c,
 * and the flashcards' in cards*.c (cards.h). The worker keeps the document
 * replica from document.processed and document.deleted (events/replica.h),
 * relays the outbox (quiz.requested, quiz.generated), and runs the
 * generations that are jobs (requests.c). */
#include <stdio.h>
#include <stdlib.h>

#include "cards.h"
#include "events/replica.h"
#include "quiz.h"

struct quiz_settings quiz_cfg;

static long max_pages, cpu_seconds, wall_ms, memory_mb, max_pixels;
static bool ocr;

static const struct cfg_var quiz_vars[] = {
    {"LECTERN_QUIZ_MAX_BYTES", CFG_INT, "26214400", 1, 1073741824, 0, &quiz_cfg.max_bytes,
     "largest file a quiz is generated from, in bytes (nginx's client_max_body_size must "
     "allow it)",
     NULL},
    {"LECTERN_WORK_DIR", CFG_STRING, "/tmp", 1, 1024, 0, &quiz_cfg.work_dir,
     "directory for the temporary copy of an uploaded file being read", NULL},
    {"LECTERN_EXTRACT_MAX_PAGES", CFG_INT, "2000", 1, 100000, 0, &max_pages,
     "pages an uploaded PDF may have", NULL},
    {"LECTERN_EXTRACT_CPU_SECONDS", CFG_INT, "60", 1, 3600, 0, &cpu_seconds,
     "CPU seconds reading one uploaded file may use", NULL},
    {"LECTERN_EXTRACT_WALL_MS", CFG_INT, "60000", 1000, 3600000, 0, &wall_ms,
     "wall-clock milliseconds reading one uploaded file may take (within nginx's 90 s)", NULL},
    {"LECTERN_EXTRACT_MEMORY_MB", CFG_INT, "2048", 64, 65536, 0, &memory_mb,
     "address space of the extraction child, in MiB", NULL},
    {"LECTERN_EXTRACT_MAX_PIXELS", CFG_INT, "60000000", 1000, 1000000000, 0, &max_pixels,
     "pixels an image may have (checked before decoding)", NULL},
    {"LECTERN_EXTRACT_OCR", CFG_BOOL, "true", 0, 0, 0, &ocr,
     "read PDF pages without a text layer by OCR", NULL},
    {"LECTERN_QUIZ_JOB_QUESTIONS", CFG_INT, "20", 0, QUIZ_QUESTIONS_MAX, 0, &quiz_cfg.job_questions,
     "a generation asking for more questions than this runs as a job (with a model "
     "configured, every generation does)",
     NULL},
    {"LECTERN_QUIZ_JOB_BYTES", CFG_INT, "1048576", 0, 1073741824, 0, &quiz_cfg.job_bytes,
     "a generation from a text longer than this (bytes) runs as a job", NULL},
    {"LECTERN_QUIZ_REQUEST_RETENTION_HOURS", CFG_INT, "168", 0, 87600, 0,
     &quiz_cfg.request_retention_hours,
     "hours a finished generation job's request (its status and error) is kept; the worker "
     "removes older ones at each job (0: at the next job)",
     NULL},
};
static const struct cfg_table quiz_table = {"quiz", quiz_vars, CFG_COUNT(quiz_vars)};

static const char *const difficulties[] = {"easy", "medium", "hard", NULL};

/* POST /generate: multipart form fields first (http_form_field), then the
 * JSON body's members, whose defaults also serve the form. */
static const struct param_spec generate_params[] = {
    {"document_id", PARAM_FORM, PARAM_UUID, false, 0, 0, NULL, NULL},
    {"num_questions", PARAM_FORM, PARAM_INT, false, 1, QUIZ_QUESTIONS_MAX, NULL, NULL},
    {"difficulty", PARAM_FORM, PARAM_ENUM, false, 0, 0, difficulties, NULL},
    {"title", PARAM_FORM, PARAM_STRING, false, 1, QUIZ_TITLE_MAX, NULL, NULL},
    {"document_id", PARAM_BODY, PARAM_UUID, false, 0, 0, NULL, NULL},
    {"num_questions", PARAM_BODY, PARAM_INT, false, 1, QUIZ_QUESTIONS_MAX, NULL, "5"},
    {"difficulty", PARAM_BODY, PARAM_ENUM, false, 0, 0, difficulties, "medium"},
    {"title", PARAM_BODY, PARAM_STRING, false, 1, QUIZ_TITLE_MAX, NULL, NULL},
    {"wait", PARAM_FORM, PARAM_INT, false, 0, QUIZ_WAIT_MAX_S, NULL, NULL},
    {"wait", PARAM_BODY, PARAM_INT, false, 0, QUIZ_WAIT_MAX_S, NULL, NULL},
    {"wait", PARAM_QUERY, PARAM_INT, false, 0, QUIZ_WAIT_MAX_S, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, QUIZ_LIST_MAX, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
/* Every /{id} route: a quiz id, or 404 before the handler runs. */
static const struct param_spec id_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec get_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {"include_answers", PARAM_QUERY, PARAM_BOOL, false, 0, 0, NULL, "false"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

/* Not const: the generate body limit follows LECTERN_QUIZ_MAX_BYTES. */
static struct route quiz_routes[] = {
    {"POST", "/generate", quiz_generate_handler, generate_params, 0, ROUTE_AUTH | ROUTE_STREAM},
    {"GET", "/", quiz_list, list_params, 0, ROUTE_AUTH},
    {"GET", "/history", quiz_list, list_params, 0, ROUTE_AUTH},
    {"GET", "/{id}", quiz_get, get_params, 0, ROUTE_AUTH},
    {"DELETE", "/{id}", quiz_delete, id_params, 0, ROUTE_AUTH},
    {"POST", "/{id}/submit", quiz_submit, id_params, QUIZ_JSON_BODY_MAX, ROUTE_AUTH | ROUTE_JSON},
    {"GET", "/{id}/results", quiz_results, id_params, 0, ROUTE_AUTH},
    CARDS_ROUTES,
};

/* Flashcards (cards.h) keep their whole path: "" strips nothing. */
static const char *const quiz_prefixes[] = {"/api/v1/quizzes", "", NULL};

static const struct consumer_handler quiz_consumers[] = {REPLICA_HANDLERS(&cards_replica_hooks)};

static const struct worker_job_kind quiz_jobs[] = {
    {QUIZ_JOB_GENERATE, quiz_job_generate, NULL, quiz_job_generate_failed},
};

/* Derived settings: the body limit, the extraction limits. */
static enum err quiz_configure(void)
{
	quiz_routes[0].max_body = (size_t)quiz_cfg.max_bytes + QUIZ_UPLOAD_OVERHEAD;
	extract_limits_default(&quiz_cfg.limits);
	quiz_cfg.limits.max_pages = max_pages;
	quiz_cfg.limits.cpu_seconds = cpu_seconds;
	quiz_cfg.limits.wall_ms = wall_ms;
	quiz_cfg.limits.memory_mb = memory_mb;
	quiz_cfg.limits.max_pixels = max_pixels;
	quiz_cfg.limits.ocr = ocr;
	return ERR_OK;
}

/* tesseract is several times faster on one thread here, and the extraction
 * child inherits this. */
static enum err quiz_process_init(void)
{
	setenv("OMP_THREAD_LIMIT", "1", 0);
	return ERR_OK;
}

static const struct service_def quiz_service = {
    .name = QUIZ_SERVICE,
    .clients = SERVICE_DB | SERVICE_LLM,
    .settings = (const struct cfg_table *const[]){&quiz_table, NULL},
    .configure = quiz_configure,
    .prefixes = quiz_prefixes,
    .routes = quiz_routes,
    .nroutes = CFG_COUNT(quiz_routes),
    .process_init = quiz_process_init,
    .jobs = quiz_jobs,
    .njobs = CFG_COUNT(quiz_jobs),
    .consumers = quiz_consumers,
    .nconsumers = CFG_COUNT(quiz_consumers),
};

int main(int argc, char **argv)
{
	return service_main(&quiz_service, argc, argv);
}
