/* extract_fixtures: PDFs from cairo's PDF surface, images from cairo's
 * image surface, zips from libzip, headers by hand. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <leptonica/allheaders.h>
#include <zip.h>

#include "extract_fixtures.h"
#include "core/mem.h"
#include "tap.h"

enum {
	A4_W = 595,
	A4_H = 842, /* points */
	SCAN_DPI = 300,
	SCAN_FONT_PX = 64, /* large and clean: tesseract reads it exactly */
	BODY_LINES = 12
};

static const char *const body_lines[] = {
    "Photosynthesis converts light energy into chemical energy.",
    "The chloroplast contains chlorophyll, which absorbs light.",
    "Mitochondria release energy from glucose by respiration.",
    "A ribosome builds proteins from amino acids.",
};

bool fx_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return false;
	bool done = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && done;
}

static void show(cairo_t *cr, double size, double x, double y, const char *text)
{
	cairo_set_font_size(cr, size);
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, text);
}

bool fx_pdf_text(const char *path, int pages)
{
	cairo_surface_t *s = cairo_pdf_surface_create(path, A4_W, A4_H);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "Biology Notes");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, "Ada Lovelace");
	cairo_t *cr = cairo_create(s);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	for (int p = 1; p <= pages; p++) {
		char line[128];
		cairo_set_source_rgb(cr, 0, 0, 0);
		snprintf(line, sizeof(line), "Chapter %d", p);
		show(cr, 24, 72, 90, line);
		if (pages <= 200 || p <= 10) {
			snprintf(line, sizeof(line), "Section %d.1", p);
			show(cr, 18, 72, 130, line);
			for (int i = 0; i < BODY_LINES; i++)
				show(cr, 11, 72, 160 + 16 * i, body_lines[i % 4]);
		}
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	bool good = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	if (!good)
		tap_diag("fx_pdf_text: cairo failed");
	return good;
}

static void face(cairo_t *cr, bool bold)
{
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
}

bool fx_pdf_headings(const char *path, bool outline)
{
	static const char *const body[] = {
	    "Sediment settles in layers at the bottom of a lake over many years.",
	    "Each layer records the climate of the season in which it formed.",
	    "Cores drilled from the lake bed keep those layers in their order.",
	};
	cairo_surface_t *s = cairo_pdf_surface_create(path, A4_W, A4_H);
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 0, 0, 0);
	double y = 90;
	if (!outline) {
		face(cr, true);
		show(cr, 18, 72, y, "Report Title");
		y += 40;
	}
	static const char *const heads[] = {"Introduction", "Background", NULL, "Methods"};
	for (int h = 0; h < 4; h++) {
		if (h == 2) {
			cairo_show_page(cr);
			y = 90;
			continue;
		}
		face(cr, !outline);
		show(cr, 11, 72, y, heads[h]);
		y += 24;
		face(cr, false);
		for (int i = 0; i < 3; i++, y += 16)
			show(cr, 11, 72, y, body[i]);
		y += 16;
	}
	cairo_show_page(cr);
	if (outline) {
		int intro = cairo_pdf_surface_add_outline(s, CAIRO_PDF_OUTLINE_ROOT, "Introduction",
		                                          "page=1", 0);
		cairo_pdf_surface_add_outline(s, intro, "Background", "page=1", 0);
		cairo_pdf_surface_add_outline(s, CAIRO_PDF_OUTLINE_ROOT, "Methods", "page=2", 0);
		cairo_pdf_surface_add_outline(s, CAIRO_PDF_OUTLINE_ROOT, "Appendix Notes", "page=2",
		                              0);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	bool good = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	if (!good)
		tap_diag("fx_pdf_headings: cairo failed");
	return good;
}

/* Black text on white at SCAN_DPI on an A4-sized image. */
static cairo_surface_t *scan_image(const char *const *lines, size_t count, int w, int h)
{
	cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(img);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	for (size_t i = 0; i < count; i++)
		show(cr, SCAN_FONT_PX, SCAN_FONT_PX * 2, SCAN_FONT_PX * (3 + 2 * (double)i),
		     lines[i]);
	cairo_destroy(cr);
	cairo_surface_flush(img);
	return img;
}

bool fx_pdf_scanned(const char *path, const char *const *lines, size_t count)
{
	int w = A4_W * SCAN_DPI / 72, h = A4_H * SCAN_DPI / 72;
	cairo_surface_t *img = scan_image(lines, count, w, h);
	cairo_surface_t *s = cairo_pdf_surface_create(path, A4_W, A4_H);
	cairo_t *cr = cairo_create(s);
	cairo_scale(cr, 72.0 / SCAN_DPI, 72.0 / SCAN_DPI);
	cairo_set_source_surface(cr, img, 0, 0);
	cairo_paint(cr);
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	bool good = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	cairo_surface_destroy(img);
	return good;
}

