/* notes: study notes from a document's text.
 *
 * The extractive engine is deterministic: the same text always gives the
 * same notes, byte for byte. It ranks sentences with TextRank (a similarity
 * graph over stemmed, stop-word-free word sets, power iteration with
 * damping, ties broken by position), picks key terms (frequent stems and
 * multiword phrases, in their most common written form) with the
 * definitions the text gives ("X is a ...", "X refers to ..."), and builds
 * an outline from the headings. The Markdown has the sections
 * "## Summary", "## Key terms", "## Outline" and "## Key points" (an empty
 * one is left out); every other word comes from the document.
 *
 * notes_generate asks an OpenAI-compatible model (lib/text/llm.h) instead when a
 * client is given, and falls back to the extractive notes on any failure. */
#ifndef LECTERN_NOTES_H
#define LECTERN_NOTES_H

#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	NOTES_INPUT_MAX = 8 * 1024 * 1024, /* bytes of text read; the rest is ignored */
	NOTES_SENTENCES_MAX = 8000,        /* sentences split from the text and counted */
	NOTES_RANK_MAX = 1500,             /* sentences in the TextRank graph, spread evenly */
	NOTES_RANK_ROUNDS_MAX = 100,       /* power iterations at most */
	NOTES_SENTENCE_WORDS_MAX = 128,    /* words of one sentence looked at */
	NOTES_SUMMARY_MAX = 500,           /* bytes of the plain-text summary */
	NOTES_SUMMARY_SENTENCES = 3,       /* sentences of the summary at most */
	NOTES_KEY_POINTS_MAX = 8,          /* key points at most */
	NOTES_TERMS_MAX = 12,              /* key terms at most */
	NOTES_DEFINITION_MAX = 300,        /* bytes of one definition shown */
	NOTES_OUTLINE_MAX = 60,            /* outline entries at most */
	NOTES_HEADING_MAX = 200,           /* bytes of one outline entry */
	NOTES_LLM_TEXT_MAX = 24000,        /* bytes of the document put in a model's prompt */
	NOTES_GENERATOR_MAX = 160          /* bytes of the generator name */
};

struct notes {
	const char *markdown;  /* the study notes; "" for a text without sentences */
	const char *summary;   /* 1-3 sentences of plain text, at most NOTES_SUMMARY_MAX bytes */
	const char *generator; /* "extractive" or "llm:<model>" */
};

/* The extractive notes of len bytes of text (any bytes; invalid UTF-8 is
 * repaired). Results are owned by pool. ERR_INTERNAL (logged) only when the
 * stemmer cannot be created. */
enum err notes_extract(struct pool *pool, const char *text, size_t len,
                       struct notes *out) MUST_CHECK;

struct llm_client;

/* Notes from the model behind llm when llm is not NULL, grounded in the
 * text (cut to NOTES_LLM_TEXT_MAX bytes); the extractive notes when llm is
 * NULL or the model fails or answers without the notes' sections (logged as
 * a warning). title (may be NULL) names the document in the prompt. Owned
 * by pool; fails only as notes_extract does. */
enum err notes_generate(struct llm_client *llm, struct pool *pool, const char *title,
                        const char *text, size_t len, struct notes *out) MUST_CHECK;

#endif
