/* log: one line per event on stderr, journald-friendly key=value lines.
 *
 *   ts=2026-11-29T14:35:44.145Z level=warn service=auth pid=12 rid=abc msg="..."
 *
 * The message is escaped as a whole (quotes, backslashes, control and
 * non-printable bytes become \xNN), so client text can never forge a line.
 * Never pass tokens, passwords or keys to these functions. */
#ifndef LECTERN_LOG_H
#define LECTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Names the program in every line and sets the lowest level written. */
void log_init(const char *service, enum log_level min_level);
/* Parses "debug", "info", "warn" or "error"; returns -1 when unknown. */
int log_level_parse(const char *name);
/* The request (or job) id added to every line until it is cleared (NULL). */
void log_set_request_id(const char *request_id);
/* Writes one line; lines below the minimum level are dropped. */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Escapes src into dst (at most dst_size bytes with the NUL), as log lines do;
 * returns the length written. Cut text ends in "...". */
size_t log_escape(char *dst, size_t dst_size, const char *src, size_t src_len);
/* Redirects lines to fd (tests); -1 restores stderr. */
void log_set_fd(int fd);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
