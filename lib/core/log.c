/* log: escaped single-line records on stderr. */
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* A log line never exceeds this; longer messages are cut. */
enum { LOG_LINE_MAX = 4096, LOG_MSG_MAX = 3072, LOG_RID_MAX = 64 };

static const char *level_names[] = {"debug", "info", "warn", "error"};

static struct {
	char service[32];
	enum log_level min_level;
	char request_id[LOG_RID_MAX * 4 + 1];
	int fd;
} log_state = {"lectern", LOG_LEVEL_INFO, "", STDERR_FILENO};

void log_init(const char *service, enum log_level min_level)
{
	log_escape(log_state.service, sizeof(log_state.service), service, strlen(service));
	log_state.min_level = min_level;
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_set_request_id(const char *request_id)
{
	if (!request_id) {
		log_state.request_id[0] = '\0';
		return;
	}
	log_escape(log_state.request_id, sizeof(log_state.request_id), request_id,
	           strnlen(request_id, LOG_RID_MAX));
}

void log_set_fd(int fd)
{
	log_state.fd = fd < 0 ? STDERR_FILENO : fd;
}

size_t log_escape(char *dst, size_t dst_size, const char *src, size_t src_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (dst_size == 0)
		return 0;
	for (size_t i = 0; i < src_len; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[4];
		size_t n = 0;
		if (c == '"' || c == '\\') {
			tmp[n++] = '\\';
			tmp[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			tmp[n++] = '\\';
			tmp[n++] = 'x';
			tmp[n++] = hex[c >> 4];
			tmp[n++] = hex[c & 15];
		} else {
			tmp[n++] = (char)c; /* UTF-8 bytes pass: journald shows them */
		}
		if (o + n + 4 > dst_size) {
			if (dst_size >= 4) {
				while (o + 4 > dst_size)
					o--;
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	if (level < log_state.min_level)
		return;
	char raw[LOG_MSG_MAX];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	size_t raw_len = n < 0 ? 0 : ((size_t)n >= sizeof(raw) ? sizeof(raw) - 1 : (size_t)n);
	char msg[LOG_LINE_MAX - 256];
	log_escape(msg, sizeof(msg), raw, raw_len);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	char line[LOG_LINE_MAX];
	int len = snprintf(
	    line, sizeof(line),
	    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s service=%s pid=%ld%s%s msg=\"%s\"\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    now.tv_nsec / 1000000L, level_names[level], log_state.service, (long)getpid(),
	    log_state.request_id[0] ? " rid=" : "", log_state.request_id, msg);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	/* One write per line keeps lines whole when processes share stderr. */
	ssize_t w = write(log_state.fd, line, (size_t)len);
	(void)w;
}

void log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}
