/* fuzz: what every libFuzzer target of t/fuzz shares.
 *
 * Each target is one file that defines LLVMFuzzerTestOneInput (and, when it
 * needs one-time set-up, LLVMFuzzerInitialize; t/fuzz/quiet.c is the one of
 * the targets that need only a silent log). A target feeds arbitrary
 * bytes to one parser, frees everything it was given, and checks the
 * parser's written contract with fuzz_check, so a broken promise is a
 * finding just like a crash. Inputs must be replayable: any randomness (chunk
 * sizes) comes from the input itself. */
#ifndef LECTERN_FUZZ_H
#define LECTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts with a message when a parser's contract does not hold; libFuzzer
 * then keeps the input as a crash. */
#define fuzz_check(cond, what)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: contract broken at %s:%d: %s\n", __FILE__,          \
			        __LINE__, what);                                                   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A small deterministic generator (xorshift32) for chunk sizes; its seed
 * comes from the input. */
struct fuzz_rng {
	uint32_t s;
};

static inline void fuzz_rng_init(struct fuzz_rng *r, uint32_t seed)
{
	r->s = seed ? seed : 0x9e3779b9u;
}

/* A number in [1, max] (max >= 1). */
static inline size_t fuzz_rng_chunk(struct fuzz_rng *r, size_t max)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 17;
	r->s ^= r->s << 5;
	return 1 + (size_t)(r->s % (uint32_t)max);
}

#endif
