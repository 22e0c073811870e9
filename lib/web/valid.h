/* valid: validators for text that comes from clients.
 *
 * Every function looks at bytes it is given with their length, so an
 * embedded NUL is seen rather than silently cutting the text. Normalising
 * validators (email, UUID) write the canonical form; the caller uses that
 * form from then on, never the raw input. */
#ifndef LECTERN_VALID_H
#define LECTERN_VALID_H

#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"

enum {
	VALID_UUID_LEN = 36,        /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
	VALID_EMAIL_MAX = 254,      /* bytes of an address (RFC 5321 path limit) */
	VALID_EMAIL_LOCAL_MAX = 64, /* bytes before the '@' */
	VALID_EMAIL_LABEL_MAX = 63, /* bytes of one domain label */
	VALID_REQUEST_ID_MAX = 64,  /* bytes of a request id */
	VALID_FILENAME_MAX = 255    /* bytes of a display file name */
};

enum valid_text_flags {
	VALID_TEXT_NO_CONTROL = 1 << 0, /* refuse C0 controls, DEL and C1 (U+0080..U+009F) */
	VALID_TEXT_NEWLINES = 1 << 1    /* with NO_CONTROL: still allow tab, LF and CR */
};

/* True when s[0..len) is well-formed UTF-8: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. NUL is well-formed. */
bool valid_utf8(const char *s, size_t len);
/* Like valid_utf8 and counts the code points into *chars. */
bool valid_utf8_count(const char *s, size_t len, size_t *chars);
/* Checks client text: valid UTF-8, no NUL, length in code points within
 * [min_chars, max_chars] (max_chars < 0: no upper bound), and the flags.
 * On failure *problem (if not NULL) names it: "invalid UTF-8", "contains
 * NUL", "contains control characters", "too short", "too long". */
bool valid_text(const char *s, size_t len, long min_chars, long max_chars, unsigned flags,
                const char **problem);
/* Parses a whole decimal number in [min, max]: digits only, a leading '-'
 * only when min < 0, no '+', no blanks, no overflow. */
bool valid_long(const char *text, long min, long max, long *out);
/* Checks a UUID in 8-4-4-4-12 hex form and writes it lower-cased into out
 * (VALID_UUID_LEN + 1 bytes). Braces, "urn:uuid:" and other forms fail. */
bool valid_uuid(const char *text, char out[VALID_UUID_LEN + 1]);
/* Checks an email address: trims blanks, lower-cases, ASCII only, one '@',
 * a dot-atom local part of at most 64 bytes, a domain of LDH labels with at
 * least one dot, at most 254 bytes in all. *out is the normal form
 * (pool-owned). */
bool valid_email(const char *text, struct pool *pool, const char **out);
/* True when text is one of choices (NULL-terminated); *index (if not NULL)
 * gets its position. Comparison is exact. */
bool valid_enum(const char *text, const char *const *choices, size_t *index);
/* True for a request id of 1..64 characters from [A-Za-z0-9._-]. */
bool valid_request_id(const char *text);
/* A file name made safe for display (never for a path on disk): keeps the
 * part after the last '/' or '\', drops NUL, control and bidirectional
 * override characters, turns invalid UTF-8 bytes into '_', trims leading
 * and trailing dots and blanks (so ".." and "../../x" lose their tricks),
 * and cuts it to VALID_FILENAME_MAX bytes on a character boundary. Empty
 * results become "file". Pool-owned. */
const char *valid_display_filename(struct pool *pool, const char *name, size_t len);

#endif
