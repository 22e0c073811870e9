/* health: builds the health document from a service's checks. */
#include "web/health.h"

struct json_object *health_doc(const char *service, const struct health_check *checks, size_t count,
                               bool *down_out)
{
	bool down = false, degraded = false;
	struct json_object *all = json_object_new_object();
	for (size_t i = 0; i < count; i++) {
		const struct health_check *c = &checks[i];
		struct json_object *one = json_object_new_object();
		json_object_object_add(one, "status",
		                       json_object_new_string(c->ok ? "ok" : "down"));
		json_object_object_add(one, "latency_ms", json_object_new_int64(c->latency_ms));
		json_object_object_add(
		    one, "error", c->ok || !c->error ? NULL : json_object_new_string(c->error));
		json_object_object_add(all, c->name, one);
		if (!c->ok && c->required)
			down = true;
		else if (!c->ok)
			degraded = true;
	}
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "service", json_object_new_string(service));
	json_object_object_add(doc, "status",
	                       json_object_new_string(down       ? "down"
	                                              : degraded ? "degraded"
	                                                         : "ok"));
	json_object_object_add(doc, "version", json_object_new_string(LECTERN_VERSION));
	json_object_object_add(doc, "checks", all);
	*down_out = down;
	return doc;
}

enum err health_send(struct http_req *req, const char *service, const struct health_check *checks,
                     size_t count)
{
	bool down = false;
	struct json_object *doc = health_doc(service, checks, count, &down);
	return http_send_json(req, down ? 503 : 200, doc);
}
