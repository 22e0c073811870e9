/* event: the envelope, its key, its JSON form and its checks. */
#include "events/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "identity/token.h"

/* Copies a string into a fixed field; false when it does not fit. */
static bool event_copy(char *dst, size_t dst_size, const char *src)
{
	size_t n = strlen(src);
	if (n >= dst_size)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

void event_uuid(char out[EVENT_ID_LEN + 1])
{
	_Static_assert(EVENT_ID_LEN + 1 == TOKEN_UUID_SIZE, "an event id is a UUID");
	/* Ids must never repeat: without a random source there is no going on. */
	if (token_uuid_v4(out) != ERR_OK)
		abort();
}

bool event_is_uuid(const char *text)
{
	if (!text)
		return false;
	for (size_t i = 0; i < EVENT_ID_LEN; i++) {
		char c = text[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? c != '-'
		         : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		             (c >= 'A' && c <= 'F')))
			return false;
	}
	return text[EVENT_ID_LEN] == '\0';
}

void event_timestamp_now(char out[EVENT_TIMESTAMP_MAX])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, EVENT_TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, EVENT_TIMESTAMP_MAX - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* True for "YYYY-MM-DDTHH:MM:SS[.fff...]Z" (the shape, not the calendar). */
static bool event_is_timestamp(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i])
			return false;
	}
	if (t[i] == '.') {
		size_t digits = 0;
		for (i++; t[i] >= '0' && t[i] <= '9'; i++)
			digits++;
		if (digits == 0 || digits > 9)
			return false;
	}
	return t[i] == 'Z' && t[i + 1] == '\0';
}

void event_clear(struct event *ev)
{
	if (ev->payload)
		json_object_put(ev->payload);
	memset(ev, 0, sizeof(*ev));
}

enum err event_init(struct event *ev, const char *type, const char *producer, const char *user_id,
                    struct json_object *payload)
{
	memset(ev, 0, sizeof(*ev));
	ev->payload = payload;
	ev->topic = topic_find(type);
	if (!ev->topic) {
		log_error("event: unknown event type \"%s\"", type ? type : "(null)");
		goto bad;
	}
	if (!producer || strcmp(producer, ev->topic->producer) != 0) {
		log_error("event: %s is published by %s only", type, ev->topic->producer);
		goto bad;
	}
	if (!payload || !json_object_is_type(payload, json_type_object)) {
		log_error("event: %s: the payload is not a JSON object", type);
		goto bad;
	}
	if (user_id && !event_copy(ev->user_id, sizeof(ev->user_id), user_id)) {
		log_error("event: %s: user_id too long", type);
		goto bad;
	}
	event_copy(ev->type, sizeof(ev->type), type);
	event_copy(ev->producer, sizeof(ev->producer), producer);
	event_copy(ev->version, sizeof(ev->version), EVENT_VERSION);
	event_uuid(ev->id);
	event_timestamp_now(ev->timestamp);
	return ERR_OK;
bad:
	event_clear(ev);
	return ERR_INVALID;
}

enum err event_encode(const struct event *ev, struct buf *out)
{
	/* The envelope is built around the payload, which is shared, not copied. */
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "event_id", json_object_new_string(ev->id));
	json_object_object_add(o, "event_type", json_object_new_string(ev->type));
	json_object_object_add(o, "event_version", json_object_new_string(ev->version));
	json_object_object_add(o, "event_timestamp", json_object_new_string(ev->timestamp));
	json_object_object_add(o, "producer", json_object_new_string(ev->producer));
	json_object_object_add(o, "user_id",
	                       ev->user_id[0] ? json_object_new_string(ev->user_id) : NULL);
	json_object_object_add(o, "payload", json_object_get(ev->payload));
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	enum err e = ERR_OK;
	if (len > EVENT_MAX_BYTES) {
		log_error("event: %s %s is %zu bytes, over %d", ev->type, ev->id, len,
		          EVENT_MAX_BYTES);
		e = ERR_TOO_LARGE;
	} else {
		buf_append(out, text, len);
	}
	json_object_put(o);
	return e;
}

