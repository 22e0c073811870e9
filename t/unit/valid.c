/* Unit tests for valid: UTF-8, text, numbers, UUIDs, emails, enums, names. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "tap.h"
#include "web/valid.h"

#define LEN(s) (sizeof(s) - 1)

static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
		size_t chars;
		const char *name;
	} cases[] = {
	    {"", 0, true, 0, "empty"},
	    {"plain", 5, true, 5, "ASCII"},
	    {"caf\xc3\xa9", 5, true, 4, "two-byte"},
	    {"\xe2\x82\xac", 3, true, 1, "three-byte euro"},
	    {"\xf0\x9f\x98\x80", 4, true, 1, "four-byte emoji"},
	    {"\xf4\x8f\xbf\xbf", 4, true, 1, "U+10FFFF"},
	    {"a\0b", 3, true, 3, "NUL is well-formed UTF-8"},
	    {"\xc0\xaf", 2, false, 0, "overlong '/' (C0 AF)"},
	    {"\xc1\xbf", 2, false, 0, "overlong C1"},
	    {"\xe0\x80\xaf", 3, false, 0, "overlong three-byte"},
	    {"\xf0\x80\x80\xaf", 4, false, 0, "overlong four-byte"},
	    {"\xed\xa0\x80", 3, false, 0, "surrogate U+D800"},
	    {"\xed\xbf\xbf", 3, false, 0, "surrogate U+DFFF"},
	    {"\xf4\x90\x80\x80", 4, false, 0, "above U+10FFFF"},
	    {"\xf5\x80\x80\x80", 4, false, 0, "lead byte F5"},
	    {"\xff", 1, false, 0, "byte FF"},
	    {"\x80", 1, false, 0, "lone continuation"},
	    {"\xc3", 1, false, 0, "cut two-byte"},
	    {"\xe2\x82", 2, false, 0, "cut three-byte"},
	    {"\xc3\x28", 2, false, 0, "bad continuation"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t chars = 99;
		bool got = valid_utf8_count(cases[i].s, cases[i].len, &chars);
		ok(got == cases[i].ok, "utf8: %s", cases[i].name);
		if (cases[i].ok)
			is_long(chars, cases[i].chars, "utf8: code points counted");
	}
}

static void test_text(void)
{
	static const struct {
		const char *s;
		size_t len;
		long min, max;
		unsigned flags;
		const char *problem; /* NULL = valid */
	} cases[] = {
	    {"hello", 5, 1, 10, 0, NULL},
	    {"", 0, 1, 10, 0, "too short"},
	    {"hello", 5, 1, 4, 0, "too long"},
	    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 1, 4, 0, NULL},
	    {"a\0b", 3, 0, -1, 0, "contains NUL"},
	    {"\xed\xa0\x80", 3, 0, -1, 0, "invalid UTF-8"},
	    {"tab\there", 8, 0, -1, VALID_TEXT_NO_CONTROL, "contains control characters"},
	    {"tab\there\n", 9, 0, -1, VALID_TEXT_NO_CONTROL | VALID_TEXT_NEWLINES, NULL},
	    {"esc\x1b[0m", 8, 0, -1, VALID_TEXT_NO_CONTROL | VALID_TEXT_NEWLINES,
	     "contains control characters"},
	    {"del\x7f", 4, 0, -1, VALID_TEXT_NO_CONTROL, "contains control characters"},
	    {"c1\xc2\x85", 4, 0, -1, VALID_TEXT_NO_CONTROL, "contains control characters"},
	    {"esc\x1b", 4, 0, -1, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "unset";
		bool got = valid_text(cases[i].s, cases[i].len, cases[i].min, cases[i].max,
		                      cases[i].flags, &why);
		ok(got == (cases[i].problem == NULL), "text case %zu valid=%d", i, got);
		is_str(why, cases[i].problem, "text: the problem is named");
	}
}

