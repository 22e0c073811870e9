/* lectern-documents-worker: runs the documents service's jobs (text
 * extraction in a sandboxed child, then study notes) and relays its outbox
 * to Kafka, on the skeleton of lib/worker.h. Settings and start-up live
 * here; the jobs in worker_jobs.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs_worker.h"
#include "log.h"

struct docs_worker_state docs_w;

static const char *ocr_language;
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
};

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
		    llm_config_load(&llm_cfg) != ERR_OK ||
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
	llm_client_free(docs_w.llm);
	store_free(docs_w.store);
	return status;
}
