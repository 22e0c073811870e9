/* extract_pdf: PDF with poppler-glib. Text per page in poppler's reading
 * order; a page without a text layer is rendered with cairo and read by
 * tesseract. Lines set in a font clearly larger than the body text become
 * Markdown headings, the largest sizes the highest levels. Pages are
 * separated by a form feed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>
#include <poppler.h>

#include "extract/extract_impl.h"

enum {
	HEADING_LEVELS_MAX = 3,  /* sizes above the body map to #, ##, ### */
	HEADING_LINE_MAX = 200,  /* a longer line is body text whatever its size */
	SIZE_BUCKETS = 400,      /* font sizes counted in half points up to 200 pt */
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
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static void lines_add(struct lines *ls, long page, const char *s, size_t n, double size)
{
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 256;
		ls->v = xrealloc(ls->v, ls->cap * sizeof(ls->v[0]));
	}
	ls->v[ls->n++] = (struct line){page, xstrndup(s, n), n, size};
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

/* The font size at character index ci; *cursor walks the sorted list. */
static double size_at(GList **cursor, long ci)
{
	while (*cursor != NULL && ((PopplerTextAttributes *)(*cursor)->data)->end_index < ci)
		*cursor = (*cursor)->next;
	if (*cursor == NULL)
		return 0;
	PopplerTextAttributes *a = (*cursor)->data;
	return a->start_index <= ci ? a->font_size : 0;
}

/* Splits a page's text into lines with the font size of each. */
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
		long first_ci = ci;
		while (first < n && (s[first] == ' ' || s[first] == '\t'))
			first++, first_ci++;
		if (!blank(s, n))
			lines_add(ls, index, s, n, size_at(&cursor, first_ci));
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80)
				ci++;
		if (nl == NULL)
			break;
		ci++;
		s = nl + 1;
	}
	poppler_page_free_text_attributes(attrs);
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
				lines_add(ls, index, s, n, 0);
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

/* Heading level of each size bucket (0 = body), from the sizes' use. */
static void heading_levels(const struct lines *ls, int level[SIZE_BUCKETS])
{
	static long chars[SIZE_BUCKETS];
	memset(chars, 0, sizeof(chars));
	memset(level, 0, SIZE_BUCKETS * sizeof(level[0]));
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].size > 0)
			chars[size_bucket(ls->v[i].size)] += (long)ls->v[i].len;
	int body = 0;
	for (int b = 1; b < SIZE_BUCKETS; b++)
		if (chars[b] > chars[body])
			body = b;
	if (chars[body] == 0)
		return;
	int next = 1;
	for (int b = SIZE_BUCKETS - 1; b > body; b--) {
		if (chars[b] == 0 || b < body * HEADING_RATIO)
			continue;
		level[b] = next;
		if (next < HEADING_LEVELS_MAX)
			next++;
	}
}

static void write_lines(const struct lines *ls, long pages, struct extract_out *o)
{
	static int level[SIZE_BUCKETS];
	heading_levels(ls, level);
	size_t i = 0;
	for (long p = 0; p < pages; p++) {
		if (p > 0)
			extract_out_append(o, "\f", 1);
		for (; i < ls->n && ls->v[i].page == p; i++) {
			const struct line *ln = &ls->v[i];
			int lv = ln->size > 0 && ln->len <= HEADING_LINE_MAX
			             ? level[size_bucket(ln->size)]
			             : 0;
			if (lv > 0) {
				extract_out_append(o, "######", (size_t)lv);
				extract_out_append(o, " ", 1);
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
	write_lines(&ls, n, o);
	if (o->text_over)
		e = extract_fail_text_over(o);
out:
	lines_free(&ls);
	if (gerr != NULL)
		g_error_free(gerr);
	if (doc != NULL)
		g_object_unref(doc);
	return e;
}
