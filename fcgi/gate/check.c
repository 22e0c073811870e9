/* gate: the decision for a batch of checks, and its answers. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gate.h"
#include "core/log.h"
#include "data/db.h"
#include "identity/revocation.h"

/* Refills Redis's revocation cache from Postgres (identity/revocation.h). */
static enum err gate_rebuild(const struct gate_config *cfg)
{
	log_warn("gate: Redis has no complete revocation cache; rebuilding it from Postgres");
	enum err e = revocation_rebuild(cfg->db, cfg->cache, NULL);
	if (e != ERR_OK)
		log_error("gate: the revocation cache could not be rebuilt; refusing until it is");
	return e;
}

/* A claim goes out as a header value: no control bytes may reach it. */
static bool header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static const struct {
	const char *name;   /* the metrics label */
	int status;         /* the answer */
	const char *reason; /* X-Auth-Error, or NULL */
} outcomes[GATE_OUTCOMES] = {
    [GATE_ALLOWED] = {"allowed", 204, NULL},
    [GATE_MISSING] = {"missing", 401, "missing"},
    [GATE_MALFORMED] = {"malformed", 401, "invalid"},
    [GATE_ALGORITHM] = {"algorithm", 401, "invalid"},
    [GATE_UNKNOWN_KID] = {"unknown_kid", 401, "invalid"},
    [GATE_SIGNATURE] = {"signature", 401, "invalid"},
    [GATE_ISSUER] = {"issuer", 401, "invalid"},
    [GATE_AUDIENCE] = {"audience", 401, "invalid"},
    [GATE_NOT_YET_VALID] = {"not_yet_valid", 401, "invalid"},
    [GATE_EXPIRED] = {"expired", 401, "expired"},
    [GATE_REVOKED] = {"revoked", 401, "revoked"},
    [GATE_RATE_LIMITED] = {"rate_limited", 403, "rate_limited"},
    [GATE_UNAVAILABLE] = {"unavailable", 503, NULL},
    [GATE_ERROR] = {"error", 500, NULL},
};

const char *gate_outcome_name(enum gate_outcome o)
{
	return o < GATE_OUTCOMES ? outcomes[o].name : "error";
}

int gate_outcome_status(enum gate_outcome o)
{
	return o < GATE_OUTCOMES ? outcomes[o].status : 500;
}

static void decide(struct gate_verdict *v, enum gate_outcome o)
{
	v->outcome = o;
	v->status = outcomes[o].status;
	v->reason = outcomes[o].reason;
}

/* The outcome of a token token_verify_detail refused, from its detail (its
 * own words; t/unit/gate.c makes each of these happen). Any other detail
 * is about the token's form. */
static enum gate_outcome refused(const char *why, const char *detail)
{
	static const struct {
		const char *detail;
		enum gate_outcome outcome;
	} known[] = {
	    {"algorithm not HS256", GATE_ALGORITHM},
	    {"unknown kid", GATE_UNKNOWN_KID},
	    {"bad signature", GATE_SIGNATURE},
	    {"wrong issuer", GATE_ISSUER},
	    {"wrong audience", GATE_AUDIENCE},
	    {"not yet valid", GATE_NOT_YET_VALID},
	    {"issued in the future", GATE_NOT_YET_VALID},
	};
	if (why && strcmp(why, "expired") == 0)
		return GATE_EXPIRED;
	for (size_t i = 0; detail && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(detail, known[i].detail) == 0)
			return known[i].outcome;
	return GATE_MALFORMED;
}