enum err event_key(const struct event *ev, char *out, size_t out_size)
{
	const char *key = NULL;
	if (!ev->topic)
		return ERR_INVALID;
	if (strcmp(ev->topic->key_field, "user_id") == 0 && ev->user_id[0]) {
		key = ev->user_id;
	} else {
		struct json_object *v = NULL;
		if (json_object_object_get_ex(ev->payload, ev->topic->key_field, &v) &&
		    json_object_is_type(v, json_type_string))
			key = json_object_get_string(v);
	}
	if (!key || !key[0] || !event_copy(out, out_size, key)) {
		log_error("event: %s %s has no usable key %s", ev->type, ev->id,
		          ev->topic->key_field);
		return ERR_INVALID;
	}
	return ERR_OK;
}

/* The string member name of o copied into dst; false when absent, not a
 * string, empty or too long. */
static bool event_get_string(struct json_object *o, const char *name, char *dst, size_t dst_size)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	const char *s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return false; /* an embedded NUL */
	return s[0] && event_copy(dst, dst_size, s);
}

enum err event_decode(const char *data, size_t len, struct event *ev, const char **why)
{
	struct json_object *o = NULL;
	const char *reason = NULL;
	memset(ev, 0, sizeof(*ev));
	if (!data || len == 0) {
		reason = "empty message";
		goto out;
	}
	if (len > EVENT_MAX_BYTES) {
		reason = "message too large";
		goto out;
	}
	if (memchr(data, '\0', len)) {
		reason = "NUL byte in message";
		goto out;
	}
	struct json_tokener *tok = json_tokener_new_ex(EVENT_DEPTH_MAX);
	/* Strict: a lax parse takes "123e" as a number that encodes back as
	 * another type, so a forwarded event would not be the one read. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, data, (int)len);
	bool complete = json_tokener_get_error(tok) == json_tokener_success &&
	                json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	if (!o || !complete) {
		reason = "not JSON";
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		reason = "not a JSON object";
		goto out;
	}
	if (!event_get_string(o, "event_id", ev->id, sizeof(ev->id)) || !event_is_uuid(ev->id)) {
		reason = "event_id is not a UUID";
		goto out;
	}
	if (!event_get_string(o, "event_type", ev->type, sizeof(ev->type)) ||
	    !(ev->topic = topic_find(ev->type))) {
		reason = "event_type is not a known topic";
		goto out;
	}
	if (!event_get_string(o, "event_version", ev->version, sizeof(ev->version)) ||
	    !(ev->version[0] == '1' && (ev->version[1] == '\0' || ev->version[1] == '.'))) {
		reason = "event_version is not 1.x";
		goto out;
	}
	if (!event_get_string(o, "event_timestamp", ev->timestamp, sizeof(ev->timestamp)) ||
	    !event_is_timestamp(ev->timestamp)) {
		reason = "event_timestamp is not RFC 3339 UTC";
		goto out;
	}
	if (!event_get_string(o, "producer", ev->producer, sizeof(ev->producer))) {
		reason = "producer missing";
		goto out;
	}
	struct json_object *uid = NULL;
	if (!json_object_object_get_ex(o, "user_id", &uid)) {
		reason = "user_id missing";
		goto out;
	}
	if (uid && !event_get_string(o, "user_id", ev->user_id, sizeof(ev->user_id))) {
		reason = "user_id is not a string or null";
		goto out;
	}
	struct json_object *payload = NULL;
	if (!json_object_object_get_ex(o, "payload", &payload) ||
	    !json_object_is_type(payload, json_type_object)) {
		reason = "payload is not an object";
		goto out;
	}
	ev->payload = json_object_get(payload);
out:
	if (o)
		json_object_put(o);
	if (reason) {
		if (why)
			*why = reason;
		struct json_object *keep = ev->payload;
		ev->payload = NULL;
		if (keep)
			json_object_put(keep);
		memset(ev, 0, sizeof(*ev));
		return ERR_INVALID;
	}
	if (why)
		*why = NULL;
	return ERR_OK;
}
