/* tap: a small Test Anything Protocol writer for the C unit tests.
 * Every check prints one "ok N - name" or "not ok N - name" line; the
 * program ends with tap_done(), which prints the plan and the exit code. */
#ifndef LECTERN_TAP_H
#define LECTERN_TAP_H

#include <stdbool.h>
#include <stddef.h>

/* Records one check; returns cond so callers can chain diagnostics. */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool tap_is_long(long got, long want, const char *name);
bool tap_is_str(const char *got, const char *want, const char *name);
/* Writes a "# ..." comment line. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Skips the whole program (no prerequisite); exits 0. With CI=true it
 * fails instead (exit 1): in CI every prerequisite is installed. */
_Noreturn void tap_skip_all(const char *why);
/* Prints the plan; returns the exit status (0 when every check passed). */
int tap_done(void);

#define ok(cond, ...) tap_ok((cond), __VA_ARGS__)
#define is_long(got, want, name) tap_is_long((long)(got), (long)(want), (name))
#define is_str(got, want, name) tap_is_str((got), (want), (name))

#endif
