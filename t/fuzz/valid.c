/* Fuzz target: the validators of client text (lib/web/valid.c): UTF-8,
 * text, numbers, UUIDs, emails, request ids and display file names.
 *
 * Input: any bytes, given to every validator (with its length, and as a C
 * string up to the first NUL where the validator takes one).
 * Contract checked: valid_utf8 agrees with a plain decoder written here
 * from RFC 3629 (and counts the same code points); what a validator
 * accepts has the promised form (a number within its bounds that strtol
 * reads the same, a lower-cased UUID, an email in normal form that is
 * accepted again unchanged, a safe display name that is its own display
 * name). */
#include <errno.h>
#include <limits.h>
#include <strings.h>
#include <string.h>

#include "core/mem.h"
#include "fuzz.h"
#include "web/valid.h"

/* RFC 3629 well-formedness, table 3-7 of Unicode; counts code points. */
static bool ref_utf8(const unsigned char *s, size_t n, size_t *chars)
{
	size_t count = 0;
	for (size_t i = 0; i < n; count++) {
		unsigned c = s[i];
		size_t len;
		unsigned lo = 0x80, hi = 0xbf;
		if (c < 0x80)
			len = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else
			return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			unsigned b = s[i + k];
			unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
			if (b < l || b > h)
				return false;
		}
		i += len;
	}
	*chars = count;
	return true;
}

static void check_long(const char *text, long min, long max)
{
	long v = 0;
	if (!valid_long(text, min, max, &v))
		return;
	fuzz_check(v >= min && v <= max, "number within bounds");
	fuzz_check(*text == '-' || (*text >= '0' && *text <= '9'), "number starts with a digit");
	char *end = NULL;
	errno = 0;
	long ref = strtol(text, &end, 10);
	fuzz_check(errno == 0 && *end == '\0' && ref == v, "strtol reads the same number");
}

static bool is_lower_ascii(const char *s)
{
	for (; *s; s++)
		if ((*s >= 'A' && *s <= 'Z') || (unsigned char)*s >= 0x80)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pool *pool = pool_new();
	char *z = pool_strndup(pool, s, size); /* the text up to a NUL */

	size_t chars = 0, ref_chars = 0;
	bool ok = valid_utf8(s, size), ref = ref_utf8(data, size, &ref_chars);
	fuzz_check(ok == ref, "valid_utf8 agrees with RFC 3629");
	fuzz_check(valid_utf8_count(s, size, &chars) == ref, "valid_utf8_count agrees");
	if (ref)
		fuzz_check(chars == ref_chars, "code points counted");

	const char *why = NULL;
	if (valid_text(s, size, 0, -1, VALID_TEXT_NO_CONTROL, &why)) {
		fuzz_check(ref && !memchr(s, '\0', size), "text is UTF-8 without NUL");
		for (size_t i = 0; i < size; i++)
			fuzz_check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
			           "text without controls");
	} else {
		fuzz_check(why != NULL, "a refusal names its problem");
	}
	if (valid_text(s, size, 3, 10, 0, NULL))
		fuzz_check(ref && ref_chars >= 3 && ref_chars <= 10, "text length in code points");

	check_long(z, LONG_MIN, LONG_MAX);
	check_long(z, -1000, 1000);
	check_long(z, 0, 0);

	char id[VALID_UUID_LEN + 1];
	if (valid_uuid(z, id)) {
		fuzz_check(strlen(id) == VALID_UUID_LEN && is_lower_ascii(id), "UUID lower-cased");
		fuzz_check(strcasecmp(id, z) == 0, "UUID is the input");
	}

	const char *email = NULL;
	if (valid_email(z, pool, &email)) {
		size_t n = strlen(email);
		const char *at = strchr(email, '@');
		fuzz_check(n <= VALID_EMAIL_MAX && is_lower_ascii(email), "email normal form");
		fuzz_check(at && at > email && (size_t)(at - email) <= VALID_EMAIL_LOCAL_MAX &&
		               !strchr(at + 1, '@') && strchr(at + 1, '.'),
		           "email has one @ and a dotted domain");
		const char *again = NULL;
		fuzz_check(valid_email(email, pool, &again) && strcmp(again, email) == 0,
		           "the normal form is accepted unchanged");
	}

	if (valid_request_id(z))
		fuzz_check(strlen(z) >= 1 && strlen(z) <= VALID_REQUEST_ID_MAX,
		           "request id length");

	const char *name = valid_display_filename(pool, s, size);
	size_t n = strlen(name);
	size_t name_chars = 0;
	fuzz_check(n >= 1 && n <= VALID_FILENAME_MAX, "display name length");
	fuzz_check(ref_utf8((const unsigned char *)name, n, &name_chars), "display name is UTF-8");
	fuzz_check(!strchr(name, '/') && !strchr(name, '\\'), "display name has no separator");
	for (size_t i = 0; i < n; i++)
		fuzz_check((unsigned char)name[i] >= 0x20 && name[i] != 0x7f,
		           "display name without controls");
	fuzz_check(name[0] != '.' && name[0] != ' ' && name[n - 1] != '.' && name[n - 1] != ' ',
	           "display name trimmed");
	fuzz_check(strcmp(valid_display_filename(pool, name, n), name) == 0,
	           "a display name is its own display name");
	pool_free(pool);
	return 0;
}
