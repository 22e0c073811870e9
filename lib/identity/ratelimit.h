/* ratelimit: fixed-window request counting in Redis, one script run per check.
 *
 * The counter of key lives at "<key>:<window number>" (window number = Unix
 * time / window_seconds), so each window starts from zero and old counters
 * expire on their own. The check and the count are one Lua script (EVALSHA,
 * loaded with EVAL when Redis does not know it), hence atomic. */
#ifndef LECTERN_RATELIMIT_H
#define LECTERN_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "data/cache.h"
#include "core/err.h"

enum {
	RATELIMIT_KEY_MAX = 200,           /* longest key or block key */
	RATELIMIT_LIMIT_MAX = 1000000000,  /* largest limit */
	RATELIMIT_WINDOW_MAX = 86400 * 31, /* longest window, seconds */
	RATELIMIT_BATCH_GROUP = 16         /* items counted by one script run */
};

struct ratelimit_result {
	bool allowed;     /* this request may go on */
	bool blocked;     /* refused because block_key exists (nothing counted) */
	long limit;       /* the limit applied */
	long remaining;   /* requests left in this window after this one, >= 0 */
	long reset;       /* Unix seconds when this window ends */
	long retry_after; /* seconds to wait when refused (>= 1), else 0 */
};

/* Counts one request against key in the current window, unless block_key (may
 * be NULL) exists: then the request is refused as blocked and not counted
 * (retry_after is the block's remaining lifetime when it has one). Requests
 * beyond limit are refused with remaining 0. ERR_INVALID for an empty or
 * oversize key or a limit/window out of range; Redis failures as cache_command. */
enum err ratelimit_hit(struct cache *c, const char *key, const char *block_key, long limit,
                       long window_seconds, struct ratelimit_result *out) MUST_CHECK;

/* One request of a batch: its counter key and optional block key. */
struct ratelimit_item {
	const char *key;
	const char *block_key; /* may be NULL */
};

/* As ratelimit_hit for n items at once, all against the same limit and
 * window, out[i] for items[i] (items of one key count in order). Up to
 * RATELIMIT_BATCH_GROUP items go in one script run, so one Redis round
 * trip; more take one per group. When ready_key is not NULL it must exist
 * in Redis (the block keys are complete only then): else ERR_NOT_FOUND,
 * with nothing counted in that group. On an error no out[] is valid (the
 * groups before it were counted). */
enum err ratelimit_hit_batch(struct cache *c, const struct ratelimit_item *items, size_t n,
                             const char *ready_key, long limit, long window_seconds,
                             struct ratelimit_result *out) MUST_CHECK;

/* Gives back one request counted by ratelimit_hit in the window that ends
 * at reset (the result's reset): that window's counter goes down by one,
 * never below zero; nothing happens once the window is over. Same errors
 * as ratelimit_hit. */
enum err ratelimit_release(struct cache *c, const char *key, long window_seconds,
                           long reset) MUST_CHECK;

/* Reads key's count in the current window without counting; allowed says
 * whether one more request would be. */
enum err ratelimit_peek(struct cache *c, const char *key, long limit, long window_seconds,
                        struct ratelimit_result *out) MUST_CHECK;

#endif
