/* serve: routing, the per-request pipeline, and the prefork serving loop.
 *
 * Trailing slashes: a path that ends in '/' matches as if it did not (one
 * slash is dropped), and the bare service prefix is the path "/". So
 * "/api/v1/documents", "/api/v1/documents/" both reach pattern "/", and
 * "/sessions/" reaches "/sessions". Empty segments ("a//b") match nothing.
 * HEAD is served by a GET route unless the table has its own HEAD route;
 * the body is then left out. */
#include "web/serve.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "web/prefork.h"
#include "web/valid.h"

enum {
	SERVE_ALLOW_MAX = 256,      /* bytes of an Allow header */
	SERVE_EXIT_INIT_FAILED = 3, /* worker exit status when worker_init failed */
	SERVE_LISTEN_FD_SYSTEMD = 3 /* SD_LISTEN_FDS_START */
};

/* --- Routing -------------------------------------------------------------- */

/* Matches pattern against path segment by segment; fills args. */
static bool pattern_match(const char *pattern, const char *path, size_t path_len, struct pool *pool,
                          const char *args[HTTP_PATH_ARGS_MAX])
{
	const char *p = pattern, *s = path, *s_end = path + path_len;
	size_t nargs = 0;
	if (strcmp(pattern, "/") == 0)
		return path_len == 1 && path[0] == '/';
	while (*p && s < s_end) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		const char *pe = strchr(p, '/');
		size_t plen = pe ? (size_t)(pe - p) : strlen(p);
		const char *se = memchr(s, '/', (size_t)(s_end - s));
		size_t slen = se ? (size_t)(se - s) : (size_t)(s_end - s);
		if (slen == 0)
			return false;
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (nargs >= HTTP_PATH_ARGS_MAX)
				return false;
			args[nargs++] = pool ? pool_strndup(pool, s, slen) : NULL;
		} else if (plen != slen || memcmp(p, s, slen) != 0) {
			return false;
		}
		p += plen;
		s += slen;
	}
	return *p == '\0' && s == s_end;
}

const struct route *route_match(const struct route *routes, size_t nroutes, const char *method,
                                const char *path, struct pool *pool,
                                const char *args[HTTP_PATH_ARGS_MAX], enum err *err,
                                const char **allow)
{
	size_t len = path ? strlen(path) : 0;
	if (len == 0) {
		path = "/";
		len = 1;
	} else if (len > 1 && path[len - 1] == '/' && path[len - 2] != '/') {
		len--;
	}
	if (allow)
		*allow = NULL;
	const struct route *get_route = NULL;
	char allowed[SERVE_ALLOW_MAX] = "";
	size_t alen = 0;
	bool any = false;
	for (size_t i = 0; i < nroutes; i++) {
		const char *tmp[HTTP_PATH_ARGS_MAX] = {0};
		if (!pattern_match(routes[i].pattern, path, len, NULL, tmp))
			continue;
		any = true;
		if (strcmp(routes[i].method, method) == 0) {
			pattern_match(routes[i].pattern, path, len, pool, args);
			*err = ERR_OK;
			return &routes[i];
		}
		if (!get_route && strcmp(routes[i].method, "GET") == 0)
			get_route = &routes[i];
		/* Collect each method once for the Allow header. */
		const char *m = routes[i].method;
		size_t mlen = strlen(m);
		bool seen = false;
		for (const char *q = allowed; *q;) {
			const char *c = strchr(q, ',');
			size_t qlen = c ? (size_t)(c - q) : strlen(q);
			if (qlen == mlen && memcmp(q, m, mlen) == 0)
				seen = true;
			q += qlen;
			while (*q == ',' || *q == ' ')
				q++;
		}
		if (!seen && alen + mlen + 3 < sizeof(allowed)) {
			alen += (size_t)snprintf(allowed + alen, sizeof(allowed) - alen, "%s%s",
			                         alen ? ", " : "", m);
		}
	}
	if (get_route && strcmp(method, "HEAD") == 0) {
		pattern_match(get_route->pattern, path, len, pool, args);
		*err = ERR_OK;
		return get_route;
	}
	if (!any) {
		*err = ERR_NOT_FOUND;
		return NULL;
	}
	if (get_route && alen + 7 < sizeof(allowed))
		alen += (size_t)snprintf(allowed + alen, sizeof(allowed) - alen, ", HEAD");
	*err = ERR_METHOD;
	if (allow)
		*allow = pool ? pool_strdup(pool, allowed) : NULL;
	return NULL;
}

