/* extract_docx: Word documents with libzip and libxml2.
 *
 * Zip-bomb defences: the entry count, the sum of the uncompressed sizes in
 * the central directory and each large entry's compression ratio are checked
 * before anything is inflated; while reading, no entry may give more than it
 * declared and the bytes read in all stay under the same ceiling.
 * XML is parsed without network access, without entity substitution or DTD
 * loading and without libxml2's "huge" mode; a document that carries a DTD
 * at all is refused (Word never writes one).
 *
 * Output is Markdown: headings (styles "heading N", "Title", or an outline
 * level) as '#' lines, list paragraphs as "- item", table rows as cells
 * joined by " | ". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "core/cfg.h"
#include "extract/extract_impl.h"

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

enum {
	RATIO_CHECK_MIN = 1024 * 1024, /* smaller entries may compress as well as they like */
	STYLES_MAX = 4096,             /* paragraph styles remembered */
	STYLE_ID_MAX = 128,
	LIST_DEPTH_MAX = 8, /* indentation levels of nested lists */
	READ_CHUNK = 64 * 1024
};

struct style {
	char id[STYLE_ID_MAX];
	int heading; /* 1.. for headings, 0 otherwise */
	bool list;
};

struct docx {
	zip_t *zip;
	size_t read_total; /* bytes inflated so far, all entries */
	size_t read_max;
	struct style *styles;
	size_t nstyles;
	const struct extract_limits *limits;
	struct extract_out *o;
};

static bool is_w(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrcmp(n->ns->href, (const xmlChar *)W_NS) == 0 &&
	       xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static const xmlNode *w_child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (is_w(c, name))
			return c;
	return NULL;
}

/* The w:val attribute of n's child name, copied into dst ("" if none). */
static void w_val(const xmlNode *n, const char *name, char *dst, size_t size)
{
	dst[0] = '\0';
	const xmlNode *c = w_child(n, name);
	if (c == NULL)
		return;
	xmlChar *v = xmlGetNsProp(c, (const xmlChar *)"val", (const xmlChar *)W_NS);
	if (v != NULL) {
		snprintf(dst, size, "%s", (const char *)v);
		xmlFree(v);
	}
}

/* Checks the central directory before inflating anything. */
static enum err docx_check(struct docx *d)
{
	const struct extract_limits *l = d->limits;
	zip_int64_t n = zip_get_num_entries(d->zip, 0);
	if (n < 0 || n > l->docx_max_entries)
		return extract_fail(d->o, ERR_TOO_LARGE,
		                    "the DOCX document has more than %ld parts",
		                    l->docx_max_entries);
	unsigned long long total = 0;
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;
		if (zip_stat_index(d->zip, (zip_uint64_t)i, 0, &st) != 0 ||
		    !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
			return extract_fail(
			    d->o, ERR_INVALID,
			    "the DOCX document could not be read: its directory is damaged");
		total += st.size;
		if (total > (unsigned long long)l->docx_max_bytes)
			return extract_fail(d->o, ERR_TOO_LARGE,
			                    "the DOCX document unpacks to more than %ld MiB",
			                    l->docx_max_bytes / (1024 * 1024));
		if (st.size > RATIO_CHECK_MIN &&
		    (st.comp_size == 0 || st.size / st.comp_size > (zip_uint64_t)l->docx_max_ratio))
			return extract_fail(d->o, ERR_TOO_LARGE,
			                    "the DOCX document is compressed more than %ld to 1 "
			                    "(a zip bomb?)",
			                    l->docx_max_ratio);
	}
	return ERR_OK;
}

