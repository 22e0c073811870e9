/* Fuzz target: plain-text and Markdown extraction (lib/extract/extract_text.c),
 * the engine the sandboxed child runs for TXT and MD uploads, run here in
 * process so that ASan sees every byte it touches.
 *
 * Input: one byte of options (Markdown or not, the 8-bit encoding, a small
 * text ceiling), then the file. Contract checked: success gives valid UTF-8
 * without NUL or CR within the ceiling and a valid UTF-8 title; a failure
 * has its sentence and is ERR_INVALID or ERR_TOO_LARGE. */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "extract/extract_impl.h"
#include "fuzz.h"
#include "web/valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned opt = data[0];
	data++;
	size--;
	struct extract_limits l;
	extract_limits_default(&l);
	if (opt & 2)
		snprintf(l.text_encoding, sizeof(l.text_encoding), "%s", "ISO-8859-1");
	struct extract_out o = {.text_max = (opt & 4) ? 64 : (size_t)l.max_text_bytes, .pages = 1};
	buf_init(&o.text);

	int fd = memfd_create("fuzz-text", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET))
		abort();
	enum err e = extract_text(fd, opt & 1, &l, &o);
	close(fd);
	if (e == ERR_OK && o.text_over)
		e = ERR_TOO_LARGE; /* as the child does */
	if (e == ERR_OK) {
		fuzz_check(o.text.len <= o.text_max, "text within its ceiling");
		fuzz_check(valid_utf8(o.text.data ? o.text.data : "", o.text.len),
		           "text is valid UTF-8");
		fuzz_check(!o.text.len || (!memchr(o.text.data, '\0', o.text.len) &&
		                           !memchr(o.text.data, '\r', o.text.len)),
		           "text has no NUL or CR");
		fuzz_check(valid_utf8(o.title, strlen(o.title)), "title is valid UTF-8");
		fuzz_check(!(opt & 1) || o.title[0] == '\0' || o.text.len > 0, "a title from text");
	} else {
		fuzz_check(e == ERR_INVALID || e == ERR_TOO_LARGE,
		           "failures are INVALID or TOO_LARGE");
		fuzz_check(e == ERR_TOO_LARGE || o.message[0], "a failure has its sentence");
	}
	buf_clear(&o.text);
	return 0;
}
