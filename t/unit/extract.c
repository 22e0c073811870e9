/* Unit tests for extract: detection from bytes, then every engine on
 * documents generated here (text and scanned PDFs, DOCX, text in several
 * encodings, Markdown, PNG and JPEG images of text), then hostile files and
 * the sandbox's limits. Every failure must come back as a clear error while
 * this process goes on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "extract/extract.h"
#include "extract_fixtures.h"
#include "core/log.h"
#include "tap.h"
#include "testenv.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

static char dir[TESTENV_PATH_MAX];

static const char *at(const char *name)
{
	static char paths[8][TESTENV_PATH_MAX * 2];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

static void test_detect(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len; /* 0 = strlen */
		bool complete;
		enum err want;
		enum extract_type type;
	} cases[] = {
	    {"pdf magic", "%PDF-1.7\n%\xe2\xe3\n1 0 obj", 0, false, ERR_OK, EXTRACT_TYPE_PDF},
	    {"png signature", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, false, ERR_OK, EXTRACT_TYPE_PNG},
	    {"jpeg signature", "\xff\xd8\xff\xe0\0\x10JFIF", 10, false, ERR_OK, EXTRACT_TYPE_JPG},
	    {"plain text", "Cells are the units of life.\nThey divide.\n", 0, true, ERR_OK,
	     EXTRACT_TYPE_TXT},
	    {"markdown heading", "# Study guide\n\nCells divide.\n", 0, true, ERR_OK,
	     EXTRACT_TYPE_MD},
	    {"markdown deep heading", "intro\n### Part three\n", 0, true, ERR_OK, EXTRACT_TYPE_MD},
	    {"hashtag is not a heading", "#biology is fun\n", 0, true, ERR_OK, EXTRACT_TYPE_TXT},
	    {"markdown list", "- cells\n- tissues\n", 0, true, ERR_OK, EXTRACT_TYPE_MD},
	    {"numbered list", "1. cells\n2. tissues\n", 0, true, ERR_OK, EXTRACT_TYPE_MD},
	    {"one dash line is text", "- just one remark\n", 0, true, ERR_OK, EXTRACT_TYPE_TXT},
	    {"markdown link", "See [the notes](notes.md) first.\n", 0, true, ERR_OK,
	     EXTRACT_TYPE_MD},
	    {"markdown fence", "```\nint x;\n```\n", 0, true, ERR_OK, EXTRACT_TYPE_MD},
	    {"latin-1 text", "caf\xe9 cr\xe8me\n", 0, true, ERR_OK, EXTRACT_TYPE_TXT},
	    {"utf-8 text", "na\xc3\xafve caf\xc3\xa9\n", 0, true, ERR_OK, EXTRACT_TYPE_TXT},
	    {"utf-16le with bom", "\xff\xfeH\0i\0\n\0", 8, true, ERR_OK, EXTRACT_TYPE_TXT},
	    {"utf-16be heading", "\xfe\xff\0#\0 \0H\0\n", 10, true, ERR_OK, EXTRACT_TYPE_MD},
	    {"empty file", "", 0, true, ERR_INVALID, EXTRACT_TYPE_NONE},
	    {"NUL byte", "abc\0def", 7, true, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"control bytes", "abc\x01\x02", 0, true, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"elf binary",
	     "\x7f"
	     "ELF\x02\x01\x01\0\0\0",
	     10, false, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"gif image", "GIF89a\x01\0\x01\0\x80\0\0", 13, false, ERR_MEDIA_TYPE,
	     EXTRACT_TYPE_NONE},
	    {"zip without word parts",
	     "PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	     "\x05\0\0\0hello",
	     35, false, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"utf-16 with controls", "\xff\xfe\x01\0\x02\0", 6, true, ERR_MEDIA_TYPE,
	     EXTRACT_TYPE_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum extract_type t = EXTRACT_TYPE_PDF;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].bytes);
		enum err e = extract_detect(cases[i].bytes, len, cases[i].complete, &t);
		is_long(e, cases[i].want, cases[i].name);
		is_str(extract_type_name(t), extract_type_name(cases[i].type), cases[i].name);
	}
	unsigned char noise[4096];
	srand(7);
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)rand();
	enum extract_type t;
	is_long(extract_detect(noise, sizeof(noise), true, &t), ERR_MEDIA_TYPE, "random bytes");

	static const char *const names[] = {"pdf", "docx", "txt", "md", "png", "jpg"};
	for (size_t i = 0; i < 6; i++) {
		enum extract_type pt = extract_type_parse(names[i]);
		is_str(extract_type_name(pt), names[i], "type names round-trip");
		ok(strchr(extract_content_type(pt), '/') != NULL, "%s has a content type",
		   names[i]);
	}
	is_long(extract_type_parse("exe"), EXTRACT_TYPE_NONE, "an unknown name");
	is_long(extract_type_parse(""), EXTRACT_TYPE_NONE, "an empty name");
	is_str(extract_content_type(EXTRACT_TYPE_DOCX),
	       "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	       "docx content type");
}

