/* progress.c — the run's progress line (see progress.h). */
#include "runner/progress.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runner/config.h"
#include "runner/runctx.h"
#include "util/clock.h"
#include "util/timeparse.h"
#include "util/xalloc.h"

void progress_eta(char *buf, size_t n, double secs)
{
	if (secs < 0 || secs > 99 * 3600)
		snprintf(buf, n, "--:--");
	else
		tp_hms(buf, n, (long long)secs);
}

void progress_clock(char *buf, size_t n, int64_t epoch_ms)
{
	time_t t = (time_t)(epoch_ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, n, "%H:%M:%S", &tm))
		snprintf(buf, n, "?");
}

/* held: provider i's Retry-After wait, if one worth saying lasts at wall
 * (epoch ms): its end, else 0. */
static int64_t held(const struct runctx *rc, size_t i, int64_t wall)
{
	int64_t until = rc->held_until ? atomic_load(&rc->held_until[i]) : 0;

	return until - wall > PROGRESS_HOLD_SAY_MS ? until : 0;
}

/* say_holds: a line for each provider that has asked the run to wait
 * longer than before (a 429's or 503's Retry-After): who, and until when,
 * so that an idle run says why (issue 17: an hour's wait showed only
 * "ETA --:--"). */
static void say_holds(struct progress *p, const struct runctx *rc)
{
	size_t n = rc->cfg->nprovs;
	int64_t wall = clk_wall_ms();

	if (!rc->held_until)
		return;
	if (!p->said)
		p->said = xcalloc(n ? n : 1, sizeof(*p->said));
	for (size_t i = 0; i < n; i++) {
		int64_t until = held(rc, i, wall);
		char at[16], in[32];

		/* each 429 moves the end a little: only a new or a longer
		 * wait is news */
		if (!until || until < p->said[i] + 60000)
			continue;
		p->said[i] = until;
		progress_clock(at, sizeof(at), until);
		progress_eta(in, sizeof(in), (double)(until - wall) / 1000.0);
		fprintf(stderr,
			"%snightshift run: %s asked to wait (Retry-After): "
			"the jobs it refused wait until %s (in %s)\n",
			p->tty ? "\r\033[K" : "", rc->cfg->provs[i].name, at,
			in);
	}
}

static void line(const struct progress *p, const struct runctx *rc,
		 int64_t now_ms, int final)
{
	int64_t wall = clk_wall_ms();
	char holds[200] = "";
	size_t w = 0;
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
	for (size_t i = 0; !final && i < rc->cfg->nprovs; i++) {
		int64_t until = held(rc, i, wall);
		char at[16];
		int k;

		if (!until)
			continue;
		progress_clock(at, sizeof(at), until);
		k = snprintf(holds + w, sizeof(holds) - w,
			     ", %s waits until %s", rc->cfg->provs[i].name, at);
		if (k < 0 || (size_t)k >= sizeof(holds) - w) {
			holds[w] = '\0'; /* no half name */
			break;
		}
		w += (size_t)k;
	}
	fprintf(stderr,
		"%s%lld/%lld done, %lld dead, %.1f jobs/s, ETA %s, "
		"%lld requests, %lld retries, $%.6f%s%s",
		p->tty ? "\r\033[K" : "nightshift run: ", done, total, dead,
		rate, eta, atomic_load(&rc->n_requests),
		atomic_load(&rc->n_retries), atomic_load(&rc->spend_usd), holds,
		p->tty && !final ? "" : "\n");
}

void progress_start(struct progress *p, int tty, int64_t now_ms)
{
	p->tty = tty;
	p->t0 = now_ms;
	p->last_print = 0;
	p->said = NULL;
}

void progress_tick(struct progress *p, const struct runctx *rc,
		   int64_t now_ms)
{
	say_holds(p, rc);
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
	free(p->said);
	p->said = NULL;
}
