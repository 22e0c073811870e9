/* Unit tests for log: escaping, levels, and that a line is one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "tap.h"

/* Captures what one log call writes. */
static char *capture(enum log_level level, const char *msg)
{
	int fds[2];
	if (pipe(fds) != 0)
		return NULL;
	log_set_fd(fds[1]);
	log_write(level, "%s", msg);
	log_set_fd(-1);
	close(fds[1]);
	static char out[8192];
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

int main(void)
{
	static const struct {
		const char *in;
		const char *want;
	} esc[] = {
	    {"plain", "plain"},
	    {"a\"b", "a\\\"b"},
	    {"back\\slash", "back\\\\slash"},
	    {"line\nbreak", "line\\x0abreak"},
	    {"tab\tcr\r", "tab\\x09cr\\x0d"},
	    {"\x1b[31mred", "\\x1b[31mred"},
	    {"caf\xc3\xa9", "caf\xc3\xa9"},
	    {"del\x7f", "del\\x7f"},
	};
	for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		char out[64];
		log_escape(out, sizeof(out), esc[i].in, strlen(esc[i].in));
		is_str(out, esc[i].want, "escape case");
	}
	char small[8];
	log_escape(small, sizeof(small), "abcdefghijkl", 12);
	is_str(small, "abcd...", "cut text ends in ... and fits the buffer");
	char nul_in[] = {'a', '\0', 'b'};
	char nul_out[16];
	log_escape(nul_out, sizeof(nul_out), nul_in, 3);
	is_str(nul_out, "a\\x00b", "embedded NUL is escaped");

	log_init("unit", LOG_LEVEL_INFO);
	char *line = capture(LOG_LEVEL_WARN, "forged\nlevel=error msg=\"x\"");
	ok(line && strstr(line, "level=warn service=unit") != NULL, "line names level and service");
	ok(line && strchr(line, '\n') == line + strlen(line) - 1,
	   "a message with a newline stays one line");
	ok(line && strstr(line, "\\x0alevel=error msg=\\\"x\\\"") != NULL,
	   "forged fields are escaped");
	line = capture(LOG_LEVEL_DEBUG, "quiet");
	is_str(line, "", "debug is dropped at info level");
	log_set_request_id("req-1\n");
	line = capture(LOG_LEVEL_ERROR, "with id");
	ok(line && strstr(line, " rid=req-1\\x0a ") != NULL, "request id is added and escaped");
	log_set_request_id(NULL);
	line = capture(LOG_LEVEL_ERROR, "no id");
	ok(line && strstr(line, "rid=") == NULL, "request id is cleared");
	char huge[10000];
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	line = capture(LOG_LEVEL_ERROR, huge);
	ok(line && strlen(line) < 4096 && line[strlen(line) - 1] == '\n',
	   "a huge message is cut to one line");
	is_long(log_level_parse("WARN"), LOG_LEVEL_WARN, "level names parse");
	is_long(log_level_parse("loud"), -1, "unknown level names fail");
	return tap_done();
}
