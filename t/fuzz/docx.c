/* Fuzz target: DOCX extraction (lib/extract/extract_docx.c: libzip, the
 * zip-bomb checks, libxml2 without entities or DTDs, headings, lists and
 * tables), the engine the sandboxed child runs, run here in process so
 * that ASan sees every byte it touches.
 *
 * The first input byte picks what the rest is:
 *   odd   a whole file, handed over as is (the zip layer);
 *   even  up to four XML texts separated by NUL bytes (word/document.xml,
 *         word/styles.xml, docProps/core.xml, docProps/app.xml) that the
 *         target packs into a stored zip with [Content_Types].xml, so the
 *         fuzzer works on the XML behind the zip layer.
 * Contract checked: success gives valid UTF-8 text within the ceiling and
 * valid UTF-8 metadata; a failure has its sentence. */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "extract/extract_impl.h"
#include "fuzz.h"
#include "web/valid.h"

enum { PARTS_MAX = 4, ZIP_ENTRIES_MAX = PARTS_MAX + 1 };

static const char *const part_names[PARTS_MAX] = {"word/document.xml", "word/styles.xml",
                                                  "docProps/core.xml", "docProps/app.xml"};
static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";

static uint32_t crc_table[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", LOG_LEVEL_ERROR);
	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	return 0;
}

static uint32_t crc32_of(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void put16(struct buf *b, unsigned v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	buf_append(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

struct entry {
	const char *name;
	const void *data;
	size_t len;
};

/* A zip of stored (uncompressed) entries, as the format's APPNOTE gives it. */
static void zip_stored(struct buf *z, const struct entry *e, size_t n)
{
	uint32_t offsets[ZIP_ENTRIES_MAX], crcs[ZIP_ENTRIES_MAX];
	for (size_t i = 0; i < n; i++) {
		offsets[i] = (uint32_t)z->len;
		crcs[i] = crc32_of(e[i].data, e[i].len);
		put32(z, 0x04034b50);
		put16(z, 20);
		put16(z, 0);
		put16(z, 0); /* stored */
		put32(z, 0); /* time, date */
		put32(z, crcs[i]);
		put32(z, (uint32_t)e[i].len);
		put32(z, (uint32_t)e[i].len);
		put16(z, (unsigned)strlen(e[i].name));
		put16(z, 0);
		buf_puts(z, e[i].name);
		buf_append(z, e[i].data, e[i].len);
	}
	uint32_t cd = (uint32_t)z->len;
	for (size_t i = 0; i < n; i++) {
		put32(z, 0x02014b50);
		put16(z, 20);
		put16(z, 20);
		put16(z, 0);
		put16(z, 0);
		put32(z, 0);
		put32(z, crcs[i]);
		put32(z, (uint32_t)e[i].len);
		put32(z, (uint32_t)e[i].len);
		put16(z, (unsigned)strlen(e[i].name));
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put32(z, 0);
		put32(z, offsets[i]);
		buf_puts(z, e[i].name);
	}
	uint32_t cd_len = (uint32_t)z->len - cd;
	put32(z, 0x06054b50);
	put16(z, 0);
	put16(z, 0);
	put16(z, (unsigned)n);
	put16(z, (unsigned)n);
	put32(z, cd_len);
	put32(z, cd);
	put16(z, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool raw = data[0] & 1;
	data++;
	size--;
	struct buf file;
	buf_init(&file);
	if (raw) {
		buf_append(&file, data, size);
	} else {
		struct entry e[ZIP_ENTRIES_MAX] = {
		    {"[Content_Types].xml", content_types, sizeof(content_types) - 1}};
		size_t n = 1, off = 0;
		for (size_t i = 0; i < PARTS_MAX && off <= size; i++) {
			const uint8_t *nul = memchr(data + off, '\0', size - off);
			size_t len = nul ? (size_t)(nul - (data + off)) : size - off;
			e[n++] = (struct entry){part_names[i], data + off, len};
			off += len + 1;
		}
		zip_stored(&file, e, n);
	}

	struct extract_limits l;
	extract_limits_default(&l);
	l.docx_max_bytes = 1 << 20;
	struct extract_out o = {.text_max = 1 << 20, .pages = 1};
	buf_init(&o.text);
	int fd = memfd_create("fuzz-docx", MFD_CLOEXEC);
	if (fd < 0 || (file.len && write(fd, file.data, file.len) != (ssize_t)file.len) ||
	    lseek(fd, 0, SEEK_SET))
		abort();
	enum err e = extract_docx(fd, &l, &o);
	close(fd);
	if (e == ERR_OK && o.text_over)
		e = ERR_TOO_LARGE;
	if (e == ERR_OK) {
		fuzz_check(o.text.len <= o.text_max, "text within its ceiling");
		fuzz_check(valid_utf8(o.text.data ? o.text.data : "", o.text.len),
		           "text is valid UTF-8");
		fuzz_check(valid_utf8(o.title, strlen(o.title)) &&
		               valid_utf8(o.author, strlen(o.author)),
		           "metadata is valid UTF-8");
	} else {
		fuzz_check(o.message[0], "a failure has its sentence");
	}
	buf_clear(&o.text);
	buf_clear(&file);
	return 0;
}
