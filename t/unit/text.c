/* Unit tests for text: sentence splitting, words, stop words, stems. */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "tap.h"
#include "text/text.h"

/* The split of text as one line: "S:..." sentences, "H2:..." headings
 * (H0 for a title-like line), "I:..." list items, "T:..." table rows,
 * joined by " / ". */
static const char *split_str(struct pool *pool, const char *text, size_t len, size_t max)
{
	struct text_sentence *s = NULL;
	size_t n = text_split(pool, text, len, max, &s);
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(&b, " / ");
		switch (s[i].kind) {
		case TEXT_SENTENCE:
			buf_puts(&b, "S:");
			break;
		case TEXT_HEADING:
			buf_printf(&b, "H%d:", s[i].level);
			break;
		case TEXT_ITEM:
			buf_puts(&b, "I:");
			break;
		case TEXT_TABLE:
			buf_puts(&b, "T:");
			break;
		}
		buf_append(&b, s[i].text, s[i].len);
		if (strlen(s[i].text) != s[i].len)
			buf_puts(&b, "<len mismatch>");
	}
	char *out = pool_strdup(pool, b.data ? b.data : "");
	buf_clear(&b);
	return out;
}

/* A test name: the case's text on one line, shortened. */
static const char *one_line(struct pool *pool, const char *what, const char *text)
{
	char *s = pool_printf(pool, "%s: %.50s", what, text);
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '|';
	return s;
}

static void test_split(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"", ""},
	    {" \n\t\n  ", ""},
	    {"Dr. Smith arrived. He was late.", "S:Dr. Smith arrived. / S:He was late."},
	    {"Mr. and Mrs. Brown came. They sat.", "S:Mr. and Mrs. Brown came. / S:They sat."},
	    {"The value of pi is 3.14 roughly. It never ends.",
	     "S:The value of pi is 3.14 roughly. / S:It never ends."},
	    {"Version 2.0 is out. Download it.", "S:Version 2.0 is out. / S:Download it."},
	    {"Use a tool, e.g. a hammer. Then stop.",
	     "S:Use a tool, e.g. a hammer. / S:Then stop."},
	    {"Some tools, i.e. Hammers, help. Then stop.",
	     "S:Some tools, i.e. Hammers, help. / S:Then stop."},
	    {"The U.S. Congress met. The U.S. is large.",
	     "S:The U.S. Congress met. / S:The U.S. is large."},
	    {"It grew in the U.S. The rest followed.",
	     "S:It grew in the U.S. / S:The rest followed."},
	    {"He bought apples, pears, etc. The shop closed.",
	     "S:He bought apples, pears, etc. / S:The shop closed."},
	    {"Smith et al. Showed this.", "S:Smith et al. Showed this."},
	    {"J. R. R. Tolkien wrote books. They sold well.",
	     "S:J. R. R. Tolkien wrote books. / S:They sold well."},
	    {"He took vitamin C. It helped.", "S:He took vitamin C. / S:It helped."},
	    {"See Fig. 3 for details. It shows the result.",
	     "S:See Fig. 3 for details. / S:It shows the result."},
	    {"Prices rose in 1990. The next year they fell.",
	     "S:Prices rose in 1990. / S:The next year they fell."},
	    {"Wait... What happened? Nobody knows! Really\xe2\x80\xa6 Yes.",
	     "S:Wait... / S:What happened? / S:Nobody knows! / S:Really\xe2\x80\xa6 / S:Yes."},
	    {"It went on... and on.", "S:It went on... and on."},
	    {"He said \"Stop.\" Then he left.", "S:He said \"Stop.\" / S:Then he left."},
	    {"(See the appendix.) Then read on.", "S:(See the appendix.) / S:Then read on."},
	    {"the end. and more text", "S:the end. and more text"},
	    {"Visit example.com today. Bye.", "S:Visit example.com today. / S:Bye."},
	    {"# Cells\nCells are small. They divide.\n## Membranes\nThe membrane protects.",
	     "H1:Cells / S:Cells are small. / S:They divide. / H2:Membranes / S:The membrane "
	     "protects."},
	    {"### Deep heading ###\ntext here.", "H3:Deep heading / S:text here."},
	    {"#hashtag is not a heading.", "S:#hashtag is not a heading."},
	    {"####### seven is too deep", "S:####### seven is too deep"},
	    {"Steps:\n1. Mix the flour.\n2. Bake it for 20 min. at 180 degrees.\n- Serve warm\n* "
	     "Eat",
	     "S:Steps: / I:Mix the flour. / I:Bake it for 20 min. at 180 degrees. / I:Serve warm / "
	     "I:Eat"},
	    {"a) first\nb) second one\n  continues here", "I:first / I:second one continues here"},
	    {"\xe2\x80\xa2 bullet point. Two sentences here.",
	     "I:bullet point. / I:Two sentences here."},
	    {"Introduction\nThe cell is the unit of life.",
	     "H0:Introduction / S:The cell is the unit of life."},
	    {"Cell Structure and Function\nEvery cell has a membrane.",
	     "H0:Cell Structure and Function / S:Every cell has a membrane."},
	    {"The cell is the basic unit of all living\norganisms. It was found by Robert\nHooke "
	     "in 1665.",
	     "S:The cell is the basic unit of all living organisms. / S:It was found by Robert "
	     "Hooke "
	     "in 1665."},
	    {"The mito-\nchondrion makes energy. A well-\nKnown fact.",
	     "S:The mitochondrion makes energy. / S:A well- Known fact."},
	    {"Closing thoughts\n\nWe are done.", "H0:Closing thoughts / S:We are done."},
	    {"First para.\n\n---\n\nSecond para.", "S:First para. / S:Second para."},
	    {"| Name | Value |\n|---|:---:|\n| pH | 7 |", "T:Name | Value / T:pH | 7"},
	    {"One line.\r\nTwo line.\rThree.", "S:One line. / S:Two line. / S:Three."},
	    {"Bad \xff byte here. Next one.", "S:Bad \xef\xbf\xbd byte here. / S:Next one."},
	    {"Cut \xe2\x82 sequence.", "S:Cut \xef\xbf\xbd\xef\xbf\xbd sequence."},
	    {"Overlong \xc0\xaf slash.", "S:Overlong \xef\xbf\xbd\xef\xbf\xbd slash."},
	    {"Control\x01\x07 chars\x7f gone.", "S:Control chars gone."},
	    {"\xef\xbb\xbf"
	     "BOM first. Then text.",
	     "S:BOM first. / S:Then text."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pool *pool = pool_new();
		is_str(split_str(pool, cases[i].text, strlen(cases[i].text), 100), cases[i].want,
		       one_line(pool, "split", cases[i].text));
		pool_free(pool);
	}

	struct pool *pool = pool_new();
	/* Embedded NUL: the length counts, not the terminator. */
	static const char nul[] = "Before\0after. Done.";
	is_str(split_str(pool, nul, sizeof(nul) - 1, 100), "S:Before after. / S:Done.",
	       "an embedded NUL becomes a space");
	is_str(split_str(pool, "A one. B two. C three.", 22, 2), "S:A one. / S:B two.",
	       "max bounds the sentences");
	is_str(split_str(pool, "A one. B two.", 13, 0), "", "max 0 gives nothing");

	/* A run without spaces or periods is cut below the ceiling at a character. */
	struct buf big;
	buf_init(&big);
	for (int i = 0; i < 20000; i++)
		buf_puts(&big, "\xc3\xa9");
	struct text_sentence *s = NULL;
	size_t n = text_split(pool, big.data, big.len, 1000, &s);
	bool bounded = n >= 2;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		bounded = bounded && s[i].len <= TEXT_SENTENCE_MAX && s[i].len % 2 == 0;
		total += s[i].len;
	}
	ok(bounded && total == big.len,
	   "a 40000-byte run is cut into whole characters below the ceiling");
	buf_clear(&big);
	for (int i = 0; i < 3000; i++)
		buf_puts(&big, "word ");
	n = text_split(pool, big.data, big.len, 1000, &s);
	bounded = n >= 2;
	for (size_t i = 0; i < n; i++)
		bounded = bounded && s[i].len <= TEXT_SENTENCE_MAX && s[i].text[0] == 'w' &&
		          s[i].text[s[i].len - 1] == 'd';
	ok(bounded, "a long sentence is cut at spaces");
	buf_clear(&big);
	pool_free(pool);
}

