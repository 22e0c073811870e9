/* cfg: typed configuration from the environment, validated in full at start.
 *
 * Each program declares one table of its settings. cfg_load reads every one,
 * applies defaults, checks bounds, logs every problem (never a secret's
 * value) and fails if any is wrong, so a bad value stops the program at start
 * and never at request time. A string setting NAME may instead be given as
 * NAME_FILE, the path of a file holding the value (for secrets under systemd
 * credentials or docker secrets). */
#ifndef LECTERN_CFG_H
#define LECTERN_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum cfg_type {
	CFG_STRING, /* target: const char ** (owned by cfg until exit) */
	CFG_INT,    /* target: long * */
	CFG_BOOL,   /* target: bool *; accepts 1/0, true/false, yes/no, on/off */
	CFG_ENUM    /* target: int *, the index of the value in choices (case-sensitive) */
};

enum cfg_flags {
	CFG_SECRET = 1 << 0,   /* value never logged or printed */
	CFG_REQUIRED = 1 << 1, /* no default: must be set */
	CFG_NONEMPTY = 1 << 2  /* a string that may not be empty */
};

struct cfg_var {
	const char *name; /* environment variable, LECTERN_... */
	enum cfg_type type;
	const char *fallback; /* default as text (ignored with CFG_REQUIRED) */
	long min;             /* CFG_INT: smallest value; CFG_STRING: shortest length */
	long max;             /* CFG_INT: largest value; CFG_STRING: longest length (0 = 4096) */
	unsigned flags;       /* enum cfg_flags */
	void *target;         /* where the parsed value goes, see enum cfg_type */
	const char *help;     /* one line for --help and the docs */
	const char *const *choices; /* CFG_ENUM: the allowed values, NULL-terminated */
};

/* A titled settings table: what one module or program reads. */
struct cfg_table {
	const char *title; /* "database", "store", "documents" */
	const struct cfg_var *vars;
	size_t count;
};

/* Loads every variable of the table; logs each problem; ERR_INVALID if any. */
enum err cfg_load(const struct cfg_var *vars, size_t count) MUST_CHECK;
/* Frees the strings cfg_load stored for the table and clears their targets
 * (for programs and tests that load settings more than once). */
void cfg_free(const struct cfg_var *vars, size_t count);
/* Prints the table as "NAME=value  # help" lines, secrets masked. */
void cfg_print(const struct cfg_var *vars, size_t count, int fd);
/* Parses a whole decimal number within [min, max]; false when it is not one. */
bool cfg_parse_long(const char *text, long min, long max, long *out);
/* Finds text among choices (NULL-terminated) and sets *out to its index;
 * false when it is not one of them. */
bool cfg_parse_enum(const char *text, const char *const *choices, int *out);
/* The choices as one line ("\"file\", \"s3\""), for messages; a static buffer. */
const char *cfg_choices_text(const char *const *choices);
/* Parses a boolean word; false when it is not one. */
bool cfg_parse_bool(const char *text, bool *out);

#define CFG_COUNT(table) (sizeof(table) / sizeof((table)[0]))

#endif
