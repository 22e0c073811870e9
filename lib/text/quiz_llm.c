/* quiz_llm: questions written by an OpenAI-compatible model, each checked
 * against the passage it came from before it replaces the extractive one
 * (see quiz.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core/log.h"
#include "text/llm.h"
#include "text/quiz.h"
#include "text/text.h"

enum {
	STEM_MAX = 500,   /* bytes of a question the model writes */
	OPTION_MAX = 200, /* bytes of one option or short answer */
	SHORT_WORDS = 4,  /* words of a short answer */
	WORDS_MAX = 64    /* words of a statement compared with its passage */
};

static const char system_prompt[] =
    "You write quiz questions for a learner from numbered passages of their own course "
    "document. For each passage write exactly one question of the type named after its "
    "number, using only what that passage says. Reply with JSON only, in this form: "
    "{\"questions\": [{\"passage\": 1, \"type\": \"multiple_choice\", \"question\": \"...\", "
    "\"options\": [\"...\", \"...\", \"...\", \"...\"], \"correct_answer\": 0}]}. "
    "multiple_choice: four different options of the same kind, correct_answer the 0-based "
    "index of the right one, whose words must be copied from the passage. true_false: the "
    "question is a statement, options are [\"True\", \"False\"], correct_answer 0 when the "
    "passage says it and 1 when the passage says otherwise. short_answer: options are [], "
    "correct_answer is one to four words copied from the passage. Never give the answer "
    "away in the question.";

/* The user message: each passage with its number, type and section. */
static const char *prompt(struct pool *pool, const struct quiz_question *qs, size_t n)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "Passages:\n\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "[%zu] %s (section: %s)\n%s\n\n", i + 1, quiz_type_name(qs[i].type),
		           *qs[i].section ? qs[i].section : "none", qs[i].source);
	const char *r = pool_strdup(pool, b.data);
	buf_clear(&b);
	return r;
}

static struct json_object *member(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, name, &v) ? v : NULL;
}

/* A JSON string of 1..max bytes without NUL, trimmed, in pool; or NULL. */
static const char *trimmed(struct pool *pool, struct json_object *v, size_t max)
{
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len))
		return NULL;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return len && len <= max ? pool_strndup(pool, s, len) : NULL;
}

static const char *string_member(struct pool *pool, struct json_object *o, const char *name,
                                 size_t max)
{
	return trimmed(pool, member(o, name), max);
}

/* Whether the words of part appear, in order and next to each other, in
 * passage (case, spacing and punctuation aside). */
static bool supported(struct pool *pool, const char *passage, const char *part)
{
	struct text_word *pw = NULL, *aw = NULL;
	size_t np = text_words(pool, passage, strlen(passage), TEXT_SENTENCE_MAX, &pw);
	size_t na = text_words(pool, part, strlen(part), WORDS_MAX, &aw);
	if (na == 0 || na > np)
		return false;
	for (size_t i = 0; i + na <= np; i++) {
		size_t k = 0;
		while (k < na && strcmp(pw[i + k].lower, aw[k].lower) == 0)
			k++;
		if (k == na)
			return true;
	}
	return false;
}

/* Whether most content words of a true/false statement (those of four
 * letters or more) are words of the passage: a statement about something
 * else is not grounded, whichever way it is marked. */
static bool grounded(struct pool *pool, const char *passage, const char *statement)
{
	struct text_word *pw = NULL, *sw = NULL;
	size_t np = text_words(pool, passage, strlen(passage), TEXT_SENTENCE_MAX, &pw);
	size_t ns = text_words(pool, statement, strlen(statement), WORDS_MAX, &sw);
	size_t content = 0, found = 0;
	for (size_t i = 0; i < ns; i++) {
		if (strlen(sw[i].lower) < 4 || text_is_stop_word(sw[i].lower))
			continue;
		content++;
		for (size_t k = 0; k < np; k++)
			if (strcmp(pw[k].lower, sw[i].lower) == 0) {
				found++;
				break;
			}
	}
	return content > 0 && found * 3 >= content * 2;
}

/* An integer member in 0..n-1, or -1. */
static int index_member(struct json_object *o, int n)
{
	struct json_object *v = member(o, "correct_answer");
	if (!v || !json_object_is_type(v, json_type_int))
		return -1;
	int64_t i = json_object_get_int64(v);
	return i >= 0 && i < n ? (int)i : -1;
}

/* Whether answer is already the answer of a question other than skip. */
static bool answer_taken(const struct quiz_question *qs, size_t n, size_t skip, const char *answer)
{
	for (size_t i = 0; i < n; i++)
		if (i != skip && qs[i].answer && strcasecmp(qs[i].answer, answer) == 0)
			return true;
	return false;
}

