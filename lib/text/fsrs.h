/* fsrs: the FSRS-5 spaced-repetition scheduler (pure arithmetic, no I/O).
 *
 * FSRS models a memory by its difficulty D (1..10), its stability S (days
 * until recall falls to 90%) and its retrievability R(t, S) =
 * (1 + FACTOR * t / S)^DECAY with DECAY = -0.5 and FACTOR = 19/81. After a
 * rating G (1 again, 2 hard, 3 good, 4 easy) it follows the published
 * FSRS-5 formulas (open-spaced-repetition, "The Algorithm"):
 *   - first review: S = w[G-1], D = D0(G) = w4 - e^(w5 (G-1)) + 1;
 *   - later reviews: D' = D - w6 (G-3) (10-D)/9 (linear damping), then
 *     mean reversion D'' = w7 D0(4) + (1-w7) D', clamped to 1..10;
 *   - a review less than a day after the last one (same day): S' = S
 *     e^(w17 (G-3+w18));
 *   - a later success: S' = S (1 + e^w8 (11-D) S^-w9 (e^(w10 (1-R)) - 1)
 *     * w15 if hard * w16 if easy);
 *   - a later lapse: S' = w11 D^-w12 ((S+1)^w13 - 1) e^(w14 (1-R)), never
 *     above the S it had.
 * The interval for a desired retention r is I = S / FACTOR (r^(1/DECAY) - 1)
 * days (I = S at r = 0.9), rounded to whole days within 1..FSRS_MAX_DAYS,
 * kept in the order hard <= good < easy.
 *
 * Lectern's states (docs/design.md, "Flashcards"): a new card rated again
 * goes to learning, a review card rated again to relearning; either comes
 * back after FSRS_RELEARN_MINUTES. Hard, good and easy always schedule the
 * card in whole days and make it a review card. No fuzz: the same history
 * always gives the same dates. */
#ifndef LECTERN_FSRS_H
#define LECTERN_FSRS_H

#include <stdbool.h>

enum {
	FSRS_WEIGHTS = 19,        /* w0..w18 of FSRS-5 */
	FSRS_MAX_DAYS = 36500,    /* longest interval */
	FSRS_RELEARN_MINUTES = 10 /* an "again" card comes back this soon */
};

enum fsrs_rating { FSRS_AGAIN = 1, FSRS_HARD = 2, FSRS_GOOD = 3, FSRS_EASY = 4 };

enum fsrs_state { FSRS_NEW, FSRS_LEARNING, FSRS_REVIEW, FSRS_RELEARNING };

/* FSRS-5's default weights. */
extern const double fsrs_default_weights[FSRS_WEIGHTS];

/* A card's memory as the scheduler sees it. */
struct fsrs_card {
	enum fsrs_state state;
	double stability;  /* days; 0 for a new card */
	double difficulty; /* 1..10; 0 for a new card */
};

/* What one rating does to a card. */
struct fsrs_outcome {
	struct fsrs_card card;
	double interval_days; /* the time until the card is due again, in days
	                         (FSRS_RELEARN_MINUTES / 1440 for again) */
};

/* The retrievability after elapsed days at stability s (> 0). */
double fsrs_retrievability(double elapsed_days, double s);
/* The whole-day interval (1..FSRS_MAX_DAYS) for stability s at desired
 * retention r (0 < r < 1). */
long fsrs_interval(double s, double r);
/* The initial difficulty of rating g, not clamped (D0(4) is the mean
 * reversion's target). */
double fsrs_initial_difficulty(const double *w, int g);

/* The outcomes of all four ratings of card after elapsed_days (>= 0, the
 * time since its last review; ignored for a new card) at desired retention
 * r; out[0] is again, out[3] easy. w is FSRS_WEIGHTS long (NULL: the
 * defaults). False when an argument is out of range (rating, r outside
 * (0, 1), a reviewed card without stability). */
bool fsrs_next(const double *w, const struct fsrs_card *card, double elapsed_days, double r,
               struct fsrs_outcome out[4]);

/* The API name of a state ("new", "learning", "review", "relearning"), and
 * the state a name stands for (-1 when none). */
const char *fsrs_state_name(enum fsrs_state s);
int fsrs_state_parse(const char *name);

#endif
