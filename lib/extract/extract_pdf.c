/* extract_pdf: PDF with poppler-glib. Text per page in poppler's reading
 * order; a page without a text layer is rendered with cairo and read by
 * tesseract. Headings become Markdown heading lines ("## Title"), so that
 * the structure survives in the stored text: the document outline
 * (bookmarks) when the PDF has one, each entry marking the line of its page
 * that carries its title (or added at the top of that page), at the depth
 * of the entry; else lines set in a font clearly larger than the body text
 * (the largest sizes the highest levels) and short lines set wholly in a
 * bold face (one level below those). Pages are separated by a form feed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cairo.h>
#include <poppler.h>

#include "extract/extract_impl.h"

enum {
	HEADING_LEVELS_MAX = 3,  /* sizes above the body map to #, ##, ### */
	HEADING_LINE_MAX = 200,  /* a longer line is body text whatever its size */
	SIZE_BUCKETS = 400,      /* font sizes counted in half points up to 200 pt */
	OUTLINE_MAX = 5000,      /* outline entries read */
	OUTLINE_DEPTH_MAX = 6,   /* deeper entries take the deepest level */
	BOLD_LINE_MAX = 100,     /* a longer bold line is emphasis, not a heading */
	BOLD_SHARE_MAX = 30,     /* percent of the text: past it, bold is the body's face */
	RENDER_SIDE_MAX = 32000, /* cairo's image surfaces stop at 32767 pixels a side */
	RENDER_DPI_MIN = 30      /* below this OCR is pointless: the page is refused */
};

/* A heading needs a font at least this much larger than the body's. */
#define HEADING_RATIO 1.15

struct line {
	long page;
	char *text; /* malloc'd, without its newline */
	size_t len;
	double size; /* font size of its first letter, 0 when unknown (OCR) */
	bool bold;   /* its first and last letters are set in a bold face */
	int level;   /* heading level from the outline, 0 for none */
};

/* An entry of the outline. */
struct mark {
	long page;    /* 0-based */
	int level;    /* 1.. */
	char *title;  /* g_malloc'd */
	bool placed;  /* found as a line of its page */
	size_t order; /* its place in the outline */
};

struct marks {
	struct mark *v;
	size_t n, cap;
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static void lines_add(struct lines *ls, long page, const char *s, size_t n, double size, bool bold)
{
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 256;
		ls->v = xrealloc(ls->v, ls->cap * sizeof(ls->v[0]));
	}
	ls->v[ls->n++] = (struct line){page, xstrndup(s, n), n, size, bold, 0};
}

static void lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->v[i].text);
	free(ls->v);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '\f')
			return false;
	return true;
}

/* The text attributes at character index ci, or NULL; *cursor walks the
 * sorted list forward. */
static PopplerTextAttributes *attr_at(GList **cursor, long ci)
{
	while (*cursor != NULL && ((PopplerTextAttributes *)(*cursor)->data)->end_index < ci)
		*cursor = (*cursor)->next;
	if (*cursor == NULL)
		return NULL;
	PopplerTextAttributes *a = (*cursor)->data;
	return a->start_index <= ci ? a : NULL;
}

static bool bold_face(const PopplerTextAttributes *a)
{
	if (a == NULL || a->font_name == NULL)
		return false;
	static const char *const faces[] = {"bold", "black", "heavy", "semibold", "demi"};
	for (size_t i = 0; i < sizeof(faces) / sizeof(faces[0]); i++) {
		size_t fl = strlen(faces[i]);
		for (const char *c = a->font_name; *c; c++)
			if (strncasecmp(c, faces[i], fl) == 0)
				return true;
	}
	return false;
}

/* Splits a page's text into lines with the font size and face of each. */
static void page_lines(PopplerPage *page, long index, const char *text, struct lines *ls)
{
	GList *attrs = poppler_page_get_text_attributes(page);
	GList *cursor = attrs;
	long ci = 0; /* poppler counts characters, not bytes */
	const char *s = text;
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		size_t first = 0;
		long first_ci = ci, chars = 0;
		while (first < n && (s[first] == ' ' || s[first] == '\t'))
			first++, first_ci++;
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80)
				chars++;
		if (!blank(s, n)) {
			PopplerTextAttributes *a = attr_at(&cursor, first_ci);
			double size = a != NULL ? a->font_size : 0;
			bool bold = bold_face(a);
			long last_ci = ci + chars - 1;
			while (last_ci > first_ci && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				last_ci--, n--;
			GList *look = cursor;
			bold = bold && bold_face(attr_at(&look, last_ci));
			lines_add(ls, index, s, n, size, bold);
		}
		ci += chars;
		if (nl == NULL)
			break;
		ci++;
		s = nl + 1;
	}
	poppler_page_free_text_attributes(attrs);
}