static void test_detect_named(void)
{
	static const char md[] = "# Title\n\nSome *text* with a [link](http://a.b).\n";
	static const char rst[] = "Title\n=====\n\nSome ``text`` and :class:`C`.\n";
	static const struct {
		const char *name;
		const char *bytes;
		enum err want;
		enum extract_type type;
	} cases[] = {
	    {"classes.txt", md, ERR_OK, EXTRACT_TYPE_TXT},
	    {"CLASSES.TXT", rst, ERR_OK, EXTRACT_TYPE_TXT},
	    {"chapter.rst", md, ERR_OK, EXTRACT_TYPE_TXT},
	    {"notes.md", rst, ERR_OK, EXTRACT_TYPE_MD},
	    {"notes.markdown", md, ERR_OK, EXTRACT_TYPE_MD},
	    {"README", md, ERR_OK, EXTRACT_TYPE_MD},
	    {"README", rst, ERR_OK, EXTRACT_TYPE_TXT},
	    {NULL, md, ERR_OK, EXTRACT_TYPE_MD},
	    {".hidden", md, ERR_OK, EXTRACT_TYPE_MD},
	    {"name.", md, ERR_OK, EXTRACT_TYPE_MD},
	    {"data.csv", rst, ERR_OK, EXTRACT_TYPE_TXT},
	    {"dir.pdf/notes", md, ERR_OK, EXTRACT_TYPE_MD},
	    {"fake.pdf", md, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"fake.docx", rst, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"fake.PNG", md, ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"real.pdf", "%PDF-1.7\n%\xe2\xe3\n", ERR_OK, EXTRACT_TYPE_PDF},
	    {"real.PDF", "%PDF-1.7\n%\xe2\xe3\n", ERR_OK, EXTRACT_TYPE_PDF},
	    {"pdf.txt", "%PDF-1.7\n%\xe2\xe3\n", ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"photo.jpeg", "\xff\xd8\xff\xe0", ERR_OK, EXTRACT_TYPE_JPG},
	    {"photo.png", "\xff\xd8\xff\xe0", ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"empty.txt", "", ERR_INVALID, EXTRACT_TYPE_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum extract_type t;
		enum err e = extract_detect_named(cases[i].name, cases[i].bytes,
		                                  strlen(cases[i].bytes), true, &t);
		ok(e == cases[i].want && t == cases[i].type, "named %s: %s (got %d, %s)",
		   cases[i].name ? cases[i].name : "(none)", extract_type_name(cases[i].type),
		   (int)e, extract_type_name(t));
	}
}

/* Headings of a PDF from its outline, or from its bold and larger lines. */
static void test_pdf_headings(const struct extract_limits *l)
{
	struct pool *pool = pool_new();
	struct extract_result r;
	if (ok(extract_file(at("outline.pdf"), EXTRACT_TYPE_PDF, l, pool, &r) == ERR_OK,
	       "a PDF with an outline")) {
		const char *t = r.text;
		const char *a = strstr(t, "# Introduction\n"), *b = strstr(t, "## Background\n");
		const char *ff = strchr(t, '\f'), *c = strstr(t, "# Appendix Notes\n");
		const char *m = strstr(t, "# Methods\n");
		ok(a && b && a < b && b < ff,
		   "outline entries of page 1 mark their lines, by depth");
		ok(m && c && ff < m && ff < c, "entries of page 2 on page 2, one added at its top");
		ok(!strstr(t, "# Sediment") && strstr(t, "\nSediment settles"),
		   "the body stays body");
	}
	if (ok(extract_file(at("bold.pdf"), EXTRACT_TYPE_PDF, l, pool, &r) == ERR_OK,
	       "a PDF without an outline")) {
		const char *t = r.text;
		ok(strncmp(t, "# Report Title\n", 15) == 0, "a larger line is a heading");
		ok(strstr(t, "## Introduction\n") && strstr(t, "## Background\n") &&
		       strstr(t, "## Methods\n"),
		   "bold lines at the body's size are headings one level below");
		ok(!strstr(t, "# Sediment"), "the body stays body");
		if (getenv("EXTRACT_PRINT"))
			printf("%s\n", t);
	}
	pool_free(pool);
}

static const char docx_body[] =
    "<w:p><w:pPr><w:pStyle w:val=\"Titre1\"/></w:pPr><w:r><w:t>Cell Biology</w:t></w:r></w:p>"
    "<w:p><w:r><w:t xml:space=\"preserve\">The cell is the basic unit </w:t></w:r>"
    "<w:r><w:t>of life.</w:t></w:r><w:r><w:delText>REMOVED</w:delText></w:r></w:p>"
    "<w:p><w:pPr><w:pStyle w:val=\"Titre2\"/></w:pPr><w:r><w:t>Membranes</w:t></w:r></w:p>"
    "<w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr></w:pPr>"
    "<w:r><w:t>phospholipid bilayer</w:t></w:r></w:p>"
    "<w:p><w:pPr><w:pStyle w:val=\"Puce\"/></w:pPr><w:r><w:t>transport proteins</w:t></w:r></w:p>"
    "<w:p><w:pPr><w:pStyle w:val=\"Heading3\"/></w:pPr><w:r><w:t>Organelles</w:t></w:r></w:p>"
    "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Organelle</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>Function</w:t></w:r></w:p></w:tc></w:tr>"
    "<w:tr><w:tc><w:p><w:r><w:t>Mitochondrion</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>Respiration</w:t></w:r></w:p></w:tc></w:tr></w:tbl>";

/* One extraction case: a generated file, the type, the outcome. */
struct ecase {
	const char *name;
	const char *file;
	enum extract_type type;
	enum err want;
	const char *contains[4]; /* text (or on failure the error) must contain each */
	const char *engine;      /* NULL: not checked */
	long pages;              /* -1: not checked */
};

static void run_case(const struct ecase *c, const struct extract_limits *l)
{
	struct pool *pool = pool_new();
	struct extract_result r;
	enum err e = extract_file(at(c->file), c->type, l, pool, &r);
	if (!is_long(e, c->want, c->name))
		tap_diag("error: %s", r.error);
	const char *hay = c->want == ERR_OK ? r.text : r.error;
	for (size_t i = 0; i < 4 && c->contains[i] != NULL; i++)
		if (!ok(strstr(hay, c->contains[i]) != NULL, "%s: has text %zu", c->name, i + 1))
			tap_diag("got: %.400s", hay);
	if (c->want != ERR_OK)
		is_long(r.text_len, 0, "a failure carries no text");
	else
		is_long(strlen(r.text), r.text_len, "text length");
	if (c->engine != NULL)
		is_str(r.engine, c->engine, c->name);
	if (c->pages >= 0)
		is_long(r.pages, c->pages, c->name);
	pool_free(pool);
}

static const char *const scan_lines[] = {"MITOCHONDRIA MAKE ENERGY", "Ribosomes build proteins"};

static bool make_files(void)
{
	static const char utf8[] = "Na\xc3\xafve caf\xc3\xa9 biology\r\nsecond line\r\n";
	static const char latin1[] = "Caf\xe9 cr\xe8me br\xfbl\xe9\x80\n";
	static const char utf16[] = "\xff\xfeO\0s\0m\0o\0s\0i\0s\0 \0\xe9\0\n\0";
	static const char md[] = "# Study Guide\n\nSome text.\n\n## Cells\n- nucleus\n- membrane\n";
	static const char fake_pdf[] = "%PDF-1.7\nthis is not really a PDF at all\n%%EOF\n";
	static const char dtd[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
	    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
	    "<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>";
	unsigned char noise[8192];
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)rand();
	size_t bomb_len = 64u * 1024 * 1024, lie_len = 2u * 1024 * 1024;
	char *bomb = xcalloc(1, bomb_len);
	char *lie = xmalloc(lie_len);
	memset(lie, 'a', lie_len);
	struct fx_entry bomb_e[] = {
	    {"[Content_Types].xml", "<Types/>", 8},
	    {"word/document.xml", bomb, bomb_len},
	};
	struct fx_entry lie_e[] = {
	    {"[Content_Types].xml", "<Types/>", 8},
	    {"word/document.xml", lie, lie_len},
	};
	struct fx_entry dtd_e[] = {
	    {"[Content_Types].xml", "<Types/>", 8},
	    {"word/document.xml", dtd, sizeof(dtd) - 1},
	};
	struct fx_entry no_doc_e[] = {
	    {"[Content_Types].xml", "<Types/>", 8},
	    {"word/styles.xml", "<x/>", 4},
	};
	struct fx_entry many_e[40];
	char many_names[40][32];
	for (size_t i = 0; i < 40; i++) {
		snprintf(many_names[i], sizeof(many_names[i]), "word/part%zu.xml", i);
		many_e[i] = (struct fx_entry){many_names[i], "<x/>", 4};
	}
	many_e[0].name = "[Content_Types].xml";
	many_e[1].name = "word/document.xml";
	bool good =
	    fx_pdf_text(at("text.pdf"), 3) && fx_pdf_text(at("one.pdf"), 1) &&
	    fx_pdf_headings(at("outline.pdf"), true) && fx_pdf_headings(at("bold.pdf"), false) &&
	    fx_pdf_text(at("huge.pdf"), 3000) && fx_pdf_scanned(at("scan.pdf"), scan_lines, 2) &&
	    fx_image_text(at("text.png"), scan_lines, 2, false) &&
	    fx_image_text(at("text.jpg"), scan_lines, 2, true) &&
	    fx_png_header(at("giant.png"), 30000, 30000) && fx_docx(at("doc.docx"), docx_body) &&
	    fx_zip(at("bomb.docx"), bomb_e, 2) && fx_zip(at("lie.docx"), lie_e, 2) &&
	    fx_zip_lie(at("lie.docx"), 100) && fx_zip(at("dtd.docx"), dtd_e, 2) &&
	    fx_zip(at("nodoc.docx"), no_doc_e, 2) && fx_zip(at("many.docx"), many_e, 40) &&
	    fx_write(at("utf8.txt"), utf8, sizeof(utf8) - 1) &&
	    fx_write(at("latin1.txt"), latin1, sizeof(latin1) - 1) &&
	    fx_write(at("utf16.txt"), utf16, sizeof(utf16) - 1) &&
	    fx_write(at("notes.md"), md, sizeof(md) - 1) && fx_write(at("empty"), "", 0) &&
	    fx_write(at("noise"), noise, sizeof(noise)) &&
	    fx_write(at("fake.pdf"), fake_pdf, sizeof(fake_pdf) - 1);
	free(bomb);
	free(lie);
	if (!good)
		return false;
	/* The first 40% of a real PDF: no trailer, no cross-reference table. */
	struct stat st;
	if (stat(at("text.pdf"), &st) != 0)
		return false;
	FILE *in = fopen(at("text.pdf"), "rb");
	if (in == NULL)
		return false;
	size_t cut = (size_t)st.st_size * 2 / 5;
	char *head = xmalloc(cut);
	good = fread(head, 1, cut, in) == cut;
	fclose(in);
	good = good && fx_write(at("cut.pdf"), head, cut);
	free(head);
	return good;
}

static void test_detect_files(void)
{
	static const struct {
		const char *file;
		enum err want;
		enum extract_type type;
	} cases[] = {
	    {"text.pdf", ERR_OK, EXTRACT_TYPE_PDF},
	    {"doc.docx", ERR_OK, EXTRACT_TYPE_DOCX},
	    {"text.png", ERR_OK, EXTRACT_TYPE_PNG},
	    {"text.jpg", ERR_OK, EXTRACT_TYPE_JPG},
	    {"notes.md", ERR_OK, EXTRACT_TYPE_MD},
	    {"latin1.txt", ERR_OK, EXTRACT_TYPE_TXT},
	    {"utf16.txt", ERR_OK, EXTRACT_TYPE_TXT},
	    {"empty", ERR_INVALID, EXTRACT_TYPE_NONE},
	    {"noise", ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"nodoc.docx", ERR_MEDIA_TYPE, EXTRACT_TYPE_NONE},
	    {"missing", ERR_NOT_FOUND, EXTRACT_TYPE_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum extract_type t;
		is_long(extract_detect_file(at(cases[i].file), &t), cases[i].want, cases[i].file);
		is_str(extract_type_name(t), extract_type_name(cases[i].type), cases[i].file);
	}
}

static void test_engines(void)
{
	struct extract_limits l;
	extract_limits_default(&l);
	static const struct ecase cases[] = {
	    {"text pdf",
	     "text.pdf",
	     EXTRACT_TYPE_PDF,
	     ERR_OK,
	     {"# Chapter 1\n", "## Section 2.1\n", "chlorophyll", "Chapter 3"},
	     "poppler",
	     3},
	    {"scanned pdf",
	     "scan.pdf",
	     EXTRACT_TYPE_PDF,
	     ERR_OK,
	     {"MITOCHONDRIA MAKE ENERGY", "Ribosomes build proteins"},
	     "poppler+tesseract",
	     1},
	    {"docx",
	     "doc.docx",
	     EXTRACT_TYPE_DOCX,
	     ERR_OK,
	     {"# Cell Biology\n", "## Membranes\n", "- phospholipid bilayer\n",
	      "Organelle | Function\nMitochondrion | Respiration\n"},
	     "docx",
	     1},
	    {"docx paragraphs",
	     "doc.docx",
	     EXTRACT_TYPE_DOCX,
	     ERR_OK,
	     {"The cell is the basic unit of life.", "- transport proteins\n", "### Organelles\n"},
	     NULL,
	     -1},
	    {"utf-8 text",
	     "utf8.txt",
	     EXTRACT_TYPE_TXT,
	     ERR_OK,
	     {"Na\xc3\xafve caf\xc3\xa9 biology\nsecond line\n"},
	     "text",
	     1},
	    {"latin-1 text",
	     "latin1.txt",
	     EXTRACT_TYPE_TXT,
	     ERR_OK,
	     {"Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\xe2\x82\xac"},
	     "text",
	     1},
	    {"utf-16 text",
	     "utf16.txt",
	     EXTRACT_TYPE_TXT,
	     ERR_OK,
	     {"Osmosis \xc3\xa9\n"},
	     "text",
	     1},
	    {"markdown",
	     "notes.md",
	     EXTRACT_TYPE_MD,
	     ERR_OK,
	     {"# Study Guide\n", "## Cells\n- nucleus"},
	     "text",
	     1},
	    {"png image",
	     "text.png",
	     EXTRACT_TYPE_PNG,
	     ERR_OK,
	     {"MITOCHONDRIA MAKE ENERGY", "Ribosomes build proteins"},
	     "tesseract",
	     1},
	    {"jpeg image",
	     "text.jpg",
	     EXTRACT_TYPE_JPG,
	     ERR_OK,
	     {"MITOCHONDRIA MAKE ENERGY", "Ribosomes build proteins"},
	     "tesseract",
	     1},
	    {"empty text file", "empty", EXTRACT_TYPE_TXT, ERR_OK, {""}, "text", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], &l);

	struct pool *pool = pool_new();
	struct extract_result r;
	if (extract_file(at("text.pdf"), EXTRACT_TYPE_PDF, &l, pool, &r) == ERR_OK) {
		is_str(r.title, "Biology Notes", "pdf title");
		is_str(r.author, "Ada Lovelace", "pdf author");
		is_long(count_char(r.text, '\f'), 2, "pages separated by form feeds");
		ok(strstr(r.text, "# Photosynthesis") == NULL, "body text is not a heading");
		is_long(r.ocr_pages, 0, "a text pdf needs no OCR");
	}
	if (extract_file(at("doc.docx"), EXTRACT_TYPE_DOCX, &l, pool, &r) == ERR_OK) {
		is_str(r.title, "Cell Biology Handout", "docx title");
		is_str(r.author, "Rosalind Franklin", "docx author");
		ok(strstr(r.text, "REMOVED") == NULL, "deleted text is left out");
	}
	if (extract_file(at("notes.md"), EXTRACT_TYPE_MD, &l, pool, &r) == ERR_OK)
		is_str(r.title, "Study Guide", "markdown title");
	if (extract_file(at("scan.pdf"), EXTRACT_TYPE_PDF, &l, pool, &r) == ERR_OK)
		is_long(r.ocr_pages, 1, "the scanned page was read by OCR");
	pool_free(pool);
}

static void test_hostile(void)
{
	struct extract_limits l;
	extract_limits_default(&l);
	static const struct ecase cases[] = {
	    {"docx zip bomb",
	     "bomb.docx",
	     EXTRACT_TYPE_DOCX,
	     ERR_TOO_LARGE,
	     {"zip bomb"},
	     NULL,
	     -1},
	    {"docx that lies about sizes",
	     "lie.docx",
	     EXTRACT_TYPE_DOCX,
	     ERR_TOO_LARGE,
	     {"more than its directory says"},
	     NULL,
	     -1},
	    {"docx with a DTD",
	     "dtd.docx",
	     EXTRACT_TYPE_DOCX,
	     ERR_INVALID,
	     {"declares a DTD"},
	     NULL,
	     -1},
	    {"docx without a body part",
	     "nodoc.docx",
	     EXTRACT_TYPE_DOCX,
	     ERR_INVALID,
	     {"word/document.xml is missing"},
	     NULL,
	     -1},
	    {"pdf with 3000 pages",
	     "huge.pdf",
	     EXTRACT_TYPE_PDF,
	     ERR_TOO_LARGE,
	     {"the document has more than 2000 pages"},
	     NULL,
	     -1},
	    {"truncated pdf",
	     "cut.pdf",
	     EXTRACT_TYPE_PDF,
	     ERR_INVALID,
	     {"the PDF could not be read"},
	     NULL,
	     -1},
	    {"file that only claims to be a pdf",
	     "fake.pdf",
	     EXTRACT_TYPE_PDF,
	     ERR_INVALID,
	     {"the PDF could not be read"},
	     NULL,
	     -1},
	    {"empty pdf",
	     "empty",
	     EXTRACT_TYPE_PDF,
	     ERR_INVALID,
	     {"the PDF could not be read"},
	     NULL,
	     -1},
	    {"random bytes as pdf",
	     "noise",
	     EXTRACT_TYPE_PDF,
	     ERR_INVALID,
	     {"the PDF could not be read"},
	     NULL,
	     -1},
	    {"random bytes as docx",
	     "noise",
	     EXTRACT_TYPE_DOCX,
	     ERR_INVALID,
	     {"the DOCX document could not be read"},
	     NULL,
	     -1},
	    {"random bytes as png",
	     "noise",
	     EXTRACT_TYPE_PNG,
	     ERR_INVALID,
	     {"the image could not be read"},
	     NULL,
	     -1},
	    {"random bytes as jpeg",
	     "noise",
	     EXTRACT_TYPE_JPG,
	     ERR_INVALID,
	     {"the image could not be read"},
	     NULL,
	     -1},
	    {"random bytes as text",
	     "noise",
	     EXTRACT_TYPE_TXT,
	     ERR_INVALID,
	     {"NUL bytes"},
	     NULL,
	     -1},
	    {"30000x30000 png",
	     "giant.png",
	     EXTRACT_TYPE_PNG,
	     ERR_TOO_LARGE,
	     {"30000x30000 pixels"},
	     NULL,
	     -1},
	    {"a pdf read as an image",
	     "text.pdf",
	     EXTRACT_TYPE_PNG,
	     ERR_INVALID,
	     {"header is damaged"},
	     NULL,
	     -1},
	    {"missing file",
	     "missing",
	     EXTRACT_TYPE_PDF,
	     ERR_INTERNAL,
	     {"could not be opened"},
	     NULL,
	     -1},
	    {"no type", "text.pdf", EXTRACT_TYPE_NONE, ERR_MEDIA_TYPE, {"not supported"}, NULL, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], &l);
}

/* The limits, one at a time, each on a file that passes by default. */
static void test_limits(void)
{
	static const struct {
		const char *name;
		const char *file;
		enum extract_type type;
		enum err want;
		const char *message;
		long field_offset_value; /* the new value of the limit */
		size_t which;
	} cases[] = {
	    {"docx over the unpacked ceiling", "doc.docx", EXTRACT_TYPE_DOCX, ERR_TOO_LARGE,
	     "unpacks to more than", 0, 0},
	    {"docx with too many parts", "many.docx", EXTRACT_TYPE_DOCX, ERR_TOO_LARGE,
	     "more than 10 parts", 10, 1},
	    {"text over the output ceiling", "text.pdf", EXTRACT_TYPE_PDF, ERR_TOO_LARGE,
	     "larger than 100 bytes", 100, 2},
	    {"file over the input ceiling", "utf8.txt", EXTRACT_TYPE_TXT, ERR_TOO_LARGE,
	     "larger than 10 bytes", 10, 3},
	    {"wall-clock timeout", "scan.pdf", EXTRACT_TYPE_PDF, ERR_TIMEOUT, "took longer than",
	     50, 4},
	    {"page limit", "text.pdf", EXTRACT_TYPE_PDF, ERR_TOO_LARGE,
	     "the document has more than 2 pages", 2, 5},
	    {"pixel limit", "text.png", EXTRACT_TYPE_PNG, ERR_TOO_LARGE, "pixels", 500000, 6},
	    {"unknown OCR language", "text.png", EXTRACT_TYPE_PNG, ERR_INTERNAL, "not installed", 0,
	     7},
	    {"PDF OCR off", "scan.pdf", EXTRACT_TYPE_PDF, ERR_OK, "", 0, 8},
#ifndef UNDER_ASAN
	    /* 100 MiB: the program and its libraries load, a 300 dpi page does not fit. */
	    {"memory limit", "scan.pdf", EXTRACT_TYPE_PDF, ERR_TOO_LARGE, "not enough memory", 100,
	     9},
#endif
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct extract_limits l;
		extract_limits_default(&l);
		long v = cases[i].field_offset_value;
		switch (cases[i].which) {
		case 0:
			l.docx_max_bytes = 1024;
			break;
		case 1:
			l.docx_max_entries = v;
			break;
		case 2:
			l.max_text_bytes = v;
			break;
		case 3:
			l.max_file_bytes = v;
			break;
		case 4:
			l.wall_ms = v;
			break;
		case 5:
			l.max_pages = v;
			break;
		case 6:
			l.max_pixels = v;
			break;
		case 7:
			snprintf(l.ocr_language, sizeof(l.ocr_language), "%s", "xyz");
			break;
		case 8:
			l.ocr = false;
			break;
		case 9:
			l.memory_mb = v;
			break;
		}
		struct pool *pool = pool_new();
		struct extract_result r;
		enum err e = extract_file(at(cases[i].file), cases[i].type, &l, pool, &r);
		if (!is_long(e, cases[i].want, cases[i].name))
			tap_diag("error: %s", r.error);
		if (!ok(strstr(r.error, cases[i].message) != NULL, "%s: message", cases[i].name))
			tap_diag("got: %s", r.error);
		if (cases[i].which == 8)
			ok(r.text_len == 0 && r.ocr_pages == 0,
			   "without OCR a scanned page has no text");
		pool_free(pool);
	}
}

int main(void)
{
	log_init("test", LOG_LEVEL_ERROR);
	srand(11);
	if (!testenv_tempdir(dir, sizeof(dir)))
		tap_skip_all("no temporary directory");
	test_detect();
	test_detect_named();
	if (!ok(make_files(), "test documents generated"))
		return tap_done();
	test_detect_files();
	test_engines();
	struct extract_limits limits;
	extract_limits_default(&limits);
	test_pdf_headings(&limits);
	test_hostile();
	test_limits();
	errno = 0;
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no extraction child is left behind");
	testenv_remove_tree(dir);
	/* cairo's font caches, so that the leak checker sees only our memory */
	cairo_debug_reset_static_data();
	FcFini();
	return tap_done();
}