/* Inflates the entry name into *data (malloc'd); ERR_NOT_FOUND if absent. */
static enum err docx_read(struct docx *d, const char *name, char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	zip_int64_t i = zip_name_locate(d->zip, name, 0);
	if (i < 0)
		return ERR_NOT_FOUND;
	zip_stat_t st;
	if (zip_stat_index(d->zip, (zip_uint64_t)i, 0, &st) != 0)
		return extract_fail(d->o, ERR_INVALID, "the DOCX document could not be read: %s",
		                    zip_strerror(d->zip));
	size_t left = d->read_max - d->read_total;
	if (st.size > left)
		return extract_fail(d->o, ERR_TOO_LARGE,
		                    "the DOCX document unpacks to more than %zu MiB",
		                    d->read_max / (1024 * 1024));
	zip_file_t *f = zip_fopen_index(d->zip, (zip_uint64_t)i, 0);
	if (f == NULL)
		return extract_fail(d->o, ERR_INVALID, "the DOCX document could not be read: %s",
		                    zip_strerror(d->zip));
	enum err e = ERR_OK;
	size_t cap = (size_t)st.size, n = 0;
	char *p = xmalloc(cap + 1);
	for (;;) {
		/* One byte of room past the declared size exposes an entry that lies. */
		char extra;
		void *dst = n < cap ? (void *)(p + n) : (void *)&extra;
		zip_uint64_t want = n < cap ? (cap - n < READ_CHUNK ? cap - n : READ_CHUNK) : 1;
		zip_int64_t r = zip_fread(f, dst, want);
		if (r < 0) {
			e = extract_fail(d->o, ERR_INVALID,
			                 "the DOCX document could not be read: %s",
			                 zip_file_strerror(f));
			break;
		}
		if (r == 0)
			break;
		if (n >= cap) {
			e = extract_fail(
			    d->o, ERR_TOO_LARGE,
			    "the DOCX document unpacks to more than its directory says "
			    "(a zip bomb?)");
			break;
		}
		n += (size_t)r;
	}
	zip_fclose(f);
	d->read_total += n;
	if (e != ERR_OK) {
		free(p);
		return e;
	}
	p[n] = '\0';
	*data = p;
	*len = n;
	return ERR_OK;
}

/* Parses an entry safely; NULL (absent or refused) with *e set. */
static xmlDoc *docx_xml(struct docx *d, const char *name, bool required, enum err *e)
{
	char *data;
	size_t len;
	*e = docx_read(d, name, &data, &len);
	if (*e == ERR_NOT_FOUND) {
		*e = required
		         ? extract_fail(d->o, ERR_INVALID,
		                        "the DOCX document could not be read: %s is missing", name)
		         : ERR_OK;
		return NULL;
	}
	if (*e != ERR_OK)
		return NULL;
	xmlDoc *doc = xmlReadMemory(data, (int)len, name, NULL,
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(data);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		*e = extract_fail(d->o, ERR_INVALID,
		                  "the DOCX document could not be read: %s is not XML", name);
	} else if (doc->intSubset != NULL || doc->extSubset != NULL) {
		*e = extract_fail(d->o, ERR_INVALID,
		                  "the DOCX document could not be read: %s declares a DTD", name);
	} else {
		return doc;
	}
	if (doc != NULL)
		xmlFreeDoc(doc);
	return NULL;
}

static int heading_of_name(const char *name)
{
	if (strncasecmp(name, "heading ", 8) == 0 && name[8] >= '1' && name[8] <= '9' &&
	    name[9] == '\0')
		return name[8] - '0';
	if (strcasecmp(name, "title") == 0)
		return 1;
	return 0;
}

static void docx_styles(struct docx *d, const xmlDoc *doc)
{
	const xmlNode *root = xmlDocGetRootElement(doc);
	d->styles = xcalloc(STYLES_MAX, sizeof(d->styles[0]));
	for (const xmlNode *s = root->children; s != NULL && d->nstyles < STYLES_MAX; s = s->next) {
		if (!is_w(s, "style"))
			continue;
		xmlChar *id = xmlGetNsProp(s, (const xmlChar *)"styleId", (const xmlChar *)W_NS);
		if (id == NULL)
			continue;
		struct style *st = &d->styles[d->nstyles++];
		snprintf(st->id, sizeof(st->id), "%s", (const char *)id);
		xmlFree(id);
		char name[STYLE_ID_MAX], lvl[16];
		w_val(s, "name", name, sizeof(name));
		w_val(w_child(s, "pPr"), "outlineLvl", lvl, sizeof(lvl));
		st->heading = heading_of_name(name);
		if (st->heading == 0 && lvl[0] >= '0' && lvl[0] <= '8' && lvl[1] == '\0')
			st->heading = lvl[0] - '0' + 1;
		st->list = strncasecmp(name, "list", 4) == 0;
	}
}

