/* bench/gateway/hello: the trivial FastCGI handler of the gateway
 * benchmark. It answers every request with a small JSON 200 at once: no
 * database, no Redis, no parsing, so that what the benchmark measures is
 * nginx and the gate, not a handler's work. One event loop per process
 * (lib/web/fcgi_mux) on a unix socket it binds:
 *   hello SOCKET_PATH [PROCESSES]
 * It runs until SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "web/fcgi_mux.h"

enum { HELLO_BATCH = 256, HELLO_PROCESSES_MAX = 16 };

static volatile sig_atomic_t hello_stop;

static void on_stop(int sig)
{
	(void)sig;
	hello_stop = 1;
}

static int hello_loop(int fd)
{
	static const char answer[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
	                             "Content-Length: 12\r\n\r\n{\"ok\":true}\n";
	struct fcgi_mux *mux = NULL;
	if (fcgi_mux_new(fd, NULL, &mux) != ERR_OK)
		return 1;
	struct fcgi_mux_req *reqs[HELLO_BATCH];
	while (!hello_stop) {
		size_t n = fcgi_mux_poll(mux, 1000, reqs, HELLO_BATCH);
		for (size_t i = 0; i < n; i++)
			fcgi_mux_respond(mux, reqs[i], answer, sizeof(answer) - 1);
	}
	fcgi_mux_free(mux);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SOCKET_PATH [PROCESSES]\n", argv[0]);
		return 2;
	}
	long procs = argc == 3 ? strtol(argv[2], NULL, 10) : 1;
	if (procs < 1 || procs > HELLO_PROCESSES_MAX)
		procs = 1;
	log_init("hello", LOG_LEVEL_WARN);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hello: socket path too long\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		perror("hello: listen");
		return 1;
	}
	chmod(argv[1], 0666); /* nginx's workers run as another user */
	struct sigaction act;
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_stop;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	pid_t kids[HELLO_PROCESSES_MAX];
	for (long i = 0; i < procs; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(hello_loop(fd));
	}
	while (!hello_stop)
		pause();
	for (long i = 0; i < procs; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	unlink(argv[1]);
	return 0;
}
