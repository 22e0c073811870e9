/* messages: a question, its grounded answer, and a session's history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "core/log.h"
#include "events/event.h"
#include "events/outbox.h"

enum {
	PIECES_MAX = ANSWER_SENTENCES_MAX + 2 /* streamed pieces of one reply */
};

/* What the assistant says: its text in pieces (streamed one by one; joined
 * they are the text) and the sources its [n] marks point at. */
struct reply {
	const char *pieces[PIECES_MAX];
	size_t npieces;
	const char *content;
	struct json_object *sources; /* array, owned by the reply until stored */
};

static void say(struct reply *r, struct pool *pool, const char *text)
{
	if (r->npieces < PIECES_MAX)
		r->pieces[r->npieces++] = pool_strdup(pool, text);
}

static const char greeting[] =
    "Hello! Ask me anything about your documents: I answer with quotes from them and say "
    "where each one comes from.";
static const char thanks[] = "You're welcome. Ask me anything else about your documents.";
static const char capability[] =
    "I answer questions about your own documents. I find the passages that hold the answer "
    "and quote them, and each [n] points to its source (document, section and page). I only "
    "say what your documents say: when they do not cover a question, I tell you so. Try "
    "\"What is ...?\", \"Why ...?\" or \"How many ...?\".";
static const char no_documents[] =
    "You have no documents yet. Upload one (PDF, Word, text, Markdown or an image) under "
    "Documents; once it is processed, ask me about it.";
static const char no_scope[] =
    "The documents of this chat are no longer available (deleted, or not processed yet). "
    "Ask without naming documents to search all of yours.";
static const char not_covered[] = "Your documents don't cover this.";

/* Text with runs of white space as one space, at most max bytes cut at a
 * space (or a character boundary), with "..." when cut. */
static const char *excerpt(struct pool *pool, const char *text, size_t max)
{
	struct buf b;
	buf_init(&b);
	bool space = false;
	for (const char *p = text; *p && b.len < max; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_putc(&b, ' ');
		space = false;
		buf_putc(&b, *p);
	}
	bool cut = b.len >= max;
	if (cut) {
		size_t end = b.len;
		while (end > 0 && b.data[end] != ' ' && end > max / 2)
			end--;
		while (end > 0 && ((unsigned char)b.data[end] & 0xC0) == 0x80)
			end--;
		b.len = end;
		b.data[end] = '\0';
		buf_puts(&b, "...");
	}
	const char *r = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return r;
}

static struct json_object *source_json(struct pool *pool, const struct chat_passage *p)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "document_id", json_object_new_string(p->document_id));
	json_object_object_add(o, "filename", json_object_new_string(p->filename));
	json_object_object_add(o, "excerpt",
	                       json_object_new_string(excerpt(pool, p->text, CHAT_EXCERPT_MAX)));
	json_object_object_add(o, "section", json_object_new_string(p->section));
	json_object_object_add(o, "page", json_object_new_int64(p->page));
	return o;
}

/* The quoted sentences, each run from one passage followed by its [n]. */
static void grounded(struct reply *r, struct pool *pool, const struct answer *a,
                     const struct chat_passage *ps)
{
	size_t cite[ANSWER_PASSAGES_MAX] = {0}; /* passage -> its number, 0: none yet */
	size_t next = 1;
	for (size_t i = 0; i < a->count;) {
		size_t p = a->sentences[i].passage;
		if (!cite[p]) {
			cite[p] = next++;
			json_object_array_add(r->sources, source_json(pool, &ps[p]));
		}
		struct buf b;
		buf_init(&b);
		buf_puts(&b, i ? " \xe2\x80\x9c" : "\xe2\x80\x9c");
		size_t k = i;
		for (; k < a->count && a->sentences[k].passage == p; k++) {
			if (k > i)
				buf_putc(&b, ' ');
			buf_append(&b, a->sentences[k].text, a->sentences[k].len);
		}
		buf_printf(&b, "\xe2\x80\x9d [%zu]", cite[p]);
		say(r, pool, b.data);
		buf_clear(&b);
		i = k;
	}
}

