/* Unit tests for waiters: slots shared by forked processes, one per user,
 * refused when all are taken, taken back from a process that died. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "web/waiters.h"

/* A child that takes a slot for user, reports (1 or 0) on a pipe, and
 * holds it until killed. *pid is the child. Returns what it reported. */
static int holder(const char *user, pid_t *pid)
{
	int fds[2];
	char c = '?';
	if (pipe(fds) != 0)
		return -1;
	*pid = fork();
	if (*pid == 0) {
		close(fds[0]);
		char r = waiters_take(user) ? '1' : '0';
		if (write(fds[1], &r, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		c = '?';
	close(fds[0]);
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	pid_t bob, carol, alice2, dave;
	ok(!waiters_take("alice"), "nothing is taken before init");
	ok(waiters_init(-1) == ERR_INVALID && waiters_init(WAITERS_MAX + 1) == ERR_INVALID,
	   "bad slot counts are refused");
	if (!ok(waiters_init(2) == ERR_OK, "two slots"))
		return tap_done();
	ok(waiters_take("alice"), "alice takes one");
	ok(!waiters_take("bob"), "a process holds one slot at a time");
	is_long(holder("alice", &alice2), 0, "alice's second wait (another process) is refused");
	reap(alice2);
	is_long(holder("bob", &bob), 1, "bob takes the other, in another process");
	is_long(waiters_busy(), 2, "both slots are busy");
	is_long(holder("carol", &carol), 0, "carol finds none free");
	reap(carol);
	reap(bob);
	is_long(holder("carol", &carol), 1, "bob's process died: carol gets his slot");
	waiters_release();
	waiters_release();
	is_long(waiters_busy(), 1, "alice gave hers back (twice is harmless)");
	is_long(holder(NULL, &dave), 1, "a request without a user may wait too");
	reap(carol);
	reap(dave);
	ok(waiters_take(""), "and counts as one anonymous user");
	waiters_release();
	return tap_done();
}
