/* lectern-skeleton: the smallest declared service, for the test suite
 * (t/integration/skeleton.t). What a new service starts as: a descriptor, a
 * route table and one handler; lib does the rest (settings, sockets,
 * prefork, health, identity from the gate). */
#include "app/service.h"

/* GET /hello/{n}: greets the caller n times (n is a 1-based number, checked
 * by the route's table before this runs). */
static enum err skeleton_hello(struct http_req *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(o, "n", json_object_new_int64(http_param_int(req, "n")));
	json_object_object_add(o, "shout", json_object_new_boolean(http_param_bool(req, "shout")));
	return http_send_json(req, 200, o);
}

static const struct param_spec hello_params[] = {
    {"n", PARAM_PATH, PARAM_INT, true, 1, 1000, NULL, NULL},
    {"shout", PARAM_QUERY, PARAM_BOOL, false, 0, 0, NULL, "false"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

static const struct route skeleton_routes[] = {
    {"GET", "/hello/{n}", skeleton_hello, hello_params, 0, ROUTE_AUTH},
};

static const struct service_def skeleton_service = {
    .name = "skeleton",
    .routes = skeleton_routes,
    .nroutes = 1,
};

int main(int argc, char **argv)
{
	return service_main(&skeleton_service, argc, argv);
}
