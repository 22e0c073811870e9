/* page: X-Total-Count and Link of a page of a list. */
#include <stdio.h>

#include "core/mem.h"
#include "web/page.h"

enum err http_page_headers(struct http_req *req, const char *url, long limit, long offset,
                           long long total)
{
	char count[24];
	snprintf(count, sizeof(count), "%lld", total);
	enum err e = http_add_header(req, "X-Total-Count", count);
	if (e != ERR_OK)
		return e;
	struct buf b;
	buf_init(&b);
	if (offset + limit < total)
		buf_printf(&b, "<%s?limit=%ld&offset=%ld>; rel=\"next\"", url, limit,
		           offset + limit);
	if (offset > 0) {
		long prev = offset - limit > 0 ? offset - limit : 0;
		buf_printf(&b, "%s<%s?limit=%ld&offset=%ld>; rel=\"prev\"", b.len ? ", " : "", url,
		           limit, prev);
	}
	if (b.len)
		e = http_add_header(req, "Link", b.data);
	buf_clear(&b);
	return e;
}
