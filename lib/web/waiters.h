/* waiters: how many of a prefork pool's processes may wait at once.
 *
 * A process of a libfcgi pool that waits for a job (an upload's `wait`)
 * serves nobody else until the wait ends, so a few users waiting could take
 * the whole pool. The pool's parent makes a table of slots in memory shared
 * with the processes it forks; a wait needs a slot, and one user holds at
 * most one: a refused wait answers at once with what it has, as a wait that
 * timed out does. The rest of the pool stays free for other requests. A
 * slot whose process died is taken back by the next taker. */
#ifndef LECTERN_WAITERS_H
#define LECTERN_WAITERS_H

#include <stdbool.h>

#include "core/err.h"

enum { WAITERS_MAX = 256 /* slots of one pool (its processes at most) */ };

/* In the parent, before forking: `slots` waits may run at once (0..
 * WAITERS_MAX; 0 refuses every wait). ERR_INTERNAL when the shared memory
 * cannot be mapped. Without it every take fails. */
enum err waiters_init(long slots) MUST_CHECK;
/* In a pool process: a slot for user (a user id; NULL or "" counts as one
 * anonymous user) if one is free and user holds none. True when taken. */
bool waiters_take(const char *user);
/* Gives back the slot this process holds, if any (idempotent). */
void waiters_release(void);
/* Slots in use (for tests and health). */
long waiters_busy(void);

#endif
