/* cards: export a deck for Anki (or as CSV) and import CSV.
 *
 * Export (?format=anki, the default) is Anki's plain-text note format
 * (File > Import in Anki 2.1.55 or later): header lines naming the tab
 * separator, HTML fields, the Basic note type, the deck "Lectern" and the
 * tags column, then one note a line: front, back, tags separated by spaces.
 * The fields are HTML, so nothing ever needs CSV quoting: &, <, >, " and
 * tab are character references, a line break is <br>, and a first
 * character that a spreadsheet would start a formula with (=, +, -, @) is
 * a character reference too (&#61;), which Anki shows as the character and
 * a spreadsheet as inert text (CSV injection). Tags cannot hold any of
 * these (cards_tag_ok).
 *
 * ?format=csv is RFC 4180 CSV with the header front,back,tags, which import
 * reads back: a field holding a comma, a quote or a line break is quoted
 * (quotes doubled), and a field starting with =, +, -, @, tab or CR gets a
 * leading apostrophe (OWASP's CSV injection advice), which import drops.
 *
 * Import takes text/csv of at most CARDS_IMPORT_MAX bytes and
 * CARDS_IMPORT_ROWS_MAX rows: front,back[,tags] per row, an optional
 * header row, tags separated by spaces. One bad row refuses the whole
 * file (400 naming the row), so an import is all or nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/service.h"
#include "cards.h"
#include "web/valid.h"

/* Whether a spreadsheet would take a field starting with c as a formula. */
static bool formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* A CSV field (format=csv). */
static void put_field(struct buf *b, const char *s, char sep)
{
	bool quote = strchr(s, sep) || strchr(s, '"') || strchr(s, '\n') || strchr(s, '\r') ||
	             strchr(s, '\t');
	if (quote)
		buf_putc(b, '"');
	if (formula_start(s[0]))
		buf_putc(b, '\'');
	for (const char *c = s; *c; c++) {
		if (*c == '"' && quote)
			buf_putc(b, '"');
		buf_putc(b, *c);
	}
	if (quote)
		buf_putc(b, '"');
}

/* An HTML field of Anki's format (format=anki); tags are written as they are. */
static void put_html(struct buf *b, const char *s, bool html)
{
	if (!html) {
		buf_puts(b, s);
		return;
	}
	for (const char *c = s; *c; c++) {
		if (c == s && formula_start(*c) && *c != '\t' && *c != '\r')
			buf_printf(b, "&#%d;", *c);
		else if (*c == '&')
			buf_puts(b, "&amp;");
		else if (*c == '<')
			buf_puts(b, "&lt;");
		else if (*c == '>')
			buf_puts(b, "&gt;");
		else if (*c == '"')
			buf_puts(b, "&quot;");
		else if (*c == '\t')
			buf_puts(b, "&#9;");
		else if (*c == '\n')
			buf_puts(b, "<br>");
		else if (*c == '\r')
			buf_puts(b, c[1] == '\n' ? "" : "<br>");
		else
			buf_putc(b, *c);
	}
}

