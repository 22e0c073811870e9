/* Unit tests for quiz: extractive questions from a course text the test
 * builds, and lenient grading of short answers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "tap.h"
#include "text/quiz.h"

/* A course text with sections, definitions, names and numbers. */
static const char course[] =
    "# Earth Science\n"
    "\n"
    "## Plate tectonics\n"
    "\n"
    "Plate tectonics is the theory that the outer shell of the Earth is split into large "
    "moving plates. The lithosphere is the rigid outer layer made of the crust and the upper "
    "mantle. Oceanic crust forms at mid-ocean ridges where hot magma rises from the mantle. "
    "Continental crust is thicker and older than oceanic crust. The Pacific plate moves about "
    "70 millimetres each year towards the north west. Alfred Wegener proposed continental "
    "drift in 1912 after comparing fossils on distant coasts. Subduction zones form deep ocean "
    "trenches where one plate sinks below another plate.\n"
    "\n"
    "## Volcanoes\n"
    "\n"
    "A volcano is an opening in the crust through which molten rock reaches the surface. "
    "Shield volcanoes have gentle slopes built from runny basalt lava flows. Stratovolcanoes "
    "erupt sticky andesite lava and violent clouds of volcanic ash. Mount Vesuvius buried the "
    "Roman town of Pompeii in the year 79 during a famous eruption. The volcanic explosivity "
    "index measures the size of eruptions on a scale from 0 to 8. Volcanic ash can ground "
    "aircraft across whole continents for several days.\n"
    "\n"
    "## Earthquakes\n"
    "\n"
    "An earthquake is a sudden shaking of the ground caused by slipping rock along a fault "
    "line. The focus is the point inside the Earth where the rupture starts. Seismic waves "
    "travel outward from the focus through solid rock and liquid layers. Charles Richter "
    "designed the Richter magnitude scale in 1935 at the California Institute of Technology. "
    "The moment magnitude scale replaced the older Richter scale for large earthquakes. The "
    "Chilean earthquake of 1960 reached a magnitude of 9.5 on the moment magnitude scale. "
    "Tsunami waves can cross entire ocean basins at the speed of a jet airliner.\n"
    "\n"
    "## Rocks and minerals\n"
    "\n"
    "Igneous rock forms when molten magma cools and crystallises below or above the surface. "
    "Sedimentary rock builds up in layers from sand, mud and the shells of sea creatures. "
    "Metamorphic rock forms when heat and pressure change existing rock without melting it. "
    "Quartz is a hard mineral made of silicon and oxygen atoms. Granite contains large "
    "crystals of quartz, feldspar and mica that cooled slowly underground. The rock cycle "
    "moves material between igneous rock, sedimentary rock and metamorphic rock over millions "
    "of years. Friedrich Mohs created his hardness scale for minerals in 1812.\n";

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

/* The checks every generated quiz must pass. */
static void check_quiz(const char *label, const struct quiz_question *q, size_t n)
{
	bool answers_in_text = true, sources_in_text = true, distinct = true, explained = true;
	bool unique = true, kinds = true, stems_ok = true;
	for (size_t i = 0; i < n; i++) {
		if (!contains_ci(course, q[i].source))
			sources_in_text = false;
		if (!strstr(q[i].explanation, q[i].source))
			explained = false;
		if (q[i].type != QUIZ_TRUE_FALSE && !contains_ci(course, q[i].answer)) {
			answers_in_text = false;
			tap_diag("%s: answer not in the text: %s", label, q[i].answer);
		}
		for (int a = 0; a < q[i].noptions; a++)
			for (int b = a + 1; b < q[i].noptions; b++)
				if (strcasecmp(q[i].options[a], q[i].options[b]) == 0)
					distinct = false;
		if (q[i].type == QUIZ_MULTIPLE_CHOICE && all_digits(q[i].answer))
			for (int a = 0; a < q[i].noptions; a++)
				kinds = kinds && all_digits(q[i].options[a]);
		if (q[i].type != QUIZ_TRUE_FALSE && strncmp(q[i].question, "What ", 5) != 0 &&
		    !strstr(q[i].question, "_____"))
			stems_ok = false;
		for (size_t k = i + 1; k < n; k++)
			if (strcmp(q[i].source, q[k].source) == 0 ||
			    (q[i].type != QUIZ_TRUE_FALSE && q[k].type != QUIZ_TRUE_FALSE &&
			     strcasecmp(q[i].answer, q[k].answer) == 0))
				unique = false;
		if (q[i].type == QUIZ_SHORT_ANSWER) {
			int words = 1;
			for (const char *p = q[i].answer; *p; p++)
				words += *p == ' ';
			stems_ok = stems_ok && words <= 4 && q[i].correct == -1;
		} else {
			stems_ok = stems_ok && q[i].correct >= 0 && q[i].correct < q[i].noptions &&
			           strcmp(q[i].options[q[i].correct], q[i].answer) == 0;
		}
	}
	ok(sources_in_text, "%s: every source is a sentence of the text", label);
	ok(explained, "%s: every explanation quotes its source", label);
	ok(answers_in_text, "%s: every answer appears in the text", label);
	ok(distinct, "%s: options are distinct", label);
	ok(unique, "%s: no two questions share a sentence or an answer", label);
	ok(kinds, "%s: numbers are offered against numbers", label);
	ok(stems_ok, "%s: stems, answers and indexes are consistent", label);
}

