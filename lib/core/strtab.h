/* strtab: distinct strings numbered in the order they are first seen (0, 1,
 * 2, ...), found again by an open-addressing hash table (FNV-1a, linear
 * probing, grown at half load). The text engines number stems, words and
 * phrase candidates with it and keep what they know of each in arrays of
 * their own, indexed by that number. */
#ifndef LECTERN_STRTAB_H
#define LECTERN_STRTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

#define STRTAB_NONE ((size_t)-1)

struct strtab {
	const char **keys; /* count of them, copies in the pool given to strtab_add */
	uint64_t *hashes;  /* of each key, compared before the key */
	size_t count, cap;
	size_t budget; /* strings kept at most */
	size_t *slots; /* index + 1; 0 = empty */
	size_t nslots; /* a power of two, or 0 before the first string */
};

/* An empty table that keeps at most budget strings. */
void strtab_init(struct strtab *t, size_t budget);
/* The number of key, or STRTAB_NONE. */
size_t strtab_find(const struct strtab *t, const char *key);
/* The number of key, which is copied into pool and numbered count when new
 * and the budget allows (*added then true); STRTAB_NONE past the budget. */
size_t strtab_add(struct strtab *t, struct pool *pool, const char *key, bool *added);
/* Frees the table's arrays (the keys belong to the pool). */
void strtab_free(struct strtab *t);

#endif
