/* prefork: the supervising parent of a process pool. */
#include "web/prefork.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

enum {
	PREFORK_BACKOFF_MIN_MS = 100,  /* first delay before restarting a crashing child */
	PREFORK_BACKOFF_MAX_MS = 5000, /* longest delay between restarts */
	PREFORK_HEALTHY_MS = 1000,     /* a child that lived this long was not crash-looping */
	PREFORK_TICK_MS = 1000         /* the parent looks around at least this often */
};

struct prefork_slot {
	pid_t pid;               /* 0 when no process runs in this slot */
	struct timespec started; /* when it was forked */
	struct timespec restart; /* earliest time of the next fork */
	long backoff_ms;         /* current delay after a quick death */
};

static long my_slot = -1; /* set in each child */

long prefork_slot(void)
{
	return my_slot;
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

static void add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void on_sigchld(int sig)
{
	(void)sig;
}

static void signal_children(const struct prefork_slot *slots, long n)
{
	for (long i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
}

/* Forks the children whose slots are empty and due; returns how many run
 * and lowers *wait_ms to the next due restart. */
static long fork_due(struct prefork_slot *slots, long n, const struct timespec *now, long *wait_ms,
                     int (*child)(void *), void *arg)
{
	long live = 0;
	for (long i = 0; i < n; i++) {
		struct prefork_slot *s = &slots[i];
		if (s->pid > 0) {
			live++;
			continue;
		}
		long due = ms_between(now, &s->restart);
		if (due > 0) {
			if (due < *wait_ms)
				*wait_ms = due;
			continue;
		}
		pid_t pid = fork();
		if (pid < 0) {
			log_error("fork: %s", strerror(errno));
			s->restart = *now;
			add_ms(&s->restart, PREFORK_BACKOFF_MAX_MS);
			continue;
		}
		if (pid == 0) {
			free(slots);
			my_slot = i;
			_exit(child(arg));
		}
		s->pid = pid;
		s->started = *now;
		live++;
	}
	return live;
}

/* Records a child's death; schedules its replacement unless stopping.
 * Returns false when it ended badly during a stop. */
static bool reap_one(struct prefork_slot *s, pid_t dead, int wst, bool stopping,
                     const struct timespec *now)
{
	s->pid = 0;
	bool clean = WIFEXITED(wst) && WEXITSTATUS(wst) == 0;
	if (!clean || !stopping) {
		if (WIFSIGNALED(wst))
			log_error("worker %ld died of signal %d", (long)dead, WTERMSIG(wst));
		else
			log_warn("worker %ld exited with status %d", (long)dead,
			         WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
	}
	if (stopping)
		return clean;
	/* A quick death doubles the delay; a long life resets it. */
	if (ms_between(&s->started, now) < PREFORK_HEALTHY_MS) {
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : PREFORK_BACKOFF_MIN_MS;
		if (s->backoff_ms > PREFORK_BACKOFF_MAX_MS)
			s->backoff_ms = PREFORK_BACKOFF_MAX_MS;
	} else {
		s->backoff_ms = 0;
	}
	s->restart = *now;
	add_ms(&s->restart, s->backoff_ms);
	return true;
}

int prefork_run(const char *name, long children, int (*child)(void *arg), void *arg)
{
	if (children < 1 || children > PREFORK_CHILDREN_MAX) {
		log_error("workers must be 1..%d, not %ld", PREFORK_CHILDREN_MAX, children);
		return 1;
	}
	/* The parent takes its signals synchronously with sigtimedwait. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld; /* a default-ignored SIGCHLD might never queue */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);

	struct prefork_slot *slots = xcalloc((size_t)children, sizeof(*slots));
	bool stopping = false;
	struct timespec stop_nudge = {0, 0};
	int status = 0;
	log_info("serving %s with %ld workers", name, children);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long wait_ms = PREFORK_TICK_MS, live = 0;
		if (!stopping)
			live = fork_due(slots, children, &now, &wait_ms, child, arg);
		else
			for (long i = 0; i < children; i++)
				live += slots[i].pid > 0;
		if (stopping && live == 0)
			break;
		if (stopping && ms_between(&stop_nudge, &now) >= PREFORK_TICK_MS) {
			signal_children(slots, children);
			stop_nudge = now;
		}
		struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
		siginfo_t info;
		int sig = sigtimedwait(&set, &info, &ts);
		if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			log_info("signal %d: stopping %ld workers", sig, live);
			stopping = true;
			clock_gettime(CLOCK_MONOTONIC, &stop_nudge);
			signal_children(slots, children);
		}
		int wst;
		pid_t dead;
		clock_gettime(CLOCK_MONOTONIC, &now);
		while ((dead = waitpid(-1, &wst, WNOHANG)) > 0)
			for (long i = 0; i < children; i++)
				if (slots[i].pid == dead) {
					if (!reap_one(&slots[i], dead, wst, stopping, &now))
						status = 1;
					break;
				}
	}
	free(slots);
	sigprocmask(SIG_SETMASK, &old, NULL);
	log_info("stopped");
	return status;
}
