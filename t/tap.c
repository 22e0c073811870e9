/* tap: TAP output for the unit tests. */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

bool tap_is_long(long got, long want, const char *name)
{
	bool r = tap_ok(got == want, "%s", name);
	if (!r)
		tap_diag("got %ld, want %ld", got, want);
	return r;
}

bool tap_is_str(const char *got, const char *want, const char *name)
{
	bool same = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
	bool r = tap_ok(same, "%s", name);
	if (!r)
		tap_diag("got \"%s\", want \"%s\"", got ? got : "(null)", want ? want : "(null)");
	return r;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_skip_all(const char *why)
{
	/* In CI everything a test needs is installed by the project itself
	 * (tools/packages.txt, npm ci): a missing piece is a failure there. */
	const char *ci = getenv("CI");
	if (ci && strcmp(ci, "true") == 0) {
		printf("not ok 1 - skipped with CI=true: %s\n1..1\n", why);
		exit(1);
	}
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		tap_diag("%d of %d checks failed", tap_failed, tap_count);
	/* The plan must be out before any exit-time checker (LeakSanitizer) ends us. */
	fflush(stdout);
	return tap_failed ? 1 : 0;
}
