/* Unit tests for answer (grounded extractive answers) and lang (the text
 * search configuration of a text). */
#include <string.h>

#include "core/mem.h"
#include "tap.h"
#include "text/answer.h"
#include "text/lang.h"

/* Passages as retrieval hands them over, best first. */
static const struct answer_passage bio[] = {
    {"Photosynthesis is the process by which green plants convert light energy into "
     "chemical energy stored in glucose. It takes place in the chloroplasts.\n\n"
     "Chlorophyll is a green pigment that absorbs red and blue light.",
     "Biology > Photosynthesis", 2.0},
    {"The Calvin cycle fixes carbon dioxide into sugar. About 0.04 percent of air is carbon "
     "dioxide. Melvin Calvin described the cycle in 1950.",
     "Biology > Photosynthesis > The Calvin cycle", 1.5},
    {"Cellular respiration is slower in cold weather because enzymes work more slowly at low "
     "temperatures. Respiration releases the energy stored in glucose.",
     "Biology > Respiration", 1.0},
};

static bool cites(const struct answer *a, size_t passage, const char *needle)
{
	for (size_t i = 0; i < a->count; i++)
		if (a->sentences[i].passage == passage && strstr(a->sentences[i].text, needle))
			return true;
	return false;
}

static void questions(void)
{
	static const struct {
		const char *q;
		size_t passage;
		const char *needle;
	} cases[] = {
	    {"What is photosynthesis?", 0, "process by which green plants"},
	    {"When did Calvin describe the cycle?", 1, "1950"},
	    {"How much of the air is carbon dioxide?", 1, "0.04 percent"},
	    {"Why is respiration slower in cold weather?", 2, "because enzymes"},
	    {"what does chlorophyll absorb", 0, "absorbs red and blue"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pool *pool = pool_new();
		struct answer a;
		ok(answer_extract(pool, cases[i].q, NULL, 0, bio, 3, &a) == ERR_OK, "extract: %s",
		   cases[i].q);
		ok(a.covered, "covered: %s", cases[i].q);
		ok(a.count >= 1 && a.count <= ANSWER_SENTENCES_MAX, "one to four sentences: %s",
		   cases[i].q);
		ok(cites(&a, cases[i].passage, cases[i].needle), "the answer holds \"%s\"",
		   cases[i].needle);
		pool_free(pool);
	}
}

static void declines(void)
{
	const char *off[] = {"What is the capital of France?", "Who won the football world cup?",
	                     "How do volcanoes erupt?"};
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		struct pool *pool = pool_new();
		struct answer a;
		ok(answer_extract(pool, off[i], NULL, 0, bio, 3, &a) == ERR_OK, "extract: %s",
		   off[i]);
		ok(!a.covered && a.count == 0, "not covered: %s", off[i]);
		ok(a.nclosest == 3, "names the closest passages");
		pool_free(pool);
	}
	struct pool *pool = pool_new();
	struct answer a;
	ok(answer_extract(pool, "What is photosynthesis?", NULL, 0, NULL, 0, &a) == ERR_OK &&
	       !a.covered && a.nclosest == 0,
	   "no passages: not covered");
	pool_free(pool);
}

static void follow_up(void)
{
	struct pool *pool = pool_new();
	struct answer_term *prev = NULL;
	size_t nprev = answer_terms(pool, "What happens in cellular respiration?", 8, &prev);
	is_long(nprev, 2, "terms of the earlier question");
	struct answer a;
	ok(answer_extract(pool, "and why is it slower in the cold?", prev, nprev, bio, 3, &a) ==
	       ERR_OK,
	   "follow-up extract");
	ok(a.covered && cites(&a, 2, "because"), "a follow-up borrows the earlier terms");
	ok(answer_extract(pool, "Why?", prev, nprev, bio, 3, &a) == ERR_OK && a.covered &&
	       cites(&a, 2, "Respiration") | cites(&a, 2, "respiration"),
	   "a bare follow-up takes the earlier question's terms");
	pool_free(pool);
}

static void intents(void)
{
	is_long(answer_intent("Hello!"), ANSWER_GREETING, "hello");
	is_long(answer_intent("good morning"), ANSWER_GREETING, "good morning");
	is_long(answer_intent("Thanks a lot, that helps"), ANSWER_THANKS, "thanks");
	is_long(answer_intent("What can you do?"), ANSWER_CAPABILITY, "what can you do");
	is_long(answer_intent("hello, what is photosynthesis?"), ANSWER_QUESTION,
	        "a greeting with a question is a question");
	is_long(answer_intent("thank you for explaining the calvin cycle to me in such detail"),
	        ANSWER_QUESTION, "a long message is a question");
	is_long(answer_kind("What is a cell?"), ANSWER_KIND_DEFINITION, "what is: definition");
	is_long(answer_kind("how many moons does Mars have"), ANSWER_KIND_NUMBER, "how many");
	is_long(answer_kind("When was it built?"), ANSWER_KIND_NUMBER, "when");
	is_long(answer_kind("And why is it slower?"), ANSWER_KIND_CAUSE, "and why");
	is_long(answer_kind("Describe the water cycle"), ANSWER_KIND_GENERAL, "general");
}

static void queries(void)
{
	struct pool *pool = pool_new();
	struct answer_term *t = NULL;
	size_t n = answer_terms(pool, "What does the speed of light depend on, and why?", 8, &t);
	is_long(n, 3, "content words only");
	is_str(answer_query_any(pool, t, n), "speed or light or depend", "any-term query");
	is_str(answer_query_all(pool, t, n), "speed light depend", "all-term query");
	is_str(answer_query_pairs(pool, t, n), "speed light or speed depend or light depend",
	       "two-term query");
	is_str(answer_query_phrases(pool, "What does the speed of light depend on?"),
	       "\"speed of light\" or \"light depend\"", "phrases keep the words between");
	is_str(answer_query_phrases(pool, "say \"x\\\" or y"), "", "no phrase from quotes alone");
	n = answer_terms(pool, "speed SPEED speeds", 8, &t);
	is_long(n, 1, "repeats merge by stem");
	n = answer_terms(pool, "", 8, &t);
	is_long(n, 0, "an empty question has no terms");
	pool_free(pool);
}

static void languages(void)
{
	const char *en = "The cell is the basic unit of life, and it is found in all of the "
	                 "organisms that are known. This is the theory of the cell.";
	is_str(lang_ts_config(en, strlen(en)), "english", "English");
	const char *fr = "La cellule est l'unit\xc3\xa9 de base de la vie. Les cellules sont dans "
	                 "tous les organismes et la th\xc3\xa9orie de la cellule est pour les "
	                 "biologistes une base. Le noyau est dans la cellule.";
	is_str(lang_ts_config(fr, strlen(fr)), "french", "French");
	const char *de = "Die Zelle ist die kleinste Einheit des Lebens. Das ist nicht neu, und "
	                 "die Theorie der Zelle wird auch von den Biologen mit dem Mikroskop "
	                 "gepr\xc3\xbc"
	                 "ft, die sich auf die Zelle beziehen.";
	is_str(lang_ts_config(de, strlen(de)), "german", "German");
	const char *code = "x = 1; y = 2; z = x + y;";
	is_str(lang_ts_config(code, strlen(code)), "simple", "code: simple");
	is_str(lang_ts_config("", 0), "simple", "nothing: simple");
}

int main(void)
{
	questions();
	declines();
	follow_up();
	intents();
	queries();
	languages();
	return tap_done();
}
