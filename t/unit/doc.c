/* Unit tests for the document model, inline markup removal and key phrases,
 * on a corpus written here: Markdown with code fences, reStructuredText
 * with three heading levels and literal blocks, plain text with numbered
 * headings, a glossary, pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/mem.h"
#include "tap.h"
#include "text/doc.h"
#include "text/markup.h"
#include "text/notes.h"
#include "text/phrases.h"

static const char markdown[] =
    "# Version Control Basics\n"
    "\n"
    "Version control records changes to files over time. A **commit** is a snapshot of\n"
    "the tracked files, and every commit has a parent commit.\n"
    "\n"
    "## Branches\n"
    "\n"
    "A branch is a movable pointer to a commit. Use `git branch` to list every branch,\n"
    "and see [the manual](https://example.org/branch) for the details.\n"
    "\n"
    "```sh\n"
    "# Create a branch called feature\n"
    "git branch feature\n"
    "```\n"
    "\n"
    "### Merging branches\n"
    "\n"
    "Merging combines the histories of two branches. A merge conflict happens when two\n"
    "branches change the same line, and a merge conflict must be resolved by hand.\n"
    "\n"
    "    # Indented code is code too\n"
    "    git merge feature\n"
    "\n"
    "Remote Repositories\n"
    "-------------------\n"
    "\n"
    "A remote repository is a copy of the project on another machine. Every remote\n"
    "repository has a name, and the first remote repository is called origin.\n";

static const char rst[] =
    "=======\n"
    "Classes\n"
    "=======\n"
    "\n"
    "Classes bundle data and behaviour together.  Creating a new class creates a new\n"
    "*type* of object, and each class definition allows new *instances* of that type.\n"
    "\n"
    "Names and Objects\n"
    "=================\n"
    "\n"
    "Objects have individuality, and several names can be bound to one object.\n"
    "This is known as aliasing in other languages.\n"
    "\n"
    "Scopes and Namespaces\n"
    "=====================\n"
    "\n"
    "A *namespace* is a mapping from names to objects.  Most namespaces are\n"
    "implemented as dictionaries, and a namespace is created at different moments.\n"
    "\n"
    "Scopes Example\n"
    "--------------\n"
    "\n"
    "This example shows how to reference the different scopes::\n"
    "\n"
    "   def scope_test():\n"
    "       # Function defined outside the class\n"
    "       spam = \"test spam\"\n"
    "\n"
    "creates a scope and binds ``spam`` in it.\n"
    "\n"
    "Class Objects\n"
    "-------------\n"
    "\n"
    "Class objects support attribute references and instantiation.  Calling\n"
    ":meth:`~object.__init__` creates a new :class:`MyClass` instance, and the\n"
    ":attr:`__doc__` attribute holds its docstring [#]_.\n"
    "\n"
    ">>> x = MyClass()\n"
    ">>> x.counter = 1\n"
    "\n"
    "Method Objects\n"
    "^^^^^^^^^^^^^^\n"
    "\n"
    "A method object is a function object bound to an instance.  When a method\n"
    "object is called, the instance is passed as the first argument.  A method object\n"
    "can be stored away and called later, like any other method object.\n"
    "\n"
    ".. note::\n"
    "\n"
    "   Data attributes override method attributes with the same name.\n"
    "\n"
    ".. index:: single: method object\n"
    "\n"
    ".. [#] Except for one thing.\n";

static const char plain[] =
    "Compiler Design Notes\n"
    "\n"
    "1 Introduction\n"
    "\n"
    "A compiler translates source code into machine code. The compiler front end\n"
    "reads the source code and the compiler back end writes machine code.\n"
    "\n"
    "1.1 Phases\n"
    "\n"
    "Each phase of a compiler hands an intermediate representation to the next phase.\n"
    "\n"
    "2 Lexical Analysis\n"
    "\n"
    "Lexical analysis, also called scanning, is the first phase of a compiler. A token\n"
    "refers to a sequence of characters that forms one unit of the language.\n"
    "\n"
    "2.1 Regular Expressions\n"
    "\n"
    "Regular expressions describe the tokens of a language.\n"
    "\n"
    "- 1. First\n"
    "- 2. Second\n";

static const char glossary[] =
    "Glossary\n"
    "========\n"
    "\n"
    "garbage collector\n"
    "   The part of a runtime that frees memory that is no longer in use.\n"
    "\n"
    "hash table\n"
    "   A structure that maps keys to values through a hash function.\n"
    "\n"
    "The Domain Name System (DNS) translates host names into addresses, and every\n"
    "resolver asks the DNS for the addresses of a host.\n";

/* The outline as "level:title" lines. */
static const char *outline(struct pool *pool, const char *text)
{
	struct doc d;
	doc_parse(pool, text, strlen(text), &d);
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < d.count; i++)
		if (d.blocks[i].kind == DOC_HEADING)
			buf_printf(&b, "%d:%s\n", d.blocks[i].level, d.blocks[i].text);
	const char *s = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return s;
}

