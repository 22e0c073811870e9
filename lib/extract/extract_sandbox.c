/* extract_sandbox: runs an engine in a child process with resource limits
 * and takes its answer back through a pipe.
 *
 * The caller may have threads (Kafka clients, a lease heartbeat), so after
 * fork() the child does only what is async-signal-safe: it resets its
 * signals, sets no new privileges, death with its parent, CPU-time, address
 * space, file size (0: it writes no files) and open-file limits, moves its
 * descriptors into place, closes the rest and execs lectern-extract. That
 * program reads the limits from a pipe, confines itself (an unprivileged
 * user, no processes, a seccomp filter: extract/extract_sandbox.h), runs
 * the engine and writes one frame (a fixed header, the metadata, the text).
 * The parent reads at most a frame's ceiling before a wall-clock deadline,
 * else kills the child. */
#define _GNU_SOURCE /* pipe2 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fdio.h"
#include "core/clock.h"
#include "extract/extract.h"
#include "extract/extract_impl.h"
#include "extract/extract_sandbox.h"
#include "core/log.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
#define EXTRACT_ASAN 1 /* ASan reserves terabytes of shadow memory: no RLIMIT_AS */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EXTRACT_ASAN 1
#endif
#endif

enum {
	FRAME_MAGIC = 0x4c455854,  /* "LEXT" */
	PROGRESS_MARK = 0xFE,      /* before the frame: a progress record, the percent follows */
	CHILD_FD_OUT = 3,          /* the pipe, in the child */
	CHILD_FD_IN = 4,           /* the input file, in the child */
	CHILD_FD_LIMITS = 5,       /* a pipe holding the struct extract_limits */
	PROGRAM_PATH_MAX = 4096,   /* the path of lectern-extract */
	CHILD_OPEN_FILES_MAX = 64, /* RLIMIT_NOFILE: tesseract and fontconfig open a few */
	READ_CHUNK = 64 * 1024,
	SANDBOX_UID_NOBODY = 65534, /* when the system has no "nobody" entry */
	CHILD_EXIT_SANDBOX = 125    /* the child could not confine itself */
};

/* argv[1] of lectern-extract that runs the probe instead of an engine. */
static const char probe_type[] = "sandbox-probe";

/* What the child writes first; the strings and the text follow. */
struct frame {
	uint32_t magic;
	int32_t err;
	int64_t pages, ocr_pages;
	uint32_t title_len, author_len, engine_len, message_len;
	uint64_t text_len;
};

static const char *type_noun(enum extract_type t)
{
	switch (t) {
	case EXTRACT_TYPE_PDF:
		return "the PDF";
	case EXTRACT_TYPE_DOCX:
		return "the DOCX document";
	case EXTRACT_TYPE_PNG:
	case EXTRACT_TYPE_JPG:
		return "the image";
	default:
		return "the text file";
	}
}

void extract_out_progress(long percent)
{
	unsigned char rec[2] = {PROGRESS_MARK, (unsigned char)(percent < 0     ? 0
	                                                       : percent > 100 ? 100
	                                                                       : percent)};
	(void)fd_write_all(CHILD_FD_OUT, rec, sizeof(rec));
}

static extract_progress_fn *progress_hook;

void extract_on_progress(extract_progress_fn *fn)
{
	progress_hook = fn;
}

static void set_limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};
	if (setrlimit(resource, &rl) != 0)
		_exit(120);
}

/* Moves the pipes and the input to fixed numbers and closes everything else
 * (async-signal-safe only: this runs between fork and exec). */
static void child_fds(int out_fd, int in_fd, int limits_fd)
{
	int o = fcntl(out_fd, F_DUPFD, 10), i = fcntl(in_fd, F_DUPFD, 10),
	    l = fcntl(limits_fd, F_DUPFD, 10);
	if (o < 0 || i < 0 || l < 0 || dup2(o, CHILD_FD_OUT) < 0 || dup2(i, CHILD_FD_IN) < 0 ||
	    dup2(l, CHILD_FD_LIMITS) < 0)
		_exit(121);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, CHILD_FD_LIMITS + 1, ~0U, 0) == 0)
		return;
#endif
	for (int fd = CHILD_FD_LIMITS + 1; fd < 4096; fd++)
		close(fd);
}