/* --- One request ------------------------------------------------------------ */

static const char *request_id_new(struct pool *pool)
{
	static const char hex[] = "0123456789abcdef";
	static unsigned long counter;
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* Unique enough to find log lines; never used as a secret. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		return pool_printf(pool, "%lx-%lx-%lx", (long)getpid(), (long)ts.tv_nsec,
		                   ++counter);
	}
	char *out = pool_alloc(pool, sizeof(raw) * 2 + 1);
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	return out;
}

/* True when ct is application/json with no charset or a UTF-8 one. */
static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	const char *p = ct + n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	/* Parameters: only a charset matters, and it must be UTF-8. */
	while (*p == ';') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		const char *end = strchr(p, ';');
		size_t plen = end ? (size_t)(end - p) : strlen(p);
		if (plen >= 8 && strncasecmp(p, "charset=", 8) == 0) {
			const char *v = p + 8;
			size_t vlen = plen - 8;
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (!((vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
			      (vlen == 4 && strncasecmp(v, "utf8", 4) == 0)))
				return false;
		}
		p += plen;
	}
	return true;
}

static void json_put_cb(void *obj)
{
	json_object_put(obj);
}

/* Reads and parses the JSON object body of req. */
static enum err read_json_body(struct http_req *req)
{
	if (req->content_length == 0) {
		if (req->route->flags & ROUTE_OPTIONAL_BODY)
			return ERR_OK;
		return http_error(req, ERR_INVALID, "A JSON body is required.");
	}
	if (!is_json_type(req->content_type))
		return http_error(req, ERR_MEDIA_TYPE,
		                  "The body must be application/json in UTF-8.");
	size_t len = (size_t)req->content_length;
	char *text = pool_alloc(req->pool, len + 1);
	size_t got = 0;
	while (got < len) {
		ssize_t n = http_read(req, text + got, len - got);
		if (n <= 0)
			return http_error(req, ERR_INVALID,
			                  "The request body is shorter than its Content-Length.");
		got += (size_t)n;
	}
	struct json_object *obj = http_json_parse(text, len);
	if (!obj)
		return http_error(req, ERR_INVALID,
		                  "Malformed JSON (or nested deeper than %d levels).",
		                  HTTP_JSON_DEPTH_MAX);
	pool_on_free(req->pool, json_put_cb, obj);
	if (!json_object_is_type(obj, json_type_object))
		return http_error(req, ERR_INVALID, "The body must be a JSON object.");
	req->body = obj;
	return ERR_OK;
}

/* Strips the first matching service prefix; NULL when none matches. */
static const char *strip_prefix(const struct service *svc, const char *uri)
{
	if (!svc->prefixes)
		return uri;
	for (size_t i = 0; svc->prefixes[i]; i++) {
		size_t n = strlen(svc->prefixes[i]);
		if (strncmp(uri, svc->prefixes[i], n) == 0 && (uri[n] == '\0' || uri[n] == '/'))
			return uri + n;
	}
	return NULL;
}

static enum err dispatch(const struct service *svc, struct http_req *req)
{
	if (strlen(req->uri) > HTTP_PATH_MAX)
		return http_error(req, ERR_NOT_FOUND, "The path is too long.");
	req->path = strip_prefix(svc, req->uri);
	if (!req->path)
		return ERR_NOT_FOUND;
	enum err e;
	const char *allow = NULL;
	req->route = route_match(svc->routes, svc->nroutes, req->method, req->path, req->pool,
	                         req->path_args, &e, &allow);
	if (!req->route) {
		if (e == ERR_METHOD && allow && http_add_header(req, "Allow", allow) != ERR_OK)
			return ERR_INTERNAL;
		return e;
	}
	const struct route *route = req->route;

	const char *uid = http_env(req, "LECTERN_USER_ID");
	char id[VALID_UUID_LEN + 1];
	if (uid && valid_uuid(uid, id)) {
		req->user_id = pool_strdup(req->pool, id);
		req->user_email = http_env(req, "LECTERN_USER_EMAIL");
		req->user_role = http_env(req, "LECTERN_USER_ROLE");
	}
	if ((route->flags & ROUTE_AUTH) && !req->user_id)
		return http_error(req, ERR_UNAUTHORIZED, "Authentication is required.");

