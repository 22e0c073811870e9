/* Fuzz target: the extractive study notes (lib/text/notes.c): sentence
 * ranking, key terms and phrases, definitions and the outline, on
 * arbitrary text.
 *
 * Input: any bytes; or, when the first byte is 0xff, a scale byte k and
 * some text that the target grows into k * 128 KiB of distinct words (each
 * word of the text with a counter after it), so a small input stands for a
 * large document of the kind that costs memory per distinct word.
 * The run gives each input a time limit and this target
 * a heap budget: the live heap may grow by at most NOTES_FUZZ_HEAP_FACTOR
 * times the input plus NOTES_FUZZ_HEAP_BASE while the notes are made (the
 * engine runs in the worker, outside the sandbox, on texts of up to 8 MiB),
 * so a time or memory blow-up is a finding. FUZZ_NOTES_HEAP=1 in the
 * environment prints each input's heap growth.
 * Contract checked (notes.h): markdown and summary are valid UTF-8, the
 * summary at most NOTES_SUMMARY_MAX bytes, the generator "extractive", and
 * the same text gives the same notes. */
#include <sanitizer/allocator_interface.h>
#include <string.h>

#include "core/mem.h"
#include "fuzz.h"
#include "text/notes.h"
#include "web/valid.h"

enum {
	NOTES_FUZZ_HEAP_FACTOR = 16, /* heap bytes per input byte */
	/* and a fixed allowance: key phrases are counted in tables of a fixed
	 * size (PHRASES_TRACKED_MAX candidates), tens of MiB whatever the text */
	NOTES_FUZZ_HEAP_BASE = 48 * 1024 * 1024,
	NOTES_FUZZ_AMPLIFY_UNIT = 128 * 1024, /* bytes per step of an amplified input */
	NOTES_FUZZ_SAME_MAX = 4096            /* inputs this small are run twice */
};

static size_t heap_peak;
static int watching;

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (!watching)
		return;
	size_t now = __sanitizer_get_current_allocated_bytes();
	if (now > heap_peak)
		heap_peak = now;
}

static void on_free(const volatile void *p)
{
	(void)p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
	return 0;
}

/* The text an amplified input stands for (see above), in pool. */
static const char *amplify(struct pool *pool, const uint8_t *data, size_t *size)
{
	size_t want = (size_t)(data[1] % 8 + 1) * NOTES_FUZZ_AMPLIFY_UNIT;
	const char *seed = (const char *)data + 2;
	size_t seed_len = *size - 2;
	if (seed_len == 0) {
		seed = "word. ";
		seed_len = 6;
	}
	char *out = pool_alloc(pool, want + 1);
	size_t o = 0;
	for (unsigned long n = 0; o < want; n++) {
		for (size_t i = 0; i < seed_len && o < want; i++) {
			out[o++] = seed[i];
			if (seed[i] != ' ' || o >= want)
				continue;
			/* After each blank, a counter in letters makes the next word new. */
			for (unsigned long k = n * seed_len + i; k && o < want; k /= 26)
				out[o++] = (char)('a' + k % 26);
		}
	}
	out[o] = '\0';
	*size = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_new();
	if (size >= 2 && data[0] == 0xff)
		data = (const uint8_t *)amplify(pool, data, &size);
	struct notes n;
	size_t before = __sanitizer_get_current_allocated_bytes();
	heap_peak = before;
	watching = 1;
	enum err e = notes_extract(pool, (const char *)data, size, &n);
	watching = 0;
	size_t budget = (size < NOTES_INPUT_MAX ? size : NOTES_INPUT_MAX) * NOTES_FUZZ_HEAP_FACTOR +
	                NOTES_FUZZ_HEAP_BASE;
	if (getenv("FUZZ_NOTES_HEAP"))
		fprintf(stderr, "fuzz: notes of %zu bytes grew the heap by %zu bytes\n", size,
		        heap_peak - before);
	if (heap_peak - before > budget) {
		fprintf(stderr,
		        "fuzz: notes of %zu bytes grew the heap by %zu bytes (budget %zu)\n", size,
		        heap_peak - before, budget);
		fuzz_check(false, "notes stay within a small multiple of the input");
	}
	fuzz_check(e == ERR_OK, "extractive notes do not fail");
	fuzz_check(n.markdown && valid_utf8(n.markdown, strlen(n.markdown)), "markdown is UTF-8");
	fuzz_check(n.summary && valid_utf8(n.summary, strlen(n.summary)), "summary is UTF-8");
	fuzz_check(strlen(n.summary) <= NOTES_SUMMARY_MAX, "summary within its ceiling");
	fuzz_check(n.generator && strcmp(n.generator, "extractive") == 0, "generator named");
	if (size <= NOTES_FUZZ_SAME_MAX) {
		struct notes again;
		fuzz_check(notes_extract(pool, (const char *)data, size, &again) == ERR_OK &&
		               strcmp(again.markdown, n.markdown) == 0 &&
		               strcmp(again.summary, n.summary) == 0,
		           "the same text gives the same notes");
	}
	pool_free(pool);
	return 0;
}
