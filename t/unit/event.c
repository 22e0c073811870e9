/* Unit tests for event and topics: the envelope, its key, hostile input. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "events/event.h"
#include "core/log.h"
#include "core/mem.h"
#include "tap.h"
#include "events/topics.h"

static bool matches(const char *text, const char *re)
{
	regex_t r;
	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool m = regexec(&r, text, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

static void test_topics(void)
{
	static const char *const contract[] = {"audio.generation.requested",
	                                       "audio.generation.completed",
	                                       "audio.generation.deleted",
	                                       "audio.transcription.requested",
	                                       "audio.transcription.completed",
	                                       "chat.message",
	                                       "document.uploaded",
	                                       "document.processed",
	                                       "document.deleted",
	                                       "notes.generated",
	                                       "quiz.requested",
	                                       "quiz.generated"};
	is_long(topics_count, 12, "twelve topics");
	for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		const struct topic *t = topic_find(contract[i]);
		ok(t && t->partitions >= 1 && t->retention_ms > 0 && t->key_field && t->producer,
		   "%s is described", contract[i]);
	}
	ok(!topic_find("document.uploaded.dlq"), "a dlq name is not a topic of the table");
	ok(!topic_find(NULL) && !topic_find(""), "no topic for NULL or empty");
	char dlq[TOPIC_NAME_MAX];
	ok(topic_dlq_name("quiz.generated", dlq, sizeof(dlq)) &&
	       strcmp(dlq, "quiz.generated.dlq") == 0,
	   "dlq name");
	char tiny[8];
	ok(!topic_dlq_name("quiz.generated", tiny, sizeof(tiny)),
	   "a dlq name that does not fit fails");
}

static void test_build(void)
{
	struct event ev;
	const char *user = "2f1c3a9e-5b7d-4c2a-9e1f-0a1b2c3d4e5f";
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "document_id", json_object_new_string("d1"));
	json_object_object_add(p, "note", json_object_new_string("a/b \"q\""));
	ok(event_init(&ev, "document.uploaded", "documents", user, p) == ERR_OK, "event built");
	ok(event_is_uuid(ev.id) && ev.id[14] == '4' && strchr("89ab", ev.id[19]),
	   "id is a UUID v4");
	ok(matches(ev.timestamp,
	           "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"),
	   "timestamp is RFC 3339 UTC with ms: %s", ev.timestamp);
	char key[EVENT_KEY_MAX];
	ok(event_key(&ev, key, sizeof(key)) == ERR_OK && strcmp(key, user) == 0,
	   "key is the user id");
	struct buf b;
	buf_init(&b);
	ok(event_encode(&ev, &b) == ERR_OK, "encoded");
	ok(strstr(b.data, "\"event_version\":\"1.0\"") &&
	       strstr(b.data, "\"event_type\":\"document.uploaded\"") &&
	       strstr(b.data, "\"producer\":\"documents\"") && strstr(b.data, "a/b"),
	   "envelope fields: %s", b.data);
	struct event back;
	const char *why = NULL;
	ok(event_decode(b.data, b.len, &back, &why) == ERR_OK, "decoded back");
	is_str(back.id, ev.id, "same id");
	is_str(back.timestamp, ev.timestamp, "same timestamp");
	is_str(back.user_id, user, "same user");
	ok(back.topic == topic_find("document.uploaded"), "topic found");
	struct json_object *v = NULL;
	ok(json_object_object_get_ex(back.payload, "note", &v) &&
	       strcmp(json_object_get_string(v), "a/b \"q\"") == 0,
	   "payload survives");
	event_clear(&back);
	buf_clear(&b);
	event_clear(&ev);

	char a[EVENT_ID_LEN + 1], c[EVENT_ID_LEN + 1];
	event_uuid(a);
	event_uuid(c);
	ok(strcmp(a, c) != 0, "two ids differ");

	/* Refusals (each takes and frees the payload). */
	ok(event_init(&ev, "no.such.topic", "documents", user, json_object_new_object()) ==
	       ERR_INVALID,
	   "unknown type refused");
	ok(event_init(&ev, "document.uploaded", "quiz", user, json_object_new_object()) ==
	       ERR_INVALID,
	   "wrong producer refused");
	ok(event_init(&ev, "document.uploaded", "documents", user, json_object_new_array()) ==
	       ERR_INVALID,
	   "array payload refused");
	ok(event_init(&ev, "document.uploaded", "documents", user, NULL) == ERR_INVALID,
	   "no payload refused");
	ok(event_init(&ev, "document.uploaded", "documents", NULL, json_object_new_object()) ==
	       ERR_OK,
	   "null user accepted");
	ok(event_key(&ev, key, sizeof(key)) == ERR_INVALID, "but then there is no key");
	buf_init(&b);
	ok(event_encode(&ev, &b) == ERR_OK && strstr(b.data, "\"user_id\":null"),
	   "user_id null encoded");
	buf_clear(&b);
	event_clear(&ev);

	/* Too large. */
	struct json_object *big = json_object_new_object();
	static char huge[EVENT_MAX_BYTES + 10];
	memset(huge, 'x', sizeof(huge) - 1);
	json_object_object_add(big, "text", json_object_new_string(huge));
	ok(event_init(&ev, "document.processed", "documents", user, big) == ERR_OK,
	   "big event built");
	buf_init(&b);
	ok(event_encode(&ev, &b) == ERR_TOO_LARGE && b.len == 0, "too large to encode");
	buf_clear(&b);
	event_clear(&ev);
}

