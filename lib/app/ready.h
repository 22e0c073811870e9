/* ready: GET /ready, every service's health in one answer.
 *
 * The pool that nginx sends /ready to asks each service's GET /health
 * through the gateway, all at once (libcurl multi), each within
 * timeout_ms, and answers {status, services: {name: that service's health
 * document}}: 503 with status "down" when any service is down, does not
 * answer in time, or answers something that is not its health document;
 * otherwise 200 with "ok", or "degraded" when any service is. The asking
 * pool's own health is taken in-process (self_doc), not through nginx, so a
 * pool whose workers are all busy cannot wait on itself. */
#ifndef LECTERN_READY_H
#define LECTERN_READY_H

#include <stdbool.h>

#include "core/err.h"
#include "web/http.h"

enum { READY_SERVICES_MAX = 16 };

/* urls: "name=url,name=url" (the services' health URLs); self: the asking
 * service's name, whose entry (if any) is replaced by self_doc (owned by
 * the call), with self_down its verdict. */
enum err ready_answer(struct http_req *req, const char *urls, long timeout_ms, const char *self,
                      struct json_object *self_doc, bool self_down);

#endif