/* The child's environment: the caller's, with OMP_THREAD_LIMIT=1 (made
 * before fork; libgomp reads it when it loads, and the sandbox refuses the
 * threads it would start otherwise). The array lives in pool. */
static char **child_environment(struct pool *pool)
{
	size_t n = 0;
	while (environ[n] != NULL)
		n++;
	char **envp = pool_alloc(pool, (n + 2) * sizeof(*envp));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "OMP_THREAD_LIMIT=", 17) != 0)
			envp[k++] = environ[i];
	envp[k++] = (char *)"OMP_THREAD_LIMIT=1";
	envp[k] = NULL;
	return envp;
}

/* tesseract's OpenMP reads OMP_THREAD_LIMIT when the library loads, which
 * is before the child exists: tell libgomp directly if it is there. */
static void child_one_thread(void)
{
	setenv("OMP_THREAD_LIMIT", "1", 1);
	void *sym = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
	if (sym != NULL) {
		void (*set_threads)(int);
		memcpy(&set_threads, &sym, sizeof(set_threads));
		set_threads(1);
	}
}

/* Between fork and exec: limits, descriptors, then lectern-extract (which
 * sets the address-space limit itself once it is loaded). */
static _Noreturn void child_exec(int out_fd, int in_fd, int limits_fd, const char *program,
                                 char *const argv[], char *const envp[],
                                 const struct extract_limits *l)
{
	/* The caller's handlers and blocked signals must not soften the limits. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &dfl, NULL);
	sigaction(SIGXCPU, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGXFSZ, &ign, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(122);
	child_fds(out_fd, in_fd, limits_fd);
	rlim_t cpu = (rlim_t)l->cpu_seconds;
	set_limit(RLIMIT_CPU, cpu, cpu + 1);
	set_limit(RLIMIT_FSIZE, 0, 0);
	set_limit(RLIMIT_CORE, 0, 0);
	set_limit(RLIMIT_NOFILE, CHILD_OPEN_FILES_MAX, CHILD_OPEN_FILES_MAX);
	execve(program, argv, envp);
	_exit(124);
}

/* The engine for type, on the document at CHILD_FD_IN. */
static enum err run_engine(enum extract_type type, const struct extract_limits *l,
                           struct extract_out *o)
{
	switch (type) {
	case EXTRACT_TYPE_PDF:
		return extract_pdf(CHILD_FD_IN, l, o);
	case EXTRACT_TYPE_DOCX:
		return extract_docx(CHILD_FD_IN, l, o);
	case EXTRACT_TYPE_TXT:
	case EXTRACT_TYPE_MD:
		return extract_text(CHILD_FD_IN, type == EXTRACT_TYPE_MD, l, o);
	case EXTRACT_TYPE_PNG:
	case EXTRACT_TYPE_JPG:
		return extract_image(CHILD_FD_IN, type, l, o);
	default:
		return extract_fail(o, ERR_MEDIA_TYPE, "the file type is not supported");
	}
}

/* --- The confinement of the child (extract/extract_sandbox.h) --------------- */

/* Started as root (a worker run by root, the lab as root): becomes
 * "nobody" with no supplementary groups, for good (real, effective and
 * saved ids). The document and the pipes are already open. */
static bool sandbox_drop_user(void)
{
	if (geteuid() != 0 && getuid() != 0)
		return true;
	uid_t uid = SANDBOX_UID_NOBODY;
	gid_t gid = SANDBOX_UID_NOBODY;
	const struct passwd *pw = getpwnam("nobody");
	if (pw != NULL && pw->pw_uid != 0) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return false;
	/* Regaining root must be impossible now. */
	return getuid() != 0 && geteuid() != 0 && setuid(0) != 0;
}

/* Adds one rule; a system call this architecture lacks is no error. */
static bool sandbox_rule(scmp_filter_ctx ctx, uint32_t action, int call, unsigned n,
                         const struct scmp_arg_cmp *args)
{
	if (call < 0 && call == __NR_SCMP_ERROR)
		return false;
	int rc = seccomp_rule_add_array(ctx, action, call, n, args);
	return rc == 0 || rc == -EDOM || rc == -EFAULT;
}

/* System calls allowed without looking at their arguments. */
static const int sandbox_allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(pread64),
    SCMP_SYS(readv),
    SCMP_SYS(preadv),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(fstatfs),
    SCMP_SYS(lseek),
    SCMP_SYS(getdents64),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(getcwd),
    SCMP_SYS(fcntl),
    SCMP_SYS(dup),
    SCMP_SYS(fadvise64),
    SCMP_SYS(mmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(brk),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getppid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getrandom),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(sysinfo),
    SCMP_SYS(uname),
    SCMP_SYS(getrlimit),
    SCMP_SYS(getrusage),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(restart_syscall),
};

