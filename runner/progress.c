/* progress.c — the run's progress line (see progress.h). */
#include "runner/progress.h"

#include <stdatomic.h>
#include <stdio.h>

#include "runner/runctx.h"
#include "util/timeparse.h"

void progress_eta(char *buf, size_t n, double secs)
{
	if (secs < 0 || secs > 99 * 3600)
		snprintf(buf, n, "--:--");
	else
		tp_hms(buf, n, (long long)secs);
}

static void line(const struct progress *p, const struct runctx *rc,
		 int64_t now_ms, int final)
{
	long long done = atomic_load(&rc->n_done);
	long long dead = atomic_load(&rc->n_dead);
	long long fin = done + dead;
	double secs = (double)(now_ms - p->t0) / 1000.0;
	double rate = secs > 0 ? (double)fin / secs : 0;
	/* Jobs ingested while the run goes are claimed too: the total
	 * grows with them rather than being passed. */
	long long total = rc->total_at_start > fin ? rc->total_at_start : fin;
	char eta[32];

	progress_eta(eta, sizeof(eta),
		     rate > 0 ? (double)(total - fin) / rate : -1);
	fprintf(stderr,
		"%s%lld/%lld done, %lld dead, %.1f jobs/s, ETA %s, "
		"%lld requests, %lld retries, $%.6f%s",
		p->tty ? "\r\033[K" : "nightshift run: ", done, total, dead,
		rate, eta, atomic_load(&rc->n_requests),
		atomic_load(&rc->n_retries),
		atomic_load(&rc->spend_usd),
		p->tty && !final ? "" : "\n");
}

void progress_start(struct progress *p, int tty, int64_t now_ms)
{
	p->tty = tty;
	p->t0 = now_ms;
	p->last_print = 0;
}

void progress_tick(struct progress *p, const struct runctx *rc,
		   int64_t now_ms)
{
	if (now_ms - p->last_print < (p->tty ? 500 : 10000))
		return;
	/* the first tick only starts the clock: no line of zeros */
	if (p->last_print)
		line(p, rc, now_ms, 0);
	p->last_print = now_ms;
}

void progress_now(struct progress *p, const struct runctx *rc,
		  int64_t now_ms)
{
	line(p, rc, now_ms, 0);
	p->last_print = now_ms;
}

void progress_end(struct progress *p, const struct runctx *rc,
		  int64_t now_ms)
{
	line(p, rc, now_ms, 1);
}
