/* Unit tests for cache against a private Redis: URLs, AUTH, SELECT, binary
 * safety, error replies, reconnects. */
#include <stdio.h>
#include <string.h>

#include "data/cache.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

static void test_urls(const struct testenv_redis *r)
{
	static const char *const malformed[] = {
	    "http://127.0.0.1:6379",
	    "redis://",
	    "redis://:pw@",
	    "redis://127.0.0.1:0",
	    "redis://127.0.0.1:99999",
	    "redis://127.0.0.1:6379/abc",
	    "redis://127.0.0.1:6379/1?x=y",
	    "redis://127.0.0.1:x",
	    "redis://[::1",
	    "redis://:bad%zzpw@127.0.0.1:6379",
	    "redis://:nul%00pw@127.0.0.1:6379",
	    "redis://127.0.0.1:6379/-1",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		struct cache *c = (struct cache *)1;
		ok(cache_connect(malformed[i], 1000, &c) == ERR_INVALID && c == NULL,
		   "malformed URL %zu", i);
	}
	struct cache *c = NULL;
	ok(cache_connect(r->url, 0, &c) == ERR_INVALID, "a zero timeout is invalid");
	ok(cache_connect("redis://127.0.0.1:1", 1000, &c) == ERR_UNAVAILABLE && c != NULL,
	   "no server is unavailable, and the handle is kept to reconnect later");
	long ms = 0;
	ok(c && cache_ping(c, &ms) == ERR_UNAVAILABLE,
	   "the kept handle tries again and fails again");
	cache_close(c);
	c = NULL;

	char url[TESTENV_DSN_MAX];
	snprintf(url, sizeof(url), "redis://:wrong-password@127.0.0.1:%d", r->port);
	ok(cache_connect(url, 1000, &c) == ERR_UNAVAILABLE && c != NULL,
	   "a wrong password is refused");
	cache_close(c);
	c = NULL;
	snprintf(url, sizeof(url), "redis://nobody:%s@127.0.0.1:%d", r->password, r->port);
	ok(cache_connect(url, 1000, &c) == ERR_UNAVAILABLE && c != NULL,
	   "an unknown user is refused");
	cache_close(c);
	c = NULL;
	snprintf(url, sizeof(url), "redis://default:%s@127.0.0.1:%d", r->password, r->port);
	ok(cache_connect(url, 1000, &c) == ERR_OK, "user default with the password connects");
	cache_close(c);
	c = NULL;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", r->port);
	ok(cache_connect(url, 1000, &c) == ERR_OK, "no password connects");
	is_long(cache_command(c, NULL, "PING"), ERR_INTERNAL, "but commands are refused (NOAUTH)");
	cache_close(c);
	c = NULL;

	/* The password %-encoded byte by byte. */
	int n = snprintf(url, sizeof(url), "redis://:");
	for (const char *p = r->password; *p; p++)
		n += snprintf(url + n, sizeof(url) - (size_t)n, "%%%02X", (unsigned char)*p);
	snprintf(url + n, sizeof(url) - (size_t)n, "@localhost:%d/", r->port);
	ok(cache_connect(url, 1000, &c) == ERR_OK, "a %%-encoded password and a host name work");
	cache_close(c);
}

static void test_commands(const struct testenv_redis *r, struct cache *c)
{
	redisReply *reply = NULL;
	static const char value[] = "bin\0ary\r\n*1\r\n$4\r\nPING\r\n";
	static const char *const keys[] = {"plain", "with space", "crlf\r\nSET x y", "%s%n",
	                                   "\"q\" 'q'"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ok(cache_command(c, NULL, "SET %s %b", keys[i], value, sizeof(value)) == ERR_OK,
		   "SET hostile key %zu", i);
		reply = NULL;
		ok(cache_command(c, &reply, "GET %s", keys[i]) == ERR_OK && reply &&
		       reply->type == REDIS_REPLY_STRING && reply->len == sizeof(value) &&
		       memcmp(reply->str, value, sizeof(value)) == 0,
		   "GET returns the binary value unchanged");
		if (reply)
			freeReplyObject(reply);
	}
	reply = NULL;
	ok(cache_command(c, &reply, "DBSIZE") == ERR_OK && reply && reply->integer == 5,
	   "exactly those keys exist (no command injection)");
	if (reply)
		freeReplyObject(reply);

	reply = (redisReply *)1;
	is_long(cache_command(c, &reply, "INCR %s", "plain"), ERR_INTERNAL,
	        "an error reply is internal");
	ok(reply == NULL, "and no reply is handed out");
	reply = NULL;
	ok(cache_command_raw(c, &reply, "INCR %s", "plain") == ERR_OK && reply &&
	       reply->type == REDIS_REPLY_ERROR,
	   "the raw call hands the error reply back");
	if (reply)
		freeReplyObject(reply);
	is_long(cache_command(c, NULL, "NOSUCHCOMMAND"), ERR_INTERNAL,
	        "an unknown command is internal");

	/* SELECT: db 3 is separate from db 0. */
	char url[TESTENV_DSN_MAX + 8];
	struct cache *c3 = NULL;
	snprintf(url, sizeof(url), "%s/3", r->url);
	ok(cache_connect(url, 1000, &c3) == ERR_OK, "connect to db 3");
	reply = NULL;
	ok(c3 && cache_command(c3, &reply, "EXISTS %s", "plain") == ERR_OK && reply &&
	       reply->integer == 0,
	   "db 3 does not see db 0's keys");
	if (reply)
		freeReplyObject(reply);
	cache_close(c3);

	long ms = -1;
	ok(cache_ping(c, &ms) == ERR_OK && ms >= 0, "ping");
}

static void test_reconnect(struct testenv_redis *r, struct cache *c)
{
	unsigned long gen = cache_generation(c);
	ok(testenv_redis_restart(r), "Redis restarted");
	ok(cache_command(c, NULL, "SET %s %s", "after", "restart") == ERR_OK,
	   "a command after the restart works");
	is_long(cache_generation(c), gen + 1, "through one reconnect");

	testenv_redis_stop(r);
	is_long(cache_command(c, NULL, "PING"), ERR_UNAVAILABLE, "a stopped server is unavailable");
	long ms;
	is_long(cache_ping(c, &ms), ERR_UNAVAILABLE, "ping says so too");
}

int main(void)
{
	struct testenv_redis r;
	struct cache *c = NULL;

	log_init("t-cache", LOG_LEVEL_INFO);
	if (!ok(testenv_redis_start(&r), "private Redis starts"))
		return tap_done();
	test_urls(&r);
	if (!ok(cache_connect(r.url, 2000, &c) == ERR_OK, "connect"))
		goto out;
	is_long(cache_generation(c), 1, "first connection");
	test_commands(&r, c);
	test_reconnect(&r, c);
out:
	cache_close(c);
	testenv_redis_stop(&r);
	return tap_done();
}
