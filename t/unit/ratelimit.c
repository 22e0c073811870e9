/* Unit tests for ratelimit against a private Redis: the limit, blocking,
 * independent keys, peeking, window rollover, script reloading. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/cache.h"
#include "core/log.h"
#include "identity/ratelimit.h"
#include "tap.h"
#include "testenv.h"

/* A long window so that the counting tests never cross a boundary. */
enum { LONG_WINDOW = RATELIMIT_WINDOW_MAX };

static void test_limit(struct cache *c)
{
	struct ratelimit_result res;
	const long limit = 5;
	long reset = 0;

	for (long i = 1; i <= limit; i++) {
		ok(ratelimit_hit(c, "user:1", NULL, limit, LONG_WINDOW, &res) == ERR_OK, "hit %ld",
		   i);
		ok(res.allowed && !res.blocked, "hit %ld is allowed", i);
		is_long(res.remaining, limit - i, "remaining after the hit");
		is_long(res.limit, limit, "the limit is reported");
		is_long(res.retry_after, 0, "no retry_after when allowed");
		if (i > 1)
			is_long(res.reset, reset, "one window for all hits");
		reset = res.reset;
	}
	long now = (long)time(NULL);
	for (int i = 0; i < 3; i++) {
		ok(ratelimit_hit(c, "user:1", NULL, limit, LONG_WINDOW, &res) == ERR_OK,
		   "hit past the limit");
		ok(!res.allowed && !res.blocked, "is refused");
		is_long(res.remaining, 0, "remaining is 0, never negative");
		ok(res.reset > now && res.reset <= now + LONG_WINDOW,
		   "reset is in the future, within the window");
		ok(res.retry_after >= 1 && res.retry_after <= res.reset - now + 1,
		   "retry_after until the reset");
	}
	ok(ratelimit_peek(c, "user:1", limit, LONG_WINDOW, &res) == ERR_OK && !res.allowed &&
	       res.remaining == 0,
	   "peek sees the exhausted key");

	ok(ratelimit_hit(c, "user:2", NULL, limit, LONG_WINDOW, &res) == ERR_OK && res.allowed &&
	       res.remaining == limit - 1,
	   "another key is independent");
	ok(ratelimit_hit(c, "user:1\r\nFLUSHALL", NULL, limit, LONG_WINDOW, &res) == ERR_OK &&
	       res.allowed && res.remaining == limit - 1,
	   "a hostile key is just another key");
	ok(ratelimit_peek(c, "user:1", limit, LONG_WINDOW, &res) == ERR_OK && res.remaining == 0,
	   "and did not touch the others");
	ok(ratelimit_hit(c, "user:1", NULL, limit + 10, LONG_WINDOW, &res) == ERR_OK && res.allowed,
	   "a larger limit on the same key allows more");
}

static void test_peek(struct cache *c)
{
	struct ratelimit_result res;
	ok(ratelimit_peek(c, "peek:1", 3, LONG_WINDOW, &res) == ERR_OK && res.allowed &&
	       res.remaining == 3,
	   "peek of an unused key");
	ok(ratelimit_peek(c, "peek:1", 3, LONG_WINDOW, &res) == ERR_OK && res.remaining == 3,
	   "peek does not count");
	ok(ratelimit_hit(c, "peek:1", NULL, 3, LONG_WINDOW, &res) == ERR_OK && res.remaining == 2,
	   "hit");
	ok(ratelimit_peek(c, "peek:1", 3, LONG_WINDOW, &res) == ERR_OK && res.remaining == 2 &&
	       res.allowed,
	   "peek sees the hit");
}

static void test_block(struct cache *c)
{
	struct ratelimit_result res;
	ok(ratelimit_hit(c, "blk:user", "blk:flag", 3, LONG_WINDOW, &res) == ERR_OK &&
	       res.allowed && res.remaining == 2,
	   "a missing block key does not block");
	ok(cache_command(c, NULL, "SET %s %s EX %d", "blk:flag", "1", 100) == ERR_OK,
	   "set a block");
	for (int i = 0; i < 4; i++) {
		ok(ratelimit_hit(c, "blk:user", "blk:flag", 3, LONG_WINDOW, &res) == ERR_OK,
		   "hit while blocked");
		ok(res.blocked && !res.allowed, "is blocked");
		ok(res.retry_after >= 1 && res.retry_after <= 100,
		   "retry_after is the block's lifetime");
		is_long(res.remaining, 0, "remaining 0 while blocked");
	}
	ok(ratelimit_peek(c, "blk:user", 3, LONG_WINDOW, &res) == ERR_OK && res.remaining == 2,
	   "blocked hits were not counted");
	ok(cache_command(c, NULL, "DEL %s", "blk:flag") == ERR_OK, "lift the block");
	ok(ratelimit_hit(c, "blk:user", "blk:flag", 3, LONG_WINDOW, &res) == ERR_OK &&
	       res.allowed && res.remaining == 1,
	   "counting resumes");
}

