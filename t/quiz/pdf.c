/* t/quiz/pdf IN OUT: writes the text file IN as a PDF with a text layer to
 * OUT, for t/integration/quiz.t. Lines starting with "# " or "## " are
 * headings (a "## " heading starts a new page), blank lines end
 * paragraphs, and paragraphs are wrapped at about 90 characters. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { PAGE_W = 595, PAGE_H = 842, WRAP = 90, PDF_LINE_MAX = 4096 };

struct page {
	cairo_t *cr;
	double y;
	int pages;
};

static void show(struct page *p, double size, const char *text)
{
	if (p->y > PAGE_H - 72) {
		cairo_show_page(p->cr);
		p->y = 72;
	}
	cairo_set_font_size(p->cr, size);
	cairo_move_to(p->cr, 60, p->y);
	cairo_show_text(p->cr, text);
	p->y += size * 1.5;
}

/* Shows a paragraph wrapped at spaces. */
static void paragraph(struct page *p, const char *text)
{
	char line[WRAP + 64];
	while (*text) {
		size_t n = strlen(text);
		if (n > WRAP) {
			n = WRAP;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0)
				n = WRAP;
		}
		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		show(p, 10, line);
		text += n;
		while (*text == ' ')
			text++;
	}
	p->y += 8;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pdf IN OUT\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	cairo_surface_t *s = cairo_pdf_surface_create(argv[2], PAGE_W, PAGE_H);
	struct page p = {cairo_create(s), 72, 1};
	cairo_select_font_face(p.cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	                       CAIRO_FONT_WEIGHT_NORMAL);
	char line[PDF_LINE_MAX], para[PDF_LINE_MAX * 4] = "";
	bool first = true;
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		bool heading = strncmp(line, "# ", 2) == 0 || strncmp(line, "## ", 3) == 0;
		if ((heading || !*line) && *para) {
			paragraph(&p, para);
			para[0] = '\0';
		}
		if (heading) {
			if (strncmp(line, "## ", 3) == 0 && !first) {
				cairo_show_page(p.cr);
				p.y = 72;
			}
			first = false;
			show(&p, line[1] == '#' ? 16 : 22, line + (line[1] == '#' ? 3 : 2));
			p.y += 6;
		} else if (*line) {
			size_t n = strlen(para);
			snprintf(para + n, sizeof(para) - n, "%s%s", n ? " " : "", line);
		}
	}
	if (*para)
		paragraph(&p, para);
	fclose(in);
	cairo_destroy(p.cr);
	cairo_surface_finish(s);
	bool good = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	/* Cairo's and fontconfig's caches, so that LeakSanitizer sees nothing. */
	cairo_debug_reset_static_data();
	FcFini();
	return good ? 0 : 1;
}