/* The last heading of a section path ("A > B > C": "C"), or the file name. */
static const char *place(const struct chat_passage *p)
{
	const char *last = p->section;
	for (const char *s = strstr(last, " > "); s; s = strstr(s + 3, " > "))
		last = s + 3;
	return *last ? last : p->filename;
}

/* The model's answer, cut after its sentences into pieces to stream. */
static void from_model(struct reply *r, struct pool *pool, const struct answer_llm *m,
                       const struct chat_passage *ps)
{
	for (size_t i = 0; i < m->ncited; i++)
		json_object_array_add(r->sources, source_json(pool, &ps[m->cited[i]]));
	const char *t = m->text;
	while (*t) {
		const char *cut = NULL;
		if (r->npieces + 1 < PIECES_MAX)
			for (const char *p = t; *p && !cut; p++)
				if ((*p == '.' || *p == '?' || *p == '!' || *p == ']') &&
				    p[1] == ' ')
					cut = p + 1;
		size_t len = cut ? (size_t)(cut - t) : strlen(t);
		if (r->npieces < PIECES_MAX)
			r->pieces[r->npieces++] = pool_strndup(pool, t, len);
		t += len;
	}
}

/* "Your documents don't cover this." and the nearest sections, if any. */
static void declined(struct reply *r, struct pool *pool, const struct answer *a,
                     const struct chat_passage *ps)
{
	struct buf b;
	buf_init(&b);
	size_t named = 0;
	for (size_t i = 0; i < a->nclosest; i++) {
		const struct chat_passage *p = &ps[a->closest[i]];
		const char *what = place(p);
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++) {
			const struct chat_passage *q = &ps[a->closest[k]];
			seen = strcmp(place(q), what) == 0;
		}
		if (seen)
			continue;
		buf_printf(&b, "%s\xe2\x80\x9c%s\xe2\x80\x9d (%s)", named ? ", " : "", what,
		           p->filename);
		named++;
	}
	say(r, pool, not_covered);
	if (named) {
		say(r, pool,
		    pool_printf(pool, " The closest %s %s.",
		                named > 1 ? "sections are" : "section is", b.data));
	}
	buf_clear(&b);
}

/* What a question needs of its session, read in one statement: the
 * session's documents, whether the caller has a processed document among
 * them (any of theirs when it names none), and its latest questions, whose
 * terms a follow-up borrows. */
struct context {
	const char *docs; /* the session's documents as a uuid[] literal, "{}": all */
	bool has_documents;
	const char *history; /* the latest questions, newest first, one a line */
};

/* ERR_NOT_FOUND (sent) for another user's or a missing session. */
static enum err load_context(struct http_req *req, const char *session_id, struct context *out)
{
	char turns[24];
	snprintf(turns, sizeof(turns), "%d", CHAT_HISTORY_TURNS);
	const char *p[] = {session_id, req->user_id, turns};
	PGresult *res = NULL;
	enum err e = db_exec_prepared(
	    service_db(), "chat_context",
	    "SELECT s.document_ids::text[], EXISTS (SELECT 1 FROM document_replica d "
	    "WHERE d.user_id = s.user_id AND d.deleted_at IS NULL AND d.status = 'processed' "
	    "AND (s.document_ids = '{}' OR d.document_id = ANY (s.document_ids))), "
	    "(SELECT string_agg(h.content, E'\\n' ORDER BY h.seq DESC) FROM (SELECT content, seq "
	    "FROM messages WHERE session_id = s.id AND role = 'user' ORDER BY seq DESC "
	    "LIMIT $3::int) h) FROM sessions s WHERE s.id = $1 AND s.user_id = $2",
	    3, p, &res);
	if (e != ERR_OK)
		return e;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return http_error(req, ERR_NOT_FOUND, "Not found.");
	}
	out->docs = pool_strdup(req->pool, db_value(res, 0, 0));
	out->has_documents = strcmp(db_value(res, 0, 1), "t") == 0;
	const char *history = db_value(res, 0, 2); /* NULL: no question yet */
	out->history = pool_strdup(req->pool, history ? history : "");
	PQclear(res);
	return ERR_OK;
}

