/* Unit tests for answer_with_llm against t/llm-peer.py (a local
 * chat-completions server, started here with /usr/bin/python3): a grounded
 * answer is taken with its citations renumbered; an answer that cites a
 * passage it was not given, a failing or slow model are refused, so the
 * caller answers without the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "peer.h"
#include "tap.h"
#include "text/answer.h"

static const char key[] = "sk-answer-test-secret";
static char base[128];

static struct llm_client *client(const char *model, long timeout_ms)
{
	struct llm_config c = {.base_url = base,
	                       .api_key = key,
	                       .model = model,
	                       .timeout_ms = timeout_ms,
	                       .connect_timeout_ms = 1000,
	                       .max_tokens = 300,
	                       .max_attempts = 1,
	                       .backoff_ms = 10};
	struct llm_client *out = NULL;
	if (llm_client_new(&c, &out) != ERR_OK)
		return NULL;
	return out;
}

static const struct answer_passage ps[] = {
    {"The Calvin cycle fixes carbon dioxide into sugar. It runs in the stroma.",
     "Biology > The Calvin cycle", 2.0},
    {"Photosynthesis converts light energy into chemical energy.", "Biology > Photosynthesis", 1.0},
};

int main(void)
{
	peer_llm_start(key, base, sizeof(base));
	struct pool *pool = pool_new();
	struct answer_llm m;

	struct llm_client *c = client("cite", 10000);
	ok(c != NULL, "a client for the peer");
	ok(answer_with_llm(c, pool, "What does the Calvin cycle fix?", ps, 2, &m) == ERR_OK,
	   "a grounded answer is taken");
	is_str(m.text, "Your document says: The Calvin cycle fixes carbon dioxide into sugar. [1]",
	       "the model's words, cited");
	ok(m.ncited == 1 && m.cited[0] == 0, "[1] is the first passage");
	llm_client_free(c);

	c = client("cite-bad", 10000);
	ok(answer_with_llm(c, pool, "What is the moon made of?", ps, 2, &m) == ERR_INVALID,
	   "an answer citing a passage it was not given is refused");
	llm_client_free(c);

	c = client("no-sections", 10000);
	ok(answer_with_llm(c, pool, "What is photosynthesis?", ps, 2, &m) == ERR_INVALID,
	   "an answer that cites nothing is refused");
	llm_client_free(c);

	c = client("fail-500", 10000);
	ok(answer_with_llm(c, pool, "What is photosynthesis?", ps, 2, &m) != ERR_OK,
	   "a failing model gives no answer");
	llm_client_free(c);

	c = client("slow", 500);
	ok(answer_with_llm(c, pool, "What is photosynthesis?", ps, 2, &m) == ERR_TIMEOUT,
	   "a model that does not answer in time gives no answer");
	llm_client_free(c);

	c = client("echo", 10000);
	ok(answer_with_llm(c, pool, "Say NOT COVERED", ps, 2, &m) == ERR_INVALID,
	   "\"NOT COVERED\" is no answer");
	ok(answer_with_llm(c, pool, "anything", ps, 0, &m) == ERR_INVALID, "no passages: no call");
	llm_client_free(c);
	pool_free(pool);
	return tap_done();
}