void gate_decide(const struct gate_config *cfg, const char *const *authorization, size_t n,
                 long long now, struct pool *pool, struct gate_verdict *out)
{
	struct ratelimit_item items[GATE_BATCH_MAX];
	struct ratelimit_result results[GATE_BATCH_MAX];
	size_t which[GATE_BATCH_MAX]; /* items[k] belongs to out[which[k]] */
	size_t nitems = 0;

	if (n > GATE_BATCH_MAX) {
		log_error("gate: %zu checks in one batch; deciding the first %d", n,
		          GATE_BATCH_MAX);
		for (size_t i = GATE_BATCH_MAX; i < n; i++) {
			memset(&out[i], 0, sizeof(out[i]));
			decide(&out[i], GATE_ERROR);
		}
		n = GATE_BATCH_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		struct gate_verdict *v = &out[i];
		memset(v, 0, sizeof(*v));
		const char *jwt = token_bearer(authorization[i]);
		if (!jwt) {
			decide(v, GATE_MISSING);
			continue;
		}
		unsigned char digest[GATE_DIGEST_LEN];
		unsigned int dlen = 0;
		bool memo = cfg->memo && strlen(jwt) <= TOKEN_MAX &&
		            EVP_Digest(jwt, strlen(jwt), digest, &dlen, EVP_sha256(), NULL) &&
		            dlen == GATE_DIGEST_LEN;
		if (!memo || !gate_memo_get(cfg->memo, digest, now, pool, &v->claims)) {
			const char *why = NULL, *detail = NULL;
			if (token_verify_detail(cfg->keys, jwt, cfg->issuer, cfg->audience, now,
			                        pool, &v->claims, &why, &detail) != ERR_OK) {
				log_info("gate refused a token: %s", detail ? detail : "invalid");
				decide(v, refused(why, detail));
				continue;
			}
			if (memo)
				gate_memo_put(cfg->memo, digest, &v->claims);
		}
		const char *key = pool_printf(pool, "rl:u:%s", v->claims.sub);
		const char *revoked = pool_printf(pool, "revoked:%s", v->claims.jti);
		if (strlen(key) > RATELIMIT_KEY_MAX || strlen(revoked) > RATELIMIT_KEY_MAX ||
		    !header_safe(v->claims.sub) || !header_safe(v->claims.email) ||
		    !header_safe(v->claims.role)) {
			/* Only a token we signed gets here: a bug, not an attack. */
			log_error("gate: a verified token has claims that cannot be used");
			decide(v, GATE_ERROR);
			continue;
		}
		items[nitems].key = key;
		items[nitems].block_key = revoked;
		which[nitems++] = i;
	}
	if (nitems == 0)
		return;
	/* Revocation and the count of every valid token: one round trip. A
	 * cache that is not known complete is rebuilt first (or nothing passes). */
	const char *ready = cfg->db ? REVOCATION_READY_KEY : NULL;
	enum err e = ratelimit_hit_batch(cfg->cache, items, nitems, ready, cfg->rate_limit,
	                                 cfg->rate_window, results);
	if (e == ERR_NOT_FOUND) {
		e = gate_rebuild(cfg);
		if (e == ERR_OK)
			e = ratelimit_hit_batch(cfg->cache, items, nitems, ready, cfg->rate_limit,
			                        cfg->rate_window, results);
		if (e == ERR_NOT_FOUND || e == ERR_INVALID || e == ERR_INTERNAL)
			e = ERR_UNAVAILABLE;
	}
	for (size_t k = 0; k < nitems; k++) {
		struct gate_verdict *v = &out[which[k]];
		if (e != ERR_OK) {
			decide(v, e == ERR_UNAVAILABLE || e == ERR_TIMEOUT ? GATE_UNAVAILABLE
			                                                   : GATE_ERROR);
			continue;
		}
		v->rl = results[k];
		if (v->rl.blocked) {
			decide(v, GATE_REVOKED);
			continue;
		}
		v->counted = true;
		decide(v, v->rl.allowed ? GATE_ALLOWED : GATE_RATE_LIMITED);
	}
}

static const char *status_line(int status)
{
	switch (status) {
	case 204:
		return "204 No Content";
	case 401:
		return "401 Unauthorized";
	case 403:
		return "403 Forbidden";
	case 503:
		return "503 Service Unavailable";
	default:
		return "500 Internal Server Error";
	}
}

void gate_format(const struct gate_verdict *v, struct buf *b)
{
	buf_printf(b, "Status: %s\r\n", status_line(v->status));
	if (v->status != 204)
		buf_puts(b, "Content-Length: 0\r\n");
	if (v->reason)
		buf_printf(b, "X-Auth-Error: %s\r\n", v->reason);
	if (v->counted) {
		const struct ratelimit_result *rl = &v->rl;
		buf_printf(b,
		           "X-RateLimit-Limit: %ld\r\nX-RateLimit-Remaining: "
		           "%ld\r\nX-RateLimit-Reset: %ld\r\n",
		           rl->limit, rl->remaining, rl->reset);
		if (!rl->allowed)
			buf_printf(b, "Retry-After: %ld\r\n",
			           rl->retry_after > 0 ? rl->retry_after : 1);
	}
	if (v->status == 204)
		buf_printf(b, "X-User-Id: %s\r\nX-User-Email: %s\r\nX-User-Role: %s\r\n",
		           v->claims.sub, v->claims.email ? v->claims.email : "",
		           v->claims.role ? v->claims.role : "user");
	buf_puts(b, "\r\n");
}
