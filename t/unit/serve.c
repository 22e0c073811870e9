/* Tests for serve and http over real FastCGI: a served route table in a
 * forked process on a temporary unix socket, driven by t/fcgi_client. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi_client.h"
#include "core/log.h"
#include "web/multipart.h"
#include "web/serve.h"
#include "tap.h"

enum { PATH_MAX_TEST = 256, WAIT_STEPS = 400 };

static char dir[PATH_MAX_TEST / 2];
static char sock_path[PATH_MAX_TEST];
static char log_path[PATH_MAX_TEST];
static char marker_path[PATH_MAX_TEST];

/* --- The served routes ------------------------------------------------------ */

static enum err h_root(struct http_req *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "root", json_object_new_boolean(1));
	return http_send_json(req, 200, o);
}

static enum err h_things(struct http_req *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "limit", json_object_new_int64(http_param_int(req, "limit")));
	return http_send_json(req, 200, o);
}

static enum err h_echo(struct http_req *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(http_param(req, "name")));
	return http_send_json(req, 200, o);
}

static enum err h_item(struct http_req *req)
{
	const char *id;
	enum err e = http_path_uuid(req, "id", &id);
	if (e != ERR_OK)
		return e;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	return http_send_json(req, 200, o);
}

static enum err h_auth(struct http_req *req)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_object_new_string(req->user_id));
	return http_send_json(req, 200, o);
}

static enum err h_nothing(struct http_req *req)
{
	(void)req;
	return ERR_OK;
}

static enum err h_conflict(struct http_req *req)
{
	return http_error(req, ERR_CONFLICT, "Already there.");
}

static enum err h_internal(struct http_req *req)
{
	return http_error(req, ERR_INTERNAL, "db password is hunter2");
}

static enum err h_inject(struct http_req *req)
{
	static const char *const bad[][2] = {
	    {"X-Evil", "a\r\nSet-Cookie: stolen=1"},
	    {"X-Evil", "a\nSet-Cookie: stolen=1"},
	    {"X-Evil", "a\rSet-Cookie: stolen=1"},
	    {"X-Evil\r\nSet-Cookie", "stolen=1"},
	    {"X Evil", "1"},
	    {"", "1"},
	    {"Status", "200 OK"},
	};
	int refused = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_add_header(req, bad[i][0], bad[i][1]) != ERR_OK)
			refused++;
	if (http_add_header(req, "X-Fine", "yes") != ERR_OK)
		return ERR_INTERNAL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "refused", json_object_new_int(refused));
	return http_send_json(req, 200, o);
}

static enum err h_download(struct http_req *req)
{
	return http_send_accel(req, "/_files/ab/cd", "application/pdf",
	                       "r\xc3\xa9sum\xc3\xa9 \"final\".pdf");
}

static enum err h_twice(struct http_req *req)
{
	enum err e = http_send_empty(req, 204);
	if (e != ERR_OK)
		return e;
	struct json_object *o = json_object_new_object();
	return http_send_json(req, 200, o) == ERR_INTERNAL ? ERR_OK : ERR_INTERNAL;
}

static enum err h_empty(struct http_req *req)
{
	return http_send_empty(req, 204);
}

