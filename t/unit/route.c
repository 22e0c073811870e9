/* Unit tests for route_match: patterns, path arguments, 404 against 405. */
#include <string.h>

#include "core/mem.h"
#include "web/serve.h"
#include "tap.h"

static enum err h_dummy(struct http_req *req)
{
	(void)req;
	return ERR_OK;
}

static const struct route routes[] = {
    {"GET", "/", h_dummy, NULL, 0, 0},
    {"POST", "/upload", h_dummy, NULL, 100, 0},
    {"GET", "/{id}", h_dummy, NULL, 0, 0},
    {"DELETE", "/{id}", h_dummy, NULL, 0, 0},
    {"GET", "/{id}/download", h_dummy, NULL, 0, 0},
    {"POST", "/sessions/{sid}/messages", h_dummy, NULL, 0, 0},
    {"GET", "/sessions/{sid}/messages", h_dummy, NULL, 0, 0},
    {"GET", "/a/{x}/b/{y}", h_dummy, NULL, 0, 0},
    {"PUT", "/only-put", h_dummy, NULL, 0, 0},
};

int main(void)
{
	static const struct {
		const char *method;
		const char *path;
		int want_route; /* index, or -1 */
		enum err want_err;
		const char *arg0, *arg1;
		const char *allow;
	} cases[] = {
	    {"GET", "/", 0, ERR_OK, NULL, NULL, NULL},
	    {"GET", "", 0, ERR_OK, NULL, NULL, NULL},
	    {"HEAD", "/", 0, ERR_OK, NULL, NULL, NULL},
	    {"POST", "/upload", 1, ERR_OK, NULL, NULL, NULL},
	    {"POST", "/upload/", 1, ERR_OK, NULL, NULL, NULL},
	    {"GET", "/upload", 2, ERR_OK, "upload", NULL, NULL},
	    {"GET", "/abc", 2, ERR_OK, "abc", NULL, NULL},
	    {"GET", "/abc/", 2, ERR_OK, "abc", NULL, NULL},
	    {"DELETE", "/abc", 3, ERR_OK, "abc", NULL, NULL},
	    {"PATCH", "/abc", -1, ERR_METHOD, NULL, NULL, "GET, DELETE, HEAD"},
	    {"GET", "/abc/download", 4, ERR_OK, "abc", NULL, NULL},
	    {"POST", "/abc/download", -1, ERR_METHOD, NULL, NULL, "GET, HEAD"},
	    {"GET", "/abc/download/extra", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	    {"GET", "/abc//download", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	    {"GET", "//", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	    {"GET", "/abc/downloadx", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	    {"POST", "/sessions/s1/messages", 5, ERR_OK, "s1", NULL, NULL},
	    {"GET", "/sessions/s1/messages", 6, ERR_OK, "s1", NULL, NULL},
	    {"DELETE", "/sessions/s1/messages", -1, ERR_METHOD, NULL, NULL, "POST, GET, HEAD"},
	    {"GET", "/sessions//messages", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	    {"GET", "/a/1/b/2", 7, ERR_OK, "1", "2", NULL},
	    {"GET", "/a/1/b/", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	    {"GET", "/only-put", 2, ERR_OK, "only-put", NULL, NULL},
	    {"PUT", "/only-put", 8, ERR_OK, NULL, NULL, NULL},
	    {"POST", "/", -1, ERR_METHOD, NULL, NULL, "GET, HEAD"},
	    {"get", "/", -1, ERR_METHOD, NULL, NULL, "GET, HEAD"},
	    {"GET", "/..", 2, ERR_OK, "..", NULL, NULL},
	    {"GET", "no-slash", -1, ERR_NOT_FOUND, NULL, NULL, NULL},
	};
	size_t n = sizeof(routes) / sizeof(routes[0]);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pool *pool = pool_new();
		const char *args[HTTP_PATH_ARGS_MAX] = {0};
		enum err e = ERR__COUNT;
		const char *allow = NULL;
		const struct route *r =
		    route_match(routes, n, cases[i].method, cases[i].path, pool, args, &e, &allow);
		int idx = r ? (int)(r - routes) : -1;
		ok(idx == cases[i].want_route && e == cases[i].want_err,
		   "%s \"%s\" -> route %d (%s)", cases[i].method, cases[i].path, idx, err_code(e));
		if (cases[i].arg0)
			is_str(args[0], cases[i].arg0, "first path argument");
		if (cases[i].arg1)
			is_str(args[1], cases[i].arg1, "second path argument");
		if (cases[i].want_err == ERR_METHOD)
			is_str(allow, cases[i].allow, "Allow lists the methods of the path");
		pool_free(pool);
	}
	return tap_done();
}
