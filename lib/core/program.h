/* program: the start-up every Lectern program shares.
 *
 * Reads the settings every service has (listening address, worker count,
 * log level) together with the program's own table, answers --help and
 * --print-config, and sets up logging. A bad setting stops the program
 * here, before it serves anything. */
#ifndef LECTERN_PROGRAM_H
#define LECTERN_PROGRAM_H

#include <stddef.h>

#include "core/cfg.h"
#include "web/serve.h"

/* The settings every served program reads. */
struct program_common {
	const char *listen;    /* LECTERN_LISTEN */
	long workers;          /* LECTERN_WORKERS */
	const char *log_level; /* LECTERN_LOG_LEVEL */
};

/* program_start's answer when the program should go on serving. */
#define PROGRAM_CONTINUE (-1)

/* Loads common and program settings; returns PROGRAM_CONTINUE, or the exit
 * status when the program should stop now (--help, --print-config, bad
 * settings). */
int program_start(const char *name, int argc, char **argv, const struct cfg_var *vars, size_t count,
                  struct program_common *common);
/* Serving options from the common settings. */
struct serve_opts program_serve_opts(const struct program_common *common);

#endif
