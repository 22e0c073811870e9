/* ratelimit: a fixed window counted by one Lua script (EVALSHA, EVAL on NOSCRIPT). */
#include "ratelimit.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

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

/* Redis names a script by the SHA-1 of its text. */
static bool ratelimit_sha(char out[RATELIMIT_SHA_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(ratelimit_script, sizeof(ratelimit_script) - 1, md, &len, EVP_sha1(), NULL) ||
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
	if (!ratelimit_sha(sha)) {
		log_error("ratelimit: SHA-1 failed");
		return ERR_INTERNAL;
	}
	if (block_key)
		e = cache_command_raw(c, &r, "EVALSHA %s 2 %s %s %s %ld", sha, counter, block_key, mode, ttl);
	else
		e = cache_command_raw(c, &r, "EVALSHA %s 1 %s %s %ld", sha, counter, mode, ttl);
	if (e)
		return e;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		r = NULL;
		if (block_key)
			e = cache_command_raw(c, &r, "EVAL %s 2 %s %s %s %ld", ratelimit_script, counter,
			                      block_key, mode, ttl);
		else
			e = cache_command_raw(c, &r, "EVAL %s 1 %s %s %ld", ratelimit_script, counter, mode, ttl);
		if (e)
			return e;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		log_error("ratelimit: the script failed: %s", r->str);
		freeReplyObject(r);
		return ERR_INTERNAL;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER) {
		log_error("ratelimit: the script answered an unexpected reply");
		freeReplyObject(r);
		return ERR_INTERNAL;
	}
	*out = r;
	return ERR_OK;
}

static enum err ratelimit_run(struct cache *c, const char *key, const char *block_key, bool peek,
                              long limit, long window, struct ratelimit_result *out)
{
	char counter[RATELIMIT_COUNTER_MAX];
	redisReply *r = NULL;

	memset(out, 0, sizeof(*out));
	if (!ratelimit_valid_key(key) || (block_key && !ratelimit_valid_key(block_key)) || limit < 1 ||
	    limit > RATELIMIT_LIMIT_MAX || window < 1 || window > RATELIMIT_WINDOW_MAX) {
		log_error("ratelimit: invalid key, block key, limit %ld or window %ld", limit, window);
		return ERR_INVALID;
	}
	long now = (long)time(NULL);
	long number = now / window;
	long reset = (number + 1) * window;
	snprintf(counter, sizeof(counter), "%s:%ld", key, number);
	/* The counter outlives its window by a second so clock skew between
	 * hosts never revives it; later windows use other keys anyway. */
	enum err e = ratelimit_eval(c, counter, block_key, peek ? "peek" : "hit", reset - now + 1, &r);
	if (e)
		return e;
	long long kind = r->element[0]->integer, value = r->element[1]->integer;
	freeReplyObject(r);

	out->limit = limit;
	out->reset = reset;
	if (kind < 0) {
		out->blocked = true;
		out->retry_after = value > 0 ? (long)value : reset - now;
		return ERR_OK;
	}
	long long next = peek ? value + 1 : value; /* the request that is (or would be) made */
	out->allowed = next <= limit;
	out->remaining = value >= limit ? 0 : (long)(limit - value);
	out->retry_after = out->allowed ? 0 : (reset - now > 0 ? reset - now : 1);
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