/* GET /cards/export?format=anki|csv[&tag=]: oldest card first. */
enum err cards_export(struct http_req *req)
{
	bool anki = strcmp(http_param(req, "format"), "anki") == 0;
	char max[24];
	snprintf(max, sizeof(max), "%d", CARDS_EXPORT_MAX);
	const char *p[] = {req->user_id, http_param(req, "tag"), max};
	PGresult *res = NULL;
	enum err e =
	    db_exec_prepared(service_db(), "cards_export",
	                     "SELECT front, back, array_to_string(tags, ' ') FROM cards "
	                     "WHERE user_id = $1 AND ($2::text IS NULL OR $2 = ANY (tags)) "
	                     "ORDER BY created_at, id LIMIT $3",
	                     3, p, &res);
	if (e != ERR_OK)
		return e;
	struct buf b;
	buf_init(&b);
	char sep = anki ? '\t' : ',';
	const char *eol = anki ? "\n" : "\r\n";
	if (anki)
		buf_puts(&b, "#separator:tab\n#html:true\n#notetype:Basic\n#deck:Lectern\n"
		             "#columns:Front\tBack\tTags\n#tags column:3\n");
	else
		buf_puts(&b, "front,back,tags\r\n");
	int n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		for (int col = 0; col < 3; col++) {
			if (col)
				buf_putc(&b, sep);
			const char *v = db_value(res, i, col);
			if (anki)
				put_html(&b, v ? v : "", col < 2);
			else
				put_field(&b, v ? v : "", sep);
		}
		buf_puts(&b, eol);
	}
	PQclear(res);
	e = http_add_header(
	    req, "Content-Disposition",
	    http_content_disposition(req->pool, anki ? "lectern-cards.txt" : "lectern-cards.csv"));
	char count[24];
	snprintf(count, sizeof(count), "%d", n);
	if (e == ERR_OK)
		e = http_add_header(req, "X-Total-Count", count);
	if (e == ERR_OK)
		e = http_send_bytes(req, 200,
		                    anki ? "text/plain; charset=utf-8" : "text/csv; charset=utf-8",
		                    b.data ? b.data : "", b.len);
	buf_clear(&b);
	return e;
}

/* --- Import ---------------------------------------------------------------- */

struct csv {
	const char *p, *end;
};

/* Reads one field into b; *last is set at the end of the row. False for
 * an unterminated quote or text after a closing quote. */
static bool csv_field(struct csv *c, struct buf *b, bool *last)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	*last = false;
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		for (;;) {
			if (c->p >= c->end)
				return false;
			if (*c->p == '"') {
				if (c->p + 1 < c->end && c->p[1] == '"') {
					buf_putc(b, '"');
					c->p += 2;
					continue;
				}
				c->p++;
				break;
			}
			buf_putc(b, *c->p++);
		}
		if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
			return false;
	} else {
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
			buf_putc(b, *c->p++);
	}
	if (c->p >= c->end) {
		*last = true;
	} else if (*c->p == ',') {
		c->p++;
	} else {
		if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
			c->p++;
		c->p++;
		*last = true;
	}
	buf_putc(b, '\0'); /* keeps data non-NULL; len counts it: take len - 1 */
	return true;
}

/* A field as imported: the apostrophe export put before a formula goes. */
static const char *unguard(struct pool *pool, const struct buf *b, size_t *len)
{
	const char *s = b->data;
	size_t n = b->len - 1;
	if (n >= 2 && s[0] == '\'' && formula_start(s[1])) {
		s++;
		n--;
	}
	*len = n;
	return pool_strndup(pool, s, n);
}

static enum err bad_row(struct http_req *req, size_t row, const char *problem)
{
	http_error_detail(req, "file", problem);
	return http_error(req, ERR_INVALID, "Row %zu: %s.", row, problem);
}

