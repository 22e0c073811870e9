/* Unit tests for strtab: numbering in order of first sight, finding again
 * across growth, the budget, and keys that share a prefix or a hash bucket. */
#include <stdio.h>
#include <string.h>

#include "core/strtab.h"
#include "tap.h"

int main(void)
{
	struct pool *pool = pool_new();
	struct strtab t;
	strtab_init(&t, 5000);
	ok(strtab_find(&t, "x") == STRTAB_NONE, "an empty table finds nothing");
	bool added = false;
	is_long(strtab_add(&t, pool, "alpha", &added), 0, "the first string is 0");
	ok(added, "... and is added");
	is_long(strtab_add(&t, pool, "beta", &added), 1, "the second string is 1");
	is_long(strtab_add(&t, pool, "alpha", &added), 0, "a string seen again keeps its number");
	ok(!added, "... and is not added again");
	is_long(strtab_add(&t, pool, "", &added), 2, "the empty string is a string");
	is_long(strtab_add(&t, pool, "alph", &added), 3, "a prefix is another string");

	/* Past the first table (1024 slots, grown at half load) several times. */
	char key[32];
	bool numbered = true;
	for (int i = 0; i < 4000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		numbered &= strtab_add(&t, pool, key, &added) == (size_t)i + 4 && added;
	}
	ok(numbered, "4000 more strings are numbered in order");
	bool found = true;
	for (int i = 0; i < 4000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		found &= strtab_find(&t, key) == (size_t)i + 4;
	}
	ok(found, "each is found again after the table grew");
	ok(strtab_find(&t, "k4000") == STRTAB_NONE, "a string never added is not found");
	is_str(t.keys[1], "beta", "keys[n] is the string numbered n");

	char local[] = "gamma";
	size_t g = strtab_add(&t, pool, local, &added);
	local[0] = 'X';
	is_str(t.keys[g], "gamma", "the table keeps a copy of the key");

	struct strtab small;
	strtab_init(&small, 2);
	strtab_add(&small, pool, "a", &added);
	strtab_add(&small, pool, "b", &added);
	ok(strtab_add(&small, pool, "c", &added) == STRTAB_NONE && !added,
	   "past the budget a new string is refused");
	is_long(strtab_add(&small, pool, "b", &added), 1, "a known one is still found");
	strtab_free(&small);
	strtab_free(&t);
	ok(t.keys == NULL && t.count == 0, "strtab_free leaves an empty table");
	pool_free(pool);
	return tap_done();
}