/* Open flags that would write, create or truncate. */
#define SANDBOX_WRITE_FLAGS ((scmp_datum_t)(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND))

/* Loads the filter: what is not allowed fails with EPERM (ioctl with
 * ENOTTY, so isatty() just says no). */
static bool sandbox_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL)
		return false;
	const uint32_t allow = SCMP_ACT_ALLOW;
	bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) == 0;
	for (size_t i = 0; ok && i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]); i++)
		ok = sandbox_rule(ctx, allow, sandbox_allowed[i], 0, NULL);
	/* Writes only to the answer pipe and to stderr (the worker's log). */
	struct scmp_arg_cmp to_out = {
	    .arg = 0, .op = SCMP_CMP_EQ, .datum_a = CHILD_FD_OUT, .datum_b = 0};
	struct scmp_arg_cmp to_err = {
	    .arg = 0, .op = SCMP_CMP_EQ, .datum_a = STDERR_FILENO, .datum_b = 0};
	ok = ok && sandbox_rule(ctx, allow, SCMP_SYS(write), 1, &to_out) &&
	     sandbox_rule(ctx, allow, SCMP_SYS(write), 1, &to_err) &&
	     sandbox_rule(ctx, allow, SCMP_SYS(writev), 1, &to_out) &&
	     sandbox_rule(ctx, allow, SCMP_SYS(writev), 1, &to_err);
	/* Files open for reading only (fonts, OCR data, iconv modules). */
	struct scmp_arg_cmp ro_at = {
	    .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = SANDBOX_WRITE_FLAGS, .datum_b = 0};
	struct scmp_arg_cmp ro = {
	    .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = SANDBOX_WRITE_FLAGS, .datum_b = 0};
	ok = ok && sandbox_rule(ctx, allow, SCMP_SYS(openat), 1, &ro_at) &&
	     sandbox_rule(ctx, allow, SCMP_SYS(open), 1, &ro);
	/* Limits may be read, never changed; signals only to itself (abort). */
	struct scmp_arg_cmp read_only_limit = {
	    .arg = 2, .op = SCMP_CMP_EQ, .datum_a = 0, .datum_b = 0};
	struct scmp_arg_cmp self = {
	    .arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)getpid(), .datum_b = 0};
	ok = ok && sandbox_rule(ctx, allow, SCMP_SYS(prlimit64), 1, &read_only_limit) &&
	     sandbox_rule(ctx, allow, SCMP_SYS(tgkill), 1, &self) &&
	     sandbox_rule(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0, NULL);
	ok = ok && seccomp_load(ctx) == 0;
	seccomp_release(ctx);
	return ok;
}

/* One line of the probe: what was tried and whether it was refused. */
static void probe_line(struct extract_out *o, const char *name, bool refused)
{
	buf_printf(&o->text, "%s=%s\n", name, refused ? "denied" : "ALLOWED");
}

static void *probe_thread(void *arg)
{
	return arg;
}

