/* Fuzz target: lenient grading of short answers (lib/text/quiz_grade.c),
 * which reads whatever a learner types.
 *
 * Input: the right answer, a NUL byte, then the learner's answer (which may
 * hold NUL bytes and invalid UTF-8); without a NUL the whole input is both.
 * Contract checked (quiz.h): grading is deterministic; an answer matches
 * itself when it has a word, and a right answer without words matches
 * nothing; more than QUIZ_ANSWER_MAX bytes never match; for a short ASCII
 * answer, upper case, surrounding spaces, a trailing full stop and a leading
 * article do not change the verdict. */
#include <ctype.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "fuzz.h"
#include "text/quiz.h"
#include "text/text.h"

enum {
	SHORT_MAX = 200, /* bytes of an answer the invariants are checked on */
	SHORT_WORDS = 16 /* words of such an answer (below the grader's window) */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_fd(-1);
	return 0;
}

/* Whether s (len bytes) is printable ASCII with few words: the variants
 * below then cannot change its words, only their case and surroundings. */
static bool plain_short(struct pool *pool, const char *s, size_t len)
{
	if (len == 0 || len > SHORT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != ' ')
			return false;
	struct text_word *w = NULL;
	return text_words(pool, s, len, SHORT_WORDS + 1, &w) <= SHORT_WORDS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_new();
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	size_t elen = nul ? (size_t)(nul - in) : size;
	char *expected = pool_strndup(pool, in, elen);
	const char *given = nul ? nul + 1 : in;
	size_t glen = nul ? size - elen - 1 : size;

	bool verdict = quiz_answer_matches(expected, given, glen);
	fuzz_check(verdict == quiz_answer_matches(expected, given, glen),
	           "grading is deterministic");
	if (glen > QUIZ_ANSWER_MAX)
		fuzz_check(!verdict, "an oversize answer never matches");

	if (elen <= QUIZ_ANSWER_MAX) {
		bool self = quiz_answer_matches(expected, expected, elen);
		if (!self)
			fuzz_check(!verdict, "a right answer without words matches nothing");
		struct text_word *w = NULL;
		if (plain_short(pool, expected, elen) &&
		    text_words(pool, expected, elen, 1, &w) > 0 && strcmp(w[0].lower, "a") != 0 &&
		    strcmp(w[0].lower, "an") != 0 && strcmp(w[0].lower, "the") != 0)
			fuzz_check(self, "an answer with a word matches itself");
	}

	if (!memchr(given, '\0', glen) && plain_short(pool, given, glen)) {
		char *upper = pool_strndup(pool, given, glen);
		for (size_t i = 0; i < glen; i++)
			upper[i] = (char)toupper((unsigned char)upper[i]);
		fuzz_check(quiz_answer_matches(expected, upper, glen) == verdict,
		           "case does not count");
		const char *padded = pool_printf(pool, "  %s .  ", upper);
		fuzz_check(quiz_answer_matches(expected, padded, strlen(padded)) == verdict,
		           "spaces and a full stop do not count");
		const char *article = pool_printf(pool, "The %.*s", (int)glen, given);
		fuzz_check(quiz_answer_matches(expected, article, strlen(article)) == verdict,
		           "a leading article does not count");
	}
	pool_free(pool);
	return 0;
}
