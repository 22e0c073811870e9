/* ratelimit: a fixed window counted by one Lua script (EVALSHA, EVAL on NOSCRIPT). */
#include "identity/ratelimit.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

enum { RATELIMIT_COUNTER_MAX = RATELIMIT_KEY_MAX + 24, RATELIMIT_SHA_LEN = 40 };

/* KEYS[1] the window's counter, KEYS[2] the optional block flag.
 * ARGV[1] "hit" or "peek", ARGV[2] the counter's lifetime in seconds.
 * Returns {-1, ttl of the block} when blocked, {0, count} for a peek and
 * {1, count after this hit} for a hit. */
static const char ratelimit_script[] =
    "if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then\n"
    "  return {-1, redis.call('TTL', KEYS[2])}\n"
    "end\n"
    "if ARGV[1] == 'peek' then\n"
    "  return {0, tonumber(redis.call('GET', KEYS[1]) or '0') or 0}\n"
    "end\n"
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end\n"
    "return {1, n}\n";

static bool ratelimit_valid_key(const char *key)
{
	size_t n = key ? strnlen(key, RATELIMIT_KEY_MAX + 1) : 0;
	return n > 0 && n <= RATELIMIT_KEY_MAX;
}

/* The batch script: KEYS[2i-1] and KEYS[2i] are item i's counter and block
 * flag, KEYS[33] the ready key; ARGV[1] the counters' lifetime; ARGV[2] one
 * character per item: '0' an unused slot, '1' a counter only, '2' a counter
 * and a block flag; ARGV[3] '1' when the ready key must exist. Returns kind
 * and value of each item in turn, as the script above does for a hit (0, 0
 * for an unused slot), or {-2} without counting anything when the ready key
 * is missing. */
static const char ratelimit_batch_script[] =
    "if ARGV[3] == '1' and redis.call('EXISTS', KEYS[33]) == 0 then\n"
    "  return {-2}\n"
    "end\n"
    "local out = {}\n"
    "for i = 1, #ARGV[2] do\n"
    "  local mode = string.sub(ARGV[2], i, i)\n"
    "  local kind, value = 0, 0\n"
    "  if mode == '2' and redis.call('EXISTS', KEYS[2 * i]) == 1 then\n"
    "    kind, value = -1, redis.call('TTL', KEYS[2 * i])\n"
    "  elseif mode ~= '0' then\n"
    "    value = redis.call('INCR', KEYS[2 * i - 1])\n"
    "    if value == 1 then redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[1]) end\n"
    "    kind = 1\n"
    "  end\n"
    "  out[2 * i - 1] = kind\n"
    "  out[2 * i] = value\n"
    "end\n"
    "return out\n";

/* Redis names a script by the SHA-1 of its text. */
static bool ratelimit_sha(const char *script, size_t script_len, char out[RATELIMIT_SHA_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(script, script_len, md, &len, EVP_sha1(), NULL) ||
	    len * 2 != RATELIMIT_SHA_LEN)
		return false;
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return true;
}

/* Runs the script by its SHA-1; when Redis does not know it (NOSCRIPT, e.g.
 * after a restart) runs it by text, which also caches it in Redis. */
static enum err ratelimit_eval(struct cache *c, const char *counter, const char *block_key,
                               const char *mode, long ttl, redisReply **out)
{
	char sha[RATELIMIT_SHA_LEN + 1];
	redisReply *r = NULL;
	enum err e;

	*out = NULL;
	if (!ratelimit_sha(ratelimit_script, sizeof(ratelimit_script) - 1, sha)) {
		log_error("ratelimit: SHA-1 failed");
		return ERR_INTERNAL;
	}
	if (block_key)
		e = cache_command_raw(c, &r, "EVALSHA %s 2 %s %s %s %ld", sha, counter, block_key,
		                      mode, ttl);
	else
		e = cache_command_raw(c, &r, "EVALSHA %s 1 %s %s %ld", sha, counter, mode, ttl);
	if (e)
		return e;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		r = NULL;
		if (block_key)
			e = cache_command_raw(c, &r, "EVAL %s 2 %s %s %s %ld", ratelimit_script,
			                      counter, block_key, mode, ttl);
		else
			e = cache_command_raw(c, &r, "EVAL %s 1 %s %s %ld", ratelimit_script,
			                      counter, mode, ttl);
		if (e)
			return e;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		log_error("ratelimit: the script failed: %s", r->str);
		freeReplyObject(r);
		return ERR_INTERNAL;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		log_error("ratelimit: the script answered an unexpected reply");
		freeReplyObject(r);
		return ERR_INTERNAL;
	}
	*out = r;
	return ERR_OK;
}