/* The reply to question within docs (a uuid[] literal, NULL: all), where
 * the caller has a processed document or not (has_documents); history: the
 * session's latest questions. */
static enum err answer(struct http_req *req, const char *question, const char *docs,
                       bool has_documents, const char *history, struct reply *r)
{
	struct pool *pool = req->pool;
	r->sources = json_object_new_array();
	switch (answer_intent(question)) {
	case ANSWER_GREETING:
		say(r, pool, greeting);
		return ERR_OK;
	case ANSWER_THANKS:
		say(r, pool, thanks);
		return ERR_OK;
	case ANSWER_CAPABILITY:
		say(r, pool, capability);
		return ERR_OK;
	case ANSWER_QUESTION:
		break;
	}
	if (!has_documents) {
		say(r, pool, docs ? no_scope : no_documents);
		return ERR_OK;
	}
	struct answer_term *cur = NULL, *prev = NULL;
	size_t ncur = answer_terms(pool, question, ANSWER_TERMS_MAX, &cur), nprev = 0;
	if (*history)
		nprev = answer_terms(pool, history, ANSWER_TERMS_MAX / 2, &prev);
	struct chat_passage *ps = NULL;
	size_t n = 0;
	enum err e = chat_retrieve(service_db(), pool, req->user_id, docs, cur, ncur, prev, nprev,
	                           answer_query_phrases(pool, question), CHAT_PASSAGES, &ps, &n);
	if (e != ERR_OK)
		return e;
	struct answer_passage *ap = pool_alloc(pool, sizeof(*ap) * (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		ap[i].text = ps[i].text;
		ap[i].section = ps[i].section;
		ap[i].rank = ps[i].rank;
	}
	struct answer a;
	e = answer_extract(pool, question, prev, nprev, ap, n, &a);
	if (e != ERR_OK)
		return e;
	/* A model, when one is configured, words the answer from the same
	 * passages; its citations are checked, and on any failure the
	 * extractive answer stands. */
	struct answer_llm m;
	if (a.covered && service_llm() &&
	    answer_with_llm(service_llm(), pool, question, ap, n, &m) == ERR_OK)
		from_model(r, pool, &m, ps);
	else if (a.covered)
		grounded(r, pool, &a, ps);
	else
		declined(r, pool, &a, ps);
	return ERR_OK;
}

/* A title from the first question: its first words, within CHAT_TITLE_AUTO
 * characters. */
static const char *auto_title(struct pool *pool, const char *q)
{
	size_t bytes = 0, chars = 0, cut = 0;
	while (q[bytes] && chars < CHAT_TITLE_AUTO) {
		if (((unsigned char)q[bytes] & 0xC0) != 0x80) {
			chars++;
			if (q[bytes] == ' ')
				cut = bytes;
		}
		bytes++;
	}
	while (q[bytes] && ((unsigned char)q[bytes] & 0xC0) == 0x80)
		bytes++;
	if (!q[bytes])
		return q;
	return pool_printf(pool, "%.*s...", (int)(cut ? cut : bytes), q);
}

/* The message object of one row: id, role, content, sources, created_at. */
static struct json_object *message_json(const char *session_id, const char *id, const char *role,
                                        const char *content, struct json_object *sources,
                                        const char *created_at)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "message_id", json_object_new_string(id));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "session_id", json_object_new_string(session_id));
	json_object_object_add(o, "role", json_object_new_string(role));
	json_object_object_add(o, "content", json_object_new_string(content));
	json_object_object_add(o, "sources", sources ? sources : json_object_new_array());
	json_object_object_add(o, "created_at", json_object_new_string(created_at));
	return o;
}

