/* recall.c — what runs learned, carried from one run to the next (see
 * recall.h). */
#include "runner/recall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/learned.h"
#include "runner/config.h"
#include "runner/sched/estimate.h"
#include "runner/sched/route.h"
#include "runner/sched/sched.h"
#include "util/clock.h"
#include "util/xalloc.h"

void recall_apply(const struct config *cfg, struct sched *sched,
		  struct estimates *est, const struct learned_prov *p,
		  size_t np, const struct learned_calib *c, size_t nc)
{
	for (size_t i = 0; sched && i < np; i++) {
		int k = route_find_prov(cfg->provs, cfg->nprovs, p[i].provider);

		if (k >= 0)
			sched_learned_set(sched, k,
					  &(struct sched_learned){
					      .cwnd = p[i].cwnd,
					      .p429 = p[i].p429,
					      .floor = p[i].floor429,
					      .srtt_ms = p[i].srtt_ms});
	}
	if (nc) {
		struct est_counts *in = xcalloc(nc, sizeof(*in));

		for (size_t i = 0; i < nc; i++)
			in[i] = (struct est_counts){.prov = c[i].provider,
						    .model = c[i].model,
						    .est_in = c[i].est_in,
						    .rep_in = c[i].rep_in,
						    .out = c[i].out_tokens,
						    .n = c[i].replies};
		est_import(est, in, nc);
		free(in);
	}
}

int recall_restore(struct runctx *rc, struct queue *q)
{
	struct learned_prov *p;
	struct learned_calib *c;
	size_t np, nc;

	if (learned_load(q, &p, &np, &c, &nc) != QUEUE_OK) {
		fprintf(stderr,
			"nightshift run: %s; starting without what earlier "
			"runs learned\n",
			queue_errmsg(q));
		return -1;
	}
	recall_apply(rc->cfg, rc->sched, rc->est, p, np, c, nc);
	learned_free(p, np, c, nc);
	return 0;
}

/* calib_rows: the run's calibration as rows to keep, each model's counts
 * scaled down to at most RECALL_REPLIES replies: what the last nights
 * taught weighs as much as that many replies, so a model that changed
 * (a new tokenizer, shorter answers) is learned again within a run. */
#define RECALL_REPLIES 500

static size_t calib_rows(struct runctx *rc, struct learned_calib **out)
{
	size_t n = est_export(rc->est, NULL, 0), k = 0;
	struct est_counts *ec = xcalloc(n ? n : 1, sizeof(*ec));
	struct learned_calib *c = xcalloc(n ? n : 1, sizeof(*c));

	n = est_export(rc->est, ec, n);
	for (size_t i = 0; i < n; i++) {
		double f = ec[i].n > RECALL_REPLIES
				   ? (double)RECALL_REPLIES / (double)ec[i].n
				   : 1.0;

		if (ec[i].n <= 0)
			continue;
		c[k++] = (struct learned_calib){
		    .provider = (char *)ec[i].prov,
		    .model = (char *)ec[i].model,
		    .est_in = (long long)((double)ec[i].est_in * f),
		    .rep_in = (long long)((double)ec[i].rep_in * f),
		    .out_tokens = (long long)((double)ec[i].out * f),
		    .replies = (long long)((double)ec[i].n * f)};
	}
	free(ec);
	*out = c;
	return k;
}

int recall_keep(struct runctx *rc, struct queue *q)
{
	const struct config *cfg = rc->cfg;
	struct learned_prov *p = xcalloc(cfg->nprovs ? cfg->nprovs : 1,
					 sizeof(*p));
	struct learned_calib *c = NULL;
	size_t n = 0, nc;
	int code;

	for (size_t i = 0; i < cfg->nprovs; i++) {
		struct sched_learned l;

		sched_learned_get(rc->sched, (int)i, &l);
		/* a provider this run did not hear from taught it nothing */
		if (l.nok == 0 && l.shared == 0)
			continue;
		p[n++] = (struct learned_prov){.provider = cfg->provs[i].name,
					       .cwnd = l.cwnd,
					       .p429 = l.p429,
					       .floor429 = l.floor,
					       .srtt_ms = l.srtt_ms,
					       .ok_per_min = l.ok_per_min,
					       .shared = l.shared,
					       .ok = l.nok};
	}
	nc = calib_rows(rc, &c);
	code = n || nc ? learned_save(q, p, n, c, nc, clk_wall_ms()) : QUEUE_OK;
	free(p);
	free(c);
	return code;
}
