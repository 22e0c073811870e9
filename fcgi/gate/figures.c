/* gate figures: what every process of the gate answered, in the pool's
 * shared metrics segment, written out for Prometheus. */
#include <stdio.h>

#include "gate.h"

/* Where each figure lives among the gate's counters. */
enum {
	FIG_CHECKS = 0, /* one per outcome */
	FIG_LATENCY = FIG_CHECKS + GATE_OUTCOMES,
	FIG_BATCH = FIG_LATENCY + METRICS_HISTOGRAM(GATE_LATENCY_BOUNDS),
	FIG_ACCEPTED = FIG_BATCH + METRICS_HISTOGRAM(GATE_BATCH_BOUNDS),
	FIG_REFUSED,
	FIG_DROPPED,
	FIG_TIMED_OUT,
	FIG_OPEN, /* one per process slot */
	FIG_END = FIG_OPEN + GATE_WORKERS_MAX
};
_Static_assert((size_t)FIG_END == (size_t)GATE_FIGURES, "GATE_FIGURES counts every figure");

/* A check takes a fraction of a millisecond unless Redis or the machine
 * is slow: microseconds, from 50 us to 1 s. */
static const long latency_us[GATE_LATENCY_BOUNDS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};
static const long batch_sizes[GATE_BATCH_BOUNDS] = {1, 2, 4, 8, 16, 32, 64, 128, GATE_BATCH_MAX};

void gate_figures_batch(const struct gate_verdict *v, size_t n, long elapsed_us)
{
	if (n == 0)
		return;
	/* Summed here first: a few shared additions per batch, not per check. */
	unsigned long by_outcome[GATE_OUTCOMES] = {0};
	for (size_t i = 0; i < n; i++)
		by_outcome[v[i].outcome < GATE_OUTCOMES ? v[i].outcome : GATE_ERROR]++;
	for (size_t o = 0; o < GATE_OUTCOMES; o++)
		if (by_outcome[o])
			metrics_add(FIG_CHECKS + o, by_outcome[o]);
	metrics_observe(FIG_LATENCY, latency_us, GATE_LATENCY_BOUNDS, elapsed_us, n);
	metrics_observe(FIG_BATCH, batch_sizes, GATE_BATCH_BOUNDS, (long)n, 1);
}

/* Adds how far a counter of this process moved since it was last added. */
static void add_since(size_t counter, unsigned long now, unsigned long seen)
{
	if (now != seen)
		metrics_add(counter, now - seen);
}

void gate_figures_mux(long slot, const struct fcgi_mux_stats *now, struct fcgi_mux_stats *seen)
{
	add_since(FIG_ACCEPTED, now->accepted, seen->accepted);
	add_since(FIG_REFUSED, now->refused, seen->refused);
	add_since(FIG_DROPPED, now->dropped, seen->dropped);
	add_since(FIG_TIMED_OUT, now->timed_out, seen->timed_out);
	/* A gauge per process slot, not a shared sum: the process that
	 * replaces one that died takes its slot and so overwrites the figure
	 * the dead one left. */
	if (slot >= 0 && slot < GATE_WORKERS_MAX)
		metrics_set(FIG_OPEN + (size_t)slot, now->open);
	*seen = *now;
}

static void counter(struct buf *out, const char *name, const char *help, size_t at)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s{service=\"gate\"} %lu\n", name, help,
	           name, name, metrics_get(at));
}

void gate_figures_write(struct buf *out)
{
	buf_puts(out, "# HELP lectern_gate_checks_total Checks the gate answered, by outcome "
	              "(reason) and the status it answered nginx.\n"
	              "# TYPE lectern_gate_checks_total counter\n");
	for (size_t o = 0; o < GATE_OUTCOMES; o++)
		buf_printf(
		    out,
		    "lectern_gate_checks_total{service=\"gate\",reason=\"%s\",status=\"%d\"} "
		    "%lu\n",
		    gate_outcome_name(o), gate_outcome_status(o), metrics_get(FIG_CHECKS + o));
	metrics_write_histogram(out, "lectern_gate_check_duration_seconds",
	                        "Time from the start of a check's batch to its answer.",
	                        "service=\"gate\"", FIG_LATENCY, latency_us, GATE_LATENCY_BOUNDS,
	                        1e6);
	metrics_write_histogram(out, "lectern_gate_batch_size", "Checks decided together.",
	                        "service=\"gate\"", FIG_BATCH, batch_sizes, GATE_BATCH_BOUNDS, 1);
	counter(out, "lectern_gate_connections_accepted_total", "Connections accepted.",
	        FIG_ACCEPTED);
	counter(out, "lectern_gate_connections_refused_total",
	        "Connections closed at once: a process had LECTERN_GATE_CONNECTIONS open.",
	        FIG_REFUSED);
	counter(out, "lectern_gate_connections_dropped_total", "Connections closed for bad input.",
	        FIG_DROPPED);
	counter(out, "lectern_gate_connections_timed_out_total",
	        "Connections closed by the read or the idle timeout.", FIG_TIMED_OUT);
	unsigned long open = 0;
	for (size_t i = 0; i < GATE_WORKERS_MAX; i++)
		open += metrics_get(FIG_OPEN + i);
	buf_printf(out,
	           "# HELP lectern_gate_connections_open Connections open now.\n"
	           "# TYPE lectern_gate_connections_open gauge\n"
	           "lectern_gate_connections_open{service=\"gate\"} %lu\n",
	           open);
	metrics_write_errors(out, "gate");
}