/* Whether any non-code block's text contains needle. */
static bool prose_has(const struct doc *d, const char *needle)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->blocks[i].kind != DOC_CODE && strstr(d->blocks[i].text, needle))
			return true;
	return false;
}

static bool code_has(const struct doc *d, const char *needle)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->blocks[i].kind == DOC_CODE && strstr(d->blocks[i].text, needle))
			return true;
	return false;
}

static void test_outlines(void)
{
	struct pool *pool = pool_new();
	is_str(outline(pool, markdown),
	       "1:Version Control Basics\n2:Branches\n3:Merging branches\n2:Remote Repositories\n",
	       "Markdown: ATX and Setext headings, none from code comments");
	is_str(outline(pool, rst),
	       "1:Classes\n2:Names and Objects\n2:Scopes and Namespaces\n3:Scopes Example\n"
	       "3:Class Objects\n4:Method Objects\n",
	       "RST: levels by the order adornments first appear, none from code");
	is_str(outline(pool, plain),
	       "1:1 Introduction\n2:1.1 Phases\n1:2 Lexical Analysis\n2:2.1 Regular Expressions\n",
	       "plain text: numbered headings by depth");
	is_str(outline(pool, "Thermodynamics Primer\n\nEntropy is a measure of disorder.\n\n"
	                     "The Second Law\n\nEntropy never decreases.\n"),
	       "1:Thermodynamics Primer\n2:The Second Law\n",
	       "plain text without headings: title lines standing alone");
	is_str(outline(pool, "1. Apples are red.\n2. Pears are green.\n\n3. Plums\n\n4. Figs\n"),
	       "", "a numbered list is not headings");
	is_str(outline(pool, "# Real\n\n```\n# not a heading\n```\n\n~~~\n## nor this\n"),
	       "1:Real\n", "fenced code never gives headings, even unclosed");
	pool_free(pool);
}

