/* lectern-documents-worker: runs the documents service's jobs (text
 * extraction in a sandboxed child, then study notes) and relays its outbox
 * to Kafka, on the skeleton of lib/events/worker.h. Settings and start-up live
 * here; the jobs in worker_jobs.c. LECTERN_EXTRACT_ENGINE=textract sends
 * images, and PDFs stored in S3, to Amazon Textract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs_worker.h"
#include "core/log.h"

struct docs_worker_state docs_w;

static const char *ocr_language, *engine_name;
static long max_pages, cpu_seconds, wall_ms, memory_mb, max_pixels;
static bool ocr;

static const struct cfg_var docs_worker_vars[] = {
    {"LECTERN_EXTRACT_MAX_PAGES", CFG_INT, "2000", 1, 100000, 0, &max_pages,
     "pages a PDF may have"},
    {"LECTERN_EXTRACT_CPU_SECONDS", CFG_INT, "120", 1, 3600, 0, &cpu_seconds,
     "CPU seconds one extraction may use"},
    {"LECTERN_EXTRACT_WALL_MS", CFG_INT, "180000", 1000, 3600000, 0, &wall_ms,
     "wall-clock milliseconds one extraction may take"},
    {"LECTERN_EXTRACT_MEMORY_MB", CFG_INT, "2048", 64, 65536, 0, &memory_mb,
     "address space of the extraction child, in MiB"},
    {"LECTERN_EXTRACT_MAX_PIXELS", CFG_INT, "60000000", 1000, 1000000000, 0, &max_pixels,
     "pixels an image may have (checked before decoding)"},
    {"LECTERN_EXTRACT_OCR", CFG_BOOL, "true", 0, 0, 0, &ocr,
     "read PDF pages without a text layer by OCR"},
    {"LECTERN_EXTRACT_OCR_LANGUAGE", CFG_STRING, "eng", 1, EXTRACT_LANGUAGE_MAX - 1, 0,
     &ocr_language, "tesseract languages (\"eng\", \"eng+deu\")"},
    {"LECTERN_WORK_DIR", CFG_STRING, "/tmp", 1, 1024, 0, &docs_w.work_dir,
     "directory for the temporary copy of a document being read"},
    {"LECTERN_EXTRACT_ENGINE", CFG_STRING, "local", 1, 16, 0, &engine_name,
     "\"local\" or \"textract\" (images, and PDFs in S3, read by Amazon Textract)"},
    {"LECTERN_TEXTRACT_POLL_MS", CFG_INT, "2000", 100, 60000, 0, &docs_w.textract_poll_ms,
     "wait between two polls of a Textract job (PDFs)"},
    {"LECTERN_TEXTRACT_TIMEOUT_MS", CFG_INT, "600000", 1000, 3600000, 0,
     &docs_w.textract_timeout_ms, "longest wait for a Textract job (PDFs)"},
};

/* Parses LECTERN_EXTRACT_ENGINE and, for Textract, loads the AWS settings
 * and makes its client: keys are required here, so a worker that cannot
 * call Textract stops at start-up rather than failing every document. */
static enum err engine_setup(const struct store_config *store_cfg)
{
	if (strcmp(engine_name, "local") == 0) {
		docs_w.engine = DOCS_ENGINE_LOCAL;
		return ERR_OK;
	}
	if (strcmp(engine_name, "textract") != 0) {
		log_error("config: LECTERN_EXTRACT_ENGINE must be \"local\" or \"textract\", "
		          "not \"%s\"",
		          engine_name);
		return ERR_INVALID;
	}
	docs_w.engine = DOCS_ENGINE_TEXTRACT;
	static struct aws_config aws_cfg;
	enum err e = aws_config_load(&aws_cfg);
	if (e != ERR_OK)
		return e;
	if (!*aws_cfg.access_key_id || !*aws_cfg.secret_access_key) {
		log_error("config: LECTERN_EXTRACT_ENGINE=textract needs AWS_ACCESS_KEY_ID and "
		          "AWS_SECRET_ACCESS_KEY");
		return ERR_INVALID;
	}
	e = aws_client_new(&aws_cfg, &docs_w.aws);
	if (e != ERR_OK)
		return e;
	if (store_cfg->kind == STORE_S3) {
		docs_w.bucket = store_cfg->bucket;
		log_info("extraction: images and PDFs by Amazon Textract (region %s, bucket %s)",
		         aws_cfg.region, docs_w.bucket);
	} else {
		log_info("extraction: images by Amazon Textract (region %s); PDFs by the local "
		         "engine, as Textract reads PDFs only from S3 and the store is a directory",
		         aws_cfg.region);
	}
	return ERR_OK;
}

static const struct worker_job_kind docs_jobs[] = {
    {DOCS_JOB_PROCESS, docs_job_process, NULL},
    {DOCS_JOB_NOTES, docs_job_notes, NULL},
};

int main(int argc, char **argv)
{
	/* tesseract is several times faster on one thread here, and the
	 * extraction child inherits this. */
	setenv("OMP_THREAD_LIMIT", "1", 0);
	int status = 1;
	/* Static: the strings they point to are the settings' until exit. */
	static struct store_config store_cfg;
	static struct llm_config llm_cfg;
	bool help = argc > 1 && strcmp(argv[1], "--help") == 0;
	if (!help) {
		if (cfg_load(docs_worker_vars, CFG_COUNT(docs_worker_vars)) != ERR_OK ||
		    store_config_load(&store_cfg) != ERR_OK ||
		    llm_config_load(&llm_cfg) != ERR_OK || engine_setup(&store_cfg) != ERR_OK ||
		    store_open(&store_cfg, &docs_w.store) != ERR_OK)
			goto out;
		if (llm_configured(&llm_cfg) && llm_client_new(&llm_cfg, &docs_w.llm) != ERR_OK)
			goto out;
		extract_limits_default(&docs_w.limits);
		docs_w.limits.max_pages = max_pages;
		docs_w.limits.cpu_seconds = cpu_seconds;
		docs_w.limits.wall_ms = wall_ms;
		docs_w.limits.memory_mb = memory_mb;
		docs_w.limits.max_pixels = max_pixels;
		docs_w.limits.ocr = ocr;
		snprintf(docs_w.limits.ocr_language, sizeof(docs_w.limits.ocr_language), "%s",
		         ocr_language);
	}
	/* The table was loaded above (the store needs it first); worker_main
	 * only lists it for --help. */
	struct worker_def def = {DOCS_SERVICE,
	                         NULL,
	                         0,
	                         docs_jobs,
	                         CFG_COUNT(docs_jobs),
	                         help ? docs_worker_vars : NULL,
	                         help ? CFG_COUNT(docs_worker_vars) : 0};
	status = worker_main(&def, argc, argv);
out:
	aws_client_free(docs_w.aws);
	llm_client_free(docs_w.llm);
	store_free(docs_w.store);
	return status;
}
