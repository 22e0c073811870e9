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

enum {
	CHILD_OPEN_FILES_MAX = 64,
	TTS_PIPE_BYTES = 1024 * 1024, /* the pipe from a child */
	TTS_SPLIT_MIN_CHARS = 300     /* a script this long is spoken by two children */
};

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

/* One engine child: its pipe, and (the second half of a split script)
 * what was read from the pipe while the first half was being encoded. */
struct kid {
	pid_t pid;
	int fd;      /* -1 once closed */
	bool eof;    /* the pipe reached its end (all of it is in spill) */
	FILE *spill; /* NULL for the first child */
};

/* Moves what the other child has written so far into its spill file, so
 * it never waits on a full pipe: false on a failure. */
static bool drain(struct kid *k)
{
	char buf[64 * 1024];
	ssize_t n = read(k->fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		k->eof = true;
	return fwrite(buf, 1, (size_t)n, k->spill) == (size_t)n;
}

/* Reads exactly n bytes of k's stream before deadline (its spill file
 * first, then its pipe), draining other meanwhile: 1 done, 0 end of
 * stream, -1 error, -2 timed out. */
static int read_full(struct kid *k, void *dst, size_t n, long long deadline, struct kid *other)
{
	char *p = dst;
	size_t got = 0;
	if (k->spill != NULL) {
		got = fread(p, 1, n, k->spill);
		if (got < n && ferror(k->spill))
			return -1;
	}
	while (got < n) {
		if (k->eof)
			return got == 0 ? 0 : -1;
		long long left = deadline - clock_ms();
		if (left <= 0)
			return -2;
		struct pollfd pfd[2] = {{k->fd, POLLIN, 0}, {other ? other->fd : -1, POLLIN, 0}};
		int r = poll(pfd, other && !other->eof ? 2 : 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (other && !other->eof && (pfd[1].revents & (POLLIN | POLLHUP)) && !drain(other))
			return -1;
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t got_now = read(k->fd, p + got, n - got);
		if (got_now < 0 && errno == EINTR)
			continue;
		if (got_now < 0)
			return -1;
		if (got_now == 0)
			k->eof = true;
		got += (size_t)got_now;
	}
	return 1;
}

static enum err read_error(int r)
{
	return r == -2 ? ERR_TIMEOUT : ERR_INTERNAL;
}

/* Reads one child's answer into the encoder, made at the first child's
 * sample rate (*enc NULL); the others must speak at the same. */
static enum err pump(struct kid *k, struct kid *other, struct tts_encoder **enc,
                     enum tts_format format, const struct tts_limits *l, FILE *out,
                     const struct tts_tap *tap, struct tts_result *res, long long deadline)
{
	struct tts_hello hello;
	int r = read_full(k, &hello, sizeof(hello), deadline, other);
	if (r != 1)
		return read_error(r);
	if (hello.magic != TTS_FRAME_MAGIC || hello.sample_rate < 4000 ||
	    hello.sample_rate > 96000 || (*enc != NULL && hello.sample_rate != res->sample_rate))
		return ERR_INTERNAL;
	if (*enc == NULL) {
		res->sample_rate = hello.sample_rate;
		*enc = tts_encoder_new(format, hello.sample_rate, out, tap);
		if (*enc == NULL)
			return ERR_INTERNAL;
	}
	static int16_t pcm[TTS_CHUNK_MAX];
	long long max = (long long)l->max_seconds * hello.sample_rate;
	for (;;) {
		int32_t n;
		r = read_full(k, &n, sizeof(n), deadline, other);
		if (r == 1 && n > 0 && n <= TTS_CHUNK_MAX)
			r = read_full(k, pcm, (size_t)n * sizeof(*pcm), deadline, other);
		if (r != 1)
			return read_error(r);
		if (n > TTS_CHUNK_MAX)
			return ERR_INTERNAL;
		if (n <= 0)
			return n == 0 ? ERR_OK
			              : (-n > ERR_OK && -n < ERR__COUNT ? -n : ERR_INTERNAL);
		res->samples += n;
		if (res->samples > max)
			return ERR_TOO_LARGE;
		if (!tts_encoder_write(*enc, pcm, (size_t)n))
			return ERR_INTERNAL;
	}
}

/* Where a script is cut between two children: the first segment of the
 * second half, or 0 for one child (a short script, or one CPU). */
static size_t split_at(const struct tts_script *script)
{
	static long cpus; /* sysconf reads /sys: once per process */
	if (cpus == 0)
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (script->characters < TTS_SPLIT_MIN_CHARS || cpus < 2)
		return 0;
	size_t chars = 0;
	for (size_t i = 0; i + 1 < script->n; i++) {
		chars += script->segs[i].text ? strlen(script->segs[i].text) : 0;
		if (chars * 2 >= script->characters)
			return i + 1;
	}
	return 0;
}

static enum err spawn(struct kid *k, const struct tts_voice *voice, const struct tts_script *script,
                      double speed, const struct tts_limits *limits)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error("tts: pipe: %s", strerror(errno));
		return ERR_INTERNAL;
	}
	/* A 64 KiB pipe holds 2 s of audio: the child would block on it (and
	 * wait to be scheduled again, long on a loaded machine) a few dozen
	 * times a minute of speech. 1 MiB (Linux's default maximum for
	 * unprivileged pipes) is half a minute; failing is harmless. */
	(void)fcntl(fds[1], F_SETPIPE_SZ, TTS_PIPE_BYTES);
	fflush(NULL);
	k->pid = fork();
	if (k->pid < 0) {
		log_error("tts: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return ERR_INTERNAL;
	}
	if (k->pid == 0) {
		close(fds[0]);
		child(fds[1], voice, script, speed, limits);
	}
	close(fds[1]);
	k->fd = fds[0];
	return ERR_OK;
}

/* Waits for a child (killed first after a failure); e as it stands. */
static enum err reap(struct kid *k, enum err e, const struct tts_voice *voice)
{
	if (k->fd >= 0)
		close(k->fd);
	if (k->spill != NULL)
		fclose(k->spill);
	if (k->pid <= 0)
		return e;
	if (e != ERR_OK)
		kill(k->pid, SIGKILL);
	int status = 0;
	while (waitpid(k->pid, &status, 0) < 0 && errno == EINTR)
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
	return e;
}

/* A long script is spoken by two children at once, each half of it, on a
 * machine with two CPUs or more: the first half is encoded (and streamed)
 * as it comes, the second is kept in a temporary file until its turn.
 * The audio is the same as one child's, sooner: the wall time of about
 * half the script, when the machine has the CPUs free. */
enum err tts_synthesize(const struct tts_voice *voice, const struct tts_script *script,
                        double speed, enum tts_format format, const struct tts_limits *limits,
                        FILE *out, const struct tts_tap *tap, struct tts_result *res)
{
	memset(res, 0, sizeof(*res));
	if (voice->engine == TTS_POLLY)
		return tts_polly_synthesize(voice, script, speed, format, limits, out, tap, res);
	size_t cut = split_at(script);
	struct tts_script half[2] = {*script, *script};
	struct kid kids[2] = {{0, -1, false, NULL}, {0, -1, false, NULL}};
	int n = cut ? 2 : 1;
	if (cut) {
		half[0].n = cut;
		half[1].segs += cut;
		half[1].n -= cut;
		kids[1].spill = tmpfile();
	}
	long long deadline = clock_ms() + limits->wall_ms;
	enum err e = ERR_OK;
	if (cut && kids[1].spill == NULL) {
		log_error("tts: no temporary file for the second half: %s", strerror(errno));
		e = ERR_INTERNAL;
	}
	for (int i = 0; i < n && e == ERR_OK; i++)
		e = spawn(&kids[i], voice, &half[i], speed, limits);
	struct tts_encoder *enc = NULL;
	if (e == ERR_OK)
		e = pump(&kids[0], n > 1 ? &kids[1] : NULL, &enc, format, limits, out, tap, res,
		         deadline);
	if (e == ERR_OK && n > 1) {
		if (fflush(kids[1].spill) != 0 || fseek(kids[1].spill, 0, SEEK_SET) != 0)
			e = ERR_INTERNAL;
		else
			e = pump(&kids[1], NULL, &enc, format, limits, out, tap, res, deadline);
	}
	if (e == ERR_OK && !tts_encoder_finish(enc))
		e = ERR_INTERNAL;
	else if (e != ERR_OK)
		tts_encoder_free(enc);
	for (int i = 0; i < 2; i++)
		e = reap(&kids[i], e, voice);
	if (e == ERR_OK) {
		res->duration_ms = (long)(res->samples * 1000 / res->sample_rate);
		long pos = ftell(out);
		res->bytes = pos > 0 ? pos : 0;
	}
	return e;
}
