/* Fuzz target: event envelope decoding (lib/events/event.c), what every
 * consumer runs on each Kafka message.
 *
 * Input: one message. Contract checked: event_decode answers ERR_OK or
 * ERR_INVALID with a reason; a decoded event has a UUID id, a topic of the
 * table, version 1.x and an object payload; encoding it again gives an
 * envelope that decodes to the same fields (a consumer can forward what it
 * read); event_key either fills its buffer or refuses. */
#include <fcntl.h>
#include <string.h>

#include "core/mem.h"
#include "events/event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	const char *why = NULL;
	enum err e = event_decode((const char *)data, size, &ev, &why);
	if (e != ERR_OK) {
		fuzz_check(e == ERR_INVALID && why && *why, "a refusal has its reason");
		fuzz_check(ev.payload == NULL, "a refused event owns nothing");
		return 0;
	}
	fuzz_check(event_is_uuid(ev.id), "event_id is a UUID");
	fuzz_check(ev.topic && strcmp(ev.topic->name, ev.type) == 0, "event_type is its topic");
	fuzz_check(ev.version[0] == '1', "version 1.x");
	fuzz_check(json_object_is_type(ev.payload, json_type_object), "payload is an object");

	char key[EVENT_KEY_MAX];
	if (event_key(&ev, key, sizeof(key)) == ERR_OK)
		fuzz_check(key[0] && strlen(key) < sizeof(key), "a key is a non-empty string");

	struct buf out;
	buf_init(&out);
	if (event_encode(&ev, &out) == ERR_OK) {
		struct event again;
		e = event_decode(out.data, out.len, &again, &why);
		fuzz_check(e == ERR_OK, "an encoded event decodes");
		fuzz_check(strcmp(again.id, ev.id) == 0 && strcmp(again.type, ev.type) == 0 &&
		               strcmp(again.version, ev.version) == 0 &&
		               strcmp(again.timestamp, ev.timestamp) == 0 &&
		               strcmp(again.producer, ev.producer) == 0 &&
		               strcmp(again.user_id, ev.user_id) == 0,
		           "the envelope survives a round trip");
		/* As text: json_object_equal says NaN (which json-c takes) is not itself. */
		fuzz_check(
		    strcmp(json_object_to_json_string_ext(again.payload, JSON_C_TO_STRING_PLAIN),
		           json_object_to_json_string_ext(ev.payload, JSON_C_TO_STRING_PLAIN)) == 0,
		    "the payload survives");
		event_clear(&again);
	}
	buf_clear(&out);
	event_clear(&ev);
	return 0;
}
