/* waiters: the shared table of wait slots of a prefork pool. */
#include "web/waiters.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"

struct waiter_slot {
	atomic_int pid;     /* the holder, 0 when free */
	atomic_ullong user; /* hash of the holder's user id */
};

static struct waiter_slot *slots;
static long nslots;
static long held = -1; /* the slot this process holds */

enum err waiters_init(long n)
{
	if (n < 0 || n > WAITERS_MAX)
		return ERR_INVALID;
	nslots = n;
	if (n == 0)
		return ERR_OK;
	void *m = mmap(NULL, sizeof(*slots) * (size_t)n, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		log_error("waiters: mmap: %s", strerror(errno));
		nslots = 0;
		return ERR_INTERNAL;
	}
	slots = m;
	for (long i = 0; i < n; i++) {
		atomic_init(&slots[i].pid, 0);
		atomic_init(&slots[i].user, 0);
	}
	return ERR_OK;
}

/* FNV-1a, never 0 (0 marks a slot being filled). */
static unsigned long long waiters_hash(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* A slot whose holder is gone (killed mid-wait) is free again. */
static void waiters_reap(struct waiter_slot *w)
{
	int pid = atomic_load(&w->pid);
	if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
		atomic_compare_exchange_strong(&w->pid, &pid, 0);
}

/* True when a slot other than mine is held for user. */
static bool waiters_user_waits(unsigned long long user, long mine)
{
	for (long i = 0; i < nslots; i++)
		if (i != mine && atomic_load(&slots[i].pid) != 0 &&
		    atomic_load(&slots[i].user) == user)
			return true;
	return false;
}

/* The slot this process holds: a copy of `held` inherited across a fork
 * names the parent's slot, not ours. */
static long waiters_mine(void)
{
	if (held >= 0 && atomic_load(&slots[held].pid) != (int)getpid())
		held = -1;
	return held;
}

bool waiters_take(const char *user)
{
	if (!slots || waiters_mine() >= 0)
		return false;
	unsigned long long h = waiters_hash(user);
	for (long i = 0; i < nslots; i++)
		waiters_reap(&slots[i]);
	if (waiters_user_waits(h, -1))
		return false;
	int me = (int)getpid();
	for (long i = 0; i < nslots; i++) {
		int free_pid = 0;
		if (!atomic_compare_exchange_strong(&slots[i].pid, &free_pid, me))
			continue;
		atomic_store(&slots[i].user, h);
		held = i;
		/* Two processes of one user that took slots at the same moment
		 * both see the other and both give up: neither waits. */
		if (waiters_user_waits(h, i)) {
			waiters_release();
			return false;
		}
		return true;
	}
	return false;
}

void waiters_release(void)
{
	if (!slots || waiters_mine() < 0)
		return;
	atomic_store(&slots[held].user, 0);
	atomic_store(&slots[held].pid, 0);
	held = -1;
}

long waiters_busy(void)
{
	long n = 0;
	for (long i = 0; slots && i < nslots; i++)
		n += atomic_load(&slots[i].pid) != 0;
	return n;
}
