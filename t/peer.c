/* peer: test servers for the C unit tests. */
#include "peer.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tap.h"

extern char **environ;

static pid_t llm_pid = -1;
static char llm_dir[256]; /* the port file and the log */

static void llm_stop(void)
{
	if (llm_pid > 0) {
		kill(llm_pid, SIGTERM);
		waitpid(llm_pid, NULL, 0);
		llm_pid = -1;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/port", llm_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peer.log", llm_dir);
	unlink(path);
	rmdir(llm_dir);
}

void peer_llm_start(const char *key, char *base, size_t size)
{
	const char *src = getenv("LECTERN_SRCDIR"), *tmp = getenv("TMPDIR");
	snprintf(llm_dir, sizeof(llm_dir), "%s/llm-peer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(llm_dir))
		tap_skip_all("no temporary directory");
	char script[1024], port_file[512], log_path[512];
	snprintf(script, sizeof(script), "%s/t/llm-peer.py", src ? src : ".");
	snprintf(port_file, sizeof(port_file), "%s/port", llm_dir);
	snprintf(log_path, sizeof(log_path), "%s/peer.log", llm_dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	char *argv[] = {"/usr/bin/python3", script, "--port-file", port_file, "--key",
	                (char *)key,        NULL};
	int rc = posix_spawn(&llm_pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		llm_pid = -1;
		llm_stop();
		tap_skip_all("cannot start /usr/bin/python3");
	}
	atexit(llm_stop);
	for (int i = 0; i < 200; i++) { /* up to 10 s */
		FILE *f = fopen(port_file, "r");
		int port = 0;
		bool got = f && fscanf(f, "%d", &port) == 1 && port > 0;
		if (f)
			fclose(f);
		if (got) {
			snprintf(base, size, "http://127.0.0.1:%d/v1", port);
			return;
		}
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	printf("Bail out! the peer did not start; see %s\n", log_path);
	exit(1);
}

int peer_dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		abort();
	close(fd);
	return ntohs(a.sin_port);
}

static size_t sink(char *data, size_t size, size_t n, void *arg)
{
	buf_append(arg, data, size * n);
	return size * n;
}

long peer_fetch(const char *url, struct buf *body)
{
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	long status = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}
