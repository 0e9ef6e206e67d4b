/* watch.h — the main thread while a run goes: it takes the signals
 * (the other threads block them), ends the run at its deadline, and
 * keeps the progress line. A first SIGINT, SIGTERM, SIGHUP or SIGQUIT
 * stops claiming and gives the requests in flight a grace period; a
 * second one, or the end of the grace period, gives them up. SIGUSR1 and
 * SIGUSR2 print the progress line now. A deadline stops sending early
 * enough (twice the mean latency seen) for what is in flight to end by
 * it, and gives up the rest at the deadline itself.
 * Main thread only. */
#ifndef NIGHTSHIFT_WATCH_H
#define NIGHTSHIFT_WATCH_H

#include <signal.h>
#include <stdint.h>

struct progress;
struct runctx;

struct watch_opts {
	int64_t grace_ms;  /* after a first signal */
	int64_t start_ms;  /* monotonic ms the run started (before its
			      batch lane's first pass); 0: now */
	int64_t end_in_ms; /* the deadline, from start_ms; 0: none */
	int tty;	   /* progress as a redrawn line, or log lines */
};

/* watch_block_signals: block the signals above and SIGPIPE for the
 * threads about to start (they inherit the mask); *old gets the mask
 * before. */
void watch_block_signals(sigset_t *old);
/* watch_take_signals: the main thread takes the signals above from now
 * on and ignores SIGPIPE. */
void watch_take_signals(void);
/* watch_run: watch rc until its store has finished, keeping progress p;
 * returns 1 when the deadline stopped the run, else 0. */
int watch_run(struct runctx *rc, const struct watch_opts *o,
	      struct progress *p);

#endif