/* Whether every piece is trimmed, with single spaces and no tab inside. */
static bool all_trimmed(const struct text_sentence *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].len == 0 || s[i].text[0] == ' ' || s[i].text[s[i].len - 1] == ' ' ||
		    strstr(s[i].text, "  ") || strchr(s[i].text, '\t')) {
			tap_diag("piece %zu not trimmed: [%.40s...%s]", i, s[i].text,
			         s[i].text + (s[i].len > 20 ? s[i].len - 20 : 0));
			return false;
		}
	}
	return true;
}

/* Regression (fuzzing, issue 19): an overlong heading or table row cut at a
 * double blank left a piece ending in a blank. */
static void test_overlong_pieces(void)
{
	struct pool *pool = pool_new();
	static const char *const kinds[] = {"# ", "| ", "", "- "};
	static const char *const gaps[] = {"  ", " \t ", "\t", " "};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
			struct buf big;
			buf_init(&big);
			buf_puts(&big, kinds[k]);
			for (int i = 0; i < 1500; i++) {
				buf_puts(&big, i % 7 ? "abc" : "Ab");
				buf_puts(&big, gaps[g]);
			}
			buf_puts(&big, "end");
			struct text_sentence *s = NULL;
			size_t n = text_split(pool, big.data, big.len, 1000, &s);
			bool bounded = n >= 2;
			for (size_t i = 0; i < n; i++)
				bounded = bounded && s[i].len <= TEXT_SENTENCE_MAX;
			ok(bounded && all_trimmed(s, n),
			   "overlong %s piece with gap %zu: %zu trimmed pieces",
			   k == 0   ? "heading"
			   : k == 1 ? "table row"
			   : k == 2 ? "paragraph"
			            : "item",
			   g, n);
			buf_clear(&big);
		}
	}
	struct text_sentence *s = NULL;
	const char *t = "##   Spaced \t  title  ##\n\n|  a  \t b  |  c  |\n";
	size_t n = text_split(pool, t, strlen(t), 10, &s);
	ok(n == 2 && all_trimmed(s, n) && strcmp(s[0].text, "Spaced title") == 0 &&
	       strcmp(s[1].text, "a b | c") == 0,
	   "blanks inside a heading and a table cell collapse");
	pool_free(pool);
}