static void test_rollover(struct cache *c)
{
	struct ratelimit_result first, second, third;
	ok(ratelimit_hit(c, "roll", NULL, 1, 1, &first) == ERR_OK && first.allowed,
	   "first hit in a 1 s window");
	ok(ratelimit_hit(c, "roll", NULL, 1, 1, &second) == ERR_OK, "second hit");
	/* If the second landed in the next window, that is the rollover itself. */
	if (second.reset == first.reset)
		ok(!second.allowed && second.remaining == 0,
		   "second hit in the same window is refused");
	else
		ok(second.allowed && second.reset > first.reset, "second hit opened a new window");
	while ((long)time(NULL) < second.reset)
		usleep(20000);
	ok(ratelimit_hit(c, "roll", NULL, 1, 1, &third) == ERR_OK && third.allowed &&
	       third.remaining == 0,
	   "a new window allows again");
	ok(third.reset > second.reset, "with a later reset");
}

static void test_invalid(struct cache *c)
{
	static char long_key[RATELIMIT_KEY_MAX + 2];
	memset(long_key, 'k', RATELIMIT_KEY_MAX + 1);
	const struct {
		const char *key, *block;
		long limit, window;
	} cases[] = {
	    {"", NULL, 1, 1},
	    {NULL, NULL, 1, 1},
	    {"k", "", 1, 1},
	    {"k", NULL, 0, 1},
	    {"k", NULL, -5, 1},
	    {"k", NULL, 1, 0},
	    {"k", NULL, 1, -1},
	    {long_key, NULL, 1, 1},
	    {"k", long_key, 1, 1},
	    {"k", NULL, RATELIMIT_LIMIT_MAX + 1L, 1},
	    {"k", NULL, 1, RATELIMIT_WINDOW_MAX + 1L},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ratelimit_result res;
		is_long(ratelimit_hit(c, cases[i].key, cases[i].block, cases[i].limit,
		                      cases[i].window, &res),
		        ERR_INVALID, "invalid arguments are refused");
	}
}

static void test_script_reload(struct testenv_redis *r, struct cache *c)
{
	struct ratelimit_result res;
	ok(cache_command(c, NULL, "SCRIPT FLUSH") == ERR_OK, "Redis forgets the script");
	ok(ratelimit_hit(c, "reload", NULL, 2, LONG_WINDOW, &res) == ERR_OK && res.remaining == 1,
	   "the script is loaded again (NOSCRIPT -> EVAL)");
	ok(ratelimit_hit(c, "reload", NULL, 2, LONG_WINDOW, &res) == ERR_OK && res.remaining == 0,
	   "and runs by its SHA-1");
	ok(testenv_redis_restart(r), "Redis restarted");
	ok(ratelimit_hit(c, "reload", NULL, 2, LONG_WINDOW, &res) == ERR_OK && !res.allowed &&
	       res.remaining == 0,
	   "after a restart: reconnected, reloaded, and the count kept (the lab's Redis persists)");
	testenv_redis_stop(r);
	is_long(ratelimit_hit(c, "reload", NULL, 2, LONG_WINDOW, &res), ERR_UNAVAILABLE,
	        "no Redis is unavailable");
}

int main(void)
{
	struct testenv_redis r;
	struct cache *c = NULL;

	log_init("t-ratelimit", LOG_LEVEL_INFO);
	if (!ok(testenv_redis_start(&r), "private Redis starts"))
		return tap_done();
	if (!ok(cache_connect(r.url, 2000, &c) == ERR_OK, "connect"))
		goto out;
	test_limit(c);
	test_peek(c);
	test_block(c);
	test_rollover(c);
	test_invalid(c);
	test_script_reload(&r, c);
out:
	cache_close(c);
	testenv_redis_stop(&r);
	return tap_done();
}