/* chat.message of a reply (docs: a uuid[] literal, NULL: all documents). */
static struct json_object *message_event(const struct http_req *req, const char *session_id,
                                         const char *docs, const char *ids[2])
{
	struct json_object *ev = json_object_new_object();
	json_object_object_add(ev, "session_id", json_object_new_string(session_id));
	json_object_object_add(ev, "user_id", json_object_new_string(req->user_id));
	json_object_object_add(ev, "user_message_id", json_object_new_string(ids[0]));
	json_object_object_add(ev, "assistant_message_id", json_object_new_string(ids[1]));
	struct json_object *d = json_object_new_array();
	for (const char *s = docs ? docs + 1 : ""; *s && *s != '}';) {
		size_t len = strcspn(s, ",}");
		json_object_array_add(d, json_object_new_string_len(s, (int)len));
		s += len + (s[len] == ',');
	}
	json_object_object_add(ev, "document_ids", d);
	return ev;
}

/* Stores the question, the reply and chat.message in one statement, one
 * round trip: the session's count and title, both messages and the event,
 * all or nothing (a session deleted meanwhile inserts nothing: 404). The
 * session's row stays locked only while the statement commits, which
 * matters when several replies of one session are stored at once.
 * *created_at gets the time of both. */
static enum err store(struct http_req *req, const char *session_id, const char *question,
                      const char *docs, const char *ids[2], struct reply *r,
                      const char **created_at)
{
	const char *p[8 + OUTBOX_PARAMS] = {
	    session_id, req->user_id, auto_title(req->pool, question), ids[0], question,
	    ids[1],     r->content,   http_json_text(r->sources, NULL)};
	enum err e =
	    outbox_event_params("chat.message", "chat", req->user_id,
	                        message_event(req, session_id, docs, ids), req->pool, p + 8);
	if (e != ERR_OK)
		return e;
	/* VALUES rows are inserted in their order, so the question's seq comes
	 * before the reply's. */
	PGresult *res = NULL;
	e = db_exec_prepared(
	    service_db(), "chat_store",
	    "WITH s AS (UPDATE sessions SET message_count = message_count + 2, "
	    "updated_at = now(), title = CASE WHEN title_auto THEN $3 ELSE title END, "
	    "title_auto = false WHERE id = $1 AND user_id = $2 RETURNING id), "
	    "m AS (INSERT INTO messages (id, session_id, role, content, sources) "
	    "SELECT x.id, s.id, x.role, x.content, x.sources FROM s, (VALUES "
	    "($4::uuid, 'user', $5::text, '[]'::jsonb, 1), "
	    "($6::uuid, 'assistant', $7::text, $8::jsonb, 2)) "
	    "AS x(id, role, content, sources, n) ORDER BY x.n RETURNING created_at), "
	    "o AS (" OUTBOX_INSERT " SELECT $9::uuid, $10, $11, $12 FROM s) "
	    "SELECT " CHAT_SQL_TIME("created_at") ", " OUTBOX_NOTIFY " FROM m LIMIT 1",
	    8 + OUTBOX_PARAMS, p, &res);
	if (e == ERR_OK && PQntuples(res) == 1)
		*created_at = pool_strdup(req->pool, db_value(res, 0, 0));
	else if (e == ERR_OK)
		e = ERR_NOT_FOUND; /* the session was deleted meanwhile */
	PQclear(res);
	if (e == ERR_NOT_FOUND)
		e = http_error(req, ERR_NOT_FOUND, "Not found.");
	return e;
}

static bool wants_stream(const struct http_req *req)
{
	const char *accept = http_header(req, "Accept");
	return accept && strstr(accept, "text/event-stream");
}

/* Server-sent events: a delta per piece, then done with the reply. A client
 * that leaves mid-stream finds the reply stored: it was stored first. */
