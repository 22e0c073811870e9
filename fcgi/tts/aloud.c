/* aloud: a learner's document read aloud, from the service's own copies
 * (document.processed's text in the document replica, notes.generated's
 * notes in notes_replica). The text goes through lib/text's document model:
 * headings become pauses, code is left out and inline markup never spoken. */
#include <string.h>

#include "events/event.h"
#include "events/replica.h"
#include "text/doc.h"
#include "tts.h"

enum { HEADING_PAUSE_MS = 700, BLOCK_PAUSE_MS = 250 };

/* The blocks of text as a script. */
static void script_of(struct pool *pool, const char *text, struct tts_script *s)
{
	struct doc d;
	doc_parse(pool, text, strlen(text), &d);
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < d.count; i++) {
		const struct doc_block *b = &d.blocks[i];
		if (b->kind == DOC_CODE || b->len == 0)
			continue;
		if (b->kind == DOC_HEADING) {
			tts_script_add(pool, s, "", 0, 1.0, false, HEADING_PAUSE_MS);
			tts_script_add(pool, s, b->text, b->len, 1.0, false, HEADING_PAUSE_MS);
			continue;
		}
		if (b->term != NULL)
			tts_script_add(pool, s, b->term, strlen(b->term), 1.0, false,
			               BLOCK_PAUSE_MS);
		tts_script_add(pool, s, b->text, b->len, 1.0, false, BLOCK_PAUSE_MS);
	}
}

enum err tts_document_script(struct http_req *req, const char *id, const char *part,
                             struct tts_script *out, const char **source)
{
	struct replica_doc doc;
	enum err e = replica_load(service_db(), req->pool, id, req->user_id, &doc);
	if (e != ERR_OK)
		return e;
	const char *text = doc.text;
	if (strcmp(part, "content") != 0) {
		const char *params[] = {id, req->user_id}, *v[2];
		e = db_row(service_db(),
		           "SELECT content, summary FROM notes_replica WHERE document_id = $1 AND "
		           "user_id = $2",
		           2, params, req->pool, 2, v);
		if (e != ERR_OK)
			return e;
		text = strcmp(part, "summary") == 0 && v[1][0] ? v[1] : v[0];
	}
	*source = text;
	script_of(req->pool, text, out);
	if (out->characters == 0)
		return http_error(req, ERR_CONFLICT,
		                  "That part of the document has no text to read.");
	if (out->characters > (size_t)TTS_TEXT_MAX * 40)
		return http_error(req, ERR_TOO_LARGE, "The document is too long to read aloud.");
	return ERR_OK;
}

enum err tts_apply_notes(struct db *db, const struct event *ev, void *arg)
{
	(void)arg;
	struct json_object *v;
	const char *f[4] = {NULL, NULL, NULL, NULL};
	static const char *const names[] = {"document_id", "note_id", "content", "summary"};
	for (size_t i = 0; i < 4; i++)
		if (json_object_object_get_ex(ev->payload, names[i], &v) &&
		    json_object_is_type(v, json_type_string))
			f[i] = json_object_get_string(v);
	const char *user = ev->user_id;
	if (json_object_object_get_ex(ev->payload, "user_id", &v) &&
	    json_object_is_type(v, json_type_string))
		user = json_object_get_string(v);
	if (f[0] == NULL || f[1] == NULL || f[2] == NULL || user == NULL || user[0] == '\0')
		return ERR_INVALID;
	const char *params[] = {f[0], f[1], user, f[2], f[3] ? f[3] : ""};
	PGresult *res = NULL;
	/* A deleted document's tombstone keeps its notes from coming back. */
	enum err e = db_exec_prepared(
	    db, "tts_notes_upsert",
	    "INSERT INTO notes_replica (document_id, note_id, user_id, content, summary) "
	    "SELECT $1::uuid, $2::uuid, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM "
	    "document_replica WHERE document_id = $1::uuid AND deleted_at IS NOT NULL) "
	    "ON CONFLICT (document_id) DO UPDATE SET note_id = EXCLUDED.note_id, "
	    "content = EXCLUDED.content, summary = EXCLUDED.summary, received_at = now() "
	    "WHERE notes_replica.user_id = EXCLUDED.user_id",
	    5, params, &res);
	PQclear(res);
	return e;
}

enum err tts_forget_notes(struct db *db, const char *document_id, const char *user_id, void *arg)
{
	(void)arg;
	(void)user_id;
	const char *params[] = {document_id};
	PGresult *res = NULL;
	enum err e =
	    db_exec_prepared(db, "tts_notes_forget",
	                     "DELETE FROM notes_replica WHERE document_id = $1", 1, params, &res);
	PQclear(res);
	return e;
}