/* Reads the body (at most CARDS_IMPORT_MAX bytes, as the route allows). */
static enum err read_body(struct http_req *req, char **out, size_t *len)
{
	size_t want = (size_t)req->content_length, got = 0;
	char *data = pool_alloc(req->pool, want + 1);
	while (got < want) {
		ssize_t n = http_read(req, data + got, want - got);
		if (n <= 0)
			return http_error(req, ERR_INVALID, "The body ended early.");
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	*len = got;
	return ERR_OK;
}

enum err cards_import(struct http_req *req)
{
	const char *ct = req->content_type;
	if (strncasecmp(ct, "text/csv", 8) != 0 || (ct[8] && ct[8] != ';' && ct[8] != ' '))
		return http_error(req, ERR_MEDIA_TYPE, "Import takes text/csv.");
	char *data = NULL;
	size_t len = 0;
	enum err e = read_body(req, &data, &len);
	if (e != ERR_OK)
		return e;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	struct csv c = {data, data + len};
	struct buf f;
	buf_init(&f);
	struct json_object *fronts = json_object_new_array(), *backs = json_object_new_array(),
	                   *tags = json_object_new_array();
	size_t row = 0, rows = 0;
	while (e == ERR_OK && c.p < c.end) {
		row++;
		const char *fields[3] = {NULL, NULL, NULL};
		size_t lens[3] = {0, 0, 0}, nf = 0;
		bool last = false;
		while (!last) {
			if (!csv_field(&c, &f, &last)) {
				e = bad_row(req, row, "a quoted field is not closed properly");
				break;
			}
			if (nf < 3)
				fields[nf] = unguard(req->pool, &f, &lens[nf]);
			nf++;
		}
		if (e != ERR_OK)
			break;
		if (nf == 1 && lens[0] == 0)
			continue; /* a blank line */
		if (row == 1 && nf >= 2 && strcasecmp(fields[0], "front") == 0 &&
		    strcasecmp(fields[1], "back") == 0)
			continue;
		if (nf < 2 || nf > 3) {
			e = bad_row(req, row, "a row is front,back or front,back,tags");
			break;
		}
		unsigned fl = VALID_TEXT_NO_CONTROL | VALID_TEXT_NEWLINES;
		if (!valid_text(fields[0], lens[0], 1, CARDS_FRONT_MAX, fl, NULL) ||
		    !valid_text(fields[1], lens[1], 1, CARDS_BACK_MAX, fl, NULL)) {
			e = bad_row(req, row,
			            "front and back are 1..2000 and 1..4000 characters of text");
			break;
		}
		if (++rows > CARDS_IMPORT_ROWS_MAX) {
			e = bad_row(req, row, "an import holds at most 5000 cards");
			break;
		}
		struct json_object *t = json_object_new_array();
		const char *s = fields[2] ? fields[2] : "";
		while (e == ERR_OK && *s) {
			size_t n = strcspn(s, " ");
			if (n > 0) {
				if (!cards_tag_ok(s, n) ||
				    json_object_array_length(t) >= CARDS_TAGS_MAX)
					e = bad_row(
					    req, row,
					    "tags are at most 20 words of 1..64 characters");
				else
					json_object_array_add(
					    t, json_object_new_string_len(s, (int)n));
			}
			s += n + (s[n] == ' ');
		}
		json_object_array_add(fronts, json_object_new_string_len(fields[0], (int)lens[0]));
		json_object_array_add(backs, json_object_new_string_len(fields[1], (int)lens[1]));
		json_object_array_add(tags, t);
	}
	buf_clear(&f);
	PGresult *res = NULL;
	if (e == ERR_OK) {
		const char *p[] = {req->user_id, http_json_text(fronts, NULL),
		                   http_json_text(backs, NULL), http_json_text(tags, NULL)};
		e = db_exec_prepared(
		    service_db(), "cards_import",
		    "INSERT INTO cards (id, user_id, front, back, tags, origin, created_at) SELECT "
		    "gen_random_uuid(), $1, f.value, b.value, ARRAY(SELECT "
		    "jsonb_array_elements_text(t.value)), 'import', now() + f.n * interval '1 "
		    "microsecond' FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY "
		    "f(value, n) "
		    "JOIN jsonb_array_elements_text($3::jsonb) WITH ORDINALITY b(value, n) USING "
		    "(n) "
		    "JOIN jsonb_array_elements($4::jsonb) WITH ORDINALITY t(value, n) USING (n)",
		    4, p, &res);
	}
	json_object_put(fronts);
	json_object_put(backs);
	json_object_put(tags);
	if (e != ERR_OK)
		return e;
	long n = db_affected(res);
	PQclear(res);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "imported", json_object_new_int64(n));
	json_object_object_add(
	    o, "message", json_object_new_string(n ? "Cards imported." : "No cards to import."));
	return http_send_json(req, 201, o);
}
