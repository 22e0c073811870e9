/* Unit tests for the parser child's confinement (extract/extract_sandbox.h):
 * the probe tries from inside lectern-extract what a hostile document
 * would (network, writing files, processes, threads, exec, signalling the
 * worker) and every attempt must be refused; then real and hostile
 * documents still go through the same sandbox, and fail cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "extract/extract.h"
#include "extract/extract_sandbox.h"
#include "extract_fixtures.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

static char dir[TESTENV_PATH_MAX];

static const char *at(const char *name)
{
	static char path[TESTENV_PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* The value of "name=" in the probe's report, or NULL. */
static const char *report_value(const char *report, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	for (const char *p = report; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			snprintf(out, size, "%.*s", (int)(len - n - 1), p + n + 1);
			return out;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static void test_probe(void)
{
	struct extract_limits l;
	extract_limits_default(&l);
	l.wall_ms = 20000;
	struct pool *pool = pool_new();
	struct extract_result r;
	unlink(EXTRACT_PROBE_FILE);
	enum err e = extract_sandbox_probe(&l, pool, &r);
	ok(e == ERR_OK, "the probe ran in the sandbox (%s)", r.error);
	tap_diag("probe report:\n%s", r.text);
	static const char *const refused[] = {"socket_inet", "socket_unix", "open_write",
	                                      "open_rdwr",   "fork",        "thread",
	                                      "exec",        "kill_parent"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char v[32];
		const char *got = report_value(r.text, refused[i], v, sizeof(v));
		is_str(got ? got : "(missing)", "denied", refused[i]);
	}
	ok(access(EXTRACT_PROBE_FILE, F_OK) != 0,
	   "the file the child tried to create does not exist");
	char v[32];
	const char *uid = report_value(r.text, "uid", v, sizeof(v));
	if (getuid() == 0)
		ok(uid && strcmp(uid, "0") != 0,
		   "started by root, the child runs as another user (%s)", uid ? uid : "?");
	else
		ok(uid && strtol(uid, NULL, 10) == (long)getuid(),
		   "the child keeps the caller's user");
	const char *nproc = report_value(r.text, "nproc", v, sizeof(v));
	is_str(nproc ? nproc : "(missing)", "0", "RLIMIT_NPROC is 0");
	pool_free(pool);
}

/* Real documents still read through the filter; hostile ones fail with a
 * sentence while this process goes on. */
static void test_documents(void)
{
	struct extract_limits l;
	extract_limits_default(&l);
	l.wall_ms = 60000;
	struct pool *pool = pool_new();
	/* ok()'s arguments may be read before the call it checks runs: r.error
	 * must never point into an earlier test's freed pool. */
	struct extract_result r = {.text = "", .error = ""};
	ok(fx_pdf_text(at("ok.pdf"), 2), "a text PDF");
	ok(extract_file(at("ok.pdf"), EXTRACT_TYPE_PDF, &l, pool, &r) == ERR_OK && r.text_len > 0,
	   "a PDF is read inside the sandbox (%s)", r.error);
	static const char *const lines[] = {"Sandboxed reading works"};
	ok(fx_image_text(at("ok.png"), lines, 1, false), "an image of text");
	ok(extract_file(at("ok.png"), EXTRACT_TYPE_PNG, &l, pool, &r) == ERR_OK &&
	       strstr(r.text, "Sandbox") != NULL,
	   "OCR runs inside the sandbox (%s)", r.error);
	ok(fx_docx(at("ok.docx"), "<w:p><w:r><w:t>Inside the sandbox</w:t></w:r></w:p>"), "a DOCX");
	ok(extract_file(at("ok.docx"), EXTRACT_TYPE_DOCX, &l, pool, &r) == ERR_OK &&
	       strstr(r.text, "Inside") != NULL,
	   "a DOCX is read inside the sandbox (%s)", r.error);
	ok(fx_write(at("bad.pdf"), "%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF\n", 39),
	   "a broken PDF");
	enum err e = extract_file(at("bad.pdf"), EXTRACT_TYPE_PDF, &l, pool, &r);
	ok(e != ERR_OK && r.error[0] != '\0', "a broken PDF fails with a sentence: %s", r.error);
	ok(fx_docx(at("lie.docx"), "<w:p><w:r><w:t>Lies</w:t></w:r></w:p>") &&
	       fx_zip_lie(at("lie.docx"), 100),
	   "a DOCX whose entries lie about their size");
	e = extract_file(at("lie.docx"), EXTRACT_TYPE_DOCX, &l, pool, &r);
	ok(e != ERR_OK && r.error[0] != '\0', "a lying DOCX fails with a sentence: %s", r.error);
	pool_free(pool);
}

int main(void)
{
	log_init("extract_sandbox", LOG_LEVEL_WARN);
	if (!testenv_tempdir(dir, sizeof(dir))) {
		ok(false, "a temporary directory");
		return tap_done();
	}
	test_probe();
	test_documents();
	testenv_remove_tree(dir);
	/* The fixtures' font caches, so that the leak checker sees only ours. */
	cairo_debug_reset_static_data();
	FcFini();
	return tap_done();
}
