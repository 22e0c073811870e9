/* fcgi_client: the FastCGI 1.0 record protocol, client side. */
#include "fcgi_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/mem.h"

enum {
	FCGI_VERSION_1 = 1,
	FCGI_BEGIN_REQUEST = 1,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_RESPONDER = 1,
	FCGI_REQUEST_ID = 1,
	FCGI_HEADER_LEN = 8
};

int fcgi_connect(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool read_all(int fd, void *data, size_t len)
{
	char *p = data;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool send_record(int fd, int type, const void *content, size_t len)
{
	unsigned char h[FCGI_HEADER_LEN] = {
	    FCGI_VERSION_1,
	    (unsigned char)type,
	    0,
	    FCGI_REQUEST_ID,
	    (unsigned char)(len >> 8),
	    (unsigned char)(len & 0xff),
	    0,
	    0,
	};
	return write_all(fd, h, sizeof(h)) && (len == 0 || write_all(fd, content, len));
}

/* Appends one name-value length in the 1- or 4-byte form. */
static void put_length(struct buf *b, size_t n)
{
	if (n < 128) {
		buf_putc(b, (char)n);
		return;
	}
	unsigned char l[4] = {(unsigned char)((n >> 24) | 0x80), (unsigned char)(n >> 16),
	                      (unsigned char)(n >> 8), (unsigned char)n};
	buf_append(b, l, 4);
}

static bool send_stream(int fd, int type, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		size_t n = len > FCGI_CLIENT_RECORD_MAX ? FCGI_CLIENT_RECORD_MAX : len;
		if (!send_record(fd, type, p, n))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

bool fcgi_send_begin(int fd, const char *const *params)
{
	unsigned char begin[8] = {0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0};
	if (!send_record(fd, FCGI_BEGIN_REQUEST, begin, sizeof(begin)))
		return false;
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; params && params[i] && params[i + 1]; i += 2) {
		size_t nl = strlen(params[i]), vl = strlen(params[i + 1]);
		put_length(&b, nl);
		put_length(&b, vl);
		buf_append(&b, params[i], nl);
		buf_append(&b, params[i + 1], vl);
	}
	bool ok =
	    send_stream(fd, FCGI_PARAMS, b.data, b.len) && send_record(fd, FCGI_PARAMS, NULL, 0);
	buf_clear(&b);
	return ok;
}

bool fcgi_send_stdin(int fd, const void *data, size_t len)
{
	if (len == 0)
		return send_record(fd, FCGI_STDIN, NULL, 0);
	return send_stream(fd, FCGI_STDIN, data, len);
}

bool fcgi_read_response(int fd, struct fcgi_response *out)
{
	memset(out, 0, sizeof(*out));
	struct buf so, se;
	buf_init(&so);
	buf_init(&se);
	static char content[FCGI_CLIENT_RECORD_MAX + 256];
	for (;;) {
		unsigned char h[FCGI_HEADER_LEN];
		if (!read_all(fd, h, sizeof(h)))
			break;
		size_t len = ((size_t)h[4] << 8) | h[5];
		size_t pad = h[6];
		if (h[0] != FCGI_VERSION_1 || !read_all(fd, content, len + pad))
			break;
		if (h[1] == FCGI_STDOUT) {
			buf_append(&so, content, len);
		} else if (h[1] == FCGI_STDERR) {
			buf_append(&se, content, len);
		} else if (h[1] == FCGI_END_REQUEST && len >= 8) {
			unsigned char *c = (unsigned char *)content;
			out->app_status = (int)(((unsigned)c[0] << 24) | ((unsigned)c[1] << 16) |
			                        ((unsigned)c[2] << 8) | c[3]);
			out->ended = true;
			break;
		}
	}
	/* STDOUT may hold NUL bytes in its body: split it by position. */
	size_t head_len = so.len;
	for (size_t i = 0; i + 4 <= so.len; i++) {
		if (memcmp(so.data + i, "\r\n\r\n", 4) == 0) {
			head_len = i;
			break;
		}
	}
	out->head = xstrndup(so.data ? so.data : "", head_len < so.len ? head_len + 2 : head_len);
	size_t body_at = head_len + 4 <= so.len ? head_len + 4 : so.len;
	out->body_len = so.len - body_at;
	out->body = xmalloc(out->body_len + 1);
	if (out->body_len)
		memcpy(out->body, so.data + body_at, out->body_len);
	out->body[out->body_len] = '\0';
	buf_clear(&so);
	out->err = buf_take(&se);
	if (out->head[0]) {
		char v[FCGI_CLIENT_HEADER_MAX];
		out->status = 200;
		if (fcgi_response_header(out, "Status", v, sizeof(v))) {
			char *end = NULL;
			long st = strtol(v, &end, 10);
			out->status = (end != v && st >= 100 && st <= 599) ? (int)st : 0;
		}
	}
	return out->ended;
}

bool fcgi_request(const char *path, const char *const *params, const void *body, size_t len,
                  struct fcgi_response *out)
{
	memset(out, 0, sizeof(*out));
	int fd = fcgi_connect(path);
	if (fd < 0)
		return false;
	bool sent = fcgi_send_begin(fd, params) && (len == 0 || fcgi_send_stdin(fd, body, len)) &&
	            fcgi_send_stdin(fd, NULL, 0);
	bool ok = fcgi_read_response(fd, out) && sent;
	close(fd);
	return ok;
}

bool fcgi_response_header(const struct fcgi_response *r, const char *name, char *dst,
                          size_t dst_size)
{
	size_t nlen = strlen(name);
	for (const char *line = r->head; line && *line;) {
		const char *eol = strstr(line, "\r\n");
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		if (llen > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;
			while (*v == ' ')
				v++;
			size_t vlen = (size_t)(line + llen - v);
			if (vlen >= dst_size)
				vlen = dst_size - 1;
			memcpy(dst, v, vlen);
			dst[vlen] = '\0';
			return true;
		}
		line += llen + (eol ? 2 : 0);
	}
	return false;
}

void fcgi_response_free(struct fcgi_response *r)
{
	free(r->head);
	free(r->body);
	free(r->err);
	memset(r, 0, sizeof(*r));
}
