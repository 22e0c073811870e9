/* Fuzz target: JSON request bodies through route parameter tables
 * (lib/web/http.c), as the dispatcher runs them: http_json_parse with its
 * depth limit, then http_params_validate for each table below.
 *
 * Input: the query string up to the first LF, then the body. The tables are
 * shaped like the services' own (fcgi/auth, fcgi/documents) and add every
 * parameter type, so one body exercises all the checks.
 * Contract checked: a parsed body is a JSON value within the depth limit;
 * validation answers ERR_OK or ERR_INVALID (with details); on ERR_OK every
 * required parameter is present, strings are UTF-8 without NUL and within
 * their bounds, integers within theirs, UUIDs and emails in normal form. */
#include <limits.h>
#include <string.h>

#include "core/mem.h"
#include "fuzz.h"
#include "web/http.h"
#include "web/valid.h"

static enum err h_none(struct http_req *req)
{
	(void)req;
	return ERR_OK;
}

static const char *const levels[] = {"easy", "medium", "hard", NULL};

static const struct param_spec register_params[] = {
    {"email", PARAM_BODY, PARAM_EMAIL, true, 3, 254, NULL, NULL},
    {"password", PARAM_BODY, PARAM_STRING, true, 8, 256, NULL, NULL},
    {"name", PARAM_BODY, PARAM_STRING, true, 1, 100, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec refresh_params[] = {
    {"refresh_token", PARAM_BODY, PARAM_STRING, false, 1, 256, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec every_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, 100, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000000, NULL, "0"},
    {"wait", PARAM_QUERY, PARAM_INT, false, 0, 30, NULL, NULL},
    {"include", PARAM_QUERY, PARAM_BOOL, false, 0, 0, NULL, "false"},
    {"q", PARAM_QUERY, PARAM_STRING, false, 0, 0, NULL, NULL},
    {"title", PARAM_BODY, PARAM_STRING, true, 1, 200, NULL, NULL},
    {"difficulty", PARAM_BODY, PARAM_ENUM, false, 0, 0, levels, "medium"},
    {"num", PARAM_BODY, PARAM_INT, false, 1, 50, NULL, "5"},
    {"big", PARAM_BODY, PARAM_INT, false, 0, 0, NULL, NULL},
    {"neg", PARAM_BODY, PARAM_INT, false, -100, 100, NULL, NULL},
    {"document_id", PARAM_BODY, PARAM_UUID, false, 0, 0, NULL, NULL},
    {"email", PARAM_BODY, PARAM_EMAIL, false, 0, 0, NULL, NULL},
    {"flag", PARAM_BODY, PARAM_BOOL, false, 0, 0, NULL, NULL},
    {"text", PARAM_BODY, PARAM_STRING, false, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

static const struct route routes[] = {
    {"POST", "/register", h_none, register_params, 16384, ROUTE_JSON},
    {"POST", "/logout", h_none, refresh_params, 16384, ROUTE_JSON | ROUTE_OPTIONAL_BODY},
    {"POST", "/every", h_none, every_params, 65536, ROUTE_JSON},
};

/* Checks one validated value against its declaration. */
static void check_value(const struct http_req *req, const struct param_spec *spec)
{
	const char *v = http_param(req, spec->name);
	if (!v) {
		fuzz_check(!spec->required && !spec->fallback, "a required parameter is present");
		return;
	}
	size_t len = strlen(v), chars = 0;
	fuzz_check(valid_utf8_count(v, len, &chars), "a value is UTF-8");
	switch (spec->type) {
	case PARAM_STRING: {
		long max = (spec->min == 0 && spec->max == 0) ? HTTP_STRING_MAX : spec->max;
		fuzz_check((long)chars >= spec->min && (long)chars <= max, "string within bounds");
		break;
	}
	case PARAM_INT: {
		long n = http_param_int(req, spec->name);
		if (spec->min || spec->max)
			fuzz_check(n >= spec->min && n <= spec->max, "integer within bounds");
		long back = 0;
		fuzz_check(valid_long(v, LONG_MIN, LONG_MAX, &back) && back == n,
		           "integer text matches its value");
		break;
	}
	case PARAM_BOOL:
		fuzz_check(strcmp(v, "true") == 0 || strcmp(v, "false") == 0, "boolean text");
		break;
	case PARAM_UUID: {
		char id[VALID_UUID_LEN + 1];
		fuzz_check(valid_uuid(v, id) && strcmp(id, v) == 0, "UUID in normal form");
		break;
	}
	case PARAM_EMAIL:
		fuzz_check(len <= VALID_EMAIL_MAX && strchr(v, '@'), "email in normal form");
		for (const char *c = v; *c; c++)
			fuzz_check(!(*c >= 'A' && *c <= 'Z') && *c != ' ', "email lower-cased");
		break;
	case PARAM_ENUM:
		fuzz_check(valid_enum(v, spec->choices, NULL), "enum one of its choices");
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t qlen = lf ? (size_t)(lf - data) : 0;
	const char *body = (const char *)data + (lf ? qlen + 1 : 0);
	size_t blen = size - (lf ? qlen + 1 : 0);

	struct pool *pool = pool_new();
	char *query = pool_strndup(pool, (const char *)data, qlen);
	struct json_object *obj = http_json_parse(body, blen);
	for (size_t r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
		struct http_req req = {0};
		req.pool = pool;
		req.route = &routes[r];
		req.query = query;
		req.body = obj && json_object_is_type(obj, json_type_object) ? obj : NULL;
		enum err e = http_params_validate(&req);
		fuzz_check(e == ERR_OK || e == ERR_INVALID, "validation answers OK or INVALID");
		if (e == ERR_INVALID) {
			fuzz_check(req.error_details != NULL &&
			               json_object_array_length(req.error_details) > 0,
			           "a refusal names its problems");
			continue;
		}
		for (const struct param_spec *s = routes[r].params; s->name; s++)
			check_value(&req, s);
	}
	json_object_put(obj);
	pool_free(pool);
	return 0;
}
