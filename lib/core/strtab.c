/* strtab: distinct strings, numbered. */
#include <stdlib.h>
#include <string.h>

#include "core/strtab.h"

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot that holds key, or the empty one where it would go. */
static size_t *slot_of(const struct strtab *t, const char *key, uint64_t h)
{
	size_t mask = t->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		size_t s = t->slots[i];
		if (s == 0 || (t->hashes[s - 1] == h && strcmp(t->keys[s - 1], key) == 0))
			return &t->slots[i];
	}
}

void strtab_init(struct strtab *t, size_t budget)
{
	memset(t, 0, sizeof(*t));
	t->budget = budget;
}

size_t strtab_find(const struct strtab *t, const char *key)
{
	if (t->nslots == 0)
		return STRTAB_NONE;
	size_t s = *slot_of(t, key, hash_key(key));
	return s ? s - 1 : STRTAB_NONE;
}

size_t strtab_add(struct strtab *t, struct pool *pool, const char *key, bool *added)
{
	uint64_t h = hash_key(key);
	*added = false;
	if (t->nslots) {
		size_t s = *slot_of(t, key, h);
		if (s)
			return s - 1;
	}
	if (t->count >= t->budget)
		return STRTAB_NONE;
	if ((t->count + 1) * 2 > t->nslots) {
		free(t->slots);
		t->nslots = t->nslots ? t->nslots * 2 : 1024;
		t->slots = xcalloc(t->nslots, sizeof(*t->slots));
		for (size_t i = 0; i < t->count; i++)
			*slot_of(t, t->keys[i], t->hashes[i]) = i + 1;
	}
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 512;
		t->keys = xrealloc(t->keys, t->cap * sizeof(*t->keys));
		t->hashes = xrealloc(t->hashes, t->cap * sizeof(*t->hashes));
	}
	size_t *s = slot_of(t, key, h);
	t->keys[t->count] = pool_strdup(pool, key);
	t->hashes[t->count] = h;
	*s = ++t->count;
	*added = true;
	return t->count - 1;
}

void strtab_free(struct strtab *t)
{
	free(t->keys);
	free(t->hashes);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