/* Turns the script's {kind, value} answer into *out. */
static void ratelimit_fill(long long kind, long long value, bool peek, long limit, long now,
                           long reset, struct ratelimit_result *out)
{
	memset(out, 0, sizeof(*out));
	out->limit = limit;
	out->reset = reset;
	if (kind < 0) {
		out->blocked = true;
		out->retry_after = value > 0 ? (long)value : reset - now;
		return;
	}
	long long next = peek ? value + 1 : value; /* the request that is (or would be) made */
	out->allowed = next <= limit;
	out->remaining = value >= limit ? 0 : (long)(limit - value);
	out->retry_after = out->allowed ? 0 : (reset - now > 0 ? reset - now : 1);
}

static enum err ratelimit_run(struct cache *c, const char *key, const char *block_key, bool peek,
                              long limit, long window, struct ratelimit_result *out)
{
	char counter[RATELIMIT_COUNTER_MAX];
	redisReply *r = NULL;

	memset(out, 0, sizeof(*out));
	if (!ratelimit_valid_key(key) || (block_key && !ratelimit_valid_key(block_key)) ||
	    limit < 1 || limit > RATELIMIT_LIMIT_MAX || window < 1 ||
	    window > RATELIMIT_WINDOW_MAX) {
		log_error("ratelimit: invalid key, block key, limit %ld or window %ld", limit,
		          window);
		return ERR_INVALID;
	}
	long now = (long)time(NULL);
	long number = now / window;
	long reset = (number + 1) * window;
	snprintf(counter, sizeof(counter), "%s:%ld", key, number);
	/* The counter outlives its window by a second so clock skew between
	 * hosts never revives it; later windows use other keys anyway. */
	enum err e =
	    ratelimit_eval(c, counter, block_key, peek ? "peek" : "hit", reset - now + 1, &r);
	if (e)
		return e;
	long long kind = r->element[0]->integer, value = r->element[1]->integer;
	freeReplyObject(r);
	ratelimit_fill(kind, value, peek, limit, now, reset, out);
	return ERR_OK;
}

enum err ratelimit_hit(struct cache *c, const char *key, const char *block_key, long limit,
                       long window_seconds, struct ratelimit_result *out)
{
	return ratelimit_run(c, key, block_key, false, limit, window_seconds, out);
}

enum err ratelimit_peek(struct cache *c, const char *key, long limit, long window_seconds,
                        struct ratelimit_result *out)
{
	return ratelimit_run(c, key, NULL, true, limit, window_seconds, out);
}

enum err ratelimit_release(struct cache *c, const char *key, long window_seconds, long reset)
{
	char counter[RATELIMIT_COUNTER_MAX];
	redisReply *r = NULL;
	if (!ratelimit_valid_key(key) || window_seconds < 1 ||
	    window_seconds > RATELIMIT_WINDOW_MAX || reset < window_seconds) {
		log_error("ratelimit: invalid key, window %ld or reset %ld", window_seconds, reset);
		return ERR_INVALID;
	}
	snprintf(counter, sizeof(counter), "%s:%ld", key, reset / window_seconds - 1);
	/* DECR only what exists and is above zero: an expired window stays gone. */
	enum err e = cache_command(c, &r, "EVAL %s 1 %s",
	                           "local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
	                           "if n > 0 then return redis.call('DECR', KEYS[1]) end\n"
	                           "return 0\n",
	                           counter);
	if (r)
		freeReplyObject(r);
	return e;
}

/* The batch command: verb (EVALSHA or EVAL), the SHA-1 or the text, then
 * RATELIMIT_BATCH_GROUP pairs of keys, the lifetime and the modes. The
 * arity is fixed so the format is a literal the compiler can check. */
#define RL_KEYS2 " %s %s"
#define RL_KEYS8 RL_KEYS2 RL_KEYS2 RL_KEYS2 RL_KEYS2
#define RL_BATCH_FMT "%s %s 33" RL_KEYS8 RL_KEYS8 RL_KEYS8 RL_KEYS8 " %s %ld %s %s"

