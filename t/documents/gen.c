/* gen: writes the documents that t/integration/documents.t and
 * bench/documents upload, into one directory, so that no binary fixture is
 * committed.  usage: gen DIR [big] */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "extract_fixtures.h"
#include "core/mem.h"
#include "tap.h"

enum {
	GEN_DIR_MAX = 1024,
	GEN_PATH_MAX = 2048,
	GEN_PATHS = 4,                     /* paths of at() alive at once */
	GEN_BOMB_BYTES = 64 * 1024 * 1024, /* what the zip bomb unpacks to */
	GEN_BIG_PAGES = 3,                 /* noise pages of the big PDF */
	GEN_BIG_SIDE = 1650                /* pixels of each noise image's side */
};

static char gen_dir[GEN_DIR_MAX];

static const char *at(const char *name)
{
	static char paths[GEN_PATHS][GEN_PATH_MAX];
	static unsigned next;
	char *path = paths[next++ % GEN_PATHS];
	snprintf(path, GEN_PATH_MAX, "%s/%s", gen_dir, name);
	return path;
}

static const char docx_body[] =
    "<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>Plate Tectonics</w:t></w:r></w:p>"
    "<w:p><w:r><w:t xml:space=\"preserve\">Plate tectonics is the theory that the lithosphere "
    "is broken into moving plates. </w:t></w:r><w:r><w:t>Subduction happens where an oceanic "
    "plate sinks beneath another plate.</w:t></w:r></w:p>"
    "<w:p><w:pPr><w:pStyle w:val=\"Heading2\"/></w:pPr><w:r><w:t>Boundaries</w:t></w:r></w:p>"
    "<w:p><w:r><w:t>Divergent boundaries form new crust at mid-ocean ridges. Convergent "
    "boundaries build mountains and volcanoes.</w:t></w:r></w:p>"
    "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Boundary</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>Landform</w:t></w:r></w:p></w:tc></w:tr>"
    "<w:tr><w:tc><w:p><w:r><w:t>Transform</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>Fault line</w:t></w:r></w:p></w:tc></w:tr></w:tbl>";

static const char utf8_text[] =
    "Thermodynamics Primer\n\n"
    "Entropy is a measure of disorder in a system. The second law says that the entropy "
    "of an isolated system never decreases. A caf\xc3\xa9 owner na\xc3\xafvely hoped that his "
    "coffee would stay hot forever.\n\n"
    "Enthalpy refers to the total heat content of a system. Heat engines turn heat into "
    "work, but never all of it.\n";

static const char latin1_text[] =
    "Les volcans\n\n"
    "Le magma est une roche fondue sous la surface. La lave est le magma qui atteint la "
    "surface de la Terre. Un volcan \xe9met de la lave, des cendres et des gaz. "
    "L'\xe9ruption d\xe9pend de la viscosit\xe9 du magma.\n";

static const char md_text[] =
    "# Graph Algorithms\n\n"
    "## Shortest paths\n\n"
    "Dijkstra's algorithm finds the shortest paths from one source in a graph with "
    "non-negative edge weights. It keeps a priority queue of tentative distances.\n\n"
    "## Spanning trees\n\n"
    "A minimum spanning tree is a subset of edges that connects every vertex with the "
    "least total weight. Kruskal's algorithm sorts the edges by weight.\n\n"
    "- Prim's algorithm grows one tree\n- Kruskal's algorithm merges forests\n";

static const char *const scan_lines[] = {"Photosynthesis needs sunlight.",
                                         "Chlorophyll absorbs red and blue light."};

/* A text PDF of pages pages, each also holding a side x side image of noise
 * (incompressible), for the memory benchmark. */
static bool big_pdf(const char *path, int pages, int side)
{
	cairo_surface_t *s = cairo_pdf_surface_create(path, 595, 842);
	cairo_t *cr = cairo_create(s);
	cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side);
	unsigned char *px = cairo_image_surface_get_data(img);
	int stride = cairo_image_surface_get_stride(img);
	unsigned seed = 12345;
	for (int p = 1; p <= pages; p++) {
		cairo_surface_flush(img);
		for (int y = 0; y < side; y++)
			for (int x = 0; x < stride; x++) {
				seed = seed * 1103515245u + 12345u;
				px[y * stride + x] = (unsigned char)(seed >> 16);
			}
		cairo_surface_mark_dirty(img);
		cairo_save(cr);
		cairo_scale(cr, 400.0 / side, 400.0 / side);
		cairo_set_source_surface(cr, img, 100, 900);
		cairo_paint(cr);
		cairo_restore(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_font_size(cr, 11);
		for (int i = 0; i < 20; i++) {
			char line[128];
			snprintf(line, sizeof(line),
			         "Page %d line %d: glaciers carve valleys over millennia.", p, i);
			cairo_move_to(cr, 72, 72 + 14 * i);
			cairo_show_text(cr, line);
		}
		cairo_show_page(cr);
	}
	cairo_surface_destroy(img);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	bool good = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	return good;
}

/* The first half of src, written to dst. */
static bool truncated(const char *src, const char *dst)
{
	FILE *f = fopen(src, "rb");
	if (!f)
		return false;
	static char data[1 << 20];
	size_t n = fread(data, 1, sizeof(data), f);
	fclose(f);
	return n > 0 && fx_write(dst, data, n / 2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen DIR [big]\n");
		return 2;
	}
	if (strlen(argv[1]) >= sizeof(gen_dir) - 64) {
		fprintf(stderr, "gen: the directory name is too long\n");
		return 2;
	}
	snprintf(gen_dir, sizeof(gen_dir), "%s", argv[1]);
	mkdir(gen_dir, 0755);
	if (argc > 2 && strcmp(argv[2], "big") == 0) {
		bool ok = big_pdf(at("big.pdf"), GEN_BIG_PAGES, GEN_BIG_SIDE);
		cairo_debug_reset_static_data();
		FcFini();
		return ok ? 0 : 1;
	}
	char *bomb = xcalloc(1, GEN_BOMB_BYTES);
	struct fx_entry bomb_e[] = {
	    {"[Content_Types].xml", "<Types/>", 8},
	    {"word/document.xml", bomb, GEN_BOMB_BYTES},
	};
	bool good = fx_pdf_text(at("one.pdf"), 1) && fx_pdf_text(at("three.pdf"), 3) &&
	            fx_pdf_text(at("hundred.pdf"), 100) && fx_pdf_text(at("huge.pdf"), 3000) &&
	            truncated(at("three.pdf"), at("truncated.pdf")) &&
	            fx_pdf_scanned(at("scan.pdf"), scan_lines, 2) &&
	            fx_image_text(at("text.png"), scan_lines, 2, false) &&
	            fx_image_text(at("text.jpg"), scan_lines, 2, true) &&
	            fx_png_header(at("giant.png"), 30000, 30000) &&
	            fx_docx(at("doc.docx"), docx_body) && fx_zip(at("bomb.docx"), bomb_e, 2) &&
	            fx_write(at("utf8.txt"), utf8_text, sizeof(utf8_text) - 1) &&
	            fx_write(at("latin1.txt"), latin1_text, sizeof(latin1_text) - 1) &&
	            fx_write(at("notes.md"), md_text, sizeof(md_text) - 1) &&
	            fx_write(at("empty.txt"), "", 0) &&
	            fx_write(at("binary.bin"),
	                     "\x7f"
	                     "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0",
	                     18);
	free(bomb);
	/* Font caches, so the sanitizer build sees no leak. */
	cairo_debug_reset_static_data();
	FcFini();
	return good ? 0 : 1;
}
