/* cfg: environment settings parsed against one typed table. */
#include "core/cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

/* The longest value a string setting (or its _FILE) may hold by default. */
enum { CFG_STRING_MAX = 4096, CFG_FILE_MAX = 65536, CFG_NAME_MAX = 128 };

bool cfg_parse_long(const char *text, long min, long max, long *out)
{
	/* strtol would skip leading blanks; a setting is the number alone. */
	if (!text || !(*text == '-' || *text == '+' || (*text >= '0' && *text <= '9')))
		return false;
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end != '\0' || end == text || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cfg_parse_bool(const char *text, bool *out)
{
	static const char *yes[] = {"1", "true", "yes", "on"};
	static const char *no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Reads NAME_FILE's file into a new string; trailing newlines are dropped. */
static char *cfg_read_file(const char *name, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("config %s_FILE: cannot open %s: %s", name, path, strerror(errno));
		return NULL;
	}
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		buf_append(&b, chunk, (size_t)n);
		if (b.len > CFG_FILE_MAX)
			break;
	}
	close(fd);
	if (n < 0 || b.len > CFG_FILE_MAX) {
		log_error("config %s_FILE: %s is unreadable or over %d bytes", name, path,
		          CFG_FILE_MAX);
		buf_clear(&b);
		return NULL;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_take(&b);
}

bool cfg_parse_enum(const char *text, const char *const *choices, int *out)
{
	for (int i = 0; choices && choices[i]; i++)
		if (strcmp(text, choices[i]) == 0) {
			*out = i;
			return true;
		}
	return false;
}

const char *cfg_choices_text(const char *const *choices)
{
	/* Only for messages at start-up and --help: one buffer is enough. */
	static char text[512];
	size_t used = 0;
	text[0] = '\0';
	for (size_t i = 0; choices && choices[i] && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"%s\"",
		                         i ? ", " : "", choices[i]);
	return text;
}

static bool cfg_load_one(const struct cfg_var *v)
{
	const char *text = getenv(v->name);
	char file_var[CFG_NAME_MAX];
	char *from_file = NULL;
	snprintf(file_var, sizeof(file_var), "%s_FILE", v->name);
	const char *file = getenv(file_var);
	if (!text && file && *file && v->type == CFG_STRING) {
		from_file = cfg_read_file(v->name, file);
		if (!from_file)
			return false;
		text = from_file;
	}
	if (!text) {
		if (v->flags & CFG_REQUIRED) {
			log_error("config %s: required but not set (%s)", v->name, v->help);
			return false;
		}
		text = v->fallback ? v->fallback : "";
	}
	bool ok = true;
	switch (v->type) {
	case CFG_STRING: {
		size_t len = strlen(text);
		size_t max = v->max > 0 ? (size_t)v->max : CFG_STRING_MAX;
		if (len < (size_t)v->min || len > max || ((v->flags & CFG_NONEMPTY) && len == 0)) {
			log_error("config %s: length %zu is outside %ld..%zu", v->name, len, v->min,
			          max);
			ok = false;
			break;
		}
		/* Kept until exit: the process reads its settings for its lifetime. */
		*(const char **)v->target = from_file ? from_file : xstrdup(text);
		from_file = NULL;
		break;
	}
	case CFG_INT:
		if (!cfg_parse_long(text, v->min, v->max, (long *)v->target)) {
			if (v->flags & CFG_SECRET)
				log_error("config %s: not a whole number in %ld..%ld", v->name,
				          v->min, v->max);
			else
				log_error("config %s: \"%s\" is not a whole number in %ld..%ld",
				          v->name, text, v->min, v->max);
			ok = false;
		}
		break;
	case CFG_BOOL:
		if (!cfg_parse_bool(text, (bool *)v->target)) {
			log_error("config %s: \"%s\" is not a boolean (true/false)", v->name, text);
			ok = false;
		}
		break;
	case CFG_ENUM:
		ok = cfg_parse_enum(text, v->choices, (int *)v->target);
		if (!ok)
			log_error("config %s: \"%s\" is not one of %s", v->name, text,
			          cfg_choices_text(v->choices));
		break;
	}
	free(from_file);
	return ok;
}

enum err cfg_load(const struct cfg_var *vars, size_t count)
{
	size_t bad = 0;
	for (size_t i = 0; i < count; i++)
		if (!cfg_load_one(&vars[i]))
			bad++;
	if (bad) {
		log_error("config: %zu setting(s) are wrong; not starting", bad);
		return ERR_INVALID;
	}
	return ERR_OK;
}

void cfg_free(const struct cfg_var *vars, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (vars[i].type != CFG_STRING)
			continue;
		const char **target = vars[i].target;
		free((char *)*target);
		*target = NULL;
	}
}

void cfg_print(const struct cfg_var *vars, size_t count, int fd)
{
	for (size_t i = 0; i < count; i++) {
		const struct cfg_var *v = &vars[i];
		char value[CFG_STRING_MAX + 32];
		if (v->flags & CFG_SECRET)
			snprintf(value, sizeof(value), "(secret)");
		else if (v->type == CFG_STRING)
			snprintf(value, sizeof(value), "%s",
			         *(const char **)v->target ? *(const char **)v->target : "");
		else if (v->type == CFG_INT)
			snprintf(value, sizeof(value), "%ld", *(long *)v->target);
		else if (v->type == CFG_ENUM)
			snprintf(value, sizeof(value), "%s", v->choices[*(int *)v->target]);
		else
			snprintf(value, sizeof(value), "%s", *(bool *)v->target ? "true" : "false");
		dprintf(fd, "%s=%s  # %s\n", v->name, value, v->help);
	}
}