static enum err gen(struct pool *p, const char *text, size_t count, enum quiz_difficulty d,
                    unsigned types, const char *seed, struct quiz_question **q, size_t *n)
{
	struct quiz_request r = {count, d, types, seed};
	return quiz_generate(p, text, strlen(text), 1, &r, q, n);
}

static void test_generate(void)
{
	struct pool *p = pool_new();
	struct quiz_question *q = NULL, *q2 = NULL;
	size_t n = 0, n2 = 0;
	const char *seed = "5d1f2b8e-9c1a-4e55-8f3b-2a7d4c6e9b10";
	static const char *const names[] = {"easy", "medium", "hard"};
	for (int d = QUIZ_EASY; d <= QUIZ_HARD; d++) {
		enum err e = gen(p, course, 10, (enum quiz_difficulty)d, 0, seed, &q, &n);
		is_long(e, ERR_OK, "ten questions from the course");
		is_long(n, 10, "ten made");
		check_quiz(names[d], q, n);
		int sections[8] = {0};
		for (size_t i = 0; i < n; i++) {
			const char *s = q[i].section;
			sections[strstr(s, "Plate")     ? 0
			         : strstr(s, "Volcano") ? 1
			         : strstr(s, "Earthqu") ? 2
			         : strstr(s, "Rocks")   ? 3
			                                : 4]++;
		}
		ok(sections[0] && sections[1] && sections[2] && sections[3],
		   "%s: questions come from every section", names[d]);
		for (size_t i = 0; i < n && getenv("QUIZ_SHOW"); i++)
			tap_diag("%s [%s] %s -> %s", names[d], quiz_type_name(q[i].type),
			         q[i].question, q[i].answer);
	}

	enum err e = gen(p, course, 12, QUIZ_MEDIUM, 0, seed, &q, &n);
	e = e == ERR_OK ? gen(p, course, 12, QUIZ_MEDIUM, 0, seed, &q2, &n2) : e;
	bool same = e == ERR_OK && n == n2;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(q[i].question, q2[i].question) == 0 && q[i].correct == q2[i].correct;
	ok(same, "the same quiz id gives the same quiz");
	e = gen(p, course, 12, QUIZ_MEDIUM, 0, "another-quiz-id", &q2, &n2);
	bool differs = e == ERR_OK && n2 == n;
	same = true;
	for (size_t i = 0; differs && same && i < n; i++)
		same = strcmp(q[i].question, q2[i].question) == 0 && q[i].correct == q2[i].correct;
	ok(differs && !same, "another quiz id gives another quiz");

	/* Multiple choice only: positions spread evenly. */
	e = gen(p, course, 8, QUIZ_MEDIUM, QUIZ_MULTIPLE_CHOICE, seed, &q, &n);
	is_long(e, ERR_OK, "eight choice questions");
	int pos[4] = {0};
	bool all_mc = true;
	for (size_t i = 0; i < n; i++) {
		all_mc = all_mc && q[i].type == QUIZ_MULTIPLE_CHOICE && q[i].noptions == 4;
		pos[q[i].correct]++;
	}
	ok(all_mc, "only choice questions with four options");
	ok(pos[0] == 2 && pos[1] == 2 && pos[2] == 2 && pos[3] == 2,
	   "each position holds the right option twice (%d %d %d %d)", pos[0], pos[1], pos[2],
	   pos[3]);
	check_quiz("choice", q, n);

	/* True/false: about half each, a false one is the sentence changed. */
	e = gen(p, course, 10, QUIZ_MEDIUM, QUIZ_TRUE_FALSE, seed, &q, &n);
	is_long(e, ERR_OK, "ten true/false questions");
	int truths = 0;
	bool shaped = true;
	for (size_t i = 0; i < n; i++) {
		shaped = shaped && q[i].noptions == 2 && strcmp(q[i].options[0], "True") == 0 &&
		         strcmp(q[i].options[1], "False") == 0;
		bool as_written = strstr(q[i].question, q[i].source) != NULL;
		if (q[i].correct == 0)
			truths++;
		shaped = shaped && as_written == (q[i].correct == 0);
	}
	ok(shaped, "true/false questions: True, False, and false ones are changed sentences");
	ok(truths >= 4 && truths <= 6, "about half are true (%d of 10)", truths);
	check_quiz("true/false", q, n);

	/* Short answers. */
	e = gen(p, course, 8, QUIZ_HARD, QUIZ_SHORT_ANSWER, seed, &q, &n);
	is_long(e, ERR_OK, "eight short answers");
	bool short_ok = true;
	for (size_t i = 0; i < n; i++)
		short_ok = short_ok && q[i].type == QUIZ_SHORT_ANSWER && q[i].noptions == 0 &&
		           quiz_answer_matches(q[i].answer, q[i].answer, strlen(q[i].answer));
	ok(short_ok, "short answers match themselves");
	check_quiz("short answer", q, n);

	/* Easy quizzes ask what defined terms are. */
	e = gen(p, course, 10, QUIZ_EASY, QUIZ_MULTIPLE_CHOICE, seed, &q, &n);
	bool what = false;
	for (size_t i = 0; i < n; i++)
		what = what || strncmp(q[i].question, "What ", 5) == 0;
	ok(e == ERR_OK && what, "an easy quiz asks what a defined term is");

	/* Too short, bad requests, hostile text. */
	e = gen(p, "A short note. Photosynthesis is the process that plants use to make sugar.", 10,
	        QUIZ_MEDIUM, 0, seed, &q, &n);
	is_long(e, ERR_UNPROCESSABLE, "a short text cannot give ten questions");
	ok(n < 10, "and says how many it can give (%zu)", n);
	e = gen(p, "", 5, QUIZ_MEDIUM, 0, seed, &q, &n);
	ok(e == ERR_UNPROCESSABLE && n == 0, "an empty text gives none");
	e = gen(p, course, 0, QUIZ_MEDIUM, 0, seed, &q, &n);
	is_long(e, ERR_INVALID, "zero questions is refused");
	e = gen(p, course, 51, QUIZ_MEDIUM, 0, seed, &q, &n);
	is_long(e, ERR_INVALID, "51 questions is refused");
	e = gen(p, course, 50, QUIZ_MEDIUM, 0, seed, &q, &n);
	ok(e == ERR_UNPROCESSABLE && n >= 10 && n < 50, "fifty from the course: it can give %zu",
	   n);
	char junk[4096];
	unsigned x = 12345;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (char)(x >> 16);
	}
	struct quiz_request r = {5, QUIZ_MEDIUM, 0, seed};
	e = quiz_generate(p, junk, sizeof(junk), 1, &r, &q, &n);
	ok(e == ERR_UNPROCESSABLE || e == ERR_OK, "random bytes do not break the engine");
	pool_free(p);
}

