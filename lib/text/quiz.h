/* quiz: questions from a document's own text, and lenient grading.
 *
 * quiz_generate reads the document model (doc.h) and its key phrases
 * (phrases.h) and asks about what the text says:
 *   - multiple choice: the answer is a key phrase, name or number inside a
 *     ranked sentence, the stem that sentence with the answer blanked out,
 *     or "What is X?" for a sentence that defines X (its definition is the
 *     answer); three distractors of the same kind (numbers for numbers,
 *     names for names, phrases of as many words for phrases, definitions
 *     for definitions) from the same document, distinct, none sharing a
 *     stem with the answer or with one another; the correct option's
 *     position spread evenly over the quiz;
 *   - true/false: the sentence as written (true) or with its answer
 *     swapped for a distractor (false), about half each; a choice question
 *     with options "True" and "False";
 *   - short answer: the blanked sentence, answered by one to four words.
 * Easy quizzes ask about defined and frequent terms with distractors from
 * far away in the text; hard ones about rarer phrases with distractors from
 * the same section. No two questions share a sentence or an answer, and
 * questions are spread over the sections. The same text, options and seed
 * (the quiz id) always give the same quiz. */
#ifndef LECTERN_QUIZ_H
#define LECTERN_QUIZ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	QUIZ_QUESTIONS_MAX = 50, /* questions in one quiz */
	QUIZ_OPTIONS = 4,        /* options of a multiple choice question */
	QUIZ_ANSWER_MAX = 1000   /* bytes of a learner's answer that are graded */
};

enum quiz_type {
	QUIZ_MULTIPLE_CHOICE = 1 << 0,
	QUIZ_TRUE_FALSE = 1 << 1,
	QUIZ_SHORT_ANSWER = 1 << 2
};

enum quiz_difficulty { QUIZ_EASY, QUIZ_MEDIUM, QUIZ_HARD };

struct quiz_request {
	size_t count;                    /* questions wanted, 1..QUIZ_QUESTIONS_MAX */
	enum quiz_difficulty difficulty; /* */
	unsigned types;                  /* enum quiz_type bits; 0 means choice and true/false */
	const char *seed;                /* the quiz id: the same seed gives the same quiz */
};

struct quiz_question {
	enum quiz_type type;
	const char *question;              /* the stem as the learner reads it */
	const char *options[QUIZ_OPTIONS]; /* choice questions; NULL past noptions */
	int noptions;                      /* 4, 2 for true/false, 0 for short answer */
	int correct;                       /* index of the right option; -1 for short answer */
	const char *answer;                /* the right option's text, or the short answer */
	const char *source;                /* the sentence of the document it comes from */
	const char *section;               /* its section path, "" outside any */
	long page;                         /* its page (1 when the text has no pages) */
	const char *explanation;           /* source with its section (and page) */
};

/* The name of a type in the API ("multiple_choice", "true_false",
 * "short_answer"), and the type a name stands for (0 when none). */
const char *quiz_type_name(enum quiz_type t);
enum quiz_type quiz_type_parse(const char *name, size_t len);

/* Up to req->count questions about text (len bytes) into *out (pool-owned,
 * in document order); *n gets how many were made. ERR_OK when all of
 * req->count were made; ERR_UNPROCESSABLE when the text gives fewer (*n says
 * how many it can give, possibly 0); ERR_INVALID for a bad request;
 * ERR_INTERNAL (logged) when the stemmer cannot be created. pages (> 1)
 * says the text has pages worth naming in explanations. */
enum err quiz_generate(struct pool *pool, const char *text, size_t len, long pages,
                       const struct quiz_request *req, struct quiz_question **out,
                       size_t *n) MUST_CHECK;

struct llm_client;
/* Asks the model behind c to rewrite each of qs[0..n) (extractive
 * questions) as a question of the same type about the same source
 * sentence, and keeps a rewrite only when it checks out: a known passage
 * and type; a choice answer or short answer whose words are in that
 * sentence and not in the stem, and that no other question has; four
 * distinct options and an index in range (the right option is moved to the
 * position the extractive question had, keeping the spread); a true/false
 * statement whose content words are mostly the sentence's. Every other
 * question stays extractive; *from_model gets how many were replaced.
 * Errors are the model's (llm_chat), or ERR_INVALID for an answer without
 * a questions array; qs is then untouched. */
enum err quiz_with_llm(struct llm_client *c, struct pool *pool, struct quiz_question *qs, size_t n,
                       size_t *from_model) MUST_CHECK;

/* Whether a learner's answer to a short answer question matches the right
 * one leniently: case, spacing, punctuation and articles do not count,
 * words match by stem ("mitochondria" for "mitochondrion" does not, but
 * "enzymes" for "enzyme" does), numbers may be written in digits or words
 * up to ninety-nine, and one typo (a letter added, dropped, changed or two
 * swapped) is forgiven in a word of six letters or more. */
bool quiz_answer_matches(const char *expected, const char *given, size_t given_len);

#endif
