/* Unit tests for the gate's decision (fcgi/gate/check.c, memo.c) and the
 * batched rate limit under it, against a private Redis: every answer of
 * the contract, a batch across several script runs counting in order, the
 * batch agreeing with ratelimit_hit, revocation, the memo of verified
 * tokens (and its expiry), and Redis going away (503). Then the outcome
 * each kind of refused token gets, and the figures (figures.c): counted
 * by the processes of a pool into one shared segment, written out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/metrics.h"
#include "core/base64.h"
#include "data/cache.h"
#include "gate.h"
#include "core/log.h"
#include "identity/ratelimit.h"
#include "tap.h"
#include "testenv.h"

static const char keys_text[] = "k1 0123456789abcdef0123456789abcdef0123";
static const char other_keys[] = "k1 ffffffffffffffffffffffffffffffffffffffff";
static const char another_kid[] = "k2 0123456789abcdef0123456789abcdef0123";

static const char *issue_for(const struct token_keyring *kr, const char *sub, const char *iss,
                             const char *aud, long long now, long ttl, struct pool *p,
                             const char **jti)
{
	struct token_claims c = {
	    .sub = sub, .email = "ada@example.org", .role = "user", .iss = iss, .aud = aud};
	const char *jwt = NULL;
	if (token_issue(kr, &c, now, ttl, p, &jwt, jti, NULL) != ERR_OK)
		return "";
	return pool_printf(p, "Bearer %s", jwt);
}

static const char *issue(const struct token_keyring *kr, const char *sub, const char *iss,
                         long long now, long ttl, struct pool *p, const char **jti)
{
	return issue_for(kr, sub, iss, "lectern-api", now, ttl, p, jti);
}

static bool has(const char *text, const char *want)
{
	return strstr(text, want) != NULL;
}

static void test_answers(struct gate_config *cfg, const struct token_keyring *kr,
                         const struct token_keyring *other)
{
	struct pool *p = pool_new();
	long long now = (long long)time(NULL);
	const char *jti = NULL;
	const char *good =
	    issue(kr, "11111111-1111-4111-8111-111111111111", "lectern", now, 600, p, &jti);
	struct {
		const char *name;
		const char *authorization;
		int status;
		const char *reason;
	} cases[] = {
	    {"no header", NULL, 401, "missing"},
	    {"another scheme", "Basic YTpi", 401, "missing"},
	    {"Bearer and nothing", "Bearer   ", 401, "missing"},
	    {"garbage", "Bearer not.a.token", 401, "invalid"},
	    {"wrong key",
	     issue(other, "22222222-2222-4222-8222-222222222222", "lectern", now, 600, p, NULL),
	     401, "invalid"},
	    {"wrong issuer",
	     issue(kr, "22222222-2222-4222-8222-222222222222", "evil", now, 600, p, NULL), 401,
	     "invalid"},
	    {"expired",
	     issue(kr, "22222222-2222-4222-8222-222222222222", "lectern", now - 7200, 60, p, NULL),
	     401, "expired"},
	    {"valid", good, 204, NULL},
	    {"valid, lower-case scheme", pool_printf(p, "bearer %s", good + 7), 204, NULL},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	const char *auth[16];
	struct gate_verdict v[16];
	for (size_t i = 0; i < n; i++)
		auth[i] = cases[i].authorization;
	gate_decide(cfg, auth, n, now, p, v);
	for (size_t i = 0; i < n; i++) {
		is_long(v[i].status, cases[i].status, cases[i].name);
		ok((!v[i].reason && !cases[i].reason) ||
		       (v[i].reason && cases[i].reason &&
		        strcmp(v[i].reason, cases[i].reason) == 0),
		   "%s: reason %s", cases[i].name, cases[i].reason ? cases[i].reason : "none");
		struct buf b;
		buf_init(&b);
		gate_format(&v[i], &b);
		char line[32];
		snprintf(line, sizeof(line), "Status: %d ", cases[i].status);
		ok(strncmp(b.data, line, strlen(line)) == 0 && b.len > 4 &&
		       strcmp(b.data + b.len - 4, "\r\n\r\n") == 0,
		   "%s: a CGI header block", cases[i].name);
		if (cases[i].status == 204) {
			ok(has(b.data, "X-User-Id: 11111111-1111-4111-8111-111111111111\r\n") &&
			       has(b.data, "X-User-Email: ada@example.org\r\n") &&
			       has(b.data, "X-User-Role: user\r\n") &&
			       has(b.data, "X-RateLimit-Limit: 3\r\n") &&
			       has(b.data, "X-RateLimit-Reset: "),
			   "%s: identity and rate-limit headers", cases[i].name);
		} else {
			ok(!has(b.data, "X-User-Id") && has(b.data, "X-Auth-Error: "),
			   "%s: no identity, a reason", cases[i].name);
		}
		buf_clear(&b);
	}
	is_long(v[7].rl.remaining, 2, "the first valid check leaves 2");
	is_long(v[8].rl.remaining, 1, "the second in the same batch leaves 1");

	/* The limit (3): the next one passes, then refusals with Retry-After. */
	auth[0] = auth[1] = good;
	gate_decide(cfg, auth, 2, now, p, v);
	is_long(v[0].status, 204, "the third request is allowed");
	is_long(v[0].rl.remaining, 0, "with 0 remaining");
	is_long(v[1].status, 403, "the fourth is refused");
	ok(v[1].reason && strcmp(v[1].reason, "rate_limited") == 0, "as rate_limited");
	struct buf b;
	buf_init(&b);
	gate_format(&v[1], &b);
	ok(has(b.data, "Retry-After: ") && has(b.data, "X-RateLimit-Remaining: 0\r\n") &&
	       !has(b.data, "X-User-Id"),
	   "the refusal carries Retry-After and the figures, no identity");
	buf_clear(&b);

	/* Revocation: the block key refuses without counting. */
	char key[128];
	snprintf(key, sizeof(key), "revoked:%s", jti);
	ok(cache_command(cfg->cache, NULL, "SET %s 1 EX 60", key) == ERR_OK, "revoke the token");
	gate_decide(cfg, auth, 1, now, p, v);
	ok(v[0].status == 401 && v[0].reason && strcmp(v[0].reason, "revoked") == 0 &&
	       !v[0].counted,
	   "a revoked token is refused as revoked");
	pool_free(p);
}