static const struct style *style_find(const struct docx *d, const char *id, struct style *tmp)
{
	for (size_t i = 0; i < d->nstyles; i++)
		if (strcmp(d->styles[i].id, id) == 0)
			return &d->styles[i];
	/* Without styles.xml, English Word's ids still say it. */
	*tmp = (struct style){.heading = 0};
	if (strncmp(id, "Heading", 7) == 0 && id[7] >= '1' && id[7] <= '9' && id[8] == '\0')
		tmp->heading = id[7] - '0';
	else if (strcmp(id, "Title") == 0)
		tmp->heading = 1;
	tmp->list = strncmp(id, "List", 4) == 0;
	return tmp;
}

/* Appends the text of runs under n: w:t, tabs and breaks; deleted text and
 * field codes are not part of what the reader sees. */
static void runs_text(const xmlNode *n, struct buf *b)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_w(c, "t")) {
			xmlChar *t = xmlNodeGetContent(c);
			if (t != NULL) {
				buf_puts(b, (const char *)t);
				xmlFree(t);
			}
		} else if (is_w(c, "tab")) {
			buf_putc(b, '\t');
		} else if (is_w(c, "br") || is_w(c, "cr")) {
			buf_putc(b, ' ');
		} else if (is_w(c, "delText") || is_w(c, "instrText") || is_w(c, "pPr") ||
		           is_w(c, "rPr")) {
			continue;
		} else if (is_w(c, "p")) {
			if (b->len > 0)
				buf_putc(b, ' ');
			runs_text(c, b);
		} else {
			runs_text(c, b);
		}
	}
}

static void docx_paragraph(struct docx *d, const xmlNode *p)
{
	struct buf t;
	buf_init(&t);
	runs_text(p, &t);
	if (t.len == 0)
		goto out;
	const xmlNode *ppr = w_child(p, "pPr");
	char id[STYLE_ID_MAX], lvl[16], ilvl[16];
	w_val(ppr, "pStyle", id, sizeof(id));
	w_val(ppr, "outlineLvl", lvl, sizeof(lvl));
	struct style tmp;
	const struct style *st = id[0] != '\0' ? style_find(d, id, &tmp) : NULL;
	int heading = st != NULL ? st->heading : 0;
	if (lvl[0] >= '0' && lvl[0] <= '8' && lvl[1] == '\0')
		heading = lvl[0] - '0' + 1;
	const xmlNode *num = w_child(ppr, "numPr");
	bool list = num != NULL || (st != NULL && st->list);
	if (heading > 0) {
		extract_out_append(d->o, "#########", (size_t)(heading > 6 ? 6 : heading));
		extract_out_append(d->o, " ", 1);
		extract_out_append(d->o, t.data, t.len);
		extract_out_append(d->o, "\n\n", 2);
	} else if (list) {
		w_val(num, "ilvl", ilvl, sizeof(ilvl));
		int depth = ilvl[0] >= '0' && ilvl[0] <= '9' && ilvl[1] == '\0' ? ilvl[0] - '0' : 0;
		for (int i = 0; i < depth && i < LIST_DEPTH_MAX; i++)
			extract_out_append(d->o, "  ", 2);
		extract_out_append(d->o, "- ", 2);
		extract_out_append(d->o, t.data, t.len);
		extract_out_append(d->o, "\n", 1);
	} else {
		extract_out_append(d->o, t.data, t.len);
		extract_out_append(d->o, "\n\n", 2);
	}
out:
	buf_clear(&t);
}

static void docx_table(struct docx *d, const xmlNode *tbl)
{
	struct buf row, cell;
	buf_init(&row);
	buf_init(&cell);
	for (const xmlNode *tr = tbl->children; tr != NULL; tr = tr->next) {
		if (!is_w(tr, "tr"))
			continue;
		row.len = 0;
		bool first = true;
		for (const xmlNode *tc = tr->children; tc != NULL; tc = tc->next) {
			if (!is_w(tc, "tc"))
				continue;
			cell.len = 0;
			runs_text(tc, &cell);
			if (!first)
				buf_puts(&row, " | ");
			first = false;
			buf_append(&row, cell.data != NULL ? cell.data : "", cell.len);
		}
		if (row.len > 0) {
			extract_out_append(d->o, row.data, row.len);
			extract_out_append(d->o, "\n", 1);
		}
	}
	extract_out_append(d->o, "\n", 1);
	buf_clear(&row);
	buf_clear(&cell);
}

