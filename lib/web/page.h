/* page: the headers of one page of a list (docs/api.md, "Lists"):
 * X-Total-Count, and a Link header (RFC 8288) to the next and previous
 * pages of the same size. Every list route of every service answers them
 * the same way. */
#ifndef LECTERN_PAGE_H
#define LECTERN_PAGE_H

#include "web/http.h"

/* Adds X-Total-Count: total, and Link with rel="next" when a page follows
 * and rel="prev" when one precedes, as "<url?limit=L&offset=O>" where url
 * is the list's public path (for example "/api/v1/documents"). */
enum err http_page_headers(struct http_req *req, const char *url, long limit, long offset,
                           long long total) MUST_CHECK;

#endif