	/* The size is judged on the declared length, before a byte is read. */
	const char *cl = http_env(req, "CONTENT_LENGTH");
	long n = 0;
	if (cl && *cl && !valid_long(cl, 0, LONG_MAX, &n))
		return http_error(req, ERR_INVALID, "Content-Length is not a byte count.");
	req->content_length = n;
	if ((unsigned long long)n > route->max_body)
		return route->max_body
		           ? http_error(req, ERR_TOO_LARGE, "The body is larger than %zu bytes.",
		                        route->max_body)
		           : http_error(req, ERR_TOO_LARGE, "This request takes no body.");
	if (route->flags & ROUTE_JSON) {
		e = read_json_body(req);
		if (e != ERR_OK)
			return e;
	}
	e = http_params_validate(req);
	if (e != ERR_OK)
		return e;
	if (svc->before)
		svc->before(req);
	return route->handler(req);
}

void serve_dispatch(const struct service *svc, FCGX_Request *fcgx)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct http_req req = {0};
	req.pool = pool_new();
	req.fcgx = fcgx;
	const char *v = http_env(&req, "REQUEST_METHOD");
	req.method = v ? v : "";
	v = http_env(&req, "DOCUMENT_URI");
	if (!v || !*v) {
		/* Without nginx's decoded path, use the raw one up to the query. */
		v = http_env(&req, "REQUEST_URI");
		v = v ? pool_strndup(req.pool, v, strcspn(v, "?")) : "/";
	}
	req.uri = v;
	v = http_env(&req, "QUERY_STRING");
	req.query = v ? v : "";
	v = http_env(&req, "CONTENT_TYPE");
	req.content_type = v ? v : "";
	v = http_env(&req, "REMOTE_ADDR");
	req.remote_addr = v ? v : "";
	v = http_env(&req, "LECTERN_REQUEST_ID");
	if (!valid_request_id(v))
		v = http_env(&req, "HTTP_X_REQUEST_ID");
	req.request_id = valid_request_id(v) ? v : request_id_new(req.pool);
	log_set_request_id(req.request_id);

	enum err e = dispatch(svc, &req);
	if (e != ERR_OK && req.status == 0) {
		http_send_error(&req, e);
	} else if (e == ERR_OK && req.status == 0) {
		log_error("handler for %s %s returned without a response", req.method,
		          req.route ? req.route->pattern : "?");
		http_send_error(&req, ERR_INTERNAL);
	} else if (e != ERR_OK) {
		log_debug("handler returned %s after answering %d", err_code(e), req.status);
	}
	if (svc->after)
		svc->after(&req);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long us = (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	long ms = us / 1000;
	/* The path only: query values may hold secrets. */
	log_info("access method=%s path=%s status=%d ms=%ld", req.method, req.uri, req.status, ms);
	if (svc->done)
		svc->done(&req, us);
	log_set_request_id(NULL);
	pool_free(req.pool);
}

/* --- The serving loop --------------------------------------------------------- */

static volatile sig_atomic_t process_stop;

static void process_on_signal(int sig)
{
	(void)sig;
	process_stop = 1;
	/* Makes libfcgi's accept loop give up; reads and writes of the request
	 * in hand are not affected by it. */
	FCGX_ShutdownPending();
}

/* Idle workers must be interrupted in accept(); busy ones must not have
 * their reads and writes interrupted, so SA_RESTART follows the state. */