static void docx_blocks(struct docx *d, const xmlNode *parent)
{
	for (const xmlNode *c = parent->children; c != NULL && !d->o->text_over; c = c->next) {
		if (is_w(c, "p"))
			docx_paragraph(d, c);
		else if (is_w(c, "tbl"))
			docx_table(d, c);
		else if (is_w(c, "sdt"))
			docx_blocks(d, w_child(c, "sdtContent") != NULL ? w_child(c, "sdtContent")
			                                                : c);
		else if (is_w(c, "customXml") || is_w(c, "ins") || is_w(c, "smartTag"))
			docx_blocks(d, c);
	}
}

/* The text of the first element named local anywhere under n. */
static xmlChar *find_text(const xmlNode *n, const char *local)
{
	for (const xmlNode *c = n; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(c->name, (const xmlChar *)local) == 0)
			return xmlNodeGetContent(c);
		xmlChar *t = find_text(c->children, local);
		if (t != NULL)
			return t;
	}
	return NULL;
}

static enum err docx_props(struct docx *d)
{
	enum err e;
	xmlDoc *core = docx_xml(d, "docProps/core.xml", false, &e);
	if (core != NULL) {
		xmlChar *title = find_text(xmlDocGetRootElement(core), "title");
		xmlChar *author = find_text(xmlDocGetRootElement(core), "creator");
		extract_out_meta(d->o->title, (const char *)title);
		extract_out_meta(d->o->author, (const char *)author);
		xmlFree(title);
		xmlFree(author);
		xmlFreeDoc(core);
	}
	if (e != ERR_OK)
		return e;
	xmlDoc *app = docx_xml(d, "docProps/app.xml", false, &e);
	if (app != NULL) {
		xmlChar *pages = find_text(xmlDocGetRootElement(app), "Pages");
		long n = 0;
		if (pages != NULL && cfg_parse_long((const char *)pages, 1, 1000000, &n) && n > 0)
			d->o->pages = n;
		xmlFree(pages);
		xmlFreeDoc(app);
	}
	return e;
}

enum err extract_docx(int fd, const struct extract_limits *l, struct extract_out *o)
{
	enum err e = ERR_OK;
	xmlDoc *styles = NULL, *doc = NULL;
	struct docx d = {.limits = l, .o = o, .read_max = (size_t)l->docx_max_bytes};
	o->engine = "docx";
	int own_fd = dup(fd);
	int zerr = 0;
	d.zip = own_fd >= 0 ? zip_fdopen(own_fd, ZIP_RDONLY, &zerr) : NULL;
	if (d.zip == NULL) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, zerr);
		e = extract_fail(o, ERR_INVALID, "the DOCX document could not be read: %s",
		                 zip_error_strerror(&ze));
		zip_error_fini(&ze);
		goto out;
	}
	e = docx_check(&d);
	if (e != ERR_OK)
		goto out;
	styles = docx_xml(&d, "word/styles.xml", false, &e);
	if (e != ERR_OK)
		goto out;
	if (styles != NULL)
		docx_styles(&d, styles);
	doc = docx_xml(&d, "word/document.xml", true, &e);
	if (e != ERR_OK)
		goto out;
	const xmlNode *body = w_child(xmlDocGetRootElement(doc), "body");
	if (body == NULL) {
		e = extract_fail(o, ERR_INVALID,
		                 "the DOCX document could not be read: it has no body");
		goto out;
	}
	docx_blocks(&d, body);
	if (o->text_over) {
		e = extract_fail_text_over(o);
		goto out;
	}
	e = docx_props(&d);
out:
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (styles != NULL)
		xmlFreeDoc(styles);
	free(d.styles);
	if (d.zip != NULL)
		zip_discard(d.zip);
	return e;
}
