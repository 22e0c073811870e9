/* gate memo: verified tokens by digest, direct-mapped. */
#include <stdlib.h>
#include <string.h>

#include "gate.h"

struct memo_slot {
	bool used;
	unsigned char digest[GATE_DIGEST_LEN];
	long long exp;
	char *sub, *email, *role, *jti; /* malloc'd copies */
};

struct gate_memo {
	struct memo_slot slots[GATE_MEMO_SLOTS];
};

struct gate_memo *gate_memo_new(void)
{
	return xcalloc(1, sizeof(struct gate_memo));
}

static void slot_clear(struct memo_slot *s)
{
	free(s->sub);
	free(s->email);
	free(s->role);
	free(s->jti);
	memset(s, 0, sizeof(*s));
}

void gate_memo_free(struct gate_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < GATE_MEMO_SLOTS; i++)
		slot_clear(&m->slots[i]);
	free(m);
}

/* The digest is uniform: its first bytes pick the slot. */
static struct memo_slot *slot_of(struct gate_memo *m, const unsigned char *digest)
{
	size_t i = ((size_t)digest[0] << 8 | digest[1]) % GATE_MEMO_SLOTS;
	return &m->slots[i];
}

bool gate_memo_get(struct gate_memo *m, const unsigned char digest[GATE_DIGEST_LEN], long long now,
                   struct pool *pool, struct token_claims *out)
{
	struct memo_slot *s = slot_of(m, digest);
	/* Comparing digests, not tokens, leaks nothing about a remembered
	 * token through timing. */
	if (!s->used || memcmp(s->digest, digest, GATE_DIGEST_LEN) != 0)
		return false;
	if (now >= s->exp) {
		slot_clear(s);
		return false;
	}
	memset(out, 0, sizeof(*out));
	out->sub = pool_strdup(pool, s->sub);
	out->email = s->email ? pool_strdup(pool, s->email) : NULL;
	out->role = s->role ? pool_strdup(pool, s->role) : NULL;
	out->jti = pool_strdup(pool, s->jti);
	out->exp = s->exp;
	return true;
}

void gate_memo_put(struct gate_memo *m, const unsigned char digest[GATE_DIGEST_LEN],
                   const struct token_claims *claims)
{
	if (!claims->sub || !claims->jti)
		return;
	struct memo_slot *s = slot_of(m, digest);
	slot_clear(s);
	s->used = true;
	memcpy(s->digest, digest, GATE_DIGEST_LEN);
	s->exp = claims->exp;
	s->sub = xstrdup(claims->sub);
	s->email = claims->email ? xstrdup(claims->email) : NULL;
	s->role = claims->role ? xstrdup(claims->role) : NULL;
	s->jti = xstrdup(claims->jti);
}