static void test_blocks(void)
{
	struct pool *pool = pool_new();
	struct doc d;
	doc_parse(pool, rst, strlen(rst), &d);
	ok(code_has(&d, "def scope_test():\n    # Function defined outside the class"),
	   "RST literal block after :: is code, indentation kept");
	ok(code_has(&d, ">>> x = MyClass()"), "an interactive session is code");
	ok(prose_has(&d, "This example shows how to reference the different scopes:") &&
	       !prose_has(&d, "scopes::"),
	   "the paragraph before a literal block ends in one colon");
	ok(!prose_has(&d, "Except for one thing") && !prose_has(&d, "single: method"),
	   "footnote bodies and index directives are left out");
	bool note = false;
	for (size_t i = 0; i < d.count; i++)
		note = note || (d.blocks[i].kind == DOC_QUOTE &&
		                strstr(d.blocks[i].text, "Data attributes override"));
	ok(note, "an admonition's body is a quote");
	ok(prose_has(&d, "Calling __init__ creates a new MyClass instance, and the __doc__ "
	                 "attribute holds its docstring."),
	   "roles and footnote markers removed from prose");
	ok(!prose_has(&d, ":meth:") && !prose_has(&d, "``") && !prose_has(&d, "*type*"),
	   "no RST markup left in prose");
	const char *raw = NULL;
	for (size_t i = 0; i < d.count && !raw; i++)
		if (d.blocks[i].raw && strstr(d.blocks[i].raw, ":meth:"))
			raw = d.blocks[i].raw;
	ok(raw != NULL, "the block keeps its original text as raw");
	/* Sections and paths. */
	size_t method = 0;
	for (size_t i = 0; i < d.count; i++)
		if (d.blocks[i].kind == DOC_PARAGRAPH &&
		    strstr(d.blocks[i].text, "A method object"))
			method = i;
	is_str(doc_section_path(pool, &d, method),
	       "Classes > Scopes and Namespaces > Class Objects > "
	       "Method Objects",
	       "section path of a paragraph");

	doc_parse(pool, markdown, strlen(markdown), &d);
	ok(code_has(&d, "# Create a branch called feature\ngit branch feature"),
	   "a fenced block is code");
	ok(code_has(&d, "# Indented code is code too\ngit merge feature"),
	   "an indented block is code in Markdown");
	ok(prose_has(&d, "A commit is a snapshot") &&
	       prose_has(&d, "see the manual for the details"),
	   "emphasis and links removed, their words kept");

	/* Pages from form feeds. */
	const char paged[] =
	    "# One\n\nFirst page text.\n\fSecond page text.\n\f\f# Four\n\nLast.\n";
	doc_parse(pool, paged, sizeof(paged) - 1, &d);
	bool pages = d.pages == 4 && d.count == 5 && d.blocks[0].page == 1 &&
	             d.blocks[2].page == 2 && d.blocks[3].page == 4 && d.blocks[4].section == 3;
	ok(pages, "blocks carry their page (%ld pages, %zu blocks)", d.pages, d.count);

	/* Glossary and definition lists. */
	doc_parse(pool, glossary, strlen(glossary), &d);
	bool terms = false;
	for (size_t i = 0; i < d.count; i++)
		terms = terms || (d.blocks[i].term && strcmp(d.blocks[i].term, "hash table") == 0 &&
		                  strncmp(d.blocks[i].text, "A structure", 11) == 0);
	ok(terms, "a definition list item carries its term");
	pool_free(pool);
}

static void test_markup(void)
{
	static const struct {
		const char *in, *out, *broken;
	} cases[] = {
	    {"A *new* **bold** _em_ __strong__ word", "A new bold em strong word", NULL},
	    {"Use `len()` and ``x + 1`` here", "Use len() and x + 1 here", "Use ; and ; here"},
	    {"See [the guide](http://a.b/c_d) and ![a chart](c.png)", "See the guide and a chart",
	     NULL},
	    {"Read [the spec][spec] now", "Read the spec now", NULL},
	    {"Call :meth:`~pkg.Mod.update` on :class:`Thing`", "Call update on Thing",
	     "Call ; on ;"},
	    {"See :ref:`the tutorial <tut>` and :pep:`8`", "See the tutorial and PEP 8", NULL},
	    {"Visit `Python <https://python.org>`_ or Sphinx_ today",
	     "Visit Python or Sphinx today", NULL},
	    {"A fact [1]_, a note [#]_, a cite [CIT2002]_, a mark [^3] and [12].",
	     "A fact, a note, a cite, a mark and.", NULL},
	    {"<b>Bold</b> and <a href=\"x\">link</a> <!-- c -->", "Bold and link", NULL},
	    {"A package <T> waits for <I> and <br/> <code>x</code>",
	     "A package <T> waits for <I> and x", NULL},
	    {"The |name| substitution and a | b table", "The name substitution and a | b table",
	     NULL},
	    {"snake_case, 2*3, a * b and \\*stars\\*", "snake_case, 2*3, a * b and *stars*", NULL},
	    {"Unclosed `tick and [bracket and <tag", "Unclosed `tick and [bracket and <tag", NULL},
	    {"  spaced \t  out  ", "spaced out", NULL},
	};
	struct pool *pool = pool_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		const char *got = markup_strip(pool, cases[i].in, strlen(cases[i].in), 0, &n);
		is_str(got, cases[i].out, cases[i].in);
		ok(n == strlen(got), "length of %zu", i);
		if (cases[i].broken)
			is_str(markup_strip(pool, cases[i].in, strlen(cases[i].in),
			                    MARKUP_CODE_BREAK, NULL),
			       cases[i].broken, "code as a phrase break");
	}
	/* Hostile input: openers that never close, backtick runs of every
	 * length, stay linear (each case takes well under a second). */
	static const char *const hostile[] = {"[", "[(", "](", "`", "<a", ":a:", "|a", "*_", "!["};
	for (size_t h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++) {
		struct buf b;
		buf_init(&b);
		while (b.len < 2 * 1024 * 1024)
			buf_puts(&b, hostile[h]);
		clock_t t0 = clock();
		size_t n;
		markup_strip(pool, b.data, b.len, 0, &n);
		double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		ok(n <= b.len && secs < 3.0, "2 MiB of \"%s\": %.2f s", hostile[h], secs);
		buf_clear(&b);
	}
	struct buf runs;
	buf_init(&runs);
	for (int k = 1; runs.len < 2 * 1024 * 1024; k = k % 300 + 1) {
		for (int j = 0; j < k; j++)
			buf_putc(&runs, '`');
		buf_putc(&runs, 'x');
	}
	clock_t t0 = clock();
	size_t n;
	markup_strip(pool, runs.data, runs.len, 0, &n);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	ok(secs < 3.0, "2 MiB of backtick runs of every length: %.2f s", secs);
	buf_clear(&runs);
	pool_free(pool);
}