static void test_long(void)
{
	static const struct {
		const char *s;
		long min, max;
		bool ok;
		long want;
	} cases[] = {
	    {"0", 0, 10, true, 0},
	    {"10", 0, 10, true, 10},
	    {"11", 0, 10, false, 0},
	    {"007", 0, 10, true, 7},
	    {"-1", 0, 10, false, 0},
	    {"-1", -5, 10, true, -1},
	    {"-6", -5, 10, false, 0},
	    {"+1", 0, 10, false, 0},
	    {" 1", 0, 10, false, 0},
	    {"1 ", 0, 10, false, 0},
	    {"1a", 0, 10, false, 0},
	    {"", 0, 10, false, 0},
	    {"-", -5, 10, false, 0},
	    {"0x10", 0, 100, false, 0},
	    {"1e3", 0, 10000, false, 0},
	    {"9223372036854775807", 0, LONG_MAX, true, LONG_MAX},
	    {"9223372036854775808", 0, LONG_MAX, false, 0},
	    {"-9223372036854775808", LONG_MIN, 0, true, LONG_MIN},
	    {"-9223372036854775809", LONG_MIN, 0, false, 0},
	    {"99999999999999999999999", 0, LONG_MAX, false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long v = 12345;
		bool got = valid_long(cases[i].s, cases[i].min, cases[i].max, &v);
		ok(got == cases[i].ok, "long \"%s\" in %ld..%ld", cases[i].s, cases[i].min,
		   cases[i].max);
		if (cases[i].ok)
			is_long(v, cases[i].want, "long: value");
	}
	ok(!valid_long(NULL, 0, 1, NULL), "long: NULL fails");
}

static void test_uuid(void)
{
	static const struct {
		const char *s;
		const char *want; /* NULL = invalid */
	} cases[] = {
	    {"123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"},
	    {"123E4567-E89B-12D3-A456-426614174ABC", "123e4567-e89b-12d3-a456-426614174abc"},
	    {"123e4567e89b12d3a456426614174000", NULL},
	    {"{123e4567-e89b-12d3-a456-426614174000}", NULL},
	    {"urn:uuid:123e4567-e89b-12d3-a456-426614174000", NULL},
	    {"123e4567-e89b-12d3-a456-42661417400", NULL},
	    {"123e4567-e89b-12d3-a456-4266141740000", NULL},
	    {"123e4567-e89b-12d3-a456-42661417400g", NULL},
	    {"123e4567_e89b-12d3-a456-426614174000", NULL},
	    {"", NULL},
	    {"../../etc/passwd", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[VALID_UUID_LEN + 1] = "";
		bool got = valid_uuid(cases[i].s, out);
		ok(got == (cases[i].want != NULL), "uuid \"%s\"", cases[i].s);
		if (cases[i].want)
			is_str(out, cases[i].want, "uuid: folded to lower case");
	}
}

static void test_email(struct pool *pool)
{
	char long_local[80], long_addr[300];
	memset(long_local, 'a', 65);
	snprintf(long_local + 65, sizeof(long_local) - 65, "@example.com");
	memset(long_addr, 'b', 250);
	snprintf(long_addr + 250, sizeof(long_addr) - 250, "@x.io");
	static const struct {
		const char *s;
		const char *want;
	} cases[] = {
	    {"user@example.com", "user@example.com"},
	    {"  User.Name+tag@Example.COM \n", "user.name+tag@example.com"},
	    {"a@b.co", "a@b.co"},
	    {"o'brien@example.ie", "o'brien@example.ie"},
	    {"user@localhost", NULL},
	    {"user@@example.com", NULL},
	    {"user@exa@mple.com", NULL},
	    {"@example.com", NULL},
	    {"user@", NULL},
	    {"user", NULL},
	    {".user@example.com", NULL},
	    {"user.@example.com", NULL},
	    {"us..er@example.com", NULL},
	    {"user@-example.com", NULL},
	    {"user@example-.com", NULL},
	    {"user@example..com", NULL},
	    {"user@.example.com", NULL},
	    {"user@example.com.", NULL},
	    {"user@1.2.3.4", NULL},
	    {"us er@example.com", NULL},
	    {"user@exam_ple.com", NULL},
	    {"\"quoted\"@example.com", NULL},
	    {"user@ex\xc3\xa4mple.com", NULL},
	    {"user\r\nBcc: x@y.com@example.com", NULL},
	    {"", NULL},
	    {"   ", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *out = NULL;
		bool got = valid_email(cases[i].s, pool, &out);
		ok(got == (cases[i].want != NULL), "email case %zu", i);
		if (cases[i].want)
			is_str(out, cases[i].want, "email: normal form");
	}
	ok(!valid_email(long_local, pool, NULL), "email: local part over 64 bytes");
	ok(!valid_email(long_addr, pool, NULL), "email: over 254 bytes");
}

static void test_enum_and_ids(void)
{
	static const char *const choices[] = {"easy", "medium", "hard", NULL};
	size_t idx = 9;
	ok(valid_enum("medium", choices, &idx) && idx == 1, "enum: found with its index");
	ok(!valid_enum("Medium", choices, NULL), "enum: case matters");
	ok(!valid_enum("", choices, NULL), "enum: empty is not a choice");
	ok(!valid_enum("easy ", choices, NULL), "enum: trailing blank is not a choice");
	ok(valid_request_id("abc-DEF_1.2"), "request id: allowed characters");
	ok(!valid_request_id(""), "request id: empty");
	ok(!valid_request_id("a b"), "request id: blank");
	ok(!valid_request_id("a\r\nX-Evil: 1"), "request id: CR/LF");
	char rid[80];
	memset(rid, 'r', 64);
	rid[64] = '\0';
	ok(valid_request_id(rid), "request id: 64 characters");
	rid[64] = 'r';
	rid[65] = '\0';
	ok(!valid_request_id(rid), "request id: 65 characters");
}

static void test_filename(struct pool *pool)
{
	static const struct {
		const char *s;
		size_t len;
		const char *want;
	} cases[] = {
	    {"notes.pdf", 9, "notes.pdf"},
	    {"../../etc/passwd", 16, "passwd"},
	    {"..\\..\\windows\\win.ini", 21, "win.ini"},
	    {"C:\\Users\\me\\report.docx", 23, "report.docx"},
	    {"..", 2, "file"},
	    {".", 1, "file"},
	    {"", 0, "file"},
	    {"dir/", 4, "file"},
	    {".bashrc", 7, "bashrc"},
	    {"evil\0.pdf", 9, "evil.pdf"},
	    {"line\r\nbreak.txt", 15, "linebreak.txt"},
	    {"tab\there.txt", 12, "tabhere.txt"},
	    {"invoice\xe2\x80\xae"
	     "fdp.exe",
	     17, "invoicefdp.exe"},
	    {"caf\xc3\xa9.md", 8, "caf\xc3\xa9.md"},
	    {"bad\xff.txt", 8, "bad_.txt"},
	    {"  spaced  ", 10, "spaced"},
	    {"name...", 7, "name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(valid_display_filename(pool, cases[i].s, cases[i].len), cases[i].want,
		       "display filename case");
	char big[600];
	memset(big, 'x', sizeof(big));
	memcpy(big + 253, "\xc3\xa9\xc3\xa9", 4); /* a character straddles the cut */
	const char *cut = valid_display_filename(pool, big, sizeof(big));
	ok(strlen(cut) <= VALID_FILENAME_MAX && valid_utf8(cut, strlen(cut)),
	   "display filename: cut to %d bytes on a character boundary", VALID_FILENAME_MAX);
	is_long(strlen(cut), 255, "display filename: the cut keeps whole characters only");
	is_str(valid_display_filename(pool, NULL, 5), "file", "display filename: NULL");
}

int main(void)
{
	struct pool *pool = pool_new();
	test_utf8();
	test_text();
	test_long();
	test_uuid();
	test_email(pool);
	test_enum_and_ids();
	test_filename(pool);
	pool_free(pool);
	return tap_done();
}
