/* Fuzz target: the streaming multipart/form-data parser (lib/web/multipart.c).
 *
 * Input: one seed byte for the chunk sizes, then a Content-Type line (up to
 * the first LF) given to multipart_boundary, then the body. When the line
 * names no valid boundary the body is parsed with the boundary "XyZ" so the
 * body is fuzzed either way. The body is fed in chunks of 1..N bytes drawn
 * from the seed, so boundaries and headers split everywhere.
 * Contract checked: callbacks nest (begin, data, end), a part's name is
 * valid UTF-8 without controls, a filename passes as display-safe, the
 * content type is lower case, a field never passes field_max, and errors
 * are sticky. */
#include <ctype.h>
#include <string.h>

#include "core/mem.h"
#include "fuzz.h"
#include "web/multipart.h"
#include "web/valid.h"

struct seen {
	bool in_part;  /* between part_begin and part_end */
	bool is_field; /* the current part has no filename */
	size_t part_bytes;
	size_t parts;
};

static enum err on_begin(void *ctx, const struct multipart_part *p)
{
	struct seen *s = ctx;
	fuzz_check(!s->in_part, "part_begin inside a part");
	fuzz_check(p->index == s->parts, "part index in order");
	fuzz_check(p->name &&
	               valid_text(p->name, strlen(p->name), 0, -1, VALID_TEXT_NO_CONTROL, NULL),
	           "part name is UTF-8 without controls");
	fuzz_check(p->content_type && *p->content_type, "content type given");
	for (const char *c = p->content_type; *c && *c != ';'; c++)
		fuzz_check(!isupper((unsigned char)*c), "media type lower-cased");
	if (p->filename) {
		size_t n = strlen(p->filename);
		fuzz_check(n > 0 && n <= VALID_FILENAME_MAX, "filename length");
		fuzz_check(valid_utf8(p->filename, n), "filename is UTF-8");
		fuzz_check(!strchr(p->filename, '/') && !strchr(p->filename, '\\'),
		           "filename without separators");
	}
	s->in_part = true;
	s->is_field = p->filename == NULL;
	s->part_bytes = 0;
	s->parts++;
	return ERR_OK;
}

static enum err on_data(void *ctx, const void *data, size_t len)
{
	struct seen *s = ctx;
	fuzz_check(s->in_part, "part_data outside a part");
	fuzz_check(data != NULL || len == 0, "data pointer");
	s->part_bytes += len;
	return ERR_OK;
}

static enum err on_end(void *ctx)
{
	struct seen *s = ctx;
	fuzz_check(s->in_part, "part_end outside a part");
	s->in_part = false;
	return ERR_OK;
}

static const struct multipart_limits limits = {
    .header_max = 1024, .parts_max = 16, .field_max = 256, .total_max = 1 << 20};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_rng rng;
	fuzz_rng_init(&rng, data[0] * 2654435761u);
	data++;
	size--;
	const uint8_t *lf = memchr(data, '\n', size < 512 ? size : 512);
	struct pool *pool = pool_new();
	const char *boundary = NULL;
	if (lf) {
		char *ct = pool_strndup(pool, (const char *)data, (size_t)(lf - data));
		if (multipart_boundary(ct, pool, &boundary) == ERR_OK) {
			size_t n = strlen(boundary);
			fuzz_check(n >= 1 && n <= MULTIPART_BOUNDARY_MAX, "boundary length");
		} else {
			boundary = NULL;
		}
		size -= (size_t)(lf + 1 - data);
		data = lf + 1;
	}
	if (!boundary)
		boundary = "XyZ";

	struct seen seen = {0};
	struct multipart_callbacks cb = {on_begin, on_data, on_end, &seen};
	struct multipart *mp = multipart_new(pool, boundary, &limits, &cb);
	enum err e = ERR_OK;
	size_t off = 0;
	while (off < size && e == ERR_OK) {
		size_t n = fuzz_rng_chunk(&rng, 64);
		if (n > size - off)
			n = size - off;
		e = multipart_feed(mp, data + off, n);
		if (seen.in_part && seen.is_field)
			fuzz_check(seen.part_bytes <= limits.field_max || e != ERR_OK,
			           "a field over field_max was refused");
		off += n;
	}
	if (e == ERR_OK) {
		e = multipart_finish(mp);
		fuzz_check(e != ERR_OK || !seen.in_part, "a finished body has no open part");
	}
	if (e != ERR_OK) {
		fuzz_check(multipart_feed(mp, "x", 1) == e, "errors are sticky");
		fuzz_check(multipart_error(mp) != NULL, "an error has its sentence");
	}
	pool_free(pool);
	return 0;
}
