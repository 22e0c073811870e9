/* prefork: a parent process that keeps a fixed number of children running.
 *
 * Every served program (the libfcgi pools and the gate) is a parent that
 * forks its workers, replaces any that die (waiting longer each time one
 * dies young, so a crash loop does not spin), and on SIGTERM or SIGINT
 * passes the signal on (again every second, in case a child was between
 * its stop check and a blocking call) and waits for all of them. */
#ifndef LECTERN_PREFORK_H
#define LECTERN_PREFORK_H

enum { PREFORK_CHILDREN_MAX = 256 /* children of one parent */ };

/* Runs `children` processes of child(arg); each exits with what child
 * returns. The children start with SIGTERM, SIGINT and SIGCHLD blocked and
 * set up and unblock their own signals. Returns 0 once every child stopped
 * cleanly after a stop signal, 1 otherwise (also for a bad count). */
int prefork_run(const char *name, long children, int (*child)(void *arg), void *arg);

/* In a child: its slot, 0 .. children - 1, which the child that replaces
 * it takes again (for figures kept per process in shared memory). -1 in a
 * process prefork_run did not fork. */
long prefork_slot(void);

#endif