/* Hostile structure: a staircase of indentation, many literal markers,
 * one enormous line; each parses in well under the fuzzers' time limit. */
static void test_hostile_structure(void)
{
	struct pool *pool = pool_new();
	static const char *const units[] = {"a::\n\n", "- x\n  ", ".. note::\n   ", "=\n", "x\n"};
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]) + 1; u++) {
		struct buf b;
		buf_init(&b);
		for (int i = 0; b.len < 2 * 1024 * 1024; i++) {
			if (u == sizeof(units) / sizeof(units[0])) { /* a staircase */
				for (int k = 0; k < i % 200; k++)
					buf_putc(&b, ' ');
				buf_puts(&b, "step\n");
			} else {
				buf_puts(&b, units[u]);
			}
		}
		clock_t t0 = clock();
		struct doc d;
		doc_parse(pool, b.data, b.len, &d);
		struct doc_sentence *s = NULL;
		doc_sentences(pool, &d, 8000, &s);
		double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		ok(secs < 5.0, "hostile structure %zu: %zu blocks in %.2f s", u, d.count, secs);
		buf_clear(&b);
	}
	pool_free(pool);
}

static void test_sentences(void)
{
	struct pool *pool = pool_new();
	struct doc d;
	doc_parse(pool, rst, strlen(rst), &d);
	struct doc_sentence *s = NULL;
	size_t n = doc_sentences(pool, &d, 1000, &s);
	bool clean = n > 5, whole = true;
	for (size_t i = 0; i < n; i++) {
		clean = clean && !strchr(s[i].text, '*') && !strchr(s[i].text, '`') &&
		        !strstr(s[i].text, ":meth:") && !strstr(s[i].text, "[#]");
		whole = whole && !(s[i].text[0] >= 'a' && s[i].text[0] <= 'z');
		if (strstr(s[i].text, "scope_test") || strstr(s[i].text, ">>>"))
			clean = false;
	}
	ok(clean, "%zu sentences without markup or code", n);
	ok(whole, "no sentence starts mid-sentence");
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found = found || strcmp(s[i].text, "creates a scope and binds spam in it.") == 0;
	ok(!found, "the fragment after a code block is not a sentence");
	bool lead = false, placed = false;
	for (size_t i = 0; i < n; i++) {
		if (strstr(s[i].text, "different scopes:"))
			lead = s[i].lead_in;
		if (strstr(s[i].text, "A method object is a function object"))
			placed = s[i].page == 1 && s[i].section >= 0 &&
			         strcmp(d.blocks[s[i].section].text, "Method Objects") == 0;
	}
	ok(lead, "a sentence that introduces code is a lead-in");
	ok(placed, "a sentence knows its page and section");
	const char cjk[] = "\xe5\x85\x89\xe5\x90\x88\xe4\xbd\x9c\xe7\x94\xa8\xe5\xb0\x86"
	                   "\xe5\x85\x89\xe8\x83\xbd\xe8\xbd\xac\xe5\x8c\x96\xe3\x80\x82 "
	                   "\xc3\xa9t\xc3\xa9 starts lower. \xc3\x89t\xc3\xa9 starts upper.\n";
	doc_parse(pool, cjk, sizeof(cjk) - 1, &d);
	n = doc_sentences(pool, &d, 10, &s);
	ok(n == 2 && (unsigned char)s[0].text[0] == 0xe5 && strncmp(s[1].text, "\xc3\x89t", 3) == 0,
	   "a script without case starts sentences; an accented lower-case letter does not");
	pool_free(pool);
}