static enum err stream(struct http_req *req, const struct reply *r, struct json_object *body)
{
	enum err e = http_add_header(req, "Cache-Control", "no-cache");
	if (e == ERR_OK)
		e = http_add_header(req, "X-Accel-Buffering", "no");
	if (e == ERR_OK)
		e = http_stream_begin(req, 201, "text/event-stream; charset=utf-8");
	for (size_t i = 0; i < r->npieces && e == ERR_OK; i++) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "content", json_object_new_string(r->pieces[i]));
		char *line =
		    pool_printf(req->pool, "event: delta\ndata: %s\n\n", http_json_text(d, NULL));
		json_object_put(d);
		e = http_stream_write(req, line, strlen(line));
	}
	if (e == ERR_OK) {
		char *line =
		    pool_printf(req->pool, "event: done\ndata: %s\n\n", http_json_text(body, NULL));
		e = http_stream_write(req, line, strlen(line));
	}
	json_object_put(body);
	if (e != ERR_OK && req->status)
		log_info("chat: the stream ended early; the reply is stored");
	return req->status ? ERR_OK : e;
}

enum err chat_message_post(struct http_req *req)
{
	const char *session_id = http_param(req, "id");
	const char *question = http_param(req, "message");
	/* Only white space is no message. */
	size_t start = strspn(question, " \t\r\n");
	if (!question[start]) {
		http_error_detail(req, "message", "must not be empty");
		return http_error(req, ERR_INVALID, "The request is not valid.");
	}
	struct context ctx = {.docs = NULL};
	enum err e = load_context(req, session_id, &ctx);
	if (e != ERR_OK)
		return e;
	const char *docs = NULL;
	size_t ndocs = 0;
	e = chat_doc_ids(req, &docs, &ndocs);
	if (e != ERR_OK)
		return e;
	bool has_documents = ctx.has_documents;
	if (docs) { /* the message's own documents: counted anew */
		long count = 0;
		e = chat_count_documents(service_db(), req->pool, req->user_id, docs, &count);
		if (e != ERR_OK)
			return e;
		has_documents = count > 0;
	} else if (strcmp(ctx.docs, "{}") != 0) {
		docs = ctx.docs;
	}
	struct reply r = {.npieces = 0};
	e = answer(req, question, docs, has_documents, ctx.history, &r);
	if (e != ERR_OK)
		goto out;
	struct buf text;
	buf_init(&text);
	for (size_t i = 0; i < r.npieces; i++)
		buf_puts(&text, r.pieces[i]);
	r.content = pool_strdup(req->pool, text.data ? text.data : "");
	buf_clear(&text);
	char uid[EVENT_ID_LEN + 1], aid[EVENT_ID_LEN + 1];
	event_uuid(uid);
	event_uuid(aid);
	const char *ids[2] = {uid, aid}, *at = NULL;
	e = store(req, session_id, question, docs, ids, &r, &at);
	if (e != ERR_OK)
		goto out;
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "session_id", json_object_new_string(session_id));
	json_object_object_add(body, "message", json_object_new_string(r.content));
	json_object_object_add(body, "user_message",
	                       message_json(session_id, uid, "user", question, NULL, at));
	json_object_object_add(
	    body, "assistant_message",
	    message_json(session_id, aid, "assistant", r.content, json_object_get(r.sources), at));
	if (wants_stream(req))
		e = stream(req, &r, body);
	else
		e = http_send_json(req, 201, body);
out:
	json_object_put(r.sources);
	return e;
}

enum err chat_message_list(struct http_req *req)
{
	const char *session_id = http_param(req, "id");
	PGresult *session = NULL;
	enum err e = chat_session_load(req, session_id, &session);
	if (e != ERR_OK)
		return e;
	PQclear(session);
	const char *p[] = {session_id};
	PGresult *res = NULL;
	e = db_exec_prepared(service_db(), "chat_messages",
	                     "SELECT id, role, content, sources::text, " CHAT_SQL_TIME(
	                         "created_at") " FROM messages WHERE session_id = $1 ORDER BY seq",
	                     1, p, &res);
	if (e != ERR_OK)
		return e;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *src = db_value(res, i, 3);
		struct json_object *sources = http_json_parse(src, strlen(src));
		json_object_array_add(arr, message_json(session_id, db_value(res, i, 0),
		                                        db_value(res, i, 1), db_value(res, i, 2),
		                                        sources, db_value(res, i, 4)));
	}
	PQclear(res);
	return http_send_json(req, 200, arr);
}