/* The 0-based page a destination points to, or -1. */
static long dest_page(PopplerDocument *doc, const PopplerDest *dest)
{
	if (dest == NULL)
		return -1;
	if (dest->type != POPPLER_DEST_NAMED)
		return dest->page_num - 1;
	PopplerDest *named = poppler_document_find_dest(doc, dest->named_dest);
	long page = named != NULL ? named->page_num - 1 : -1;
	if (named != NULL)
		poppler_dest_free(named);
	return page;
}

/* Reads the outline's entries, depth first, in document order. */
static void outline_walk(PopplerDocument *doc, PopplerIndexIter *it, int depth, long pages,
                         struct marks *ms)
{
	do {
		PopplerAction *a = poppler_index_iter_get_action(it);
		if (a != NULL && a->type == POPPLER_ACTION_GOTO_DEST &&
		    a->goto_dest.title != NULL && *a->goto_dest.title != '\0') {
			long page = dest_page(doc, a->goto_dest.dest);
			if (page >= 0 && page < pages && ms->n < OUTLINE_MAX) {
				if (ms->n == ms->cap) {
					ms->cap = ms->cap ? ms->cap * 2 : 64;
					ms->v = xrealloc(ms->v, ms->cap * sizeof(ms->v[0]));
				}
				ms->v[ms->n] = (struct mark){
				    page, depth, g_strdup(a->goto_dest.title), false, ms->n};
				ms->n++;
			}
		}
		if (a != NULL)
			poppler_action_free(a);
		PopplerIndexIter *child = poppler_index_iter_get_child(it);
		if (child != NULL) {
			outline_walk(doc, child, depth < OUTLINE_DEPTH_MAX ? depth + 1 : depth,
			             pages, ms);
			poppler_index_iter_free(child);
		}
	} while (ms->n < OUTLINE_MAX && poppler_index_iter_next(it));
}

/* Letters and digits of s, lower-cased (ASCII), for comparing titles. */
static size_t squeeze(const char *s, size_t n, char *dst, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			dst[o++] = (char)(c | ((c >= 'A' && c <= 'Z') ? 0x20 : 0));
		else if (c >= 0x80)
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return o;
}