bool fx_image_text(const char *path, const char *const *lines, size_t count, bool jpeg)
{
	cairo_surface_t *img = scan_image(lines, count, 1600, SCAN_FONT_PX * (4 + 2 * (int)count));
	bool good = cairo_surface_write_to_png(img, path) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(img);
	if (good && jpeg) {
		PIX *pix = pixRead(path);
		good = pix != NULL && pixWrite(path, pix, IFF_JFIF_JPEG) == 0;
		pixDestroy(&pix);
	}
	return good;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return c ^ 0xffffffffu;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

bool fx_png_header(const char *path, unsigned w, unsigned h)
{
	unsigned char png[8 + 25 + 12];
	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	put_be32(png + 8, 13);
	memcpy(png + 12, "IHDR", 4);
	put_be32(png + 16, w);
	put_be32(png + 20, h);
	memcpy(png + 24, "\x08\x02\x00\x00\x00", 5); /* 8-bit RGB, deflate, no interlace */
	put_be32(png + 29, crc32_of(png + 12, 17));
	put_be32(png + 33, 0);
	memcpy(png + 37, "IEND", 4);
	put_be32(png + 41, crc32_of(png + 37, 4));
	return fx_write(path, png, sizeof(png));
}

bool fx_zip(const char *path, const struct fx_entry *entries, size_t count)
{
	int err = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	if (z == NULL) {
		tap_diag("fx_zip: zip_open failed (%d)", err);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		zip_source_t *src = zip_source_buffer(z, entries[i].data, entries[i].len, 0);
		if (src == NULL || zip_file_add(z, entries[i].name, src, ZIP_FL_OVERWRITE) < 0) {
			tap_diag("fx_zip: %s", zip_strerror(z));
			zip_source_free(src);
			zip_discard(z);
			return false;
		}
	}
	if (zip_close(z) != 0) {
		tap_diag("fx_zip: close: %s", zip_strerror(z));
		zip_discard(z);
		return false;
	}
	return true;
}

#define W_NS_ATTR "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""

static const char docx_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" "
    "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.document.main+xml\"/>"
    "</Types>";

static const char docx_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"word/document.xml\"/>"
    "</Relationships>";

/* Localised style ids on purpose: the names say which style is a heading. */
static const char docx_styles[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<w:styles " W_NS_ATTR ">"
    "<w:style w:type=\"paragraph\" w:styleId=\"Titre1\"><w:name w:val=\"heading 1\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Titre2\"><w:name w:val=\"heading 2\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Puce\"><w:name w:val=\"List Bullet\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>"
    "</w:styles>";

static const char docx_core[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/"
    "core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
    "<dc:title>Cell Biology Handout</dc:title><dc:creator>Rosalind Franklin</dc:creator>"
    "</cp:coreProperties>";

bool fx_docx(const char *path, const char *body_xml)
{
	char *doc = NULL;
	size_t need = strlen(body_xml) + 512;
	doc = xmalloc(need);
	int n = snprintf(doc, need,
	                 "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	                 "<w:document " W_NS_ATTR "><w:body>%s<w:sectPr/></w:body></w:document>",
	                 body_xml);
	struct fx_entry e[] = {
	    {"[Content_Types].xml", docx_types, sizeof(docx_types) - 1},
	    {"_rels/.rels", docx_rels, sizeof(docx_rels) - 1},
	    {"word/document.xml", doc, (size_t)n},
	    {"word/styles.xml", docx_styles, sizeof(docx_styles) - 1},
	    {"docProps/core.xml", docx_core, sizeof(docx_core) - 1},
	};
	bool good = fx_zip(path, e, sizeof(e) / sizeof(e[0]));
	free(doc);
	return good;
}

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

bool fx_zip_lie(const char *path, unsigned size)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = xmalloc((size_t)len);
	bool good = fread(p, 1, (size_t)len, f) == (size_t)len;
	fclose(f);
	for (long i = 0; good && i + 46 <= len; i++) {
		uint32_t sig = le32_at(p + i);
		if (sig == 0x04034b50)
			put_le32(p + i + 22, size);
		else if (sig == 0x02014b50)
			put_le32(p + i + 24, size);
	}
	good = good && fx_write(path, p, (size_t)len);
	free(p);
	return good;
}
