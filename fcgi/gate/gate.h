/* gate: the answer to nginx's auth_request for every protected request.
 *
 * For each check: the bearer token of the Authorization header is verified
 * (signature, algorithm, kid, iss, aud, exp, nbf); then, for the valid
 * ones, one Redis script run per batch refuses revoked tokens
 * ("revoked:<jti>") and counts the request against the user's limit
 * ("rl:u:<sub>"). The answers are the contract's (docs/api.md; nginx only
 * understands 2xx, 401 and 403 from an auth subrequest):
 *   204 + X-User-Id, X-User-Email, X-User-Role and X-RateLimit-*;
 *   401 + X-Auth-Error: missing | invalid | expired | revoked;
 *   403 + X-Auth-Error: rate_limited, X-RateLimit-* and Retry-After
 *       (nginx turns it into the JSON 429);
 *   503 when Redis cannot be asked (nginx makes that a JSON 503 from the
 *       gate's status, snippets/errors.conf), or when its revocation cache
 *       is not complete (REVOCATION_READY_KEY missing: Redis restarted
 *       empty) and cannot be rebuilt from Postgres: the gate fails closed.
 * With a database (db), a batch that finds the cache incomplete
 * rebuilds it from the auth database's revoked_tokens (identity/
 * revocation.h) and is decided again.
 * This is the only implementation of that decision; lectern-gate serves it. */
#ifndef LECTERN_GATE_H
#define LECTERN_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "app/metrics.h"
#include "data/cache.h"
#include "core/mem.h"
#include "identity/ratelimit.h"
#include "identity/token.h"
#include "web/fcgi_mux.h"

enum {
	GATE_BATCH_MAX = 256,  /* checks decided together */
	GATE_MEMO_SLOTS = 512, /* verified tokens remembered per process */
	GATE_DIGEST_LEN = 32   /* SHA-256 */
};

/* Tokens this process verified before, by the SHA-256 of their text, each
 * until its exp: a token seen again skips the signature and claim checks,
 * which give the same answer until then (the keyring, issuer and audience
 * are fixed for the life of the process). Revocation and the rate limit are
 * still asked of Redis every time. Direct-mapped: a newer token takes the
 * slot of an older one. */
struct gate_memo;

/* An empty memo; free with gate_memo_free. */
struct gate_memo *gate_memo_new(void);
void gate_memo_free(struct gate_memo *m);
/* The claims of a remembered token that are still valid at now (strings
 * copied into pool); false when it is not remembered or has expired. */
bool gate_memo_get(struct gate_memo *m, const unsigned char digest[GATE_DIGEST_LEN], long long now,
                   struct pool *pool, struct token_claims *out);
/* Remembers a verified token's claims (copied) until claims->exp. */
void gate_memo_put(struct gate_memo *m, const unsigned char digest[GATE_DIGEST_LEN],
                   const struct token_claims *claims);

/* What the decision needs; owned by the caller. */
struct gate_config {
	const struct token_keyring *keys;
	const char *issuer;
	const char *audience;
	long rate_limit;  /* requests per window per user */
	long rate_window; /* seconds */
	struct cache *cache;
	struct gate_memo *memo; /* NULL: every token is verified in full */
	/* The auth database, the record of revocations (lib's connection of
	 * this process). NULL: the revocation cache is trusted as it is (unit
	 * tests only; lectern-gate always has it). */
	struct db *db;
};

/* What a check came to, for metrics: finer than X-Auth-Error, which keeps
 * the contract's reasons (each of these has one status and one reason). */
enum gate_outcome {
	GATE_ALLOWED,       /* 204 */
	GATE_MISSING,       /* 401 missing: no bearer token */
	GATE_MALFORMED,     /* 401 invalid: not a token of our form */
	GATE_ALGORITHM,     /* 401 invalid: alg is not HS256 (none, RS256, ...) */
	GATE_UNKNOWN_KID,   /* 401 invalid: a kid the keyring does not hold */
	GATE_SIGNATURE,     /* 401 invalid: forged, or signed with another key */
	GATE_ISSUER,        /* 401 invalid: another iss */
	GATE_AUDIENCE,      /* 401 invalid: another aud */
	GATE_NOT_YET_VALID, /* 401 invalid: nbf or iat in the future */
	GATE_EXPIRED,       /* 401 expired */
	GATE_REVOKED,       /* 401 revoked */
	GATE_RATE_LIMITED,  /* 403 rate_limited (the client gets 429) */
	GATE_UNAVAILABLE,   /* 503: Redis, or the revocation cache and Postgres */
	GATE_ERROR,         /* 500: a bug or an impossible batch */
	GATE_OUTCOMES
};

/* The outcome's label ("signature") and the status it answers. */
const char *gate_outcome_name(enum gate_outcome o);
int gate_outcome_status(enum gate_outcome o);

/* The decision for one check. */
struct gate_verdict {
	int status;                 /* 204, 401, 403, 500 or 503 */
	const char *reason;         /* X-Auth-Error value, or NULL */
	enum gate_outcome outcome;  /* what status and reason come from */
	struct token_claims claims; /* valid when the token verified */
	bool counted;               /* rl holds the rate-limit figures */
	struct ratelimit_result rl;
};

/* Decides n checks (n <= GATE_BATCH_MAX) given each one's Authorization
 * header value (NULL when absent) at time now, with at most one Redis
 * round trip per RATELIMIT_BATCH_GROUP valid tokens. Claims live in pool. */
void gate_decide(const struct gate_config *cfg, const char *const *authorization, size_t n,
                 long long now, struct pool *pool, struct gate_verdict *out);

/* Writes the CGI answer of v (status line, headers, empty body) into b. */
void gate_format(const struct gate_verdict *v, struct buf *b);

/* --- Figures for GET /api/v1/gate/metrics (figures.c) ---------------------
 * Kept in the pool's shared metrics segment (app/metrics.h), which the
 * parent maps before it forks (service_def.metrics_counters), so that any
 * process answers for all of them. */

enum {
	GATE_WORKERS_MAX = 64,    /* processes in one gate */
	GATE_LATENCY_BOUNDS = 13, /* buckets of the check latency (+Inf aside) */
	GATE_BATCH_BOUNDS = 9,    /* buckets of the batch size (+Inf aside) */
	/* Counters: per outcome, the two histograms, four connection
	 * counters, and each process's open connections. */
	GATE_FIGURES = GATE_OUTCOMES + METRICS_HISTOGRAM(GATE_LATENCY_BOUNDS) +
	               METRICS_HISTOGRAM(GATE_BATCH_BOUNDS) + 4 + GATE_WORKERS_MAX
};

/* Counts a batch of n checks whose answers were ready elapsed_us after it
 * began: each one's outcome and latency, and the batch's size. */
void gate_figures_batch(const struct gate_verdict *v, size_t n, long elapsed_us);
/* Adds what the loop's connections did since *seen (its figures when last
 * added; zero at first) and stores its open connections as process slot's
 * (prefork_slot; outside 0 .. GATE_WORKERS_MAX - 1 it keeps none).
 * *seen becomes *now. */
void gate_figures_mux(long slot, const struct fcgi_mux_stats *now, struct fcgi_mux_stats *seen);
/* Writes every figure of the gate as Prometheus text into out. */
void gate_figures_write(struct buf *out);

#endif
