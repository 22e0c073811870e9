/* TextRank pinned: texts whose central sentences are known by construction.
 *
 * Each text has a few theme words. Spoke sentences use two of them each;
 * hub sentences use all of them, so in the similarity graph the hubs touch
 * every spoke and are its centre. Off-topic sentences share no word with
 * anything. The hubs are placed neither first nor last and are the shortest
 * candidates, while the off-topic sentences are the longest and come first:
 * a ranking by document order, by word count or by chance picks other
 * sentences, and these checks fail (docs/design.md, "The text engine"). */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "tap.h"
#include "text/notes.h"

struct text_case {
	const char *name;
	const char *const *sentences; /* NULL-terminated, in document order */
	const char *const *hubs;      /* the central ones: all in the summary */
	const char *const *off;       /* off-topic: neither in the summary nor a key point */
};

/* Geology: theme words glacier, river, valley, sediment, erosion. */
static const char *const geo[] = {
    "Yesterday the curator of the municipal museum rearranged antique porcelain vases beside "
    "several dusty Victorian clocks near the eastern staircase of the old building.",
    "Tourists visiting the coastal town usually buy painted postcards, salted caramel fudge "
    "and knitted woollen scarves from tiny shops lining the harbour promenade.",
    "Glaciers move slowly and deepen the valley they occupy over millennia.",
    "Rivers carry sediment downstream toward lakes, deltas and the open sea.",
    "Erosion is strongest where fast rivers cut through soft rock layers.",
    "Glaciers and rivers shape a valley through erosion and sediment.",
    "Sediment settles on the valley floor when flowing water finally slows down.",
    "Glaciers also cause erosion by plucking loose boulders from steep mountainsides.",
    "Erosion by rivers and glaciers moves sediment along the valley.",
    "Meltwater from glaciers feeds many rivers during warm summer months.",
    "The choir rehearsed a cheerful madrigal twice before the evening concert began in the "
    "candlelit chapel facing the cathedral square.",
    NULL};
static const char *const geo_hubs[] = {
    "Glaciers and rivers shape a valley through erosion and sediment.",
    "Erosion by rivers and glaciers moves sediment along the valley.", NULL};
static const char *const geo_off[] = {"curator", "Tourists", "choir", NULL};

/* Cells: theme words cell, membrane, protein, energy, nucleus. */
static const char *const bio[] = {
    "Our neighbour's grey parrot whistles an old sailors' tune whenever somebody opens the "
    "squeaky garden gate behind the greenhouse.",
    "Each cell is wrapped in a thin membrane of fatty molecules.",
    "The nucleus stores instructions for building every protein the organism needs.",
    "Mitochondria release energy that powers each cell through the day.",
    "Protein pumps in the membrane spend energy to move ions across it.",
    "Pores in the membrane around the nucleus let large molecules pass.",
    "Signals from the nucleus tell ribosomes which protein to assemble next.",
    "Every cell uses energy to copy its nucleus, membrane and protein.",
    "Cell, membrane, nucleus and protein all depend on steady energy.",
    "The bakery on the corner sells warm cinnamon rolls, rye loaves and sourdough baguettes "
    "every Saturday morning until noon.",
    NULL};
static const char *const bio_hubs[] = {
    "Every cell uses energy to copy its nucleus, membrane and protein.",
    "Cell, membrane, nucleus and protein all depend on steady energy.", NULL};
static const char *const bio_off[] = {"parrot", "bakery", NULL};

static void check(const struct text_case *c)
{
	struct pool *pool = pool_new();
	struct buf text;
	buf_init(&text);
	for (size_t i = 0; c->sentences[i]; i++)
		buf_printf(&text, "%s%s", i ? " " : "", c->sentences[i]);
	struct notes n;
	if (!ok(notes_extract(pool, text.data, text.len, &n) == ERR_OK, "%s: notes", c->name))
		goto out;
	for (size_t i = 0; c->hubs[i]; i++)
		if (!ok(strstr(n.summary, c->hubs[i]) != NULL,
		        "%s: central sentence %zu is in the summary", c->name, i + 1))
			tap_diag("summary: %s", n.summary);
	const char *points = strstr(n.markdown, "## Key points");
	for (size_t i = 0; c->off[i]; i++) {
		ok(strstr(n.summary, c->off[i]) == NULL, "%s: the off-topic \"%s\" sentence is not",
		   c->name, c->off[i]);
		ok(points && strstr(points, c->off[i]) == NULL, "%s: nor a key point", c->name);
	}
	/* The summary is the hubs and at most one spoke. */
	size_t sentences = 0;
	for (const char *p = n.summary; (p = strchr(p, '.')); p++)
		sentences++;
	ok(sentences >= 2 && sentences <= NOTES_SUMMARY_SENTENCES, "%s: %zu summary sentences",
	   c->name, sentences);
out:
	buf_clear(&text);
	pool_free(pool);
}

int main(void)
{
	const struct text_case cases[] = {
	    {"geology", geo, geo_hubs, geo_off},
	    {"cells", bio, bio_hubs, bio_off},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	return tap_done();
}