/* Tries, from inside the sandbox, what a hostile document would. */
static enum err sandbox_probe(struct extract_out *o)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	probe_line(o, "socket_inet", fd < 0);
	if (fd >= 0)
		close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	probe_line(o, "socket_unix", fd < 0);
	if (fd >= 0)
		close(fd);
	fd = open(EXTRACT_PROBE_FILE, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	probe_line(o, "open_write", fd < 0);
	if (fd >= 0)
		close(fd);
	fd = open("/proc/self/comm", O_RDWR | O_CLOEXEC);
	probe_line(o, "open_rdwr", fd < 0);
	if (fd >= 0)
		close(fd);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	probe_line(o, "fork", pid < 0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	pthread_t t;
	int rc = pthread_create(&t, NULL, probe_thread, NULL);
	probe_line(o, "thread", rc != 0);
	if (rc == 0)
		pthread_join(t, NULL);
	char *const args[] = {(char *)"true", NULL};
	execv("/bin/true", args);
	probe_line(o, "exec", true); /* still here */
	probe_line(o, "kill_parent", kill(getppid(), 0) != 0);
	struct rlimit rl = {0, 0};
	getrlimit(RLIMIT_NPROC, &rl);
	buf_printf(&o->text, "uid=%ld\nnproc=%ld\n", (long)getuid(), (long)rl.rlim_cur);
	o->engine = "probe";
	return ERR_OK;
}

bool extract_sandbox_confine(void)
{
	if (!sandbox_drop_user())
		return false;
	set_limit(RLIMIT_NPROC, 0, 0);
	return sandbox_filter();
}

/* The document engines of lectern-extract. */
static enum err document_engine(const char *arg, int fd, const struct extract_limits *l,
                                struct extract_out *o)
{
	(void)fd;
	return run_engine(extract_type_parse(arg), l, o);
}

int extract_child_main(int argc, char **argv)
{
	return extract_child_serve(argc, argv, document_engine);
}

int extract_child_serve(int argc, char **argv, extract_engine_fn *run)
{
	if (argc != 2)
		return 2;
	bool probe = strcmp(argv[1], probe_type) == 0;
	struct extract_limits lim;
	size_t got = 0;
	while (got < sizeof(lim)) {
		ssize_t n = read(CHILD_FD_LIMITS, (char *)&lim + got, sizeof(lim) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 3;
		got += (size_t)n;
	}
	close(CHILD_FD_LIMITS);
	const struct extract_limits *l = &lim;
#ifndef EXTRACT_ASAN
	/* Set here, once the program and its libraries are loaded (a small
	 * limit before exec would stop the loader), and before any input is
	 * read; soft and hard alike, so it cannot be raised again. */
	rlim_t as = (rlim_t)l->memory_mb * 1024 * 1024;
	set_limit(RLIMIT_AS, as, as);
#endif
	struct extract_out o = {.text_max = (size_t)l->max_text_bytes, .pages = 1};
	buf_init(&o.text);
	enum err e = ERR_OK;
	child_one_thread();
	/* From here on the document's bytes may try anything. */
	if (!extract_sandbox_confine())
		_exit(CHILD_EXIT_SANDBOX);
	e = probe ? sandbox_probe(&o) : run(argv[1], CHILD_FD_IN, l, &o);
	if (e == ERR_OK && o.text_over)
		e = extract_fail_text_over(&o);
	if (e != ERR_OK)
		o.text.len = 0;
	const char *engine = o.engine != NULL ? o.engine : "";
	struct frame f = {
	    .magic = FRAME_MAGIC,
	    .err = (int32_t)e,
	    .pages = o.pages,
	    .ocr_pages = o.ocr_pages,
	    .title_len = (uint32_t)strlen(o.title),
	    .author_len = (uint32_t)strlen(o.author),
	    .engine_len = (uint32_t)strlen(engine),
	    .message_len = (uint32_t)strlen(o.message),
	    .text_len = o.text.len,
	};
	bool sent = fd_write_all(CHILD_FD_OUT, &f, sizeof(f)) &&
	            fd_write_all(CHILD_FD_OUT, o.title, f.title_len) &&
	            fd_write_all(CHILD_FD_OUT, o.author, f.author_len) &&
	            fd_write_all(CHILD_FD_OUT, engine, f.engine_len) &&
	            fd_write_all(CHILD_FD_OUT, o.message, f.message_len) &&
	            fd_write_all(CHILD_FD_OUT, o.text.data != NULL ? o.text.data : "", o.text.len);
	/* _exit: the engines' global state is not worth tearing down. */
	_exit(sent ? 0 : 123);
}

/* Where the program name is (in pool): LECTERN_EXTRACT_PROGRAM for
 * lectern-extract, and its directory for the others (the tests); else
 * beside the running program (a build tree, the lab), else where it is
 * installed. */
static const char *extract_program(const char *name, struct pool *pool)
{
	char path[PROGRAM_PATH_MAX];
	const char *env = getenv("LECTERN_EXTRACT_PROGRAM");
	if (env && *env && strcmp(name, "lectern-extract") == 0)
		return env;
	const char *slash = env && *env ? strrchr(env, '/') : NULL;
	if (slash) {
		const char *p = pool_printf(pool, "%.*s/%s", (int)(slash - env), env, name);
		if (access(p, X_OK) == 0)
			return p;
	}
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = '\0';
		char *end = strrchr(path, '/');
		size_t len = strlen(name);
		if (end && (size_t)(end - path) + len + 2 <= sizeof(path)) {
			memcpy(end + 1, name, len + 1);
			if (access(path, X_OK) == 0)
				return pool_strdup(pool, path);
		}
	}
	return pool_printf(pool, "%s/%s", LECTERN_LIBEXECDIR, name);
}

enum read_end { READ_EOF, READ_TIMEOUT, READ_OVER, READ_ERROR };

/* Takes the progress records in front of the frame out of chunk[0..*n)
 * (they are two bytes, PROGRESS_MARK and the percent; *pending holds a
 * mark whose percent is in the next chunk); the rest is the frame's. */
static size_t take_progress(const char *chunk, size_t n, bool framed, int *pending)
{
	size_t i = 0;
	while (!framed && i < n) {
		unsigned char c = (unsigned char)chunk[i];
		if (*pending) {
			if (progress_hook)
				progress_hook(c > 100 ? 100 : c);
			*pending = 0;
			i++;
		} else if (c == PROGRESS_MARK) {
			*pending = 1;
			i++;
		} else {
			break;
		}
	}
	return i;
}

/* Reads the child's frame until EOF, the deadline or the ceiling. */
static enum read_end read_frame(int fd, long long deadline, size_t ceiling, struct buf *b)
{
	char *chunk = xmalloc(READ_CHUNK);
	enum read_end end = READ_EOF;
	int pending = 0;
	for (;;) {
		long long left = deadline - clock_ms();
		if (left <= 0) {
			end = READ_TIMEOUT;
			break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			end = READ_ERROR;
			break;
		}
		if (r == 0)
			continue;
		ssize_t n = read(fd, chunk, READ_CHUNK);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			end = READ_ERROR;
			break;
		}
		if (n == 0)
			break;
		size_t skip = take_progress(chunk, (size_t)n, b->len > 0, &pending);
		n -= (ssize_t)skip;
		if (b->len + (size_t)n > ceiling) {
			end = READ_OVER;
			break;
		}
		buf_append(b, chunk + skip, (size_t)n);
	}
	free(chunk);
	return end;
}