static void test_batch(struct gate_config *cfg, const struct token_keyring *kr)
{
	struct pool *p = pool_new();
	long long now = (long long)time(NULL);
	enum { N = 40 }; /* more than two script runs */
	const char *auth[N];
	struct gate_verdict v[N];
	const char *a =
	    issue(kr, "33333333-3333-4333-8333-333333333333", "lectern", now, 600, p, NULL);
	const char *b =
	    issue(kr, "44444444-4444-4444-8444-444444444444", "lectern", now, 600, p, NULL);
	for (size_t i = 0; i < N; i++)
		auth[i] = i % 3 == 0 ? b : i % 7 == 0 ? "Bearer junk" : a;
	struct gate_config big = *cfg;
	big.rate_limit = 1000;
	gate_decide(&big, auth, N, now, p, v);
	long want_a = 1000, want_b = 1000;
	size_t right = 0;
	for (size_t i = 0; i < N; i++) {
		if (auth[i] == b)
			right += v[i].status == 204 && v[i].rl.remaining == --want_b;
		else if (auth[i] == a)
			right += v[i].status == 204 && v[i].rl.remaining == --want_a;
		else
			right += v[i].status == 401;
	}
	is_long(right, N, "a batch over several script runs counts each user in order");

	/* The batch and the single check share the counters. */
	struct ratelimit_result one, many[2];
	ok(ratelimit_hit(cfg->cache, "rl:u:33333333-3333-4333-8333-333333333333", NULL, 1000,
	                 big.rate_window, &one) == ERR_OK &&
	       one.remaining == want_a - 1,
	   "ratelimit_hit sees the batch's count");
	struct ratelimit_item items[2] = {{"rl:u:33333333-3333-4333-8333-333333333333", NULL},
	                                  {"batch:other", "batch:no-such-block"}};
	ok(ratelimit_hit_batch(cfg->cache, items, 2, NULL, 1000, big.rate_window, many) == ERR_OK &&
	       many[0].remaining == want_a - 2 && many[1].remaining == 999 && many[1].allowed &&
	       !many[1].blocked,
	   "and the batch sees the single hit; a missing block key does not block");
	struct ratelimit_item bad = {"", NULL};
	ok(ratelimit_hit_batch(cfg->cache, &bad, 1, NULL, 10, 60, many) == ERR_INVALID,
	   "an empty key is refused");
	ok(ratelimit_hit_batch(cfg->cache, items, 2, NULL, 0, 60, many) == ERR_INVALID,
	   "a zero limit is refused");
	ok(ratelimit_hit_batch(cfg->cache, items, 0, NULL, 10, 60, many) == ERR_OK,
	   "an empty batch is fine");
	pool_free(p);
}

