/* lectern-stt and lectern-stt-worker: speech to text (docs/api.md, "Speech
 * to text"). This file is the service's descriptor; handlers are in
 * transcribe.c and tasks.c, the worker in worker.c. */
#include "events/replica.h"
#include "stt.h"

struct stt_settings stt_cfg;

static const char *const engine_names[] = {"local", "transcribe", NULL};

static const struct cfg_var stt_vars[] = {
    {"LECTERN_STT_MAX_BYTES", CFG_INT, "52428800", 1, 1073741824, 0, &stt_cfg.max_bytes,
     "largest audio file accepted, in bytes (nginx's client_max_body_size must allow it)", NULL},
    {"LECTERN_STT_AUDIO_RETENTION_HOURS", CFG_INT, "168", 0, 87600, 0, &stt_cfg.retention_hours,
     "hours the uploaded audio is kept after its transcription (0: removed when done)", NULL},
    {"LECTERN_STT_ENGINE", CFG_ENUM, "local", 0, 0, 0, &stt_cfg.engine,
     "\"local\" (pocketsphinx in the sandbox) or \"transcribe\" (Amazon Transcribe; the store "
     "must be S3)",
     engine_names},
};
static const struct cfg_table stt_table = {"stt", stt_vars, CFG_COUNT(stt_vars)};

static const struct param_spec transcribe_params[] = {
    {"wait", PARAM_FORM, PARAM_INT, false, 0, STT_WAIT_MAX_S, NULL, NULL},
    {"wait", PARAM_QUERY, PARAM_INT, false, 0, STT_WAIT_MAX_S, NULL, NULL},
    {"language", PARAM_FORM, PARAM_STRING, false, 1, 35, NULL, NULL},
    {"language", PARAM_QUERY, PARAM_STRING, false, 1, 35, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, STT_LIST_MAX, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
/* Every /{id} route: a transcription id, or 404 before the handler runs. */
static const struct param_spec task_params[] = {
    {"task_id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec id_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

/* Not const: the upload's body limit follows LECTERN_STT_MAX_BYTES. */
static struct route stt_routes[] = {
    {"POST", "/transcribe", stt_transcribe, transcribe_params, 0, ROUTE_AUTH | ROUTE_STREAM},
    {"GET", "/status/{task_id}", stt_status, task_params, 0, ROUTE_AUTH},
    {"GET", "/transcriptions", stt_list, list_params, 0, ROUTE_AUTH},
    {"DELETE", "/transcriptions/{id}", stt_delete, id_params, 0, ROUTE_AUTH},
};

/* The upload's body limit: judged on Content-Length before a byte is read. */
static enum err stt_configure(void)
{
	stt_routes[0].max_body = (size_t)stt_cfg.max_bytes + STT_UPLOAD_OVERHEAD;
	return ERR_OK;
}

static const struct worker_job_kind stt_jobs[] = {
    {STT_JOB_TRANSCRIBE, stt_job_transcribe, NULL, stt_job_transcribe_failed},
};

/* The learner's documents, for the course model (worker.c, course.h). */
static const struct consumer_handler stt_consumers[] = {REPLICA_HANDLERS(NULL)};

static const struct service_def stt_service = {
    .name = STT_SERVICE,
    .clients = SERVICE_DB | SERVICE_STORE | SERVICE_AWS,
    .settings = (const struct cfg_table *const[]){&stt_table, NULL},
    .configure = stt_configure,
    .routes = stt_routes,
    .nroutes = CFG_COUNT(stt_routes),
    .jobs = stt_jobs,
    .njobs = CFG_COUNT(stt_jobs),
    .consumers = stt_consumers,
    .nconsumers = CFG_COUNT(stt_consumers),
    .worker_settings = (const struct cfg_table *const[]){&stt_worker_table, NULL},
    .worker_init = stt_worker_init,
};

int main(int argc, char **argv)
{
	return service_main(&stt_service, argc, argv);
}