static enum err h_slow(struct http_req *req)
{
	int fd = open(marker_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	char buf[256];
	long long total = 0;
	ssize_t n;
	while ((n = http_read(req, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		return http_error(req, ERR_INVALID, "short body");
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "bytes", json_object_new_int64(total));
	return http_send_json(req, 200, o);
}

struct upload_ctx {
	const char *filename;
	long long bytes;
	int ends;
};

static enum err up_begin(void *ctx, const struct multipart_part *part)
{
	struct upload_ctx *u = ctx;
	u->filename = part->filename;
	return ERR_OK;
}

static enum err up_data(void *ctx, const void *data, size_t len)
{
	(void)data;
	((struct upload_ctx *)ctx)->bytes += (long long)len;
	return ERR_OK;
}

static enum err up_end(void *ctx)
{
	((struct upload_ctx *)ctx)->ends++;
	return ERR_OK;
}

static enum err h_upload(struct http_req *req)
{
	static const struct multipart_limits lim = {
	    .header_max = 1024, .parts_max = 4, .field_max = 32, .total_max = 1 << 20};
	struct upload_ctx u = {0};
	struct multipart_callbacks cb = {up_begin, up_data, up_end, &u};
	struct multipart_form *form;
	enum err e = multipart_read_request(req, &lim, &cb, &form);
	if (e != ERR_OK)
		return e;
	const char *wait = multipart_form_field(form, "wait");
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "wait", json_object_new_string(wait ? wait : ""));
	json_object_object_add(o, "file", json_object_new_string(u.filename ? u.filename : ""));
	json_object_object_add(o, "bytes", json_object_new_int64(u.bytes));
	json_object_object_add(o, "ends", json_object_new_int(u.ends));
	return http_send_json(req, 200, o);
}

static enum err h_crash(struct http_req *req)
{
	(void)req;
	raise(SIGKILL);
	return ERR_OK;
}

static const struct param_spec things_params[] = {
    {"limit", PARAM_QUERY, PARAM_INT, false, 1, 100, NULL, "20"},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};
static const struct param_spec echo_params[] = {
    {"name", PARAM_BODY, PARAM_STRING, true, 1, 50, NULL, NULL},
    {NULL, 0, 0, false, 0, 0, NULL, NULL},
};

static const struct route routes[] = {
    {"GET", "/", h_root, NULL, 0, 0},
    {"GET", "/things", h_things, things_params, 0, 0},
    {"POST", "/echo", h_echo, echo_params, 1024, ROUTE_JSON},
    {"GET", "/items/{id}", h_item, NULL, 0, 0},
    {"GET", "/auth", h_auth, NULL, 0, ROUTE_AUTH},
    {"GET", "/nothing", h_nothing, NULL, 0, 0},
    {"GET", "/conflict", h_conflict, NULL, 0, 0},
    {"GET", "/internal", h_internal, NULL, 0, 0},
    {"GET", "/inject", h_inject, NULL, 0, 0},
    {"GET", "/download", h_download, NULL, 0, 0},
    {"GET", "/twice", h_twice, NULL, 0, 0},
    {"POST", "/empty", h_empty, NULL, 0, 0},
    {"POST", "/slow", h_slow, NULL, 1 << 20, ROUTE_STREAM},
    {"POST", "/upload", h_upload, NULL, 1 << 20, ROUTE_STREAM},
    {"GET", "/crash", h_crash, NULL, 0, 0},
};

static const char *const prefixes[] = {"/api/v1/test", "/t", NULL};
static const struct service svc = {
    .name = "test",
    .prefixes = prefixes,
    .routes = routes,
    .nroutes = sizeof(routes) / sizeof(routes[0]),
};

/* --- Test plumbing ------------------------------------------------------------ */

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static pid_t start_server(long workers)
{
	unlink(sock_path);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log_path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
		log_init("test", LOG_LEVEL_INFO);
		log_set_fd(fd);
		char listen[PATH_MAX_TEST + 8];
		snprintf(listen, sizeof(listen), "unix:%s", sock_path);
		struct serve_opts opts = {
		    .listen = listen, .workers = workers, .backlog = 16, .socket_mode = "0600"};
		_exit(serve_run(&svc, &opts));
	}
	/* Ready when a connection is accepted. */
	for (int i = 0; i < WAIT_STEPS; i++) {
		int fd = fcgi_connect(sock_path);
		if (fd >= 0) {
			close(fd);
			break;
		}
		pause_ms(25);
	}
	return pid;
}

static int stop_server(pid_t pid)
{
	kill(pid, SIGTERM);
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Builds the FastCGI params of a request. */
struct call {
	const char *name;
	const char *method;
	const char *uri;
	const char *query;
	const char *content_type;
	const char *content_length; /* NULL: the body's length */
	const char *body;
	size_t body_len; /* 0: strlen(body) */
	const char *extra_name, *extra_value;
	int want_status;
	const char *want_body;   /* substring, or NULL */
	const char *want_header; /* "Name: value" substring of the head, or NULL */
	const char *unwanted;    /* must not appear in head or body, or NULL */
};

static bool do_call(const struct call *c, struct fcgi_response *r)
{
	char cl[32];
	size_t blen = c->body ? (c->body_len ? c->body_len : strlen(c->body)) : 0;
	snprintf(cl, sizeof(cl), "%zu", blen);
	const char *params[] = {
	    "REQUEST_METHOD",
	    c->method,
	    "DOCUMENT_URI",
	    c->uri,
	    "QUERY_STRING",
	    c->query ? c->query : "",
	    "CONTENT_TYPE",
	    c->content_type ? c->content_type : "",
	    "CONTENT_LENGTH",
	    c->content_length ? c->content_length : (blen ? cl : ""),
	    "REMOTE_ADDR",
	    "127.0.0.1",
	    c->extra_name ? c->extra_name : "X_NONE",
	    c->extra_value ? c->extra_value : "",
	    NULL,
	    NULL,
	};
	return fcgi_request(sock_path, params, c->body, blen, r);
}

static void run_calls(void)
{
	char deep[128];
	memset(deep, 0, sizeof(deep));
	snprintf(deep, sizeof(deep), "{\"name\":");
	for (size_t i = 0; i < 40; i++) {
		deep[8 + i] = '[';
		deep[8 + 40 + i] = ']';
	}
	deep[8 + 80] = '}';
	static const char nul_json[] = "{\"name\":\"a\0b\"}";
	static const char mp_ok[] =
	    "--BND\r\nContent-Disposition: form-data; name=\"wait\"\r\n\r\n5\r\n"
	    "--BND\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"../../etc/passwd\"\r\n"
	    "Content-Type: text/plain\r\n\r\nroot:x:0:0\r\n--BND--\r\n";
	static const char mp_open[] = "--BND\r\nContent-Disposition: form-data; name=\"file\"; "
	                              "filename=\"a.txt\"\r\n\r\ndata";
	const struct call calls[] = {
	    {"GET a route", "GET", "/api/v1/test/things", NULL, NULL, NULL, NULL, 0, NULL, NULL,
	     200, "{\"limit\":20}", "Content-Type: application/json; charset=utf-8", NULL},
	    {"second prefix and a query", "GET", "/t/things", "limit=5", NULL, NULL, NULL, 0, NULL,
	     NULL, 200, "{\"limit\":5}", "Cache-Control: no-store", NULL},
	    {"trailing slash", "GET", "/api/v1/test/things/", NULL, NULL, NULL, NULL, 0, NULL, NULL,
	     200, "limit", NULL, NULL},
	    {"bare prefix is /", "GET", "/api/v1/test", NULL, NULL, NULL, NULL, 0, NULL, NULL, 200,
	     "{\"root\":true}", NULL, NULL},
	    {"prefix with slash is /", "GET", "/api/v1/test/", NULL, NULL, NULL, NULL, 0, NULL,
	     NULL, 200, "{\"root\":true}", NULL, NULL},
	    {"HEAD has no body", "HEAD", "/api/v1/test/things", NULL, NULL, NULL, NULL, 0, NULL,
	     NULL, 200, NULL, "Content-Length: 12", "limit"},
	    {"query out of bounds", "GET", "/api/v1/test/things", "limit=500", NULL, NULL, NULL, 0,
	     NULL, NULL, 400,
	     "\"details\":[{\"field\":\"limit\",\"problem\":\"must be between 1 and 100\"}]", NULL,
	     NULL},
	    {"unknown path", "GET", "/api/v1/test/nope/deeper", NULL, NULL, NULL, NULL, 0, NULL,
	     NULL, 404, "{\"error\":\"not_found\",\"message\":\"Not found.\",\"request_id\":", NULL,
	     "details"},
	    {"wrong method", "DELETE", "/api/v1/test/things", NULL, NULL, NULL, NULL, 0, NULL, NULL,
	     405, "method_not_allowed", "Allow: GET, HEAD", NULL},
	    {"no prefix", "GET", "/other/things", NULL, NULL, NULL, NULL, 0, NULL, NULL, 404, NULL,
	     NULL, NULL},
	    {"prefix needs a segment boundary", "GET", "/api/v1/testthings", NULL, NULL, NULL, NULL,
	     0, NULL, NULL, 404, NULL, NULL, NULL},
	    {"JSON echo", "POST", "/api/v1/test/echo", NULL, "application/json", NULL,
	     "{\"name\":\"Ann\"}", 0, NULL, NULL, 200, "{\"name\":\"Ann\"}", NULL, NULL},
	    {"JSON with charset", "POST", "/api/v1/test/echo", NULL,
	     "Application/JSON; charset=UTF-8", NULL, "{\"name\":\"Ann\"}", 0, NULL, NULL, 200,
	     "Ann", NULL, NULL},
	    {"missing Content-Type", "POST", "/api/v1/test/echo", NULL, NULL, NULL,
	     "{\"name\":\"Ann\"}", 0, NULL, NULL, 415, "unsupported_media_type", NULL, NULL},
	    {"text/plain body", "POST", "/api/v1/test/echo", NULL, "text/plain", NULL,
	     "{\"name\":\"Ann\"}", 0, NULL, NULL, 415, NULL, NULL, NULL},
	    {"JSON in latin1", "POST", "/api/v1/test/echo", NULL,
	     "application/json; charset=latin1", NULL, "{\"name\":\"Ann\"}", 0, NULL, NULL, 415,
	     NULL, NULL, NULL},
	    {"application/jsonx", "POST", "/api/v1/test/echo", NULL, "application/jsonx", NULL,
	     "{\"name\":\"Ann\"}", 0, NULL, NULL, 415, NULL, NULL, NULL},
	    {"malformed JSON", "POST", "/api/v1/test/echo", NULL, "application/json", NULL,
	     "{\"name\":", 0, NULL, NULL, 400, "Malformed JSON", NULL, NULL},
	    {"deeply nested JSON", "POST", "/api/v1/test/echo", NULL, "application/json", NULL,
	     deep, 0, NULL, NULL, 400, "invalid_request", NULL, NULL},
	    {"array body", "POST", "/api/v1/test/echo", NULL, "application/json", NULL, "[1,2]", 0,
	     NULL, NULL, 400, "must be a JSON object", NULL, NULL},
	    {"wrong JSON type", "POST", "/api/v1/test/echo", NULL, "application/json", NULL,
	     "{\"name\":5}", 0, NULL, NULL, 400,
	     "\"details\":[{\"field\":\"name\",\"problem\":\"must be a string\"}]", NULL, NULL},
	    {"missing field", "POST", "/api/v1/test/echo", NULL, "application/json", NULL, "{}", 0,
	     NULL, NULL, 400, "is required", NULL, NULL},
	    {"invalid UTF-8", "POST", "/api/v1/test/echo", NULL, "application/json", NULL,
	     "{\"name\":\"\xc0\xaf\"}", 0, NULL, NULL, 400, NULL, NULL, NULL},
	    {"escaped NUL", "POST", "/api/v1/test/echo", NULL, "application/json", NULL,
	     "{\"name\":\"a\\u0000b\"}", 0, NULL, NULL, 400, "contains NUL", NULL, NULL},
	    {"raw NUL", "POST", "/api/v1/test/echo", NULL, "application/json", NULL, nul_json,
	     sizeof(nul_json) - 1, NULL, NULL, 400, NULL, NULL, NULL},
	    {"huge Content-Length", "POST", "/api/v1/test/echo", NULL, "application/json",
	     "1000000000000", "{\"name\":\"Ann\"}", 0, NULL, NULL, 413, "payload_too_large", NULL,
	     NULL},
	    {"Content-Length not a number", "POST", "/api/v1/test/echo", NULL, "application/json",
	     "12x", "{\"name\":\"Ann\"}", 0, NULL, NULL, 400, NULL, NULL, NULL},
	    {"negative Content-Length", "POST", "/api/v1/test/echo", NULL, "application/json", "-5",
	     "{\"name\":\"Ann\"}", 0, NULL, NULL, 400, NULL, NULL, NULL},
	    {"overflowing Content-Length", "POST", "/api/v1/test/echo", NULL, "application/json",
	     "99999999999999999999999", "{\"name\":\"Ann\"}", 0, NULL, NULL, 400, NULL, NULL, NULL},
	    {"body larger than declared", "POST", "/api/v1/test/echo", NULL, "application/json",
	     "14", "{\"name\":\"Ann\"}{\"name\":\"Bob\"}", 0, NULL, NULL, 200, "Ann", NULL, "Bob"},
	    {"body shorter than declared", "POST", "/api/v1/test/echo", NULL, "application/json",
	     "100", "{\"name\":\"Ann\"}", 0, NULL, NULL, 400, "shorter", NULL, NULL},
	    {"empty JSON body", "POST", "/api/v1/test/echo", NULL, "application/json", NULL, NULL,
	     0, NULL, NULL, 400, "required", NULL, NULL},
	    {"path UUID folded", "GET", "/api/v1/test/items/123E4567-E89B-12D3-A456-426614174000",
	     NULL, NULL, NULL, NULL, 0, NULL, NULL, 200, "123e4567-e89b-12d3-a456-426614174000",
	     NULL, NULL},
	    {"path id that is no UUID", "GET", "/api/v1/test/items/..", NULL, NULL, NULL, NULL, 0,
	     NULL, NULL, 404, NULL, NULL, NULL},
	    {"auth without user", "GET", "/api/v1/test/auth", NULL, NULL, NULL, NULL, 0, NULL, NULL,
	     401, "unauthorized", NULL, NULL},
	    {"auth with a forged header only", "GET", "/api/v1/test/auth", NULL, NULL, NULL, NULL,
	     0, "HTTP_LECTERN_USER_ID", "123e4567-e89b-12d3-a456-426614174000", 401, NULL, NULL,
	     NULL},
	    {"auth with a bad id", "GET", "/api/v1/test/auth", NULL, NULL, NULL, NULL, 0,
	     "LECTERN_USER_ID", "1 OR 1=1", 401, NULL, NULL, NULL},
	    {"auth with a user", "GET", "/api/v1/test/auth", NULL, NULL, NULL, NULL, 0,
	     "LECTERN_USER_ID", "123E4567-E89B-12D3-A456-426614174000", 200,
	     "123e4567-e89b-12d3-a456-426614174000", NULL, NULL},
	    {"handler that answers nothing", "GET", "/api/v1/test/nothing", NULL, NULL, NULL, NULL,
	     0, NULL, NULL, 500, "\"error\":\"internal\"", NULL, NULL},
	    {"handler error with a message", "GET", "/api/v1/test/conflict", NULL, NULL, NULL, NULL,
	     0, NULL, NULL, 409, "{\"error\":\"conflict\",\"message\":\"Already there.\"", NULL,
	     NULL},
	    {"internal message stays inside", "GET", "/api/v1/test/internal", NULL, NULL, NULL,
	     NULL, 0, NULL, NULL, 500, "An internal error occurred.", NULL, "hunter2"},
	    {"header injection refused", "GET", "/api/v1/test/inject", NULL, NULL, NULL, NULL, 0,
	     NULL, NULL, 200, "{\"refused\":7}", "X-Fine: yes", "stolen"},
	    {"accel download", "GET", "/api/v1/test/download", NULL, NULL, NULL, NULL, 0, NULL,
	     NULL, 200, NULL,
	     "Content-Disposition: attachment; filename=\"r_sum_ _final_.pdf\"; "
	     "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf",
	     NULL},
	    {"accel internal URI", "GET", "/api/v1/test/download", NULL, NULL, NULL, NULL, 0, NULL,
	     NULL, 200, NULL, "X-Accel-Redirect: /_files/ab/cd", NULL},
	    {"a second response is refused", "GET", "/api/v1/test/twice", NULL, NULL, NULL, NULL, 0,
	     NULL, NULL, 204, NULL, NULL, "{}"},
	    {"body on a bodiless route", "POST", "/api/v1/test/empty", NULL, "text/plain", NULL,
	     "hello", 0, NULL, NULL, 413, "takes no body", NULL, NULL},
	    {"no body on a bodiless route", "POST", "/api/v1/test/empty", NULL, NULL, NULL, NULL, 0,
	     NULL, NULL, 204, NULL, NULL, NULL},
	    {"request id from nginx", "GET", "/api/v1/test/nope", NULL, NULL, NULL, NULL, 0,
	     "LECTERN_REQUEST_ID", "rid-123.abc", 404, "\"request_id\":\"rid-123.abc\"",
	     "X-Request-ID: rid-123.abc", NULL},
	    {"client request id", "GET", "/api/v1/test/nope", NULL, NULL, NULL, NULL, 0,
	     "HTTP_X_REQUEST_ID", "client_1", 404, "client_1", "X-Request-ID: client_1", NULL},
	    {"bad client request id", "GET", "/api/v1/test/nope", NULL, NULL, NULL, NULL, 0,
	     "HTTP_X_REQUEST_ID", "x\"y z", 404, NULL, NULL, "x\"y"},
	    {"multipart upload", "POST", "/api/v1/test/upload", NULL,
	     "multipart/form-data; boundary=BND", NULL, mp_ok, 0, NULL, NULL, 200,
	     "{\"wait\":\"5\",\"file\":\"passwd\",\"bytes\":10,\"ends\":1}", NULL, NULL},
	    {"multipart without closing boundary", "POST", "/api/v1/test/upload", NULL,
	     "multipart/form-data; boundary=BND", NULL, mp_open, 0, NULL, NULL, 400,
	     "closing boundary", NULL, NULL},
	    {"multipart with another boundary", "POST", "/api/v1/test/upload", NULL,
	     "multipart/form-data; boundary=OTHER", NULL, mp_ok, 0, NULL, NULL, 400, NULL, NULL,
	     NULL},
	    {"multipart without boundary", "POST", "/api/v1/test/upload", NULL,
	     "multipart/form-data", NULL, mp_ok, 0, NULL, NULL, 400, "boundary", NULL, NULL},
	    {"upload as JSON", "POST", "/api/v1/test/upload", NULL, "application/json", NULL, "{}",
	     0, NULL, NULL, 415, NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call *c = &calls[i];
		struct fcgi_response r;
		bool done = do_call(c, &r);
		ok(done && r.status == c->want_status, "%s: %d", c->name, r.status);
		if (!done || r.status != c->want_status)
			tap_diag("head: %s body: %s", r.head ? r.head : "", r.body ? r.body : "");
		if (c->want_body)
			ok(r.body && strstr(r.body, c->want_body), "%s: body has %s", c->name,
			   c->want_body);
		if (c->want_header)
			ok(r.head && strstr(r.head, c->want_header), "%s: head has %s", c->name,
			   c->want_header);
		if (c->unwanted)
			ok(r.head && r.body && !strstr(r.head, c->unwanted) &&
			       !strstr(r.body, c->unwanted),
			   "%s: no %s", c->name, c->unwanted);
		if (c->want_status >= 400) {
			char rid[128] = "";
			ok(r.body && strstr(r.body, "\"request_id\":\"") &&
			       fcgi_response_header(&r, "X-Request-ID", rid, sizeof(rid)) &&
			       rid[0] && strstr(r.body, rid),
			   "%s: the error carries the request id of its header", c->name);
		}
		fcgi_response_free(&r);
	}
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return strstr(text, needle) != NULL;
}

static void test_access_log(void)
{
	const struct call c = {
	    "secret query", "GET", "/api/v1/test/things", "limit=3&token=hunter2", NULL, NULL,
	    NULL,           0,     "LECTERN_REQUEST_ID",  "log-check-1",           200,  NULL,
	    NULL,           NULL};
	struct fcgi_response r;
	ok(do_call(&c, &r) && r.status == 200, "a request with a secret in its query");
	fcgi_response_free(&r);
	ok(file_has(log_path, "rid=log-check-1 msg=\"access method=GET path=/api/v1/test/things "
	                      "status=200 ms="),
	   "one access line with method, path, status and time");
	ok(!file_has(log_path, "hunter2"), "query values and handler secrets never reach the log");
}

/* A worker that gets SIGTERM in the middle of a request finishes it. */
static void test_graceful_stop(pid_t server)
{
	unlink(marker_path);
	int fd = fcgi_connect(sock_path);
	const char *params[] = {"REQUEST_METHOD",
	                        "POST",
	                        "DOCUMENT_URI",
	                        "/api/v1/test/slow",
	                        "CONTENT_LENGTH",
	                        "10",
	                        "CONTENT_TYPE",
	                        "application/octet-stream",
	                        NULL,
	                        NULL};
	bool sent = fd >= 0 && fcgi_send_begin(fd, params) && fcgi_send_stdin(fd, "01234", 5);
	ok(sent, "half a request is sent");
	bool in_handler = false;
	for (int i = 0; i < WAIT_STEPS && !in_handler; i++) {
		struct stat st;
		in_handler = stat(marker_path, &st) == 0;
		if (!in_handler)
			pause_ms(25);
	}
	ok(in_handler, "the worker is inside the handler");
	kill(server, SIGTERM);
	bool forwarded = false;
	for (int i = 0; i < WAIT_STEPS && !forwarded; i++) {
		forwarded = file_has(log_path, "stopping 2 workers");
		if (!forwarded)
			pause_ms(25);
	}
	ok(forwarded, "the parent forwards the signal");
	pause_ms(200); /* let the signal reach the busy worker */
	ok(fcgi_send_stdin(fd, "56789", 5) && fcgi_send_stdin(fd, NULL, 0), "the rest is sent");
	struct fcgi_response r;
	bool done = fcgi_read_response(fd, &r);
	ok(done && r.status == 200 && strstr(r.body, "{\"bytes\":10}"),
	   "the request in hand is finished: %d %s", r.status, r.body ? r.body : "");
	fcgi_response_free(&r);
	if (fd >= 0)
		close(fd);
	int st = 0;
	ok(waitpid(server, &st, 0) == server && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "the server exits with status 0");
	struct stat sst;
	ok(stat(sock_path, &sst) != 0, "the socket it made is removed");
}

static void test_restart(void)
{
	pid_t server = start_server(1);
	const struct call crash = {
	    "crash", "GET", "/api/v1/test/crash", NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL,
	    NULL,    NULL};
	const struct call fine = {
	    "fine", "GET", "/api/v1/test/things", NULL, NULL, NULL, NULL, 0, NULL, NULL, 200, NULL,
	    NULL,   NULL};
	for (int round = 0; round < 2; round++) {
		struct fcgi_response r;
		bool done = do_call(&crash, &r);
		ok(!done && !r.ended, "a worker that dies leaves its request unanswered (round %d)",
		   round);
		fcgi_response_free(&r);
		done = do_call(&fine, &r);
		ok(done && r.status == 200, "a new worker serves the next request (round %d)",
		   round);
		fcgi_response_free(&r);
	}
	ok(file_has(log_path, "died of signal 9"), "the death is logged");
	is_long(stop_server(server), 0, "the restarted pool stops cleanly");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/serve-XXXXXX",
	         tmp && *tmp && strlen(tmp) < 64 ? tmp : "/tmp");
	if (!mkdtemp(dir))
		tap_skip_all("no temporary directory");
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(marker_path, sizeof(marker_path), "%s/in-handler", dir);

	pid_t server = start_server(2);
	struct stat st;
	ok(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	   "the unix socket exists with mode 0600");
	run_calls();
	test_access_log();
	test_graceful_stop(server);
	test_restart();

	unlink(sock_path);
	unlink(marker_path);
	unlink(log_path);
	rmdir(dir);
	return tap_done();
}