static void test_grading(void)
{
	static const struct {
		const char *expected, *given;
		bool match;
	} cases[] = {
	    {"the lithosphere", "Lithosphere", true},
	    {"lithosphere", "  the   LITHOSPHERE. ", true},
	    {"mid-ocean ridges", "mid ocean ridge", true},
	    {"oceanic crust", "an oceanic crust!", true},
	    {"70", "seventy", true},
	    {"21", "twenty-one", true},
	    {"twenty one", "21", true},
	    {"1912", "1912", true},
	    {"1912", "1913", false},
	    {"subduction", "subdution", true},
	    {"subduction", "sbuduction", true},
	    {"subduction", "subductionn", true},
	    {"subduction", "sudbuctoin", false},
	    {"magma", "magna", false},
	    {"basalt lava", "basalt", false},
	    {"plate tectonics", "plate tectonic", true},
	    {"quartz", "", false},
	    {"quartz", "feldspar", false},
	    {"the", "", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(quiz_answer_matches(cases[i].expected, cases[i].given, strlen(cases[i].given)) ==
		       cases[i].match,
		   "'%s' %s '%s'", cases[i].given, cases[i].match ? "matches" : "does not match",
		   cases[i].expected);
	ok(!quiz_answer_matches("quartz", "quartz\0quartz", 13), "an embedded NUL is not a match");
	char big[QUIZ_ANSWER_MAX + 2];
	memset(big, 'a', sizeof(big));
	ok(!quiz_answer_matches("a", big, sizeof(big)), "an oversize answer is not a match");
}

static void test_types(void)
{
	is_long(quiz_type_parse("multiple_choice", 15), QUIZ_MULTIPLE_CHOICE, "multiple_choice");
	is_long(quiz_type_parse("true_false", 10), QUIZ_TRUE_FALSE, "true_false");
	is_long(quiz_type_parse("short_answer", 12), QUIZ_SHORT_ANSWER, "short_answer");
	is_long(quiz_type_parse("essay", 5), 0, "an unknown type");
	is_long(quiz_type_parse("true_false_x", 10), QUIZ_TRUE_FALSE, "parse reads len bytes");
	is_str(quiz_type_name(QUIZ_SHORT_ANSWER), "short_answer", "type name");
}

int main(void)
{
	test_types();
	test_grading();
	test_generate();
	return tap_done();
}