static const char *frame_str(struct pool *pool, const char **p, size_t len)
{
	const char *s = pool_strndup(pool, *p, len);
	*p += len;
	return s;
}

/* Turns a complete frame into the result; false if it is not one. */
static bool frame_parse(const struct buf *b, size_t text_max, struct pool *pool,
                        struct extract_result *out, enum err *e)
{
	struct frame f;
	if (b->len < sizeof(f))
		return false;
	memcpy(&f, b->data, sizeof(f));
	if (f.magic != FRAME_MAGIC || f.err < 0 || f.err >= ERR__COUNT ||
	    f.title_len >= EXTRACT_META_MAX || f.author_len >= EXTRACT_META_MAX ||
	    f.engine_len >= EXTRACT_META_MAX || f.message_len >= EXTRACT_MESSAGE_MAX ||
	    f.text_len > text_max)
		return false;
	size_t want = sizeof(f) + f.title_len + f.author_len + f.engine_len + f.message_len +
	              (size_t)f.text_len;
	if (b->len != want)
		return false;
	const char *p = b->data + sizeof(f);
	out->title = frame_str(pool, &p, f.title_len);
	out->author = frame_str(pool, &p, f.author_len);
	out->engine = frame_str(pool, &p, f.engine_len);
	out->error = frame_str(pool, &p, f.message_len);
	out->text_len = (size_t)f.text_len;
	out->text = frame_str(pool, &p, out->text_len);
	out->pages = (long)f.pages;
	out->ocr_pages = (long)f.ocr_pages;
	*e = (enum err)f.err;
	return true;
}

/* Runs lectern-extract with argv[1] type_name on the file at path (noun
 * names it in error sentences). */