/* The model's question o for qs[i], checked; false leaves qs[i] as it is. */
static bool take(struct pool *pool, struct json_object *o, struct quiz_question *qs, size_t n,
                 size_t i)
{
	struct quiz_question *q = &qs[i];
	const char *type = string_member(pool, o, "type", 32);
	const char *stem = string_member(pool, o, "question", STEM_MAX);
	if (!type || !stem || quiz_type_parse(type, strlen(type)) != q->type)
		return false;
	struct json_object *opts = member(o, "options");
	size_t nopts =
	    opts && json_object_is_type(opts, json_type_array) ? json_object_array_length(opts) : 0;
	if (q->type == QUIZ_SHORT_ANSWER) {
		const char *answer = string_member(pool, o, "correct_answer", OPTION_MAX);
		struct text_word *w = NULL;
		size_t nw =
		    answer ? text_words(pool, answer, strlen(answer), SHORT_WORDS + 1, &w) : 0;
		if (nopts || nw == 0 || nw > SHORT_WORDS || !supported(pool, q->source, answer) ||
		    answer_taken(qs, n, i, answer) || supported(pool, stem, answer))
			return false;
		q->question = stem;
		q->answer = answer;
		return true;
	}
	if (q->type == QUIZ_TRUE_FALSE) {
		int correct = index_member(o, 2);
		const char *t =
		    nopts == 2 ? json_object_get_string(json_object_array_get_idx(opts, 0)) : NULL;
		const char *f =
		    nopts == 2 ? json_object_get_string(json_object_array_get_idx(opts, 1)) : NULL;
		if (correct < 0 || !t || !f || strcasecmp(t, "True") != 0 ||
		    strcasecmp(f, "False") != 0 || !grounded(pool, q->source, stem))
			return false;
		q->question = stem;
		q->correct = correct;
		q->answer = q->options[correct];
		return true;
	}
	/* Multiple choice: four distinct options, the right one from the
	 * passage, moved to the position the extractive question had (so the
	 * quiz keeps its even spread of right positions). */
	int correct = index_member(o, QUIZ_OPTIONS);
	if (nopts != QUIZ_OPTIONS || correct < 0)
		return false;
	const char *opt[QUIZ_OPTIONS];
	for (int k = 0; k < QUIZ_OPTIONS; k++) {
		opt[k] = trimmed(pool, json_object_array_get_idx(opts, (size_t)k), OPTION_MAX);
		if (!opt[k])
			return false;
		for (int j = 0; j < k; j++)
			if (strcasecmp(opt[j], opt[k]) == 0)
				return false;
	}
	if (!supported(pool, q->source, opt[correct]) || answer_taken(qs, n, i, opt[correct]) ||
	    supported(pool, stem, opt[correct]))
		return false;
	int want = q->correct >= 0 && q->correct < QUIZ_OPTIONS ? q->correct : 0;
	const char *tmp = opt[want];
	opt[want] = opt[correct];
	opt[correct] = tmp;
	q->question = stem;
	for (int k = 0; k < QUIZ_OPTIONS; k++)
		q->options[k] = opt[k];
	q->noptions = QUIZ_OPTIONS;
	q->correct = want;
	q->answer = opt[want];
	return true;
}

enum err quiz_with_llm(struct llm_client *c, struct pool *pool, struct quiz_question *qs, size_t n,
                       size_t *from_model)
{
	*from_model = 0;
	if (n == 0)
		return ERR_OK;
	struct llm_message msgs[] = {
	    {"system", system_prompt},
	    {"user", prompt(pool, qs, n)},
	};
	struct llm_reply reply;
	enum err e = llm_chat(c, msgs, 2, pool, &reply);
	if (e != ERR_OK)
		return e;
	struct json_object *root = llm_reply_json(reply.content);
	struct json_object *list = root ? member(root, "questions") : NULL;
	if (!list || !json_object_is_type(list, json_type_array)) {
		log_warn("quiz: the model's answer holds no questions array");
		json_object_put(root);
		return ERR_INVALID;
	}
	bool *done = pool_alloc(pool, n * sizeof(*done));
	memset(done, 0, n * sizeof(*done));
	size_t refused = 0;
	for (size_t k = 0; k < json_object_array_length(list); k++) {
		struct json_object *o = json_object_array_get_idx(list, k), *p = NULL;
		p = o && json_object_is_type(o, json_type_object) ? member(o, "passage") : NULL;
		int64_t at =
		    p && json_object_is_type(p, json_type_int) ? json_object_get_int64(p) : 0;
		if (at < 1 || (size_t)at > n || done[at - 1]) {
			refused++;
			continue;
		}
		if (take(pool, o, qs, n, (size_t)at - 1)) {
			done[at - 1] = true;
			(*from_model)++;
		} else {
			refused++;
		}
	}
	json_object_put(root);
	log_info("quiz: %zu of %zu questions from the model, %zu of its answers refused",
	         *from_model, n, refused);
	return ERR_OK;
}
