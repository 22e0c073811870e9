/* Unit tests for cfg: defaults, bounds, required values, files, secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/log.h"
#include "tap.h"

static const char *s_name;
static const char *s_secret;
static long s_port;
static bool s_flag;
static int s_mode;
static const char *const modes[] = {"file", "s3", "", NULL};

static const struct cfg_var table[] = {
    {"T_NAME", CFG_STRING, "lectern", 1, 20, CFG_NONEMPTY, &s_name, "a name", NULL},
    {"T_SECRET", CFG_STRING, NULL, 8, 0, CFG_REQUIRED | CFG_SECRET, &s_secret, "a secret", NULL},
    {"T_PORT", CFG_INT, "8000", 1, 65535, 0, &s_port, "a port", NULL},
    {"T_FLAG", CFG_BOOL, "false", 0, 0, 0, &s_flag, "a flag", NULL},
    {"T_MODE", CFG_ENUM, "s3", 0, 0, 0, &s_mode, "a mode", modes},
};

/* Loads the table afresh, freeing what the previous load stored. */
static enum err load(void)
{
	cfg_free(table, CFG_COUNT(table));
	return cfg_load(table, CFG_COUNT(table));
}

static void reset(void)
{
	cfg_free(table, CFG_COUNT(table));
	unsetenv("T_NAME");
	unsetenv("T_SECRET");
	unsetenv("T_SECRET_FILE");
	unsetenv("T_PORT");
	unsetenv("T_FLAG");
	unsetenv("T_MODE");
}

int main(void)
{
	FILE *devnull = fopen("/dev/null", "w");
	log_set_fd(devnull ? fileno(devnull) : -1);

	reset();
	ok(load() == ERR_INVALID, "a missing required value fails");

	setenv("T_SECRET", "s3cr3t-value", 1);
	ok(load() == ERR_OK, "defaults load");
	is_str(s_name, "lectern", "string default");
	is_long(s_port, 8000, "int default");
	ok(!s_flag, "bool default");
	is_long(s_mode, 1, "enum default: the index of its choice");

	static const struct {
		const char *var, *value;
		enum err want;
	} cases[] = {
	    {"T_PORT", "0", ERR_INVALID},
	    {"T_PORT", "65536", ERR_INVALID},
	    {"T_PORT", "80x", ERR_INVALID},
	    {"T_PORT", "", ERR_INVALID},
	    {"T_PORT", " 80", ERR_INVALID},
	    {"T_PORT", "443", ERR_OK},
	    {"T_FLAG", "maybe", ERR_INVALID},
	    {"T_FLAG", "YES", ERR_OK},
	    {"T_MODE", "file", ERR_OK},
	    {"T_MODE", "", ERR_OK},
	    {"T_MODE", "S3", ERR_INVALID},
	    {"T_MODE", "s3 ", ERR_INVALID},
	    {"T_MODE", "ftp", ERR_INVALID},
	    {"T_NAME", "", ERR_INVALID},
	    {"T_NAME", "a-name-that-is-much-too-long", ERR_INVALID},
	    {"T_SECRET", "short", ERR_INVALID},
	    {"T_PORT", "99999999999999999999", ERR_INVALID},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset();
		setenv("T_SECRET", "s3cr3t-value", 1);
		setenv(cases[i].var, cases[i].value, 1);
		ok(load() == cases[i].want, "%s=\"%s\"", cases[i].var, cases[i].value);
	}
	reset();
	setenv("T_SECRET", "s3cr3t-value", 1);
	setenv("T_FLAG", "on", 1);
	setenv("T_PORT", "443", 1);
	setenv("T_MODE", "file", 1);
	ok(load() == ERR_OK && s_flag && s_port == 443 && s_mode == 0, "values are parsed");

	reset();
	char path[] = "/tmp/lectern-cfg-XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "from-a-file\n", 12) == 12, "secret file written");
	close(fd);
	setenv("T_SECRET_FILE", path, 1);
	ok(load() == ERR_OK, "a _FILE variable is read");
	is_str(s_secret, "from-a-file", "the file's trailing newline is dropped");
	unlink(path);
	ok(load() == ERR_INVALID, "a missing _FILE fails");

	reset();
	setenv("T_SECRET", "never-printed-1", 1);
	ok(load() == ERR_OK, "loaded for printing");
	int fds[2];
	ok(pipe(fds) == 0, "pipe");
	cfg_print(table, CFG_COUNT(table), fds[1]);
	close(fds[1]);
	char out[4096];
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	ok(strstr(out, "never-printed-1") == NULL && strstr(out, "T_SECRET=(secret)") != NULL,
	   "secrets are masked when printed");
	ok(strstr(out, "T_PORT=8000") != NULL, "other values are printed");
	cfg_free(table, CFG_COUNT(table));
	ok(s_name == NULL && s_secret == NULL, "cfg_free clears the strings");
	if (devnull)
		fclose(devnull);
	return tap_done();
}
