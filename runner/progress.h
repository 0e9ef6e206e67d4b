/* progress.h — what `nightshift run` shows while it goes: on a terminal,
 * one line redrawn every half second (done/total, dead, rate, ETA,
 * requests, retries, spend, and which provider asked to wait until
 * when); otherwise a plain log line every 10 s; and the same figures
 * once more at the end.
 * Main thread only. */
#ifndef NIGHTSHIFT_PROGRESS_H
#define NIGHTSHIFT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct runctx;

struct progress {
	int tty;	    /* redraw one line, or log lines */
	int64_t t0;	    /* monotonic ms at the start */
	int64_t last_print; /* monotonic ms of the last line; 0 none */
	int64_t *said;	    /* per provider: the end of the last wait said
			       (epoch ms); freed by progress_end */
};

/* A provider's Retry-After wait longer than this is said, with when it
 * ends: a log line when it starts (or grows by a minute or more), and a
 * part of each progress line while it lasts. */
#define PROGRESS_HOLD_SAY_MS 30000

/* progress_start: begin at monotonic now_ms. */
void progress_start(struct progress *p, int tty, int64_t now_ms);
/* progress_tick: print rc's figures if a line is due at now_ms. */
void progress_tick(struct progress *p, const struct runctx *rc,
		   int64_t now_ms);
/* progress_now: print rc's figures now, due or not (SIGUSR1). */
void progress_now(struct progress *p, const struct runctx *rc,
		  int64_t now_ms);
/* progress_end: the last line, ended with a newline; frees p->said. */
void progress_end(struct progress *p, const struct runctx *rc,
		  int64_t now_ms);
/* progress_eta: secs as "M:SS" or "H:MM:SS" ("--:--" when unknown: < 0
 * or past 99 h) into buf. */
void progress_eta(char *buf, size_t n, double secs);

/* progress_clock: epoch_ms as local "HH:MM:SS" (the clock --deadline
 * reads) into buf. */
void progress_clock(char *buf, size_t n, int64_t epoch_ms);

#endif