/* By page, then in outline order. */
static int cmp_mark(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Marks the line of its page that carries each entry's title. */
static void place_marks(struct marks *ms, struct lines *ls)
{
	if (ms->n > 1)
		qsort(ms->v, ms->n, sizeof(ms->v[0]), cmp_mark);
	size_t from = 0; /* lines before this one belong to earlier pages */
	for (size_t m = 0; m < ms->n; m++) {
		struct mark *k = &ms->v[m];
		char want[HEADING_LINE_MAX + 1], have[HEADING_LINE_MAX + 1];
		size_t wl = squeeze(k->title, strlen(k->title), want, sizeof(want));
		while (from < ls->n && ls->v[from].page < k->page)
			from++;
		for (size_t i = from; wl && i < ls->n && ls->v[i].page == k->page; i++) {
			struct line *ln = &ls->v[i];
			if (ln->level || ln->len > HEADING_LINE_MAX)
				continue;
			size_t hl = squeeze(ln->text, ln->len, have, sizeof(have));
			if (hl == wl && memcmp(have, want, wl) == 0) {
				ln->level = k->level;
				k->placed = true;
				break;
			}
		}
	}
}

static void marks_free(struct marks *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		g_free(ms->v[i].title);
	free(ms->v);
}

/* Renders the page to grey pixels and reads them. */
static enum err page_ocr(PopplerPage *page, long index, const struct extract_limits *l,
                         struct extract_out *o, struct lines *ls)
{
	double wpt, hpt;
	poppler_page_get_size(page, &wpt, &hpt);
	double dpi = (double)l->render_dpi;
	double px = wpt * dpi / 72.0 * hpt * dpi / 72.0;
	if (px > (double)l->max_render_pixels)
		dpi *= sqrt((double)l->max_render_pixels / px);
	double side = (wpt > hpt ? wpt : hpt) * dpi / 72.0;
	if (side > RENDER_SIDE_MAX)
		dpi *= RENDER_SIDE_MAX / side;
	if (dpi < RENDER_DPI_MIN || wpt <= 0 || hpt <= 0)
		return extract_fail(o, ERR_TOO_LARGE,
		                    "page %ld of the PDF is too large to read its scanned text",
		                    index + 1);
	int w = (int)(wpt * dpi / 72.0), h = (int)(hpt * dpi / 72.0);
	if (w < 1 || h < 1)
		return ERR_OK;
	cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(surface);
		return extract_fail(o, ERR_TOO_LARGE,
		                    "page %ld of the PDF could not be rendered: not enough memory",
		                    index + 1);
	}
	cairo_t *cr = cairo_create(surface);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, dpi / 72.0, dpi / 72.0);
	poppler_page_render(page, cr);
	cairo_destroy(cr);
	cairo_surface_flush(surface);
	const unsigned char *rgb = cairo_image_surface_get_data(surface);
	int stride = cairo_image_surface_get_stride(surface);
	unsigned char *grey = xmalloc((size_t)w * (size_t)h);
	for (int y = 0; y < h; y++) {
		const uint32_t *row =
		    (const uint32_t *)(const void *)(rgb + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			uint32_t v = row[x];
			unsigned r = v >> 16 & 0xff, g = v >> 8 & 0xff, b = v & 0xff;
			grey[(size_t)y * (size_t)w + (size_t)x] =
			    (unsigned char)((r * 299 + g * 587 + b * 114) / 1000);
		}
	}
	cairo_surface_destroy(surface);
	struct extract_out page_out = {.text_max = o->text_max};
	buf_init(&page_out.text);
	enum err e = extract_ocr_gray(grey, w, h, w, (int)dpi, l, &page_out);
	free(grey);
	if (e == ERR_OK) {
		o->ocr_pages++;
		const char *s = page_out.text.data != NULL ? page_out.text.data : "";
		while (*s != '\0') {
			const char *nl = strchr(s, '\n');
			size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
			if (!blank(s, n))
				lines_add(ls, index, s, n, 0, false);
			s = nl != NULL ? nl + 1 : s + n;
		}
	} else {
		memcpy(o->message, page_out.message, sizeof(o->message));
	}
	buf_clear(&page_out.text);
	return e;
}

static int size_bucket(double size)
{
	long b = lround(size * 2);
	return b < 0 ? 0 : b >= SIZE_BUCKETS ? SIZE_BUCKETS - 1 : (int)b;
}

/* Heading level of each size bucket (0 = body), from the sizes' use;
 * returns the deepest level given, and says whether bold lines may be
 * headings (bold is not the body's own face). */
static int heading_levels(const struct lines *ls, int level[SIZE_BUCKETS], bool *bold_headings)
{
	static long chars[SIZE_BUCKETS];
	long bold = 0, all = 0;
	memset(chars, 0, sizeof(chars));
	memset(level, 0, SIZE_BUCKETS * sizeof(level[0]));
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->v[i].size > 0)
			chars[size_bucket(ls->v[i].size)] += (long)ls->v[i].len;
		all += (long)ls->v[i].len;
		bold += ls->v[i].bold ? (long)ls->v[i].len : 0;
	}
	*bold_headings = bold * 100 < all * BOLD_SHARE_MAX;
	int body = 0;
	for (int b = 1; b < SIZE_BUCKETS; b++)
		if (chars[b] > chars[body])
			body = b;
	if (chars[body] == 0)
		return 0;
	int next = 1, deepest = 0;
	for (int b = SIZE_BUCKETS - 1; b > body; b--) {
		if (chars[b] == 0 || b < body * HEADING_RATIO)
			continue;
		level[b] = next;
		deepest = next;
		if (next < HEADING_LEVELS_MAX)
			next++;
	}
	return deepest;
}

/* A bold line that reads as a title: short, no closing punctuation. */
static bool bold_title(const struct line *ln)
{
	if (!ln->bold || ln->len > BOLD_LINE_MAX)
		return false;
	char last = ln->text[ln->len - 1];
	return last != '.' && last != ',' && last != ';' && last != ':';
}

static void put_heading(struct extract_out *o, int lv, const char *s, size_t n)
{
	extract_out_append(o, "######", (size_t)(lv > 6 ? 6 : lv));
	extract_out_append(o, " ", 1);
	extract_out_append(o, s, n);
	extract_out_append(o, "\n", 1);
}

