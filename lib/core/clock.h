/* clock: the monotonic milliseconds the deadlines, time-outs and back-offs
 * of every area are measured in, and a sleep that a signal does not cut
 * short. */
#ifndef LECTERN_CLOCK_H
#define LECTERN_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long clock_ms(void);
/* The same in microseconds. */
long long clock_us(void);

/* Sleeps ms milliseconds (nothing for ms <= 0), resuming after signals. */
void clock_sleep_ms(long ms);

#endif
