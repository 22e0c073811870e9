/* Unit tests for extract_textract against t/textract-peer.py, which checks
 * every SigV4 signature with botocore and answers Textract's documented
 * JSON. Needs LECTERN_TEST_AWS_ENDPOINT (t/integration/textract.t sets it
 * and the AWS_* keys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "storage/aws.h"
#include "extract_fixtures.h"
#include "extract/extract_textract.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

struct s3case {
	const char *name;
	const char *key;
	long timeout_ms;
	long max_text; /* 0 = default */
	enum err want;
	const char *contains; /* in the text, or in the error */
	long pages;           /* -1 = not checked */
};

static void test_s3(struct aws_client *aws)
{
	static const struct s3case cases[] = {
	    {"a pdf job", "docs/notes.pdf", 20000, 0, ERR_OK,
	     "Chapter One\nCells are the units of life.\n\fChapter Two\nMitochondria release "
	     "energy.\n\fChapter Three\nRibosomes build proteins.\n",
	     3},
	    {"a job that fails", "docs/broken.pdf", 20000, 0, ERR_INVALID,
	     "Textract could not read the document: Request has unsupported document format", -1},
	    {"a job that never ends", "docs/slow.pdf", 300, 0, ERR_TIMEOUT,
	     "did not finish within 1 seconds", -1},
	    {"a job with 5000 pages", "docs/many.pdf", 20000, 0, ERR_TOO_LARGE,
	     "the document has more than 2000 pages", -1},
	    {"an object that is not there", "docs/missing.pdf", 20000, 0, ERR_INVALID,
	     "Textract could not read the document", -1},
	    {"text over the ceiling", "docs/notes.pdf", 20000, 30, ERR_TOO_LARGE,
	     "larger than 30 bytes", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct s3case *c = &cases[i];
		struct extract_limits l;
		extract_limits_default(&l);
		if (c->max_text > 0)
			l.max_text_bytes = c->max_text;
		struct pool *pool = pool_new();
		struct extract_result r;
		enum err e =
		    extract_textract_s3(aws, "lectern", c->key, 50, c->timeout_ms, &l, pool, &r);
		if (!is_long(e, c->want, c->name))
			tap_diag("error: %s", r.error);
		const char *hay = e == ERR_OK ? r.text : r.error;
		if (!ok(strstr(hay, c->contains) != NULL, "%s: text or error", c->name))
			tap_diag("got: %s", hay);
		if (c->pages >= 0) {
			is_long(r.pages, c->pages, "pages");
			is_str(r.engine, "textract", "engine");
			ok(strstr(r.text, "Cells\n") == NULL, "WORD blocks are not repeated");
		}
		pool_free(pool);
	}
}

static void test_image(struct aws_client *aws, const char *dir)
{
	char png[TESTENV_PATH_MAX + 16], junk[TESTENV_PATH_MAX + 16],
	    missing[TESTENV_PATH_MAX + 16];
	snprintf(png, sizeof(png), "%s/t.png", dir);
	snprintf(junk, sizeof(junk), "%s/junk", dir);
	snprintf(missing, sizeof(missing), "%s/none", dir);
	static const char *const lines[] = {"HELLO TEXTRACT"};
	if (!ok(fx_image_text(png, lines, 1, false) && fx_write(junk, "GIF89a....", 10),
	        "images generated"))
		return;
	struct stat st;
	stat(png, &st);
	struct extract_limits l;
	extract_limits_default(&l);
	struct pool *pool = pool_new();
	struct extract_result r;
	is_long(extract_textract_image(aws, png, &l, pool, &r), ERR_OK, "an image");
	char want[128];
	snprintf(want, sizeof(want), "TEXTRACT READ %lld BYTES\nsecond line\n",
	         (long long)st.st_size);
	is_str(r.text, want, "the image went whole, its lines came back");
	is_long(r.text_len, strlen(want), "text length");
	is_long(r.pages, 1, "one page");
	is_long(extract_textract_image(aws, junk, &l, pool, &r), ERR_INVALID, "not an image");
	is_str(r.error, "Textract could not read the document", "with a clear error");
	is_long(extract_textract_image(aws, missing, &l, pool, &r), ERR_INTERNAL, "a missing file");
	l.max_file_bytes = 100;
	is_long(extract_textract_image(aws, png, &l, pool, &r), ERR_TOO_LARGE,
	        "over the size limit");
	ok(strstr(r.error, "larger than") != NULL, "says so");
	pool_free(pool);
}

int main(void)
{
	const char *peer = getenv("LECTERN_TEST_AWS_ENDPOINT");
	if (peer == NULL)
		tap_skip_all(
		    "LECTERN_TEST_AWS_ENDPOINT is not set (t/integration/textract.t sets it)");
	log_init("test", LOG_LEVEL_ERROR);
	char dir[TESTENV_PATH_MAX];
	if (!testenv_tempdir(dir, sizeof(dir)))
		tap_skip_all("no temporary directory");
	setenv("LECTERN_AWS_ENDPOINT_TEXTRACT", peer, 1);
	setenv("LECTERN_AWS_BACKOFF_MS", "10", 1);
	static struct aws_config cfg; /* cfg keeps its strings until exit */
	struct aws_client *aws = NULL;
	if (!is_long(aws_config_load(&cfg), ERR_OK, "AWS settings") ||
	    !is_long(aws_client_new(&cfg, &aws), ERR_OK, "client"))
		return tap_done();
	test_image(aws, dir);
	test_s3(aws);

	struct aws_config wrong = cfg;
	wrong.secret_access_key = "not-the-secret";
	struct aws_client *bad = NULL;
	if (is_long(aws_client_new(&wrong, &bad), ERR_OK, "a client with a wrong secret")) {
		struct extract_limits l;
		extract_limits_default(&l);
		struct pool *pool = pool_new();
		struct extract_result r;
		is_long(
		    extract_textract_s3(bad, "lectern", "docs/notes.pdf", 50, 2000, &l, pool, &r),
		    ERR_FORBIDDEN, "the peer refuses a wrong signature");
		is_str(r.error, "Textract refused the credentials", "with a clear error");
		pool_free(pool);
		aws_client_free(bad);
	}
	aws_client_free(aws);
	testenv_remove_tree(dir);
	cairo_debug_reset_static_data();
	FcFini();
	return tap_done();
}
