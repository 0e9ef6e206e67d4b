/* recall.c — what runs learned, carried from one run to the next (see
 * recall.h). */
#include "runner/recall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/learned.h"
#include "runner/config.h"
#include "runner/sched/route.h"
#include "runner/sched/sched.h"
#include "util/clock.h"
#include "util/xalloc.h"

int recall_restore(struct runctx *rc, struct queue *q)
{
	const struct config *cfg = rc->cfg;
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
	for (size_t i = 0; i < np; i++) {
		int k = route_find_prov(cfg->provs, cfg->nprovs, p[i].provider);

		if (k >= 0)
			sched_learned_set(rc->sched, k,
					  &(struct sched_learned){
					      .cwnd = p[i].cwnd,
					      .p429 = p[i].p429,
					      .floor = p[i].floor429,
					      .srtt_ms = p[i].srtt_ms});
	}
	learned_free(p, np, c, nc);
	return 0;
}

int recall_keep(struct runctx *rc, struct queue *q)
{
	const struct config *cfg = rc->cfg;
	struct learned_prov *p = xcalloc(cfg->nprovs ? cfg->nprovs : 1,
					 sizeof(*p));
	size_t n = 0;
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
	code = n ? learned_save(q, p, n, NULL, 0, clk_wall_ms()) : QUEUE_OK;
	free(p);
	return code;
}
