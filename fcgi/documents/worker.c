/* lectern-documents-worker: its own settings (the extraction's limits and
 * engine) and their set-up; the jobs are in worker_jobs.c, the descriptor in
 * main.c. LECTERN_EXTRACT_ENGINE=textract sends images, and PDFs stored in
 * S3, to Amazon Textract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs_worker.h"
#include "core/log.h"

struct docs_worker_state docs_w;

static const char *ocr_language;
static int engine_choice; /* enum docs_engine */
static const char *const engine_names[] = {"local", "textract", NULL};
static long max_pages, cpu_seconds, wall_ms, memory_mb, max_pixels;
static bool ocr;

static const struct cfg_var docs_worker_vars[] = {
    {"LECTERN_EXTRACT_MAX_PAGES", CFG_INT, "2000", 1, 100000, 0, &max_pages, "pages a PDF may have",
     NULL},
    {"LECTERN_EXTRACT_CPU_SECONDS", CFG_INT, "120", 1, 3600, 0, &cpu_seconds,
     "CPU seconds one extraction may use", NULL},
    {"LECTERN_EXTRACT_WALL_MS", CFG_INT, "180000", 1000, 3600000, 0, &wall_ms,
     "wall-clock milliseconds one extraction may take", NULL},
    {"LECTERN_EXTRACT_MEMORY_MB", CFG_INT, "2048", 64, 65536, 0, &memory_mb,
     "address space of the extraction child, in MiB", NULL},
    {"LECTERN_EXTRACT_MAX_PIXELS", CFG_INT, "60000000", 1000, 1000000000, 0, &max_pixels,
     "pixels an image may have (checked before decoding)", NULL},
    {"LECTERN_EXTRACT_OCR", CFG_BOOL, "true", 0, 0, 0, &ocr,
     "read PDF pages without a text layer by OCR", NULL},
    {"LECTERN_EXTRACT_OCR_LANGUAGE", CFG_STRING, "eng", 1, EXTRACT_LANGUAGE_MAX - 1, 0,
     &ocr_language, "tesseract languages (\"eng\", \"eng+deu\")", NULL},
    {"LECTERN_WORK_DIR", CFG_STRING, "/tmp", 1, 1024, 0, &docs_w.work_dir,
     "directory for the temporary copy of a document being read", NULL},
    {"LECTERN_EXTRACT_ENGINE", CFG_ENUM, "local", 0, 0, 0, &engine_choice,
     "\"local\" or \"textract\" (images, and PDFs in S3, read by Amazon Textract)", engine_names},
    {"LECTERN_TEXTRACT_POLL_MS", CFG_INT, "2000", 100, 60000, 0, &docs_w.textract_poll_ms,
     "wait between two polls of a Textract job (PDFs)", NULL},
    {"LECTERN_TEXTRACT_TIMEOUT_MS", CFG_INT, "600000", 1000, 3600000, 0,
     &docs_w.textract_timeout_ms, "longest wait for a Textract job (PDFs)", NULL},
};

/* Checks the engine's settings: Textract needs AWS keys, so a worker that
 * cannot call it stops at start-up rather than failing every document. */
enum err docs_worker_configure(void)
{
	docs_w.engine = (enum docs_engine)engine_choice;
	if (docs_w.engine == DOCS_ENGINE_LOCAL)
		return ERR_OK;
	const struct aws_config *aws = service_aws_config();
	if (!*aws->access_key_id || !*aws->secret_access_key) {
		log_error("config: LECTERN_EXTRACT_ENGINE=textract needs AWS_ACCESS_KEY_ID and "
		          "AWS_SECRET_ACCESS_KEY");
		return ERR_INVALID;
	}
	const struct store_config *store = service_store_config();
	if (store->kind == STORE_S3) {
		docs_w.bucket = store->bucket;
		log_info("extraction: images and PDFs by Amazon Textract (region %s, bucket %s)",
		         aws->region, docs_w.bucket);
	} else {
		log_info("extraction: images by Amazon Textract (region %s); PDFs by the local "
		         "engine, as Textract reads PDFs only from S3 and the store is a directory",
		         aws->region);
	}
	return ERR_OK;
}

const struct cfg_table docs_worker_table = {"extraction", docs_worker_vars,
                                            CFG_COUNT(docs_worker_vars)};

enum err docs_worker_init(void)
{
	/* tesseract is several times faster on one thread here, and the
	 * extraction child inherits this. */
	setenv("OMP_THREAD_LIMIT", "1", 0);
	if (docs_w.engine == DOCS_ENGINE_TEXTRACT)
		docs_w.aws = service_aws();
	extract_limits_default(&docs_w.limits);
	docs_w.limits.max_pages = max_pages;
	docs_w.limits.cpu_seconds = cpu_seconds;
	docs_w.limits.wall_ms = wall_ms;
	docs_w.limits.memory_mb = memory_mb;
	docs_w.limits.max_pixels = max_pixels;
	docs_w.limits.ocr = ocr;
	snprintf(docs_w.limits.ocr_language, sizeof(docs_w.limits.ocr_language), "%s",
	         ocr_language);
	return ERR_OK;
}
