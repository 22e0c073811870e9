/* program: common settings, --help and logging set-up for every program. */
#include "core/program.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

static struct program_common common_values;

static const struct cfg_var common_vars[] = {
    {"LECTERN_LISTEN", CFG_STRING, "", 0, 256, 0, &common_values.listen,
     "address to listen on when no socket is inherited: unix:/path or 127.0.0.1:PORT"},
    {"LECTERN_WORKERS", CFG_INT, "4", 1, 256, 0, &common_values.workers,
     "processes that serve requests"},
    {"LECTERN_LOG_LEVEL", CFG_STRING, "info", 4, 5, 0, &common_values.log_level,
     "lowest level logged: debug, info, warn or error"},
};

static void program_usage(const char *name, const struct cfg_var *vars, size_t count)
{
	printf("Usage: %s [--help | --print-config]\n\n"
	       "Settings come from the environment (NAME or NAME_FILE):\n",
	       name);
	const struct cfg_var *tables[] = {common_vars, vars};
	size_t counts[] = {CFG_COUNT(common_vars), count};
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < counts[t]; i++)
			printf("  %-28s %s%s\n", tables[t][i].name, tables[t][i].help,
			       (tables[t][i].flags & CFG_REQUIRED) ? " (required)" : "");
}

int program_start(const char *name, int argc, char **argv, const struct cfg_var *vars, size_t count,
                  struct program_common *common)
{
	log_init(name, LOG_LEVEL_INFO);
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		program_usage(name, vars, count);
		return 0;
	}
	bool print = argc > 1 && strcmp(argv[1], "--print-config") == 0;
	if (argc > 1 && !print) {
		fprintf(stderr, "%s: unknown argument (try --help)\n", name);
		return 2;
	}
	enum err e1 = cfg_load(common_vars, CFG_COUNT(common_vars));
	enum err e2 = cfg_load(vars, count);
	if (e1 != ERR_OK || e2 != ERR_OK)
		return 1;
	int level = log_level_parse(common_values.log_level);
	if (level < 0) {
		log_error("config LECTERN_LOG_LEVEL: \"%s\" is not debug, info, warn or error",
		          common_values.log_level);
		return 1;
	}
	log_init(name, (enum log_level)level);
	if (print) {
		cfg_print(common_vars, CFG_COUNT(common_vars), STDOUT_FILENO);
		cfg_print(vars, count, STDOUT_FILENO);
		return 0;
	}
	*common = common_values;
	return PROGRAM_CONTINUE;
}

struct serve_opts program_serve_opts(const struct program_common *common)
{
	struct serve_opts o = {
	    .listen = common->listen[0] ? common->listen : NULL,
	    .workers = common->workers,
	    .backlog = 1024,
	    .socket_mode = "0660",
	};
	return o;
}