static enum err ratelimit_batch_send(struct cache *c, const char *verb, const char *script,
                                     const char *const *k, const char *ready, long ttl,
                                     const char *modes, redisReply **out)
{
	_Static_assert(RATELIMIT_BATCH_GROUP == 16, "RL_BATCH_FMT names 16 pairs of keys");
	return cache_command_raw(c, out, RL_BATCH_FMT, verb, script, k[0], k[1], k[2], k[3], k[4],
	                         k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13], k[14],
	                         k[15], k[16], k[17], k[18], k[19], k[20], k[21], k[22], k[23],
	                         k[24], k[25], k[26], k[27], k[28], k[29], k[30], k[31],
	                         ready ? ready : k[0], ttl, modes, ready ? "1" : "0");
}

/* Counts one group of at most RATELIMIT_BATCH_GROUP items. */
static enum err ratelimit_batch_group(struct cache *c, const struct ratelimit_item *items, size_t n,
                                      const char *ready, long limit, long now, long number,
                                      long reset, struct ratelimit_result *out)
{
	static char sha[RATELIMIT_SHA_LEN + 1];
	char counters[RATELIMIT_BATCH_GROUP][RATELIMIT_COUNTER_MAX];
	const char *keys[2 * RATELIMIT_BATCH_GROUP];
	char modes[RATELIMIT_BATCH_GROUP + 1];
	redisReply *r = NULL;
	enum err e = ERR_OK;

	if (!sha[0] &&
	    !ratelimit_sha(ratelimit_batch_script, sizeof(ratelimit_batch_script) - 1, sha)) {
		log_error("ratelimit: SHA-1 failed");
		return ERR_INTERNAL;
	}
	for (size_t i = 0; i < RATELIMIT_BATCH_GROUP; i++) {
		/* Unused slots repeat the first item's keys; their mode skips them. */
		if (i < n)
			snprintf(counters[i], sizeof(counters[i]), "%s:%ld", items[i].key, number);
		const struct ratelimit_item *it = &items[i < n ? i : 0];
		keys[2 * i] = counters[i < n ? i : 0];
		keys[2 * i + 1] = it->block_key ? it->block_key : keys[2 * i];
		modes[i] = i >= n ? '0' : it->block_key ? '2' : '1';
	}
	modes[RATELIMIT_BATCH_GROUP] = '\0';
	long ttl = reset - now + 1;
	e = ratelimit_batch_send(c, "EVALSHA", sha, keys, ready, ttl, modes, &r);
	if (e)
		goto out;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		r = NULL;
		e = ratelimit_batch_send(c, "EVAL", ratelimit_batch_script, keys, ready, ttl, modes,
		                         &r);
		if (e)
			goto out;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		log_error("ratelimit: the batch script failed: %s", r->str);
		e = ERR_INTERNAL;
		goto out;
	}
	if (ready && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == -2) {
		e = ERR_NOT_FOUND; /* not logged: the caller rebuilds and asks again */
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * RATELIMIT_BATCH_GROUP) {
		log_error("ratelimit: the batch script answered an unexpected reply");
		e = ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < 2 * n; i++) {
		if (r->element[i]->type != REDIS_REPLY_INTEGER) {
			log_error("ratelimit: the batch script answered an unexpected reply");
			e = ERR_INTERNAL;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		ratelimit_fill(r->element[2 * i]->integer, r->element[2 * i + 1]->integer, false,
		               limit, now, reset, &out[i]);
out:
	if (r)
		freeReplyObject(r);
	return e;
}

enum err ratelimit_hit_batch(struct cache *c, const struct ratelimit_item *items, size_t n,
                             const char *ready_key, long limit, long window_seconds,
                             struct ratelimit_result *out)
{
	if (limit < 1 || limit > RATELIMIT_LIMIT_MAX || window_seconds < 1 ||
	    window_seconds > RATELIMIT_WINDOW_MAX) {
		log_error("ratelimit: invalid limit %ld or window %ld", limit, window_seconds);
		return ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if ((ready_key && !ratelimit_valid_key(ready_key)) ||
		    !ratelimit_valid_key(items[i].key) ||
		    (items[i].block_key && !ratelimit_valid_key(items[i].block_key))) {
			log_error("ratelimit: an empty or oversize key in a batch");
			return ERR_INVALID;
		}
	}
	long now = (long)time(NULL);
	long number = now / window_seconds;
	long reset = (number + 1) * window_seconds;
	for (size_t done = 0; done < n; done += RATELIMIT_BATCH_GROUP) {
		size_t k = n - done < RATELIMIT_BATCH_GROUP ? n - done : RATELIMIT_BATCH_GROUP;
		enum err e = ratelimit_batch_group(c, items + done, k, ready_key, limit, now,
		                                   number, reset, out + done);
		if (e)
			return e;
	}
	return ERR_OK;
}