static void process_signals(bool busy)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = process_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = busy ? SA_RESTART : 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int process_main(const struct service *svc, int listen_fd)
{
	sigset_t none;
	sigemptyset(&none);
	process_signals(false);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (svc->worker_init && svc->worker_init() != ERR_OK) {
		log_error("worker start-up failed; stopping this worker");
		return SERVE_EXIT_INIT_FAILED;
	}
	FCGX_Request r;
	if (FCGX_InitRequest(&r, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("FCGX_InitRequest failed");
		return 1;
	}
	int status = 0;
	while (!process_stop) {
		int rc = FCGX_Accept_r(&r);
		if (rc < 0) {
			if (process_stop || rc == -EINTR)
				continue;
			log_error("FCGX_Accept_r failed: %s",
			          strerror(-rc > 0 && -rc < 4096 ? -rc : EIO));
			status = 1;
			break;
		}
		process_signals(true);
		serve_dispatch(svc, &r);
		FCGX_Finish_r(&r);
		process_signals(false);
	}
	FCGX_Free(&r, 1);
	if (svc->worker_done)
		svc->worker_done();
	return status;
}

/* Parses an octal file mode such as "0660". */
static bool parse_mode(const char *text, mode_t *out)
{
	if (!text || !*text || strlen(text) > 4)
		return false;
	unsigned v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '7')
			return false;
		v = v * 8 + (unsigned)(*p - '0');
	}
	*out = (mode_t)v;
	return true;
}

static int open_unix(const char *path, long backlog, const char *socket_mode)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t n = strlen(path);
	mode_t mode = 0660;
	if (n == 0 || n >= sizeof(sa.sun_path)) {
		log_error("listen path \"%s\" is empty or too long for a unix socket", path);
		return -1;
	}
	if (socket_mode && !parse_mode(socket_mode, &mode)) {
		log_error("socket mode \"%s\" is not an octal mode", socket_mode);
		return -1;
	}
	memcpy(sa.sun_path, path, n);
	/* A stale socket from an earlier run goes; any other file stays. */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_error("bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (chmod(path, mode) != 0) {
		log_error("chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, (int)backlog) != 0) {
		log_error("listen %s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int open_tcp(const char *addr, long backlog)
{
	enum { HOST_MAX = 256 };
	char host[HOST_MAX];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host) || !colon[1]) {
		log_error("listen address \"%s\" is neither unix:/path nor host:port", addr);
		return -1;
	}
	size_t hlen = (size_t)(colon - addr);
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int gai = getaddrinfo(host, colon + 1, &hints, &res);
	if (gai != 0) {
		log_error("listen address \"%s\": %s", addr, gai_strerror(gai));
		return -1;
	}
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		goto out;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, (int)backlog) != 0) {
		log_error("bind/listen %s: %s", addr, strerror(errno));
		close(fd);
		fd = -1;
	}
out:
	freeaddrinfo(res);
	return fd;
}

int serve_socket(const struct serve_opts *opts, const char **unix_path)
{
	*unix_path = NULL;
	const char *pid_text = getenv("LISTEN_PID");
	const char *fds_text = getenv("LISTEN_FDS");
	long pid = 0, nfds = 0;
	if (pid_text && fds_text && valid_long(pid_text, 1, LONG_MAX, &pid) &&
	    valid_long(fds_text, 1, INT_MAX, &nfds) && pid == (long)getpid()) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		if (nfds > 1)
			log_warn("systemd passed %ld sockets; serving on the first", nfds);
		return SERVE_LISTEN_FD_SYSTEMD;
	}
	int accepting = 0;
	socklen_t len = sizeof(accepting);
	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting)
		return 0; /* spawn-fcgi */
	if (!opts->listen || !*opts->listen) {
		log_error("no inherited socket and no listen address");
		return -1;
	}
	long backlog = opts->backlog > 0 ? opts->backlog : SOMAXCONN;
	if (strncmp(opts->listen, "unix:", 5) == 0) {
		int fd = open_unix(opts->listen + 5, backlog, opts->socket_mode);
		if (fd >= 0)
			*unix_path = opts->listen + 5;
		return fd;
	}
	return open_tcp(opts->listen, backlog);
}

/* What a pool's child needs to serve. */
struct serve_child {
	const struct service *svc;
	int listen_fd;
};

static int serve_child_main(void *arg)
{
	const struct serve_child *c = arg;
	return process_main(c->svc, c->listen_fd);
}

int serve_run(const struct service *svc, const struct serve_opts *opts)
{
	signal(SIGPIPE, SIG_IGN); /* before FCGX_Init, which keeps a non-default handler */
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	const char *unix_path = NULL;
	int fd = serve_socket(opts, &unix_path);
	if (fd < 0)
		return 1;
	struct serve_child child = {.svc = svc, .listen_fd = fd};
	int status = prefork_run(svc->name, opts->workers, serve_child_main, &child);
	if (unix_path)
		unlink(unix_path);
	close(fd);
	return status;
}