static void test_memo(struct gate_config *cfg, const struct token_keyring *kr)
{
	struct pool *p = pool_new();
	long long now = (long long)time(NULL);
	const char *t =
	    issue(kr, "55555555-5555-4555-8555-555555555555", "lectern", now, 100, p, NULL);
	struct gate_config memo = *cfg;
	memo.memo = gate_memo_new();
	memo.rate_limit = 1000;
	struct gate_verdict v[2];
	const char *auth[2] = {t, t};
	gate_decide(&memo, auth, 2, now, p, v);
	ok(v[0].status == 204 && v[1].status == 204 && v[1].rl.remaining == v[0].rl.remaining - 1,
	   "a remembered token is still counted");
	ok(strcmp(v[1].claims.sub, "55555555-5555-4555-8555-555555555555") == 0 &&
	       v[1].claims.jti && strcmp(v[1].claims.jti, v[0].claims.jti) == 0,
	   "and has its claims");
	gate_decide(&memo, auth, 1, now + 100, p, v);
	ok(v[0].status == 401 && strcmp(v[0].reason, "expired") == 0,
	   "a remembered token expires at its exp");
	/* A tampered token is not the remembered one. */
	char *tampered = pool_strdup(p, t);
	tampered[strlen(tampered) - 2] ^= 1;
	auth[0] = tampered;
	gate_decide(&memo, auth, 1, now, p, v);
	is_long(v[0].status, 401, "a tampered copy of a remembered token is refused");
	gate_memo_free(memo.memo);
	pool_free(p);
}

static void test_redis_down(struct gate_config *cfg, const struct token_keyring *kr,
                            struct testenv_redis *r)
{
	struct pool *p = pool_new();
	long long now = (long long)time(NULL);
	const char *auth[2] = {
	    issue(kr, "66666666-6666-4666-8666-666666666666", "lectern", now, 600, p, NULL), NULL};
	struct gate_verdict v[2];
	testenv_redis_stop(r);
	gate_decide(cfg, auth, 2, now, p, v);
	is_long(v[0].status, 503, "Redis down: a valid token gets 503");
	is_str(gate_outcome_name(v[0].outcome), "unavailable", "as unavailable");
	is_long(v[1].status, 401, "Redis down: a missing token is still 401");
	struct buf b;
	buf_init(&b);
	gate_format(&v[0], &b);
	ok(strncmp(b.data, "Status: 503 ", 12) == 0 && !has(b.data, "X-User-Id"),
	   "the 503 carries no identity");
	buf_clear(&b);
	pool_free(p);
}

/* Bearer HEADER.CLAIMS.SIG of a valid token (after "Bearer ") with another
 * header, and sig as its signature (NULL: the token's own). */