static enum err sandbox_run(const char *name, const char *path, const char *type_name,
                            const char *noun, const struct extract_limits *limits,
                            struct pool *pool, struct extract_result *out)
{
	enum err e = ERR_OK;
	int fds[2] = {-1, -1}, lim_fds[2] = {-1, -1}, in_fd = -1;
	pid_t pid = -1;
	struct buf b;
	buf_init(&b);
	in_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in_fd < 0) {
		log_error("extract: cannot open the stored file: %s", strerror(errno));
		e = ERR_INTERNAL;
		out->error = "the stored file could not be opened";
		goto out;
	}
	/* The limits go through a pipe (far smaller than its buffer), the
	 * type on the command line; both are ready before fork. */
	if (pipe2(fds, O_CLOEXEC) != 0 || pipe2(lim_fds, O_CLOEXEC) != 0 ||
	    !fd_write_all(lim_fds[1], limits, sizeof(*limits))) {
		log_error("extract: pipe: %s", strerror(errno));
		e = ERR_INTERNAL;
		out->error = "the document could not be processed";
		goto out;
	}
	close(lim_fds[1]);
	lim_fds[1] = -1;
	const char *program = extract_program(name, pool);
	char *argv[] = {(char *)name, (char *)type_name, NULL};
	char **envp = child_environment(pool);
	long long deadline = clock_ms() + limits->wall_ms;
	pid = fork();
	if (pid < 0) {
		log_error("extract: fork: %s", strerror(errno));
		e = ERR_INTERNAL;
		out->error = "the document could not be processed";
		goto out;
	}
	if (pid == 0)
		child_exec(fds[1], in_fd, lim_fds[0], program, argv, envp, limits);
	close(fds[1]);
	fds[1] = -1;
	size_t ceiling = sizeof(struct frame) + 4 * EXTRACT_META_MAX + EXTRACT_MESSAGE_MAX +
	                 (size_t)limits->max_text_bytes;
	enum read_end end = read_frame(fds[0], deadline, ceiling, &b);
	if (end != READ_EOF)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (end == READ_TIMEOUT) {
		e = ERR_TIMEOUT;
		out->error = pool_printf(pool, "%s took longer than %ld seconds to read", noun,
		                         (limits->wall_ms + 999) / 1000);
	} else if (end == READ_OVER) {
		e = ERR_TOO_LARGE;
		out->error = pool_printf(pool, "the extracted text is larger than %ld bytes",
		                         limits->max_text_bytes);
	} else if (WIFSIGNALED(status) &&
	           (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL)) {
		e = ERR_TIMEOUT;
		out->error = pool_printf(pool, "%s needs more than %ld seconds of processing", noun,
		                         limits->cpu_seconds);
	} else if (end == READ_ERROR || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	           !frame_parse(&b, (size_t)limits->max_text_bytes, pool, out, &e)) {
		e = ERR_INVALID;
		out->error =
		    pool_printf(pool,
		                "%s could not be read: it is malformed or needs more than "
		                "%ld MiB of memory (the reader stopped with %s %d)",
		                noun, limits->memory_mb, WIFSIGNALED(status) ? "signal" : "status",
		                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	if (e != ERR_OK) {
		out->text = "";
		out->text_len = 0;
		log_warn("extract: %s failed: %s", type_name, out->error);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (lim_fds[i] >= 0)
			close(lim_fds[i]);
	}
	if (in_fd >= 0)
		close(in_fd);
	buf_clear(&b);
	return e;
}

enum err extract_file(const char *path, enum extract_type type, const struct extract_limits *limits,
                      struct pool *pool, struct extract_result *out)
{
	*out = (struct extract_result){
	    .text = "", .title = "", .author = "", .engine = "", .error = ""};
	if (type == EXTRACT_TYPE_NONE || extract_type_name(type)[0] == '\0') {
		out->error = "the file type is not supported";
		return ERR_MEDIA_TYPE;
	}
	return sandbox_run("lectern-extract", path, extract_type_name(type), type_noun(type),
	                   limits, pool, out);
}

enum err extract_run(const char *program, const char *arg, const char *path, const char *noun,
                     const struct extract_limits *limits, struct pool *pool,
                     struct extract_result *out)
{
	*out = (struct extract_result){
	    .text = "", .title = "", .author = "", .engine = "", .error = ""};
	return sandbox_run(program, path, arg, noun, limits, pool, out);
}

enum err extract_sandbox_probe(const struct extract_limits *limits, struct pool *pool,
                               struct extract_result *out)
{
	*out = (struct extract_result){
	    .text = "", .title = "", .author = "", .engine = "", .error = ""};
	return sandbox_run("lectern-extract", "/dev/null", probe_type, "the probe", limits, pool,
	                   out);
}
