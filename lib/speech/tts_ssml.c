/* tts_ssml: the SSML subset, parsed safely with libxml2.
 *
 * A document type declaration is refused before parsing (no entity can be
 * declared, so neither a billion laughs nor an external entity exists), the
 * parser runs without the network, DTD loading or entity substitution, and
 * the tree is walked against a fixed list of elements and attributes. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "speech/tts.h"

enum { SSML_DEPTH_MAX = 32, P_PAUSE_MS = 400, S_PAUSE_MS = 150 };
#define RATE_MIN 0.5 /* prosody's x-slow and 50% */
#define RATE_MAX 2.0 /* 200% */

struct walk {
	struct pool *pool;
	struct tts_script *s;
	const char *problem;
};

static bool name_is(const xmlNode *n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

/* Only the attributes listed (space-separated) may appear on n. */
static bool attrs_ok(const xmlNode *n, const char *allowed)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		const char *name = (const char *)a->name;
		size_t len = strlen(name);
		const char *p = allowed;
		bool found = false;
		while (!found && (p = strstr(p, name)) != NULL) {
			found = (p == allowed || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0');
			p += len;
		}
		if (!found)
			return false;
	}
	return true;
}

static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, name) == 0 && a->children != NULL &&
		    a->children->type == XML_TEXT_NODE)
			return (const char *)a->children->content;
	return NULL;
}

/* "500ms", "2s", "1.5s" to milliseconds; -1 when malformed. */
static long parse_time(const char *t)
{
	char *end = NULL;
	double v = strtod(t, &end);
	if (end == t || !(v >= 0) || isinf(v)) /* "nan" and "inf" parse too */
		return -1;
	if (strcmp(end, "ms") == 0)
		return v > TTS_PAUSE_MAX_MS ? TTS_PAUSE_MAX_MS : (long)v;
	if (strcmp(end, "s") == 0)
		return v * 1000 > TTS_PAUSE_MAX_MS ? TTS_PAUSE_MAX_MS : (long)(v * 1000);
	return -1;
}

static long break_ms(const xmlNode *n)
{
	const char *time = attr(n, "time"), *strength = attr(n, "strength");
	if (time != NULL)
		return parse_time(time);
	static const char *const names[] = {"none",   "x-weak", "weak",
	                                    "medium", "strong", "x-strong"};
	static const long ms[] = {0, 100, 250, 500, 750, 1200};
	if (strength == NULL)
		return 500;
	for (size_t i = 0; i < 6; i++)
		if (strcmp(strength, names[i]) == 0)
			return ms[i];
	return -1;
}

/* prosody rate: a keyword or a percentage (50%..200%); 0 when malformed. */
static double parse_rate(const char *r)
{
	static const char *const names[] = {"x-slow", "slow",   "medium",
	                                    "fast",   "x-fast", "default"};
	static const double rates[] = {0.5, 0.75, 1.0, 1.25, 1.6, 1.0};
	for (size_t i = 0; i < 6; i++)
		if (strcmp(r, names[i]) == 0)
			return rates[i];
	char *end = NULL;
	double v = strtod(r, &end);
	if (end != r && strcmp(end, "%") == 0 && v >= 50 && v <= 200)
		return v / 100;
	return 0;
}

static bool walk(struct walk *w, const xmlNode *first, double rate, bool spell, int depth)
{
	if (depth > SSML_DEPTH_MAX) {
		w->problem = "SSML is nested too deeply";
		return false;
	}
	for (const xmlNode *n = first; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			const char *t = (const char *)n->content;
			tts_script_add(w->pool, w->s, t, strlen(t), rate, spell, 0);
			continue;
		}
		if (n->type == XML_COMMENT_NODE)
			continue;
		if (n->type != XML_ELEMENT_NODE) {
			w->problem = "SSML may hold only elements, text and comments";
			return false;
		}
		if (n->ns != NULL && n->ns->href != NULL &&
		    strcmp((const char *)n->ns->href, "http://www.w3.org/2001/10/synthesis") != 0) {
			w->problem = "SSML elements must be in the SSML namespace";
			return false;
		}
		if (name_is(n, "break")) {
			long ms = attrs_ok(n, "time strength") ? break_ms(n) : -1;
			if (ms < 0 || n->children != NULL) {
				w->problem = "break takes time (\"500ms\", \"2s\") or strength";
				return false;
			}
			tts_script_add(w->pool, w->s, "", 0, rate, spell, ms > 0 ? ms : 1);
		} else if (name_is(n, "p") || name_is(n, "s")) {
			if (!attrs_ok(n, "") || !walk(w, n->children, rate, spell, depth + 1)) {
				w->problem = w->problem ? w->problem : "p and s take no attributes";
				return false;
			}
			tts_script_add(w->pool, w->s, "", 0, rate, spell,
			               name_is(n, "p") ? P_PAUSE_MS : S_PAUSE_MS);
		} else if (name_is(n, "prosody")) {
			const char *r = attr(n, "rate");
			double v = r ? parse_rate(r) : 1.0;
			if (!attrs_ok(n, "rate") || v <= 0) {
				w->problem = "prosody takes rate: x-slow..x-fast or 50%..200%";
				return false;
			}
			/* Nested rates multiply, within what one may ask for. */
			double nested = rate * v;
			nested = nested < RATE_MIN   ? RATE_MIN
			         : nested > RATE_MAX ? RATE_MAX
			                             : nested;
			if (!walk(w, n->children, nested, spell, depth + 1))
				return false;
		} else if (name_is(n, "say-as")) {
			const char *as = attr(n, "interpret-as");
			if (!attrs_ok(n, "interpret-as format detail") || as == NULL) {
				w->problem = "say-as takes interpret-as";
				return false;
			}
			bool sp = strcmp(as, "characters") == 0 || strcmp(as, "spell-out") == 0;
			if (!walk(w, n->children, rate, sp, depth + 1))
				return false;
		} else {
			w->problem = "SSML supports speak, p, s, break, prosody and say-as only";
			return false;
		}
	}
	return true;
}

enum err tts_script_ssml(struct pool *pool, const char *xml, size_t len, struct tts_script *out,
                         const char **problem)
{
	memset(out, 0, sizeof(*out));
	*problem = NULL;
	/* No DOCTYPE means no entity declarations: nothing to expand or fetch. */
	for (size_t i = 0; i + 2 < len; i++)
		if (xml[i] == '<' && xml[i + 1] == '!' && xml[i + 2] != '-' && xml[i + 2] != '[') {
			*problem = "SSML may not declare a document type or entities";
			return ERR_INVALID;
		}
	if (len > (size_t)TTS_TEXT_MAX * 4) {
		*problem = "SSML is too long";
		return ERR_INVALID;
	}
	xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, "UTF-8",
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                                XML_PARSE_NOCDATA);
	if (doc == NULL) {
		*problem = "SSML is not well-formed XML";
		return ERR_INVALID;
	}
	enum err e = ERR_OK;
	const xmlNode *root = xmlDocGetRootElement(doc);
	struct walk w = {pool, out, NULL};
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		*problem = "SSML may not declare a document type or entities";
		e = ERR_INVALID;
	} else if (root == NULL || !name_is(root, "speak") ||
	           !attrs_ok(root, "version lang xmlns base")) {
		*problem = "SSML must be one <speak> element";
		e = ERR_INVALID;
	} else if (!walk(&w, root->children, 1.0, false, 0)) {
		*problem = w.problem;
		e = ERR_INVALID;
	} else if (out->characters == 0) {
		*problem = "SSML has no text to speak";
		e = ERR_INVALID;
	}
	xmlFreeDoc(doc);
	return e;
}