static void write_lines(const struct lines *ls, const struct marks *ms, long pages,
                        struct extract_out *o)
{
	static int level[SIZE_BUCKETS];
	bool bold_headings = false;
	int deepest = 0;
	if (ms->n == 0) /* without an outline, sizes and faces say what is a heading */
		deepest = heading_levels(ls, level, &bold_headings);
	size_t i = 0, m = 0;
	for (long p = 0; p < pages; p++) {
		if (p > 0)
			extract_out_append(o, "\f", 1);
		for (; m < ms->n && ms->v[m].page <= p; m++) /* entries not found on their page */
			if (!ms->v[m].placed && ms->v[m].page == p)
				put_heading(o, ms->v[m].level, ms->v[m].title,
				            strlen(ms->v[m].title));
		for (; i < ls->n && ls->v[i].page == p; i++) {
			const struct line *ln = &ls->v[i];
			int lv = ln->level;
			if (ms->n == 0 && ln->size > 0 && ln->len <= HEADING_LINE_MAX)
				lv = level[size_bucket(ln->size)];
			if (ms->n == 0 && lv == 0 && bold_headings && bold_title(ln))
				lv = deepest + 1;
			if (lv > 0) {
				put_heading(o, lv, ln->text, ln->len);
				continue;
			}
			extract_out_append(o, ln->text, ln->len);
			extract_out_append(o, "\n", 1);
		}
	}
}

enum err extract_pdf(int fd, const struct extract_limits *l, struct extract_out *o)
{
	enum err e = ERR_OK;
	GError *gerr = NULL;
	PopplerDocument *doc = NULL;
	struct lines ls = {0};
	struct marks marks = {0};
	o->engine = "poppler";
	int own_fd = dup(fd); /* poppler closes the descriptor it is given */
	if (own_fd < 0) {
		e = extract_fail(o, ERR_INTERNAL, "the PDF could not be opened");
		goto out;
	}
	doc = poppler_document_new_from_fd(own_fd, NULL, &gerr);
	if (doc == NULL) {
		bool locked = gerr != NULL && gerr->domain == POPPLER_ERROR &&
		              gerr->code == POPPLER_ERROR_ENCRYPTED;
		if (locked)
			e = extract_fail(o, ERR_INVALID, "the PDF is protected by a password");
		else
			e = extract_fail(o, ERR_INVALID, "the PDF could not be read: %s",
			                 gerr != NULL ? gerr->message : "unknown error");
		goto out;
	}
	int n = poppler_document_get_n_pages(doc);
	if (n <= 0) {
		e = extract_fail(o, ERR_INVALID, "the PDF could not be read: it has no pages");
		goto out;
	}
	if (n > l->max_pages) {
		e = extract_fail(o, ERR_TOO_LARGE, "the document has more than %ld pages",
		                 l->max_pages);
		goto out;
	}
	o->pages = n;
	char *title = poppler_document_get_title(doc);
	char *author = poppler_document_get_author(doc);
	extract_out_meta(o->title, title);
	extract_out_meta(o->author, author);
	g_free(title);
	g_free(author);
	size_t text_bytes = 0;
	for (int i = 0; i < n && e == ERR_OK; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (page == NULL) {
			e = extract_fail(o, ERR_INVALID,
			                 "the PDF could not be read: page %d is damaged", i + 1);
			break;
		}
		char *text = poppler_page_get_text(page);
		if (text != NULL && !blank(text, strlen(text))) {
			text_bytes += strlen(text);
			if (text_bytes > o->text_max)
				e = extract_fail_text_over(o);
			else
				page_lines(page, i, text, &ls);
		} else if (l->ocr) {
			e = page_ocr(page, i, l, o, &ls);
		}
		g_free(text);
		g_object_unref(page);
	}
	if (e != ERR_OK)
		goto out;
	if (o->ocr_pages > 0)
		o->engine = "poppler+tesseract";
	PopplerIndexIter *outline = poppler_index_iter_new(doc);
	if (outline != NULL) {
		outline_walk(doc, outline, 1, n, &marks);
		poppler_index_iter_free(outline);
	}
	place_marks(&marks, &ls);
	write_lines(&ls, &marks, n, o);
	if (o->text_over)
		e = extract_fail_text_over(o);
out:
	lines_free(&ls);
	marks_free(&marks);
	if (gerr != NULL)
		g_error_free(gerr);
	if (doc != NULL)
		g_object_unref(doc);
	return e;
}
