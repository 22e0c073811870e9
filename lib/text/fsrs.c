/* fsrs: FSRS-5 arithmetic (see fsrs.h for the formulas and the states). */
#include "text/fsrs.h"

#include <math.h>
#include <string.h>

/* FSRS-5's published defaults, w0..w18. */
const double fsrs_default_weights[FSRS_WEIGHTS] = {
    0.40255, 1.18385, 3.173, 15.69105, 7.1949, 0.5345, 1.4604, 0.0046,  1.54575, 0.1192,
    1.01925, 1.9395,  0.11,  0.29605,  2.2698, 0.2315, 2.9898, 0.51655, 0.6621,
};

static const double DECAY = -0.5;
static const double FACTOR = 19.0 / 81.0; /* 0.9^(1/DECAY) - 1: R(S, S) = 0.9 */
static const double S_MIN = 0.01;         /* no memory is weaker than a quarter hour */

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

double fsrs_retrievability(double elapsed_days, double s)
{
	return pow(1.0 + FACTOR * elapsed_days / s, DECAY);
}

long fsrs_interval(double s, double r)
{
	double days = s / FACTOR * (pow(r, 1.0 / DECAY) - 1.0);
	return (long)clamp(round(days), 1, FSRS_MAX_DAYS);
}

double fsrs_initial_difficulty(const double *w, int g)
{
	return w[4] - exp(w[5] * (g - 1)) + 1.0;
}

/* D after rating g: linear damping towards 10, then mean reversion to D0(4). */
static double next_difficulty(const double *w, double d, int g)
{
	double damped = d - w[6] * (g - 3) * (10.0 - d) / 9.0;
	double reverted = w[7] * fsrs_initial_difficulty(w, FSRS_EASY) + (1.0 - w[7]) * damped;
	return clamp(reverted, 1, 10);
}

static double recall_stability(const double *w, double d, double s, double r, int g)
{
	double bonus = g == FSRS_HARD ? w[15] : g == FSRS_EASY ? w[16] : 1.0;
	return s * (1.0 + exp(w[8]) * (11.0 - d) * pow(s, -w[9]) * (exp(w[10] * (1.0 - r)) - 1.0) *
	                      bonus);
}

static double forget_stability(const double *w, double d, double s, double r)
{
	double f = w[11] * pow(d, -w[12]) * (pow(s + 1.0, w[13]) - 1.0) * exp(w[14] * (1.0 - r));
	return f < s ? f : s;
}

bool fsrs_next(const double *w, const struct fsrs_card *card, double elapsed_days, double r,
               struct fsrs_outcome out[4])
{
	if (!w)
		w = fsrs_default_weights;
	if (!(r > 0.0 && r < 1.0) || !(elapsed_days >= 0.0))
		return false;
	bool fresh = card->state == FSRS_NEW;
	if (!fresh && !(card->stability > 0.0 && card->difficulty >= 1.0))
		return false;
	double rec = fresh ? 0.0 : fsrs_retrievability(elapsed_days, card->stability);
	long days[4] = {0};
	for (int g = FSRS_AGAIN; g <= FSRS_EASY; g++) {
		struct fsrs_outcome *o = &out[g - 1];
		double s, d;
		if (fresh) {
			s = w[g - 1];
			d = clamp(fsrs_initial_difficulty(w, g), 1, 10);
		} else {
			d = next_difficulty(w, card->difficulty, g);
			if (elapsed_days < 1.0)
				s = card->stability * exp(w[17] * (g - 3 + w[18]));
			else if (g == FSRS_AGAIN)
				s = forget_stability(w, card->difficulty, card->stability, rec);
			else
				s = recall_stability(w, card->difficulty, card->stability, rec, g);
		}
		o->card.stability = s < S_MIN ? S_MIN : s;
		o->card.difficulty = d;
		if (g == FSRS_AGAIN) {
			o->card.state = card->state == FSRS_REVIEW || card->state == FSRS_RELEARNING
			                    ? FSRS_RELEARNING
			                    : FSRS_LEARNING;
			o->interval_days = FSRS_RELEARN_MINUTES / 1440.0;
		} else {
			o->card.state = FSRS_REVIEW;
			days[g - 1] = fsrs_interval(o->card.stability, r);
		}
	}
	/* Hard never waits longer than good, and easy always longer. */
	if (days[1] > days[2])
		days[1] = days[2];
	if (days[2] <= days[1])
		days[2] = days[1] + 1;
	if (days[3] <= days[2])
		days[3] = days[2] + 1;
	for (int g = FSRS_HARD; g <= FSRS_EASY; g++) {
		if (days[g - 1] > FSRS_MAX_DAYS)
			days[g - 1] = FSRS_MAX_DAYS;
		out[g - 1].interval_days = (double)days[g - 1];
	}
	return true;
}

static const char *const state_names[] = {"new", "learning", "review", "relearning"};

const char *fsrs_state_name(enum fsrs_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "new";
}

int fsrs_state_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}
