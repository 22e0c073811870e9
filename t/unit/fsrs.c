/* Unit tests for fsrs: FSRS-5 against values worked by hand from the
 * published formulas and default weights (fsrs.h), for fixed review
 * sequences: the first review of each rating, a review card's four
 * outcomes, a streak of "good" answers each on its due day, a lapse and
 * the relearning step after it; then states, retention and refusals. */
#include <math.h>

#include "tap.h"
#include "text/fsrs.h"

static bool near(double got, double want, double tol, const char *name)
{
	bool good = fabs(got - want) <= tol;
	if (!good)
		tap_diag("%s: got %.9f, want %.9f", name, got, want);
	return tap_ok(good, "%s", name);
}

int main(void)
{
	struct fsrs_card fresh = {FSRS_NEW, 0, 0};
	struct fsrs_outcome o[4];
	tap_ok(fsrs_next(NULL, &fresh, 0, 0.9, o), "a new card is scheduled");
	/* First review: S = w[G-1]; D0(G) = w4 - e^(w5 (G-1)) + 1:
	 *   D0(1) = 7.1949 - 1 + 1 = 7.1949
	 *   D0(2) = 7.1949 - e^0.5345 + 1 = 7.1949 - 1.706595 + 1 = 6.488305
	 *   D0(3) = 7.1949 - e^1.069 + 1 = 7.1949 - 2.912466 + 1 = 5.282434
	 *   D0(4) = 7.1949 - e^1.6035 + 1 = 7.1949 - 4.970398 + 1 = 3.224502
	 * and I = S at r = 0.9, rounded: hard 1, good 3, easy 16 days. */
	static const double s0[] = {0.40255, 1.18385, 3.173, 15.69105};
	static const double d0[] = {7.1949, 6.488305, 5.282434, 3.224502};
	static const double days0[] = {10.0 / 1440, 1, 3, 16};
	for (int g = 0; g < 4; g++) {
		near(o[g].card.stability, s0[g], 1e-9, "first review: S0 is w[G-1]");
		near(o[g].card.difficulty, d0[g], 1e-6, "first review: D0(G)");
		near(o[g].interval_days, days0[g], 1e-9, "first review: interval");
	}
	tap_is_long(o[0].card.state, FSRS_LEARNING, "new + again: learning");
	for (int g = 1; g < 4; g++)
		tap_is_long(o[g].card.state, FSRS_REVIEW, "new + hard/good/easy: review");

	/* A card first rated good (S 3.173, D 5.282434), reviewed on its due
	 * day 3: R = (1 + 19/81 * 3/3.173)^-0.5 = 0.904698.
	 *   good: S' = S (1 + e^1.54575 (11 - D) S^-0.1192 (e^(1.01925 * 0.095302) - 1))
	 *        = 3.173 (1 + 4.691736 * 5.717566 * 0.871360 * 0.101913) = 10.738926,
	 *        D' = 0.0046 D0(4) + 0.9954 D = 5.272968 (no damping at G = 3); 11 days.
	 *   hard: the same increase times w15 = 0.2315: S' = 4.924512, 5 days;
	 *        D' = D + 1.4604 (10 - D)/9 = 6.048 before reversion: 6.034950.
	 *   easy: times w16 = 2.9898: S' = 25.793605, 26 days; D' = 4.510986.
	 *   again: S' = 1.9395 D^-0.11 ((S + 1)^0.29605 - 1) e^(2.2698 * 0.095302)
	 *        = 1.055561, D' = 6.796933; relearning in ten minutes. */
	struct fsrs_card c = {FSRS_REVIEW, 3.173, 5.282434422319005};
	tap_ok(fsrs_next(NULL, &c, 3, 0.9, o), "a review card is scheduled");
	near(fsrs_retrievability(3, 3.173), 0.904698, 1e-6, "R after 3 days at S 3.173");
	static const double s1[] = {1.055561, 4.924512, 10.738926, 25.793605};
	static const double d1[] = {6.796933, 6.034950, 5.272968, 4.510986};
	static const double days1[] = {10.0 / 1440, 5, 11, 26};
	for (int g = 0; g < 4; g++) {
		near(o[g].card.stability, s1[g], 1e-5, "review after 3 days: S'");
		near(o[g].card.difficulty, d1[g], 1e-5, "review after 3 days: D'");
		near(o[g].interval_days, days1[g], 1e-9, "review after 3 days: interval");
	}
	tap_is_long(o[0].card.state, FSRS_RELEARNING, "review + again: relearning");
	tap_is_long(o[2].card.state, FSRS_REVIEW, "review + good: review");

	/* A streak of good answers, each on the day it falls due: stability
	 * grows 3.173 -> 10.74 -> 34.58 -> 100.75 -> 269.28 -> 669.31 ->
	 * 1563.24, each R near 0.9, difficulty creeping towards D0(4). */
	static const struct {
		double s, d;
		long next;
	} streak[] = {
	    {10.738926, 5.272968, 11},   {34.577624, 5.263545, 35},   {100.748313, 5.254165, 101},
	    {269.283835, 5.244829, 269}, {669.309326, 5.235535, 669}, {1563.237654, 5.226285, 1563},
	};
	c = (struct fsrs_card){FSRS_REVIEW, 3.173, 5.282434422319005};
	double due = 3;
	for (size_t i = 0; i < sizeof(streak) / sizeof(streak[0]); i++) {
		tap_ok(fsrs_next(NULL, &c, due, 0.9, o), "streak review %zu", i + 1);
		c = o[2].card;
		near(c.stability, streak[i].s, 1e-4, "streak: S");
		near(c.difficulty, streak[i].d, 1e-5, "streak: D");
		tap_is_long((long)o[2].interval_days, streak[i].next, "streak: next interval");
		due = o[2].interval_days;
	}
	/* A lapse after it: two more goods (S 3453.862, then 7261.137 at
	 * 3454 days), forgotten on the due day 7261 (R = 0.9000016):
	 * S' = 1.9395 D^-0.11 (7262.137^0.29605 - 1) e^(2.2698 * 0.0999984)
	 * = 26.186565, D' = 6.746826. Ten minutes later, good on the same
	 * day: S'' = S' e^(0.51655 * 0.6621) = 36.864693, 37 days. */
	for (int i = 0; i < 2; i++) {
		tap_ok(fsrs_next(NULL, &c, due, 0.9, o), "streak goes on");
		c = o[2].card;
		due = o[2].interval_days;
	}
	near(c.stability, 7261.136993, 1e-3, "eighth good: S");
	tap_ok(fsrs_next(NULL, &c, due, 0.9, o), "the lapse is scheduled");
	near(o[0].card.stability, 26.186565, 1e-4, "lapse: forget stability");
	near(o[0].card.difficulty, 6.746826, 1e-5, "lapse: difficulty up");
	tap_is_long(o[0].card.state, FSRS_RELEARNING, "lapse: relearning");
	c = o[0].card;
	tap_ok(fsrs_next(NULL, &c, 10.0 / 1440, 0.9, o), "relearning is scheduled");
	near(o[2].card.stability, 36.864693, 1e-4, "same-day good: short-term stability");
	near(o[2].card.difficulty, 6.730623, 1e-5, "same-day good: difficulty");
	tap_is_long((long)o[2].interval_days, 37, "relearned: 37 days");
	tap_is_long(o[2].card.state, FSRS_REVIEW, "relearned: review");
	tap_is_long(o[0].card.state, FSRS_RELEARNING, "relearning + again: relearning");
	struct fsrs_card learning = {FSRS_LEARNING, 0.40255, 7.1949};
	tap_ok(fsrs_next(NULL, &learning, 0.01, 0.9, o), "learning card");
	tap_is_long(o[0].card.state, FSRS_LEARNING, "learning + again: learning");
	tap_is_long(o[2].card.state, FSRS_REVIEW, "learning + good: review");

	/* Retention: I = S / (19/81) (r^-2 - 1). */
	tap_is_long(fsrs_interval(3.173, 0.9), 3, "S 3.173 at 0.90: 3 days");
	tap_is_long(fsrs_interval(3.173, 0.7), 14, "S 3.173 at 0.70: 14 days");
	tap_is_long(fsrs_interval(3.173, 0.97), 1, "S 3.173 at 0.97: 1 day");
	tap_is_long(fsrs_interval(100, 0.8), 240, "S 100 at 0.80: 240 days");
	tap_is_long(fsrs_interval(1e9, 0.9), FSRS_MAX_DAYS, "intervals stop at 100 years");
	tap_is_long(fsrs_interval(0.01, 0.9), 1, "intervals are at least a day");

	/* Refusals. */
	tap_ok(!fsrs_next(NULL, &fresh, 0, 1.0, o), "retention 1 is refused");
	tap_ok(!fsrs_next(NULL, &fresh, 0, 0.0, o), "retention 0 is refused");
	tap_ok(!fsrs_next(NULL, &fresh, 0, NAN, o), "retention NaN is refused");
	tap_ok(!fsrs_next(NULL, &fresh, -1, 0.9, o), "negative elapsed time is refused");
	struct fsrs_card broken = {FSRS_REVIEW, 0, 5};
	tap_ok(!fsrs_next(NULL, &broken, 1, 0.9, o), "a review card without stability is refused");
	tap_is_str(fsrs_state_name(FSRS_RELEARNING), "relearning", "state names");
	tap_is_long(fsrs_state_parse("review"), FSRS_REVIEW, "state parse");
	tap_is_long(fsrs_state_parse("bogus"), -1, "unknown state");
	return tap_done();
}
