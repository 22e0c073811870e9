/* lectern-tts and lectern-tts-worker: text to speech with the embedded
 * engines (docs/api.md, "Text to speech"). This file is the service's
 * descriptor; handlers are in synth.c, library.c and aloud.c. The worker
 * relays the outbox and keeps the copy of the learner's documents and notes
 * that "read a document aloud" speaks from. */
#include <string.h>

#include "core/log.h"
#include "events/replica.h"
#include "speech/tts_polly.h"
#include "tts.h"

struct tts_settings tts_cfg;

static const char *const engines[] = {"local", "polly", NULL};

static const struct cfg_var tts_vars[] = {
    {"LECTERN_TTS_ENGINE", CFG_ENUM, "local", 0, 0, 0, &tts_cfg.engine,
     "local (flite and espeak-ng in a sandboxed child) or polly (Amazon Polly)", engines},
    {"LECTERN_TTS_CPU_SECONDS", CFG_INT, "60", 1, 3600, 0, &tts_cfg.cpu_seconds,
     "CPU seconds one synthesis child may use", NULL},
    {"LECTERN_TTS_WALL_MS", CFG_INT, "90000", 100, 3600000, 0, &tts_cfg.wall_ms,
     "milliseconds after which a synthesis child is killed", NULL},
    {"LECTERN_TTS_MEMORY_MB", CFG_INT, "1024", 64, 65536, 0, &tts_cfg.memory_mb,
     "address space of a synthesis child, in MiB", NULL},
    {"LECTERN_TTS_MAX_SECONDS", CFG_INT, "1800", 1, 86400, 0, &tts_cfg.max_seconds,
     "longest audio one synthesis may produce, in seconds", NULL},
    {"LECTERN_TTS_POLLY_POLL_MS", CFG_INT, "1000", 50, 60000, 0, &tts_cfg.polly_poll_ms,
     "milliseconds between two polls of a Polly synthesis task (long texts, S3 store)", NULL},
};
static const struct cfg_table tts_table = {"tts", tts_vars, CFG_COUNT(tts_vars)};

static const char *const formats[] = {"mp3", "wav", "ogg", NULL};
static const char *const parts[] = {"summary", "notes", "content", NULL};
static const char *const responses[] = {"audio", "json", NULL};

static const struct param_spec synth_params[] = {
    {"text", PARAM_BODY, PARAM_STRING, false, 1, TTS_TEXT_MAX, NULL, NULL},
    {"voice_id", PARAM_BODY, PARAM_STRING, false, 1, TTS_VOICE_ID_MAX - 1, NULL, NULL},
    {"voice", PARAM_BODY, PARAM_STRING, false, 1, TTS_VOICE_ID_MAX - 1, NULL, NULL},
    {"format", PARAM_BODY, PARAM_ENUM, false, 0, 0, formats, "mp3"},
    {"language_code", PARAM_BODY, PARAM_STRING, false, 0, 32, NULL, NULL},
    {"response", PARAM_BODY, PARAM_ENUM, false, 0, 0, responses, "audio"},
    {"document_id", PARAM_BODY, PARAM_UUID, false, 0, 0, NULL, NULL},
    {"part", PARAM_BODY, PARAM_ENUM, false, 0, 0, parts, "content"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec list_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, TTS_LIST_MAX, NULL, "50"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec id_params[] = {
    {"id", PARAM_PATH, PARAM_UUID, true, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

static const struct route tts_routes[] = {
    {"GET", "/voices", tts_voices, NULL, 0, ROUTE_AUTH},
    {"POST", "/synthesize", tts_synthesize_route, synth_params, 64 * 1024, ROUTE_AUTH | ROUTE_JSON},
    {"GET", "/audio", tts_list, list_params, 0, ROUTE_AUTH},
    {"GET", "/audio/{id}", tts_get, id_params, 0, ROUTE_AUTH},
    {"DELETE", "/audio/{id}", tts_delete, id_params, 0, ROUTE_AUTH},
};

/* Polly needs keys: without them the service does not start. */
static enum err tts_configure(void)
{
	const struct aws_config *a = service_aws_config();
	if (tts_cfg.engine == TTS_ENGINE_POLLY &&
	    (!a->access_key_id || !a->access_key_id[0] || !a->secret_access_key ||
	     !a->secret_access_key[0])) {
		log_error(
		    "LECTERN_TTS_ENGINE=polly needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		return ERR_INVALID;
	}
	return ERR_OK;
}

/* Every pool process lists the voices once (espeak-ng reads its data;
 * Polly answers DescribeVoices). Polly being down is no reason not to
 * start: the list is made again on the next request. */
static enum err tts_process_init(void)
{
	if (tts_cfg.engine != TTS_ENGINE_POLLY)
		return tts_voices_init();
	tts_polly_use(service_aws());
	/* Polly writes a long text's audio into the bucket itself. */
	if (store_kind(service_store()) == STORE_S3)
		tts_polly_tasks(service_store(), service_store_config()->bucket,
		                TTS_SERVICE "/polly-tasks/", tts_cfg.polly_poll_ms);
	if (tts_voices_init() != ERR_OK)
		log_warn(
		    "tts: Polly's voices are not listed yet; trying again on the next request");
	return ERR_OK;
}

enum err tts_voices_ready(struct http_req *req)
{
	if (tts_voice_count() > 0 || tts_voices_init() == ERR_OK)
		return ERR_OK;
	return http_error(req, ERR_UNAVAILABLE, "The speech engine is not available.");
}

static const struct replica_hooks notes_hooks = {NULL, tts_forget_notes, NULL};

static const struct consumer_handler tts_consumers[] = {
    REPLICA_HANDLERS(&notes_hooks),
    {"notes.generated", tts_apply_notes, NULL},
};

static const struct service_def tts_service = {
    .name = TTS_SERVICE,
    .clients = SERVICE_DB | SERVICE_STORE | SERVICE_AWS,
    .settings = (const struct cfg_table *const[]){&tts_table, NULL},
    .configure = tts_configure,
    .routes = tts_routes,
    .nroutes = CFG_COUNT(tts_routes),
    .process_init = tts_process_init,
    .consumers = tts_consumers,
    .nconsumers = CFG_COUNT(tts_consumers),
};

int main(int argc, char **argv)
{
	return service_main(&tts_service, argc, argv);
}
