/* amazon_impl: what the files of the Amazon Transcribe engine share
 * (amazon.c: the job and its transcript; amazon_vocabulary.c: the custom
 * vocabulary of the learner's course). */
#ifndef LECTERN_STT_AMAZON_IMPL_H
#define LECTERN_STT_AMAZON_IMPL_H

#include <json-c/json.h>

#include "amazon.h"

/* o's member name when it has that type, else NULL (o may be NULL). */
struct json_object *amazon_member(struct json_object *o, const char *name, enum json_type type);
const char *amazon_str(struct json_object *o, const char *name);

/* Transcribe.op with the JSON request req; *answer (may be NULL) in pool.
 * On failure r->error says what went wrong, for the user. */
enum err amazon_call(const struct amazon_settings *a, const char *op, struct json_object *req,
                     struct pool *pool, struct json_object **answer, struct extract_result *r);

/* Makes the custom vocabulary name from the table text (stored at key in
 * the bucket) and waits until it is READY: name, or NULL when it could not
 * be made in time (the job then runs without it; the reason is logged).
 * A vocabulary of that name left by an earlier attempt is used as it is. */
const char *amazon_vocabulary_make(const struct amazon_settings *a, const char *name,
                                   const char *key, const char *language, const char *text,
                                   struct pool *pool);

/* DeleteVocabulary and its table in the bucket (failures only logged). */
void amazon_vocabulary_remove(const struct amazon_settings *a, const char *name, const char *key,
                              struct pool *pool);

#endif
