/* Fuzz target: the FastCGI record parser and the HTTP/1.x request reader of
 * the gate (lib/web/fcgi_mux.c).
 *
 * One mux serves a unix socket for the whole run. Each input is what one
 * client connection sends: the first byte seeds the chunk sizes, the rest is
 * written in chunks of 1..N bytes with the mux's loop turned in between, so
 * records and name-value pairs split everywhere. Every request the mux hands
 * out is answered at once; then the client closes.
 * Contract checked: the mux hands out at most one request at a time per
 * connection, parameters are NUL-free strings, and once the client has gone
 * no connection stays open. */
#define _GNU_SOURCE /* mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "fuzz.h"
#include "web/fcgi_mux.h"

enum {
	TURNS_MAX = 64, /* loop turns after the client is done */
	READY_MAX = 8
};

static struct fcgi_mux *mux;
static struct sockaddr_un addr;

static void cleanup(void)
{
	unlink(addr.sun_path);
	char dir[sizeof(addr.sun_path)];
	memcpy(dir, addr.sun_path, sizeof(dir));
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		rmdir(dir);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", LOG_LEVEL_ERROR);
	log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
	const char *tmp = getenv("TMPDIR");
	char dir[sizeof(addr.sun_path) - 16];
	if (snprintf(dir, sizeof(dir), "%s/fuzz-mux-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	        (int)sizeof(dir) ||
	    !mkdtemp(dir))
		abort();
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/s", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0)
		abort();
	atexit(cleanup);
	struct fcgi_mux_limits limits = {.params_max = 4096, .conns_max = 4};
	if (fcgi_mux_new(fd, &limits, &mux) != ERR_OK)
		abort();
	return 0;
}

/* Turns the loop once, answers what came, drains what the client got. */
static size_t turn(int client)
{
	struct fcgi_mux_req *reqs[READY_MAX];
	size_t n = fcgi_mux_poll(mux, 0, reqs, READY_MAX);
	fuzz_check(n <= 1, "one request at a time on one connection");
	for (size_t i = 0; i < n; i++) {
		static const char *const names[] = {"REQUEST_METHOD", "HTTP_AUTHORIZATION",
		                                    "DOCUMENT_URI", "", NULL};
		for (size_t k = 0; names[k]; k++) {
			const char *v = fcgi_mux_param(reqs[i], names[k]);
			if (v)
				fuzz_check(strlen(v) < 65536u * 16, "a parameter is a string");
		}
		(void)fcgi_mux_req_id(reqs[i]);
		static const char answer[] = "Status: 204\r\n\r\n";
		fcgi_mux_respond(mux, reqs[i], answer, sizeof(answer) - 1);
	}
	char sink[4096];
	while (client >= 0 && recv(client, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fuzz_rng rng;
	fuzz_rng_init(&rng, data[0] * 2246822519u + 1);
	data++;
	size--;
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		abort();
	size_t off = 0;
	while (off < size) {
		size_t n = fuzz_rng_chunk(&rng, 512);
		if (n > size - off)
			n = size - off;
		ssize_t w = send(c, data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN)
			break; /* the mux dropped the connection */
		if (w > 0)
			off += (size_t)w;
		turn(c);
	}
	shutdown(c, SHUT_WR);
	for (int i = 0; i < TURNS_MAX / 2; i++)
		turn(c);
	close(c);
	struct fcgi_mux_stats st;
	for (int i = 0; i < TURNS_MAX; i++) {
		turn(-1);
		fcgi_mux_stats(mux, &st);
		if (st.open == 0)
			break;
	}
	fuzz_check(st.open == 0, "no connection outlives its client");
	return 0;
}
