/* answer_llm: a grounded answer from an OpenAI-compatible model, its
 * citations checked against the passages it was given (see answer.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "text/answer.h"

static const char system_prompt[] =
    "You answer a learner's question using only the numbered passages of their own course "
    "documents given below. Quote or closely paraphrase the passages, and put the number of "
    "each passage you use in square brackets after the sentence that uses it, like [1]. Cite "
    "only the numbers given. Never add facts that are not in the passages. If the passages "
    "do not answer the question, reply exactly: NOT COVERED. Answer in at most four "
    "sentences, in the language of the question.";

/* The user message: the passages, numbered, then the question. */
static const char *prompt(struct pool *pool, const char *question, const struct answer_passage *ps,
                          size_t n)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "Passages:\n\n");
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ps[i].text);
		if (len > ANSWER_LLM_PASSAGE_MAX)
			len = ANSWER_LLM_PASSAGE_MAX;
		while (len > 0 && ((unsigned char)ps[i].text[len] & 0xC0) == 0x80)
			len--;
		buf_printf(&b, "[%zu] %s\n", i + 1,
		           *ps[i].section ? ps[i].section : "(no heading)");
		for (size_t k = 0; k < len; k++) /* one line: the passage's blocks joined */
			buf_putc(&b, ps[i].text[k] == '\n' ? ' ' : ps[i].text[k]);
		buf_puts(&b, "\n\n");
	}
	buf_printf(&b, "Question: %s\n", question);
	const char *r = pool_strdup(pool, b.data);
	buf_clear(&b);
	return r;
}

/* Checks every [n] of text against n passages and renumbers them by first
 * use into out; false when one is out of range or there is none. */
static bool check_citations(struct pool *pool, const char *text, size_t n, struct answer_llm *out)
{
	struct buf b;
	buf_init(&b);
	bool ok = true;
	const char *p = text;
	while (*p && ok) {
		char *end = NULL;
		if (p[0] == '[' && p[1] >= '0' && p[1] <= '9') {
			unsigned long k = strtoul(p + 1, &end, 10);
			if (end && *end == ']') {
				if (k < 1 || k > n) {
					ok = false;
					break;
				}
				size_t idx = 0;
				while (idx < out->ncited && out->cited[idx] != k - 1)
					idx++;
				if (idx == out->ncited)
					out->cited[out->ncited++] = k - 1;
				buf_printf(&b, "[%zu]", idx + 1);
				p = end + 1;
				continue;
			}
		}
		buf_putc(&b, *p++);
	}
	out->text = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return ok && out->ncited > 0;
}

enum err answer_with_llm(struct llm_client *c, struct pool *pool, const char *question,
                         const struct answer_passage *passages, size_t n, struct answer_llm *out)
{
	memset(out, 0, sizeof(*out));
	if (n > ANSWER_LLM_PASSAGES)
		n = ANSWER_LLM_PASSAGES;
	if (n == 0)
		return ERR_INVALID;
	struct llm_message msgs[] = {
	    {"system", system_prompt},
	    {"user", prompt(pool, question, passages, n)},
	};
	struct llm_reply reply;
	enum err e = llm_chat(c, msgs, 2, pool, &reply);
	if (e != ERR_OK)
		return e;
	const char *text = reply.content;
	size_t len = strlen(text);
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\n'))
		len--;
	size_t start = strspn(text, " \n");
	if (len <= start || len - start > ANSWER_LLM_REPLY_MAX) {
		log_warn("answer: the model's answer is empty or too long (%zu bytes)", len);
		return ERR_INVALID;
	}
	text = pool_strndup(pool, text + start, len - start);
	if (strstr(text, "NOT COVERED")) {
		log_info("answer: the model found no answer in the passages");
		return ERR_INVALID;
	}
	if (!check_citations(pool, text, n, out)) {
		log_warn("answer: the model's answer cites no passage or one it was not given");
		return ERR_INVALID;
	}
	return ERR_OK;
}
