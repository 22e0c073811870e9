/* answer: grounded extractive answers to a learner's question.
 *
 * The chat service retrieves passages of the learner's own documents with
 * Postgres full-text search; this module reads the question and those
 * passages and answers only with sentences the passages hold:
 *   - the question's content words and their stems (answer_terms), also
 *     what retrieval searches for;
 *   - its intent: small talk (greeting, thanks, "what can you do") that gets
 *     a direct reply, or a question whose kind steers the choice of
 *     sentences: "what is X" prefers a definition of X, "how many" and
 *     "when" sentences with numbers, "why" causal sentences;
 *   - each sentence of the passages is scored by the weighted share of the
 *     question's terms it holds (rarer terms weigh more), its kind, the
 *     passage's rank and a heading that matches; one to four sentences are
 *     kept (the best, the sentence that continues it, others nearly as
 *     good, no near-repeats), in document order;
 *   - below the relevance threshold (too few of the question's terms in any
 *     passage) the question is not covered: no sentence is given, and the
 *     caller says so. Nothing is ever made up.
 * Terms of earlier turns help a follow-up ("and why is it slower?"): they
 * count for less than the question's own and never make it covered alone.
 * Deterministic; everything returned is owned by the pool given. */
#ifndef LECTERN_ANSWER_H
#define LECTERN_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"
#include "text/llm.h"

enum {
	ANSWER_TERMS_MAX = 24,    /* content words of one question */
	ANSWER_SENTENCES_MAX = 4, /* sentences of one answer */
	ANSWER_PASSAGES_MAX = 16, /* passages read for one answer */
	ANSWER_CHARS_MAX = 1200,  /* bytes of the quoted sentences, roughly */
	ANSWER_QUERY_MAX = 1024,  /* bytes of a search text */
	ANSWER_PAIR_TERMS = 8     /* terms whose pairs a search needs (28 pairs) */
};

enum answer_intent {
	ANSWER_QUESTION,  /* anything to answer from the documents */
	ANSWER_GREETING,  /* "hello", "good morning" */
	ANSWER_THANKS,    /* "thanks!", "thank you, that helps" */
	ANSWER_CAPABILITY /* "what can you do?", "help" */
};

enum answer_kind {
	ANSWER_KIND_GENERAL,
	ANSWER_KIND_DEFINITION, /* what is / what are / define / who is */
	ANSWER_KIND_NUMBER,     /* how many / how much / when / what year */
	ANSWER_KIND_CAUSE       /* why / what causes / the reason */
};

/* One content word of a question. */
struct answer_term {
	const char *word; /* lower-cased, as written */
	const char *stem; /* Snowball English stem */
};

/* The content words of text (stop and question words dropped, repeats
 * merged), at most max, in order; returns how many were stored in *out. */
size_t answer_terms(struct pool *pool, const char *text, size_t max, struct answer_term **out);

/* What the message asks for (small talk is recognised only in a short
 * message that holds nothing else). */
enum answer_intent answer_intent(const char *text);

/* The kind of question, from its opening words. */
enum answer_kind answer_kind(const char *text);

/* A websearch_to_tsquery text that matches any of the terms ("light or
 * energy"); "" when there are none. Pool-owned. */
const char *answer_query_any(struct pool *pool, const struct answer_term *t, size_t n);
/* A websearch_to_tsquery text that needs every term ("light energy"). */
const char *answer_query_all(struct pool *pool, const struct answer_term *t, size_t n);

/* A websearch_to_tsquery text that needs two of the terms ("a b or a c or
 * b c"; AND binds tighter than OR), over the first ANSWER_PAIR_TERMS. */
const char *answer_query_pairs(struct pool *pool, const struct answer_term *t, size_t n);

/* A websearch_to_tsquery text of the phrases of neighbouring content words
 * of text as written ("\"speed of light\" or ..."); "" when none. */
const char *answer_query_phrases(struct pool *pool, const char *text);

/* A passage retrieval found, best first. */
struct answer_passage {
	const char *text; /* blocks joined by blank lines */
	const char *section;
	double rank; /* retrieval's score (higher is better) */
};

/* One sentence of the answer, from passages[passage]. */
struct answer_sentence {
	const char *text;
	size_t len;
	size_t passage;
};

struct answer {
	bool covered;                      /* false: no sentence answers the question */
	struct answer_sentence *sentences; /* in document order */
	size_t count;
	size_t closest[3]; /* not covered: the nearest passages (indexes) */
	size_t nclosest;
};

/* Picks the sentences of passages[0..n) that answer question (see above);
 * prev are the terms of earlier turns (may be none). *out is filled in
 * every case; ERR_INTERNAL (logged) when the stemmer cannot be made. */
enum err answer_extract(struct pool *pool, const char *question, const struct answer_term *prev,
                        size_t nprev, const struct answer_passage *passages, size_t n,
                        struct answer *out) MUST_CHECK;

/* --- With a model (answer_llm.c) ----------------------------------------- */

enum {
	ANSWER_LLM_PASSAGES = 6,       /* passages the model is given */
	ANSWER_LLM_PASSAGE_MAX = 1500, /* bytes of one passage in the prompt */
	ANSWER_LLM_REPLY_MAX = 8000    /* bytes of an answer taken from the model */
};

struct answer_llm {
	const char *text;                  /* the model's answer, its [n] renumbered by first use */
	size_t cited[ANSWER_LLM_PASSAGES]; /* passage of [1], [2], ... */
	size_t ncited;
};

/* Asks the model to answer question from passages[0..n) (at most
 * ANSWER_LLM_PASSAGES are given, numbered) and to cite them as [n]; the
 * answer is taken only when it cites at least one passage and every [n] it
 * writes is one it was given. ERR_INVALID (logged) for an answer that does
 * not check, else llm_chat's errors: the caller then answers without the
 * model. *out is owned by pool. */
enum err answer_with_llm(struct llm_client *c, struct pool *pool, const char *question,
                         const struct answer_passage *passages, size_t n,
                         struct answer_llm *out) MUST_CHECK;

#endif