static void test_passages(void)
{
	struct pool *pool = pool_new();
	struct doc d;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "# Alpha\n\n");
	for (int i = 0; i < 5; i++)
		buf_printf(&b, "Paragraph %d of alpha has some words in it.\n\n", i);
	buf_puts(&b, "| a | b |\n|---|---|\n| 1 | 2 |\n\n## Beta\n\nOnly one paragraph.\n\n"
	             "```\ncode()\n```\n\nAfter the code.\n");
	doc_parse(pool, b.data, b.len, &d);
	struct doc_passage *p = NULL;
	size_t n = doc_passages(pool, &d, 3, 2000, &p);
	bool bounded = n == 4;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = p[i].first; k <= p[i].last; k++)
			bounded = bounded && d.blocks[k].kind != DOC_HEADING &&
			          d.blocks[k].kind != DOC_CODE &&
			          d.blocks[k].section == p[i].section;
	}
	ok(bounded, "%zu passages, none across a heading or code", n);
	if (n == 4) {
		ok(strncmp(p[0].text, "Paragraph 0", 11) == 0 &&
		       strstr(p[0].text, "\n\nParagraph 2") && !strstr(p[0].text, "Paragraph 3"),
		   "three paragraphs at most");
		ok(strstr(p[1].text,
		          "Paragraph 4 of alpha has some words in it.\n\na | b\n1 | 2") != NULL,
		   "a table's rows stay together, as one paragraph");
		is_str(p[2].path, "Alpha > Beta", "a passage's section path");
		is_str(p[2].text, "Only one paragraph.", "cut before code");
		is_str(p[3].text, "After the code.", "and again after it");
	}
	n = doc_passages(pool, &d, 3, 60, &p);
	ok(n >= 6, "a byte ceiling cuts passages (%zu)", n);
	buf_clear(&b);
	pool_free(pool);
}

/* The phrase of text (case-insensitive), or NULL. */
static const struct phrase *phrase(const struct phrase *p, size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(p[i].text, text) == 0)
			return &p[i];
	return NULL;
}

static void phrases_of(struct pool *pool, const char *text, struct phrase **p, size_t *n)
{
	struct doc d;
	doc_parse(pool, text, strlen(text), &d);
	struct doc_sentence *s = NULL;
	size_t ns = doc_sentences(pool, &d, 1000, &s);
	if (phrases_extract(pool, &d, s, ns, 12, p, n) != ERR_OK)
		*n = 0;
}

