/* tts_run: the parent's side of a synthesis: fork the engine child with its
 * limits, read its PCM before a deadline and encode it as it comes. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "speech/tts_impl.h"
#include "speech/tts_polly.h"

#if defined(__SANITIZE_ADDRESS__)
#define TTS_ASAN 1 /* ASan reserves terabytes of shadow memory: no RLIMIT_AS */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TTS_ASAN 1
#endif
#endif

enum { CHILD_OPEN_FILES_MAX = 64 };

static void set_limit(int resource, rlim_t v)
{
	struct rlimit rl = {.rlim_cur = v, .rlim_max = v};
	if (setrlimit(resource, &rl) != 0)
		_exit(4);
}

/* In the child: default signals, no new privileges, death with the parent,
 * the limits, and only the pipe (on TTS_CHILD_FD) and stderr open. */
static _Noreturn void child(int fd, const struct tts_voice *voice, const struct tts_script *script,
                            double speed, const struct tts_limits *l)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(SIGPIPE, &dfl, NULL);
	sigaction(SIGXCPU, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	/* stderr may be a log file, which RLIMIT_FSIZE 0 refuses: EFBIG, not death. */
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGXFSZ, &ign, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(4);
	if (fd != TTS_CHILD_FD && dup2(fd, TTS_CHILD_FD) < 0)
		_exit(4);
	close(STDIN_FILENO); /* the FastCGI socket */
	close(STDOUT_FILENO);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, TTS_CHILD_FD + 1, ~0U, 0) != 0)
#endif
		for (int i = TTS_CHILD_FD + 1; i < 4096; i++)
			close(i);
	set_limit(RLIMIT_CPU, (rlim_t)l->cpu_seconds);
	set_limit(RLIMIT_FSIZE, 0);
	set_limit(RLIMIT_CORE, 0);
	set_limit(RLIMIT_NOFILE, CHILD_OPEN_FILES_MAX);
#ifndef TTS_ASAN
	set_limit(RLIMIT_AS, (rlim_t)l->memory_mb * 1024 * 1024);
#endif
	tts_child_run(voice, script, speed, l);
}

/* Reads exactly n bytes before deadline: 1 done, 0 end of file, -1 error,
 * -2 timed out. */
static int read_full(int fd, void *dst, size_t n, long long deadline)
{
	char *p = dst;
	size_t got = 0;
	while (got < n) {
		long long left = deadline - clock_ms();
		if (left <= 0)
			return -2;
		struct pollfd pfd = {fd, POLLIN, 0};
		int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		ssize_t k = read(fd, p + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)k;
	}
	return 1;
}

/* Reads the child's answer into the encoder. */
static enum err pump(int fd, enum tts_format format, const struct tts_limits *l, FILE *out,
                     const struct tts_tap *tap, struct tts_result *res, long long deadline)
{
	struct tts_hello hello;
	int r = read_full(fd, &hello, sizeof(hello), deadline);
	if (r == -2)
		return ERR_TIMEOUT;
	if (r != 1 || hello.magic != TTS_FRAME_MAGIC || hello.sample_rate < 4000 ||
	    hello.sample_rate > 96000)
		return ERR_INTERNAL;
	res->sample_rate = hello.sample_rate;
	struct tts_encoder *enc = tts_encoder_new(format, hello.sample_rate, out, tap);
	if (enc == NULL)
		return ERR_INTERNAL;
	static int16_t pcm[TTS_CHUNK_MAX];
	long long max = (long long)l->max_seconds * hello.sample_rate;
	enum err e = ERR_OK;
	for (;;) {
		int32_t n;
		r = read_full(fd, &n, sizeof(n), deadline);
		if (r == 1 && n > 0 && n <= TTS_CHUNK_MAX)
			r = read_full(fd, pcm, (size_t)n * sizeof(*pcm), deadline);
		if (r == -2) {
			e = ERR_TIMEOUT;
			break;
		}
		if (r != 1 || n > TTS_CHUNK_MAX) {
			e = ERR_INTERNAL;
			break;
		}
		if (n <= 0) {
			e = n == 0 ? ERR_OK : (-n > ERR_OK && -n < ERR__COUNT ? -n : ERR_INTERNAL);
			break;
		}
		res->samples += n;
		if (res->samples > max) {
			e = ERR_TOO_LARGE;
			break;
		}
		if (!tts_encoder_write(enc, pcm, (size_t)n)) {
			e = ERR_INTERNAL;
			break;
		}
	}
	if (e == ERR_OK && !tts_encoder_finish(enc))
		e = ERR_INTERNAL;
	else if (e != ERR_OK)
		tts_encoder_free(enc);
	return e;
}

enum err tts_synthesize(const struct tts_voice *voice, const struct tts_script *script,
                        double speed, enum tts_format format, const struct tts_limits *limits,
                        FILE *out, const struct tts_tap *tap, struct tts_result *res)
{
	memset(res, 0, sizeof(*res));
	if (voice->engine == TTS_POLLY)
		return tts_polly_synthesize(voice, script, speed, format, limits, out, tap, res);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error("tts: pipe: %s", strerror(errno));
		return ERR_INTERNAL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("tts: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return ERR_INTERNAL;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], voice, script, speed, limits);
	}
	close(fds[1]);
	long long deadline = clock_ms() + limits->wall_ms;
	enum err e = pump(fds[0], format, limits, out, tap, res, deadline);
	close(fds[0]);
	if (e != ERR_OK)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (e == ERR_OK && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		e = ERR_INTERNAL;
	/* RLIMIT_CPU ends the child with SIGXCPU (soft) or SIGKILL (hard). */
	if (e == ERR_INTERNAL && WIFSIGNALED(status) &&
	    (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))
		e = ERR_TIMEOUT;
	if (e == ERR_INTERNAL)
		log_error("tts: the %s child failed (status %d)", tts_engine_name(voice->engine),
		          status);
	if (e == ERR_OK) {
		res->duration_ms = (long)(res->samples * 1000 / res->sample_rate);
		long pos = ftell(out);
		res->bytes = pos > 0 ? pos : 0;
	}
	return e;
}