static void test_words(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"", ""},
	    {"Hello, World!", "hello world"},
	    {"Don't panic: the Caf\xc3\xa9's 3.14 values\xe2\x80\x94na\xc3\xafve \xc3\x89\x43OLE",
	     "don't panic the caf\xc3\xa9's 3.14 values na\xc3\xafve \xc3\xa9\x63ole"},
	    {"it\xe2\x80\x99s 1,000 cells; x-ray", "it's 1,000 cells x ray"},
	    {"'quoted' end. 42.", "quoted end 42"},
	    {"\xce\x94\xce\x9d\xce\x91 \xd0\x94\xd0\x9d\xd0\x9a",
	     "\xce\xb4\xce\xbd\xce\xb1 \xd0\xb4\xd0\xbd\xd0\xba"},
	    {"bad\xff"
	     "byte",
	     "bad byte"},
	    {"emoji\xf0\x9f\x98\x80here", "emoji here"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pool *pool = pool_new();
		struct text_word *w = NULL;
		size_t n = text_words(pool, cases[i].text, strlen(cases[i].text), 100, &w);
		struct buf b;
		buf_init(&b);
		for (size_t k = 0; k < n; k++) {
			if (k)
				buf_putc(&b, ' ');
			buf_puts(&b, w[k].lower);
		}
		is_str(b.data ? b.data : "", cases[i].want, one_line(pool, "words", cases[i].text));
		buf_clear(&b);
		pool_free(pool);
	}
	struct pool *pool = pool_new();
	struct text_word *w = NULL;
	const char *t = "  Alpha beta";
	size_t n = text_words(pool, t, strlen(t), 100, &w);
	ok(n == 2 && w[0].start == t + 2 && w[0].len == 5 && w[1].len == 4,
	   "words point into the text");
	is_long(text_words(pool, "a b c d e", 9, 3, &w), 3, "max bounds the words");
	char longw[300];
	memset(longw, 'x', sizeof(longw));
	n = text_words(pool, longw, sizeof(longw), 10, &w);
	ok(n == 1 && strlen(w[0].lower) <= TEXT_WORD_MAX && w[0].len == sizeof(longw),
	   "a very long word is cut in its lower form only");
	ok(text_starts_upper("\xc3\x89t\xc3\xa9", 5) && text_starts_upper("Big", 3) &&
	       !text_starts_upper("small", 5) && !text_starts_upper("9", 1) &&
	       !text_starts_upper("", 0),
	   "upper-case first letters");
	pool_free(pool);
}

static void test_stop_words(void)
{
	static const struct {
		const char *word;
		bool stop;
	} cases[] = {
	    {"a", true},
	    {"the", true},
	    {"which", true},
	    {"isn't", true},
	    {"yourselves", true},
	    {"about", true},
	    {"would", true},
	    {"i", true},
	    {"between", true},
	    {"cell", false},
	    {"photosynthesis", false},
	    {"The", false},
	    {"", false},
	    {"zebra", false},
	    {"aaa", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(text_is_stop_word(cases[i].word) == cases[i].stop, "stop word? \"%s\"",
		   cases[i].word);
}

static void test_stem(void)
{
	struct text_stemmer *st = NULL;
	if (!ok(text_stemmer_new(&st) == ERR_OK, "English stemmer"))
		return;
	static const struct {
		const char *word;
		const char *stem;
	} cases[] = {
	    {"connection", "connect"},
	    {"connected", "connect"},
	    {"connecting", "connect"},
	    {"cells", "cell"},
	    {"running", "run"},
	    {"studies", "studi"},
	    {"membranes", "membran"},
	    {"", ""},
	    {"caf\xc3\xa9s", "caf\xc3\xa9"},
	};
	char out[TEXT_WORD_MAX + 1];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = text_stem(st, cases[i].word, strlen(cases[i].word), out, sizeof(out));
		is_str(out, cases[i].stem, cases[i].word);
		is_long(n, strlen(cases[i].stem), "stem length");
	}
	char tiny[4];
	text_stem(st, "connection", 10, tiny, sizeof(tiny));
	is_str(tiny, "con", "a stem is cut to the room given");
	text_stemmer_free(st);
	text_stemmer_free(NULL);
}

int main(void)
{
	test_split();
	test_overlong_pieces();
	test_words();
	test_stop_words();
	test_stem();
	return tap_done();
}