static void test_phrases(void)
{
	struct pool *pool = pool_new();
	struct phrase *p = NULL;
	size_t n = 0;
	phrases_of(pool, rst, &p, &n);
	const struct phrase *m = phrase(p, n, "method object");
	ok(m && m->words == 2, "RST: the multiword term \"method object\"");
	ok(!phrase(p, n, "object"), "nested: \"method object\" over \"object\"");
	const struct phrase *ns = phrase(p, n, "namespace");
	ok(ns && ns->definition && strcmp(ns->definition, "a mapping from names to objects") == 0,
	   "definition of namespace: %s", ns && ns->definition ? ns->definition : "(none)");
	bool code = false;
	for (size_t i = 0; i < n; i++)
		code = code || strchr(p[i].text, '_') || strchr(p[i].text, '(') ||
		       strstr(p[i].text, "MyClass") || strstr(p[i].text, "spam") ||
		       strstr(p[i].text, "init");
	ok(!code, "no code tokens among %zu phrases", n);

	phrases_of(pool, markdown, &p, &n);
	ok(phrase(p, n, "merge conflict") && phrase(p, n, "remote repository"),
	   "Markdown: multiword terms");
	const struct phrase *r = phrase(p, n, "remote repository");
	ok(r && r->page == 1 && r->section >= 0, "a phrase knows its page and section");
	ok(!phrase(p, n, "git branch"), "a code span is not a phrase");

	phrases_of(pool, plain, &p, &n);
	const struct phrase *la = phrase(p, n, "lexical analysis");
	ok(la && la->alias && strcmp(la->alias, "scanning") == 0,
	   "\"also called\" gives another name");
	const struct phrase *tok = phrase(p, n, "token");
	ok(tok && tok->definition &&
	       strcmp(tok->definition,
	              "a sequence of characters that forms one unit of the language") == 0,
	   "\"refers to\" gives a definition");
	ok(phrase(p, n, "source code") && phrase(p, n, "machine code"),
	   "plain text: multiword terms");

	phrases_of(pool, glossary, &p, &n);
	const struct phrase *gc = phrase(p, n, "garbage collector");
	ok(gc && gc->definition && strncmp(gc->definition, "The part of a runtime", 21) == 0,
	   "a definition list gives definitions");
	const struct phrase *dns = phrase(p, n, "Domain Name System");
	ok(dns && dns->alias && strcmp(dns->alias, "DNS") == 0, "an acronym and its expansion");

	/* Deterministic. */
	struct phrase *again = NULL;
	size_t n2 = 0;
	phrases_of(pool, glossary, &again, &n2);
	bool same = n2 == n;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(again[i].text, p[i].text) == 0 && again[i].score == p[i].score;
	ok(same, "the same text gives the same phrases");
	pool_free(pool);
}

static void test_render(void)
{
	struct pool *pool = pool_new();
	struct doc d;
	doc_parse(pool, rst, strlen(rst), &d);
	size_t n;
	const char *t = doc_render(pool, &d, 100000, &n);
	ok(strncmp(t, "# Classes\n\nClasses bundle data", 30) == 0 &&
	       strstr(t, "\n\n#### Method Objects\n\nA method object") && strlen(t) == n,
	   "rendered: headings as Markdown lines, prose after them");
	ok(!strstr(t, "scope_test") && !strstr(t, ">>>") && !strstr(t, "``") &&
	       !strstr(t, ":meth:"),
	   "rendered: no code, no markup");
	const char *cut = doc_render(pool, &d, 200, &n);
	ok(n <= 200 && n > 150 && strncmp(cut, t, n) == 0 && cut[n - 1] != ' ',
	   "rendered: cut at a space (%zu bytes)", n);
	pool_free(pool);
}

static void test_notes(void)
{
	struct pool *pool = pool_new();
	struct notes no;
	if (!ok(notes_extract(pool, rst, strlen(rst), &no) == ERR_OK, "notes of the RST chapter"))
		return;
	if (getenv("NOTES_PRINT"))
		printf("%s\n", no.markdown);
	ok(strstr(no.markdown, "## Outline\n\n- Classes\n  - Names and Objects\n") != NULL,
	   "the outline is the chapter's sections");
	ok(strstr(no.markdown, "**method object**") != NULL, "a multiword key term");
	ok(!strstr(no.markdown, ":meth:") && !strstr(no.markdown, "``") &&
	       !strstr(no.markdown, "Function defined outside"),
	   "no markup and no code comments in the notes");
	pool_free(pool);
}

int main(void)
{
	test_outlines();
	test_blocks();
	test_markup();
	test_hostile_structure();
	test_sentences();
	test_passages();
	test_phrases();
	test_render();
	test_notes();
	return tap_done();
}
