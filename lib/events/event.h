/* event: the envelope of every Kafka message (docs/api.md, "Events"), built
 * and parsed here and nowhere else.
 *
 *   {"event_id": "<uuid v4>", "event_type": "<topic>", "event_version": "1.0",
 *    "event_timestamp": "2026-11-29T14:35:44.145Z", "producer": "<service>",
 *    "user_id": "<uuid>" | null, "payload": {...}}
 *
 * The message key is chosen from the topic's key field (lib/events/topics.c). */
#ifndef LECTERN_EVENT_H
#define LECTERN_EVENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"
#include "events/topics.h"

#define EVENT_VERSION "1.0"

enum {
	EVENT_ID_LEN = 36,         /* a hyphenated UUID */
	EVENT_TIMESTAMP_MAX = 32,  /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and some room */
	EVENT_PRODUCER_MAX = 32,   /* a service name */
	EVENT_VERSION_MAX = 16,    /* "1.0" */
	EVENT_KEY_MAX = 128,       /* a message key (an id) */
	EVENT_MAX_BYTES = 1 << 20, /* one encoded event; Kafka's default message limit */
	EVENT_DEPTH_MAX = 32       /* JSON nesting of a parsed event */
};

struct event {
	char id[EVENT_ID_LEN + 1];
	char type[TOPIC_NAME_MAX]; /* = the topic */
	char version[EVENT_VERSION_MAX];
	char timestamp[EVENT_TIMESTAMP_MAX];
	char producer[EVENT_PRODUCER_MAX];
	char user_id[EVENT_KEY_MAX]; /* "" when the envelope has null */
	struct json_object *payload; /* an object, owned by the event */
	const struct topic *topic;   /* the table row of type */
};

/* Fills ev with a new event: a fresh UUID v4, the current time, version 1.0.
 * Takes ownership of payload (a JSON object), also on failure. user_id may be
 * NULL. ERR_INVALID when type is not a topic of the table, producer is not
 * that topic's producer, payload is not an object, or user_id is too long.
 * Free with event_clear. */
enum err event_init(struct event *ev, const char *type, const char *producer, const char *user_id,
                    struct json_object *payload) MUST_CHECK;
/* Frees what ev owns (its payload); ev may then be reused. */
void event_clear(struct event *ev);

/* Appends the envelope as compact JSON to out. ERR_TOO_LARGE over
 * EVENT_MAX_BYTES (out is then left as it was). */
enum err event_encode(const struct event *ev, struct buf *out) MUST_CHECK;
/* Writes the message key of ev (the topic's key field: the envelope's user_id
 * or a string field of the payload) into out. ERR_INVALID when it is missing,
 * empty or longer than out. */
enum err event_key(const struct event *ev, char *out, size_t out_size) MUST_CHECK;

/* Parses and checks an envelope: every field present with its type, event_id
 * a UUID, event_type a topic of the table, event_version of major 1, payload
 * an object, at most EVENT_MAX_BYTES and EVENT_DEPTH_MAX deep, no NUL byte.
 * ERR_INVALID otherwise, with *why (static text) naming the problem. On
 * success free ev with event_clear. */
enum err event_decode(const char *data, size_t len, struct event *ev, const char **why) MUST_CHECK;

/* Writes a random (version 4) UUID, lowercase and hyphenated, with its NUL. */
void event_uuid(char out[EVENT_ID_LEN + 1]);
/* True when text is a hyphenated UUID (any case, any version). */
bool event_is_uuid(const char *text);
/* Writes the current UTC time as RFC 3339 with milliseconds and Z. */
void event_timestamp_now(char out[EVENT_TIMESTAMP_MAX]);

#endif