static void test_decode_hostile(void)
{
	static const struct {
		const char *text;
		const char *name;
	} bad[] = {
	    {"", "empty"},
	    {"not json", "not JSON"},
	    {"[1,2]", "an array"},
	    {"{\"event_id\":\"x\"}", "bad id"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"x\",\"event_"
	     "version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":null,\"payload\":{}}",
	     "unknown type"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"2.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":null,\"payload\":{}}",
	     "version 2"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"yesterday\",\"producer\":\"documents\",\"user_id\":null,"
	     "\"payload\":{}}",
	     "bad timestamp"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":null,\"payload\":[]}",
	     "array payload"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\","
	     "\"payload\":{}}",
	     "user_id missing"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":7,\"payload\":{}}",
	     "user_id a number"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":null,\"payload\":{}} trailing",
	     "trailing garbage"},
	    /* Found by t/fuzz/event: lax JSON decoded, then encoded as another type. */
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":null,\"payload\":{\"size\": 123e}}",
	     "a number without its exponent"},
	    {"{\"event_id\":\"0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7d\",\"event_type\":\"document."
	     "uploaded\",\"event_version\":\"1.0\","
	     "\"event_timestamp\":\"2026-11-29T14:35:44.145Z\",\"producer\":\"documents\",\"user_"
	     "id\":null,\"payload\":{\"a\":1,}}",
	     "a trailing comma"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct event ev;
		const char *why = NULL;
		ok(event_decode(bad[i].text, strlen(bad[i].text), &ev, &why) == ERR_INVALID && why,
		   "refused: %s (%s)", bad[i].name, why ? why : "-");
	}
	static const char good[] = "{\"event_id\":\"0B6C4C3E-1F1A-4B8E-9C1D-2E3F4A5B6C7D\",\"event_"
	                           "type\":\"quiz.generated\","
	                           "\"event_version\":\"1.1\",\"event_timestamp\":\"2026-11-29T14:"
	                           "35:44Z\",\"producer\":\"quiz\","
	                           "\"user_id\":null,\"payload\":{\"quiz_id\":\"q\"}}";
	struct event ev;
	ok(event_decode(good, strlen(good), &ev, NULL) == ERR_OK,
	   "a 1.x envelope without ms is accepted");
	event_clear(&ev);
	char withnul[sizeof(good)];
	memcpy(withnul, good, sizeof(good));
	withnul[20] = '\0';
	ok(event_decode(withnul, sizeof(good) - 1, &ev, NULL) == ERR_INVALID,
	   "an embedded NUL is refused");
	struct buf deep;
	buf_init(&deep);
	for (int i = 0; i < 100; i++)
		buf_puts(&deep, "[");
	ok(event_decode(deep.data, deep.len, &ev, NULL) == ERR_INVALID, "deep nesting refused");
	buf_clear(&deep);
	ok(!event_is_uuid("0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7") &&
	       !event_is_uuid("0b6c4c3e11f1a-4b8e-9c1d-2e3f4a5b6c7d") &&
	       !event_is_uuid("0b6c4c3e-1f1a-4b8e-9c1d-2e3f4a5b6c7dd") && !event_is_uuid(NULL),
	   "not UUIDs");
}

int main(void)
{
	FILE *devnull = fopen("/dev/null", "w");
	log_set_fd(fileno(devnull));
	test_topics();
	test_build();
	test_decode_hostile();
	return tap_done();
}
