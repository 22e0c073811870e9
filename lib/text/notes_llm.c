/* notes_llm: study notes from a chat-completions model, with the extractive
 * notes as the fallback. */
#include <string.h>

#include "text/llm.h"
#include "core/log.h"
#include "text/notes.h"
#include "text/doc.h"
#include "text/text.h"

static const char system_prompt[] =
    "You write study notes for a learner from one document. Use only facts stated in the "
    "document; never add outside knowledge. Answer in Markdown with exactly these four "
    "sections, in this order and with these headings:\n"
    "## Summary\n(2 or 3 plain sentences, at most 500 characters)\n"
    "## Key terms\n(a list: - **term**: its definition as the document gives it)\n"
    "## Outline\n(a nested list following the document's own headings)\n"
    "## Key points\n(a list of the most important statements, in document order)\n"
    "Write nothing before the first heading and nothing after the last section.";

/* The first bytes of text, cut to at most max at a line break or space. */
static size_t prompt_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t cut = max;
	while (cut > max / 2 && text[cut] != '\n')
		cut--;
	if (text[cut] != '\n')
		for (cut = max; cut > 0 && text[cut] != ' '; cut--)
			;
	return cut ? cut : max;
}

/* The text of the Summary section, flattened to one line, at most
 * NOTES_SUMMARY_MAX bytes cut at a space; NULL when there is none. */
static const char *summary_of(struct pool *pool, const char *md)
{
	const char *h = strstr(md, "## Summary");
	if (!h)
		return NULL;
	h += strlen("## Summary");
	const char *end = strstr(h, "\n#");
	size_t n = end ? (size_t)(end - h) : strlen(h);
	char *s = pool_alloc(pool, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '\n' || c == '\t' || c == '\r')
			c = ' ';
		if (c == '*' || c == '_' || (c == ' ' && (o == 0 || s[o - 1] == ' ')))
			continue; /* emphasis marks and doubled spaces go */
		s[o++] = c;
	}
	while (o && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
	if (o == 0)
		return NULL;
	if (o > NOTES_SUMMARY_MAX) {
		size_t cut = NOTES_SUMMARY_MAX - 3; /* room for the ellipsis */
		while (cut > 0 && s[cut] != ' ')
			cut--;
		return pool_printf(pool, "%.*s\xe2\x80\xa6", (int)cut, s);
	}
	return s;
}

enum err notes_generate(struct llm_client *llm, struct pool *pool, const char *title,
                        const char *text, size_t len, struct notes *out)
{
	/* The extractive notes come first: they are cheap and the fallback. */
	enum err e = notes_extract(pool, text, len, out);
	if (e || !llm || len == 0)
		return e;
	/* The model reads what the extractive engine reads: the document
	 * model's clean, sectioned text (no markup, no code). */
	struct doc model;
	doc_parse(pool, text, len > NOTES_INPUT_MAX ? NOTES_INPUT_MAX : len, &model);
	size_t clen;
	const char *clean = doc_render(pool, &model, NOTES_LLM_TEXT_MAX * 2, &clen);
	size_t cut = prompt_cut(clean, clen, NOTES_LLM_TEXT_MAX);
	const char *user = pool_printf(
	    pool, "Document%s%s%s:\n<<<\n%.*s\n>>>%s", title && *title ? " \"" : "",
	    title && *title ? title : "", title && *title ? "\"" : "", (int)cut, clean,
	    cut < clen ? "\n(The document goes on; these notes cover the part shown.)" : "");
	struct llm_message messages[] = {
	    {"system", system_prompt},
	    {"user", user},
	};
	struct llm_reply reply;
	if (llm_chat(llm, messages, 2, pool, &reply) != ERR_OK) {
		log_warn("notes: model %s failed (%s); extractive notes instead",
		         llm_client_model(llm), reply.error ? reply.error : "unknown");
		return ERR_OK;
	}
	size_t mlen;
	char *md = text_clean(pool, reply.content, strlen(reply.content), &mlen);
	char *head = strstr(md, "## Summary");
	if (head && head != md && head[-1] == '\n') { /* a preamble or an opening fence goes */
		mlen -= (size_t)(head - md);
		md = head;
	}
	for (int pass = 0; pass < 2; pass++) { /* trailing space, a closing fence, space */
		while (mlen && (md[mlen - 1] == '\n' || md[mlen - 1] == ' '))
			md[--mlen] = '\0';
		if (pass == 0 && mlen >= 3 && strcmp(md + mlen - 3, "```") == 0)
			md[mlen -= 3] = '\0';
	}
	const char *summary = summary_of(pool, md);
	if (!summary || !strstr(md, "## Key")) {
		log_warn("notes: model %s answered without the notes' sections (finish %s); "
		         "extractive notes instead",
		         llm_client_model(llm),
		         reply.finish_reason ? reply.finish_reason : "unknown");
		return ERR_OK;
	}
	out->markdown = pool_printf(pool, "%s\n", md);
	out->summary = summary;
	out->generator =
	    pool_printf(pool, "llm:%.*s", NOTES_GENERATOR_MAX - 5, llm_client_model(llm));
	return ERR_OK;
}