static const char *with_header(const char *bearer, const char *header, const char *sig,
                               struct pool *p)
{
	const char *jwt = bearer + strlen("Bearer ");
	const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2)
		return "";
	char head[256];
	base64_encode(BASE64_URL, header, strlen(header), head);
	return pool_printf(p, "Bearer %s.%.*s.%s", head, (int)(dot2 - dot1 - 1), dot1 + 1,
	                   sig ? sig : dot2 + 1);
}

/* Every kind of refused token gets its own outcome, and the contract's
 * X-Auth-Error: "invalid" for all but expired. */
static void test_outcomes(struct gate_config *cfg, const struct token_keyring *kr,
                          const struct token_keyring *other, const struct token_keyring *k2)
{
	struct pool *p = pool_new();
	long long now = (long long)time(NULL);
	const char *sub = "77777777-7777-4777-8777-777777777777";
	const char *good = issue(kr, sub, "lectern", now, 600, p, NULL);
	const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
	struct {
		const char *name;
		const char *authorization;
		const char *outcome;
		int status;
		const char *reason;
	} cases[] = {
	    {"no header", NULL, "missing", 401, "missing"},
	    {"garbage", "Bearer not.a.token", "malformed", 401, "invalid"},
	    {"two segments", "Bearer abc.def", "malformed", 401, "invalid"},
	    {"alg none, no signature", with_header(good, none, "", p), "malformed", 401, "invalid"},
	    {"alg none, a signature's length", with_header(good, none, NULL, p), "algorithm", 401,
	     "invalid"},
	    {"alg RS256", with_header(good, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", NULL, p),
	     "algorithm", 401, "invalid"},
	    {"unknown kid", issue(k2, sub, "lectern", now, 600, p, NULL), "unknown_kid", 401,
	     "invalid"},
	    {"another key", issue(other, sub, "lectern", now, 600, p, NULL), "signature", 401,
	     "invalid"},
	    {"another issuer", issue(kr, sub, "evil", now, 600, p, NULL), "issuer", 401, "invalid"},
	    {"another audience", issue_for(kr, sub, "lectern", "other-api", now, 600, p, NULL),
	     "audience", 401, "invalid"},
	    {"not yet valid", issue(kr, sub, "lectern", now + 3600, 600, p, NULL), "not_yet_valid",
	     401, "invalid"},
	    {"expired", issue(kr, sub, "lectern", now - 7200, 60, p, NULL), "expired", 401,
	     "expired"},
	    {"valid", good, "allowed", 204, NULL},
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	const char *auth[N];
	struct gate_verdict v[N];
	for (size_t i = 0; i < N; i++)
		auth[i] = cases[i].authorization;
	struct gate_config big = *cfg;
	big.rate_limit = 1000;
	gate_decide(&big, auth, N, now, p, v);
	for (size_t i = 0; i < N; i++) {
		ok(strcmp(gate_outcome_name(v[i].outcome), cases[i].outcome) == 0 &&
		       v[i].status == cases[i].status &&
		       gate_outcome_status(v[i].outcome) == cases[i].status,
		   "%s: %s, %d (got %s, %d)", cases[i].name, cases[i].outcome, cases[i].status,
		   gate_outcome_name(v[i].outcome), v[i].status);
		ok((!v[i].reason && !cases[i].reason) ||
		       (v[i].reason && cases[i].reason &&
		        strcmp(v[i].reason, cases[i].reason) == 0),
		   "%s: X-Auth-Error %s", cases[i].name,
		   cases[i].reason ? cases[i].reason : "none");
	}
	/* Every outcome has a name of its own and a status of the contract. */
	bool distinct = true, statuses = true;
	for (int a = 0; a < GATE_OUTCOMES; a++) {
		int st = gate_outcome_status(a);
		statuses &= st == 204 || st == 401 || st == 403 || st == 500 || st == 503;
		for (int b = a + 1; b < GATE_OUTCOMES; b++)
			distinct &= strcmp(gate_outcome_name(a), gate_outcome_name(b)) != 0;
	}
	ok(distinct && statuses, "each outcome has its own name and one of the gate's statuses");
	is_str(gate_outcome_name(GATE_OUTCOMES), "error", "an outcome out of range is an error");
	pool_free(p);
}

/* The value of the sample whose line starts with prefix, or -1. */
static double sample(const char *text, const char *prefix)
{
	for (const char *line = text; line && *line;) {
		if (strncmp(line, prefix, strlen(prefix)) == 0 && line[strlen(prefix)] == ' ')
			return strtod(line + strlen(prefix) + 1, NULL);
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return -1;
}

static struct gate_verdict verdict(enum gate_outcome o)
{
	struct gate_verdict v;
	memset(&v, 0, sizeof(v));
	v.outcome = o;
	v.status = gate_outcome_status(o);
	return v;
}

/* Figures counted by several processes (forked after metrics_init, as the
 * gate's are), read by another. */
static void test_figures(void)
{
	if (!ok(metrics_init(0, GATE_FIGURES) == ERR_OK, "the shared segment is mapped"))
		return;
	struct gate_verdict batch[4] = {verdict(GATE_ALLOWED), verdict(GATE_ALLOWED),
	                                verdict(GATE_SIGNATURE), verdict(GATE_RATE_LIMITED)};
	for (int k = 0; k < 2; k++) {
		pid_t kid = fork();
		if (kid == 0) {
			/* Two batches per process: 4 checks in 300 us, 1 in 2 ms. */
			gate_figures_batch(batch, 4, 300);
			gate_figures_batch(batch + 2, 1, 2000);
			struct fcgi_mux_stats seen = {0},
			                      now = {.accepted = 5, .open = 3, .dropped = 1};
			gate_figures_mux(k, &now, &seen);
			now.accepted = 7;
			now.open = 2;
			now.timed_out = 1;
			gate_figures_mux(k, &now, &seen);
			_exit(seen.accepted == 7 ? 0 : 1);
		}
		int st = 0;
		waitpid(kid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "process %d counted", k);
	}
	gate_figures_batch(batch, 0, 5); /* an empty batch counts nothing */
	struct buf out;
	buf_init(&out);
	gate_figures_write(&out);
	const char *t = out.data;
	struct {
		const char *series;
		double want;
	} want[] = {
	    {"lectern_gate_checks_total{service=\"gate\",reason=\"allowed\",status=\"204\"}", 4},
	    {"lectern_gate_checks_total{service=\"gate\",reason=\"signature\",status=\"401\"}", 4},
	    {"lectern_gate_checks_total{service=\"gate\",reason=\"rate_limited\",status=\"403\"}",
	     2},
	    {"lectern_gate_checks_total{service=\"gate\",reason=\"expired\",status=\"401\"}", 0},
	    {"lectern_gate_checks_total{service=\"gate\",reason=\"unavailable\",status=\"503\"}",
	     0},
	    {"lectern_gate_check_duration_seconds_bucket{service=\"gate\",le=\"0.00005\"}", 0},
	    {"lectern_gate_check_duration_seconds_bucket{service=\"gate\",le=\"0.00025\"}", 0},
	    {"lectern_gate_check_duration_seconds_bucket{service=\"gate\",le=\"0.0005\"}", 8},
	    {"lectern_gate_check_duration_seconds_bucket{service=\"gate\",le=\"0.0025\"}", 10},
	    {"lectern_gate_check_duration_seconds_bucket{service=\"gate\",le=\"+Inf\"}", 10},
	    {"lectern_gate_check_duration_seconds_sum{service=\"gate\"}", 0.0064},
	    {"lectern_gate_check_duration_seconds_count{service=\"gate\"}", 10},
	    {"lectern_gate_batch_size_bucket{service=\"gate\",le=\"1\"}", 2},
	    {"lectern_gate_batch_size_bucket{service=\"gate\",le=\"2\"}", 2},
	    {"lectern_gate_batch_size_bucket{service=\"gate\",le=\"4\"}", 4},
	    {"lectern_gate_batch_size_bucket{service=\"gate\",le=\"256\"}", 4},
	    {"lectern_gate_batch_size_sum{service=\"gate\"}", 10},
	    {"lectern_gate_batch_size_count{service=\"gate\"}", 4},
	    {"lectern_gate_connections_accepted_total{service=\"gate\"}", 14},
	    {"lectern_gate_connections_dropped_total{service=\"gate\"}", 2},
	    {"lectern_gate_connections_timed_out_total{service=\"gate\"}", 2},
	    {"lectern_gate_connections_refused_total{service=\"gate\"}", 0},
	    {"lectern_gate_connections_open{service=\"gate\"}", 4},
	    {"lectern_redis_errors_total{service=\"gate\"}", 0},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		double got = sample(t, want[i].series);
		ok(got > want[i].want - 1e-9 && got < want[i].want + 1e-9, "%s is %g (got %g)",
		   want[i].series, want[i].want, got);
	}
	ok(strstr(t, "# TYPE lectern_gate_checks_total counter\n") &&
	       strstr(t, "# TYPE lectern_gate_check_duration_seconds histogram\n") &&
	       strstr(t, "# TYPE lectern_gate_batch_size histogram\n") &&
	       strstr(t, "# TYPE lectern_gate_connections_open gauge\n"),
	   "each figure says its type");
	/* A process that replaces one takes its slot: its figure, not the sum. */
	struct fcgi_mux_stats seen = {0}, now = {0};
	gate_figures_mux(1, &now, &seen);
	gate_figures_mux(GATE_WORKERS_MAX, &now, &seen); /* no slot: not counted */
	gate_figures_mux(-1, &now, &seen);
	out.len = 0;
	gate_figures_write(&out);
	ok(sample(out.data, "lectern_gate_connections_open{service=\"gate\"}") == 2,
	   "a new process in slot 1 overwrites the open connections its predecessor left");
	/* This process failed Redis commands (test_redis_down): added once. */
	metrics_errors();
	metrics_errors();
	out.len = 0;
	gate_figures_write(&out);
	double redis = sample(out.data, "lectern_redis_errors_total{service=\"gate\"}");
	ok(redis > 0 && redis == (double)cache_error_count(),
	   "this process's Redis errors are added, once (%g)", redis);
	buf_clear(&out);
}

int main(void)
{
	struct testenv_redis r;
	struct cache *c = NULL;
	struct token_keyring *kr = NULL, *other = NULL, *k2 = NULL;
	memset(&r, 0, sizeof(r));
	log_init("t-gate", LOG_LEVEL_ERROR);
	if (!ok(token_keyring_parse(keys_text, &kr) == ERR_OK &&
	            token_keyring_parse(other_keys, &other) == ERR_OK &&
	            token_keyring_parse(another_kid, &k2) == ERR_OK,
	        "keyrings"))
		return tap_done();
	ok(token_bearer("Bearer abc") && strcmp(token_bearer("Bearer abc"), "abc") == 0,
	   "token_bearer");
	ok(!token_bearer("Bearerabc") && !token_bearer(NULL) && !token_bearer("Token abc"),
	   "token_bearer refusals");
	if (!ok(testenv_redis_start(&r), "private Redis starts"))
		goto out;
	if (!ok(cache_connect(r.url, 2000, &c) == ERR_OK, "connect"))
		goto out;
	struct gate_config cfg = {.keys = kr,
	                          .issuer = "lectern",
	                          .audience = "lectern-api",
	                          .rate_limit = 3,
	                          .rate_window = RATELIMIT_WINDOW_MAX,
	                          .cache = c};
	test_answers(&cfg, kr, other);
	test_batch(&cfg, kr);
	test_memo(&cfg, kr);
	test_outcomes(&cfg, kr, other, k2);
	test_redis_down(&cfg, kr, &r);
	test_figures();
out:
	cache_close(c);
	testenv_redis_stop(&r);
	token_keyring_free(kr);
	token_keyring_free(other);
	token_keyring_free(k2);
	return tap_done();
}
