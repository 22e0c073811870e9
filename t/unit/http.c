/* Unit tests for http: JSON limits, query decoding, parameter validation,
 * Content-Disposition. Responses are covered by t/unit/serve over FastCGI. */
#include <stdio.h>
#include <string.h>

#include "web/http.h"
#include "core/mem.h"
#include "tap.h"

static void test_json(void)
{
	char deep_ok[64], deep_bad[64];
	memset(deep_ok, '[', HTTP_JSON_DEPTH_MAX - 1);
	memset(deep_ok + HTTP_JSON_DEPTH_MAX - 1, ']', HTTP_JSON_DEPTH_MAX - 1);
	deep_ok[2 * (HTTP_JSON_DEPTH_MAX - 1)] = '\0';
	memset(deep_bad, '[', HTTP_JSON_DEPTH_MAX + 1);
	memset(deep_bad + HTTP_JSON_DEPTH_MAX + 1, ']', HTTP_JSON_DEPTH_MAX + 1);
	deep_bad[2 * (HTTP_JSON_DEPTH_MAX + 1)] = '\0';
	static const char with_nul[] = "{\"a\":1}\0{\"b\":2}";
	static const struct {
		const char *text;
		size_t len; /* 0 = strlen */
		bool ok;
	} cases[] = {
	    {"{}", 0, true},
	    {"{\"a\": [1, 2, {\"b\": null}]}", 0, true},
	    {" \n{\"a\":1}\n ", 0, true},
	    {"42", 0, true},
	    {"\"text\"", 0, true},
	    {"", 0, false},
	    {"{", 0, false},
	    {"{\"a\":}", 0, false},
	    {"{\"a\":1,}", 0, false},
	    {"{'a':1}", 0, false},
	    {"{\"a\":1} trailing", 0, false},
	    {"{\"a\":1}{\"b\":2}", 0, false},
	    {"[1,2", 0, false},
	    {"{\"a\":NaN}", 0, false},
	    {"{\"a\":\"\xff\"}", 0, false},
	    {"{\"a\":\"\xed\xa0\x80\"}", 0, false},
	    {"123abc", 0, false},
	    {"{\"a\":-Infinity}", 0, false},
	    {"{\"NaN\":\"It's Infinity \\\"q\\\"\"}", 0, true},
	    {"{\"a\":\"\xc0\xaf\"}", 0, false},
	    {"{\"\xed\xa0\x80\":1}", 0, false},
	    {with_nul, sizeof(with_nul) - 1, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		struct json_object *o = http_json_parse(cases[i].text, len);
		ok((o != NULL) == cases[i].ok, "json case %zu parses: %d", i, o != NULL);
		json_object_put(o);
	}
	struct json_object *o = http_json_parse(deep_ok, strlen(deep_ok));
	ok(o != NULL, "nesting below the depth limit parses");
	json_object_put(o);
	o = http_json_parse(deep_bad, strlen(deep_bad));
	ok(o == NULL, "nesting beyond %d levels is refused", HTTP_JSON_DEPTH_MAX);
	json_object_put(o);

	o = json_object_new_object();
	json_object_object_add(o, "url", json_object_new_string("/api/v1/x"));
	json_object_object_add(o, "s", json_object_new_string("caf\xc3\xa9 \"q\""));
	size_t len = 0;
	is_str(http_json_text(o, &len), "{\"url\":\"/api/v1/x\",\"s\":\"caf\xc3\xa9 \\\"q\\\"\"}",
	       "JSON output is compact without escaped slashes");
	is_long(len, strlen(http_json_text(o, NULL)), "JSON length is reported");
	json_object_put(o);
}

static void test_query(void)
{
	struct pool *pool = pool_new();
	struct http_req req = {.pool = pool};
	req.query = "a=1&b=hello+world&c=%41%42%zz&d=&e&a=2&enc%20key=v&nul=x%00y&pct=%";
	static const struct {
		const char *name;
		const char *want;
		size_t len;
	} cases[] = {
	    {"a", "1", 1},        {"b", "hello world", 11}, {"c", "AB%zz", 5}, {"d", "", 0},
	    {"e", "", 0},         {"enc key", "v", 1},      {"nul", "x", 3},   {"pct", "%", 1},
	    {"missing", NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 99;
		const char *v = http_query_len(&req, cases[i].name, &len);
		is_str(v, cases[i].want, cases[i].name);
		if (cases[i].want)
			is_long(len, cases[i].len, "decoded length");
	}
	req.query = NULL;
	ok(http_query(&req, "a") == NULL, "no query string");
	pool_free(pool);
}

static enum err h_none(struct http_req *req)
{
	(void)req;
	return ERR_OK;
}

static const char *const levels[] = {"easy", "medium", "hard", NULL};
static const struct param_spec specs[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, 100, NULL, "20"},
    {"offset", PARAM_QUERY, PARAM_INT, false, 0, 1000000, NULL, "0"},
    {"include", PARAM_QUERY, PARAM_BOOL, false, 0, 0, NULL, "false"},
    {"title", PARAM_BODY, PARAM_STRING, true, 1, 5, NULL, NULL},
    {"difficulty", PARAM_BODY, PARAM_ENUM, false, 0, 0, levels, "medium"},
    {"num", PARAM_BODY, PARAM_INT, false, 1, 50, NULL, "5"},
    {"doc", PARAM_BODY, PARAM_UUID, false, 0, 0, NULL, NULL},
    {"email", PARAM_BODY, PARAM_EMAIL, false, 0, 0, NULL, NULL},
    {"flag", PARAM_BODY, PARAM_BOOL, false, 0, 0, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct route route = {"POST", "/x", h_none, specs, 1024, ROUTE_JSON};

/* Runs validation on query and body; returns the error and details text. */
static enum err validate(const char *query, const char *body, struct pool *pool,
                         struct http_req *req, const char **details)
{
	memset(req, 0, sizeof(*req));
	req->pool = pool;
	req->route = &route;
	req->query = query;
	req->body = body ? http_json_parse(body, strlen(body)) : NULL;
	enum err e = http_params_validate(req);
	*details =
	    req->error_details ? pool_strdup(pool, http_json_text(req->error_details, NULL)) : "";
	json_object_put(req->body);
	req->body = NULL;
	return e;
}

static void test_params(void)
{
	static const struct {
		const char *query;
		const char *body;
		enum err want;
		const char *details; /* substring expected in the details, or NULL */
	} cases[] = {
	    {"", "{\"title\":\"Hi\"}", ERR_OK, NULL},
	    {"", "{}", ERR_INVALID, "{\"field\":\"title\",\"problem\":\"is required\"}"},
	    {"", "{\"title\":null}", ERR_INVALID, "is required"},
	    {"", "{\"title\":42}", ERR_INVALID, "must be a string"},
	    {"", "{\"title\":[\"Hi\"]}", ERR_INVALID, "must be a string"},
	    {"", "{\"title\":\"\"}", ERR_INVALID, "at least 1"},
	    {"", "{\"title\":\"toolong\"}", ERR_INVALID, "at most 5"},
	    {"", "{\"title\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", ERR_OK, NULL},
	    {"", "{\"title\":\"a\\u0000b\"}", ERR_INVALID, "contains NUL"},
	    {"", "{\"title\":\"a\\u001bb\"}", ERR_INVALID, "control"},
	    {"", "{\"title\":\"Hi\",\"num\":\"5\"}", ERR_INVALID, "must be an integer"},
	    {"", "{\"title\":\"Hi\",\"num\":5.0}", ERR_INVALID, "must be an integer"},
	    {"", "{\"title\":\"Hi\",\"num\":51}", ERR_INVALID, "between 1 and 50"},
	    {"", "{\"title\":\"Hi\",\"num\":99999999999999999999}", ERR_INVALID, "num"},
	    {"", "{\"title\":\"Hi\",\"num\":true}", ERR_INVALID, "must be an integer"},
	    {"", "{\"title\":\"Hi\",\"difficulty\":\"HARD\"}", ERR_INVALID, "easy, medium, hard"},
	    {"", "{\"title\":\"Hi\",\"doc\":\"not-a-uuid\"}", ERR_INVALID, "must be a UUID"},
	    {"", "{\"title\":\"Hi\",\"email\":\"no-at-sign\"}", ERR_INVALID, "email"},
	    {"", "{\"title\":\"Hi\",\"flag\":\"true\"}", ERR_INVALID, "must be a boolean"},
	    {"limit=0", "{\"title\":\"Hi\"}", ERR_INVALID, "between 1 and 100"},
	    {"limit=+5", "{\"title\":\"Hi\"}", ERR_INVALID, "must be an integer"},
	    {"limit=%205", "{\"title\":\"Hi\"}", ERR_INVALID, "must be an integer"},
	    {"limit=5%00", "{\"title\":\"Hi\"}", ERR_INVALID, "must be an integer"},
	    {"offset=-1", "{\"title\":\"Hi\"}", ERR_INVALID, "between 0 and 1000000"},
	    {"include=yes", "{\"title\":\"Hi\"}", ERR_INVALID, "true or false"},
	    {"limit=abc&offset=x", "{}", ERR_INVALID, "offset"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pool *pool = pool_new();
		struct http_req req;
		const char *details = "";
		enum err e = validate(cases[i].query, cases[i].body, pool, &req, &details);
		ok(e == cases[i].want, "params case %zu: %s", i, err_code(e));
		if (cases[i].details)
			ok(strstr(details, cases[i].details) != NULL, "details mention \"%s\": %s",
			   cases[i].details, details);
		pool_free(pool);
	}

	struct pool *pool = pool_new();
	struct http_req req;
	const char *details;
	enum err e = validate("limit=7&include=1",
	                      "{\"title\":\"Hi\",\"doc\":\"123E4567-E89B-12D3-A456-426614174000\","
	                      "\"email\":\" A@B.org \",\"flag\":true,\"user_id\":\"forged\"}",
	                      pool, &req, &details);
	ok(e == ERR_OK, "a full valid request passes");
	is_long(http_param_int(&req, "limit"), 7, "query integer");
	is_long(http_param_int(&req, "offset"), 0, "fallback integer");
	ok(http_param_bool(&req, "include"), "query boolean 1");
	is_str(http_param(&req, "difficulty"), "medium", "fallback enum");
	is_long(http_param_int(&req, "num"), 5, "fallback body integer");
	is_str(http_param(&req, "doc"), "123e4567-e89b-12d3-a456-426614174000", "UUID folded");
	is_str(http_param(&req, "email"), "a@b.org", "email normalised");
	ok(http_param_bool(&req, "flag"), "body boolean");
	is_str(http_param(&req, "user_id"), NULL, "undeclared members are not parameters");
	pool_free(pool);
}

static void test_disposition(void)
{
	static const struct {
		const char *name;
		const char *want;
	} cases[] = {
	    {"notes.pdf", "attachment; filename=\"notes.pdf\"; filename*=UTF-8''notes.pdf"},
	    {"my file.txt", "attachment; filename=\"my file.txt\"; filename*=UTF-8''my%20file.txt"},
	    {"caf\xc3\xa9.md", "attachment; filename=\"caf_.md\"; filename*=UTF-8''caf%C3%A9.md"},
	    {"a\"b\\c%d.txt", "attachment; filename=\"c_d.txt\"; filename*=UTF-8''c%25d.txt"},
	    {"q\"uote.txt", "attachment; filename=\"q_uote.txt\"; filename*=UTF-8''q%22uote.txt"},
	    {"evil\r\nSet-Cookie: x=1", "attachment; filename=\"evilSet-Cookie: x=1\"; "
	                                "filename*=UTF-8''evilSet-Cookie%3A%20x%3D1"},
	    {"../../etc/passwd", "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"},
	    {"", "attachment; filename=\"file\"; filename*=UTF-8''file"},
	};
	struct pool *pool = pool_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = http_content_disposition(pool, cases[i].name);
		is_str(got, cases[i].want, "Content-Disposition case");
		ok(!strpbrk(got, "\r\n"), "no line break can reach the header");
	}
	pool_free(pool);
}

int main(void)
{
	test_json();
	test_query();
	test_params();
	test_disposition();
	return tap_done();
}
