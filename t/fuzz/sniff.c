/* Fuzz target: file type sniffing (lib/extract/extract.c): the head checks
 * an upload goes through before it is stored, the zip walk that decides
 * DOCX, the central-directory check of a stored file, and the image header
 * reading that bounds pixels before decoding (extract_image_size).
 *
 * Input: a file's bytes. Contract checked: detection answers ERR_OK with a
 * type, ERR_MEDIA_TYPE, or (empty complete file) ERR_INVALID; a type agrees
 * with the signature it claims; text has no NUL; the two UTF-8 checks of the
 * tree (extract's and valid's) agree. */
#define _GNU_SOURCE /* memfd_create */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "extract/extract_impl.h"
#include "fuzz.h"
#include "web/valid.h"

static void check_type(const uint8_t *data, size_t size, enum err e, enum extract_type t)
{
	if (e != ERR_OK) {
		fuzz_check(e == ERR_MEDIA_TYPE || (e == ERR_INVALID && size == 0),
		           "refusals are MEDIA_TYPE or INVALID for an empty file");
		fuzz_check(t == EXTRACT_TYPE_NONE, "a refusal has no type");
		return;
	}
	fuzz_check(*extract_type_name(t), "a detected type has a name");
	fuzz_check(extract_type_parse(extract_type_name(t)) == t, "type names round trip");
	switch (t) {
	case EXTRACT_TYPE_PDF:
		fuzz_check(size >= 5 && memcmp(data, "%PDF-", 5) == 0, "PDF signature");
		break;
	case EXTRACT_TYPE_PNG:
		fuzz_check(size >= 8 && data[0] == 0x89, "PNG signature");
		break;
	case EXTRACT_TYPE_JPG:
		fuzz_check(size >= 3 && data[0] == 0xff, "JPEG signature");
		break;
	case EXTRACT_TYPE_DOCX:
		fuzz_check(size >= 4 && data[0] == 'P' && data[1] == 'K', "zip signature");
		break;
	case EXTRACT_TYPE_TXT:
	case EXTRACT_TYPE_MD: {
		size_t head = size < EXTRACT_SNIFF_MAX ? size : EXTRACT_SNIFF_MAX;
		bool bom = head >= 2 && (data[0] == 0xff || data[0] == 0xfe);
		fuzz_check(bom || !memchr(data, '\0', head), "text has no NUL");
		break;
	}
	case EXTRACT_TYPE_NONE:
		fuzz_check(false, "ERR_OK with no type");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum extract_type t;
	enum err e = extract_detect(data, size, true, &t);
	check_type(data, size, e, t);
	e = extract_detect(data, size, false, &t);
	fuzz_check(e != ERR_INVALID, "a head that is not the whole file is never empty-invalid");
	check_type(data, size, e, t);
	if (e == ERR_OK && (t == EXTRACT_TYPE_PNG || t == EXTRACT_TYPE_JPG)) {
		long w = -1, h = -1;
		if (extract_image_size(data, size, t, &w, &h))
			fuzz_check(w >= 0 && h >= 0, "image size is not negative");
	}
	fuzz_check(extract_utf8_valid(data, size) == valid_utf8((const char *)data, size),
	           "the two UTF-8 checks agree");

	int fd = memfd_create("fuzz-sniff", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	e = extract_detect_file(path, &t);
	check_type(data, size, e, t);
	close(fd);
	return 0;
}
