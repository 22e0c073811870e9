/* Unit tests for answer_with_llm against t/llm-peer.py (a local
 * chat-completions server, started here with /usr/bin/python3): a grounded
 * answer is taken with its citations renumbered; an answer that cites a
 * passage it was not given, a failing or slow model are refused, so the
 * caller answers without the model. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "tap.h"
#include "text/answer.h"

extern char **environ;

static const char key[] = "sk-answer-test-secret";
static pid_t peer = -1;
static char dir[256];
static char base[128];

static void stop_peer(void)
{
	if (peer > 0) {
		kill(peer, SIGTERM);
		waitpid(peer, NULL, 0);
		peer = -1;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/port", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peer.log", dir);
	unlink(path);
	rmdir(dir);
}

static void start_peer(void)
{
	const char *src = getenv("LECTERN_SRCDIR"), *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/answer-peer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		tap_skip_all("no temporary directory");
	char script[1024], port_file[512], log_path[512];
	snprintf(script, sizeof(script), "%s/t/llm-peer.py", src ? src : ".");
	snprintf(port_file, sizeof(port_file), "%s/port", dir);
	snprintf(log_path, sizeof(log_path), "%s/peer.log", dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	char *argv[] = {"/usr/bin/python3", script, "--port-file", port_file, "--key",
	                (char *)key,        NULL};
	int rc = posix_spawn(&peer, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		peer = -1;
		printf("Bail out! cannot start /usr/bin/python3\n");
		exit(1);
	}
	atexit(stop_peer);
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(port_file, "r");
		int port = 0;
		bool got = f && fscanf(f, "%d", &port) == 1 && port > 0;
		if (f)
			fclose(f);
		if (got) {
			snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
			return;
		}
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	printf("Bail out! the peer did not start; see %s\n", log_path);
	exit(1);
}

static struct llm_client *client(const char *model, long timeout_ms)
{
	struct llm_config c = {.base_url = base,
	                       .api_key = key,
	                       .model = model,
	                       .timeout_ms = timeout_ms,
	                       .connect_timeout_ms = 1000,
	                       .max_tokens = 300,
	                       .max_attempts = 1,
	                       .backoff_ms = 10};
	struct llm_client *out = NULL;
	if (llm_client_new(&c, &out) != ERR_OK)
		return NULL;
	return out;
}

static const struct answer_passage ps[] = {
    {"The Calvin cycle fixes carbon dioxide into sugar. It runs in the stroma.",
     "Biology > The Calvin cycle", 2.0},
    {"Photosynthesis converts light energy into chemical energy.", "Biology > Photosynthesis", 1.0},
};

int main(void)
{
	start_peer();
	struct pool *pool = pool_new();
	struct answer_llm m;

	struct llm_client *c = client("cite", 10000);
	ok(c != NULL, "a client for the peer");
	ok(answer_with_llm(c, pool, "What does the Calvin cycle fix?", ps, 2, &m) == ERR_OK,
	   "a grounded answer is taken");
	is_str(m.text, "Your document says: The Calvin cycle fixes carbon dioxide into sugar. [1]",
	       "the model's words, cited");
	ok(m.ncited == 1 && m.cited[0] == 0, "[1] is the first passage");
	llm_client_free(c);

	c = client("cite-bad", 10000);
	ok(answer_with_llm(c, pool, "What is the moon made of?", ps, 2, &m) == ERR_INVALID,
	   "an answer citing a passage it was not given is refused");
	llm_client_free(c);

	c = client("no-sections", 10000);
	ok(answer_with_llm(c, pool, "What is photosynthesis?", ps, 2, &m) == ERR_INVALID,
	   "an answer that cites nothing is refused");
	llm_client_free(c);

	c = client("fail-500", 10000);
	ok(answer_with_llm(c, pool, "What is photosynthesis?", ps, 2, &m) != ERR_OK,
	   "a failing model gives no answer");
	llm_client_free(c);

	c = client("slow", 500);
	ok(answer_with_llm(c, pool, "What is photosynthesis?", ps, 2, &m) == ERR_TIMEOUT,
	   "a model that does not answer in time gives no answer");
	llm_client_free(c);

	c = client("echo", 10000);
	ok(answer_with_llm(c, pool, "Say NOT COVERED", ps, 2, &m) == ERR_INVALID,
	   "\"NOT COVERED\" is no answer");
	ok(answer_with_llm(c, pool, "anything", ps, 0, &m) == ERR_INVALID, "no passages: no call");
	llm_client_free(c);
	pool_free(pool);
	return tap_done();
}
