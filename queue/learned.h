/* learned.h — what runs learned about providers, kept in the queue so
 * the next run starts from it: each provider's admission state (window,
 * 429 share, round trip, rate; runner/sched/sched.h) and each model's
 * token calibration (runner/sched/estimate.h). The rows are plain
 * figures: queue/ knows nothing of how they are used.
 * Not thread-safe: one thread per queue, outside a run's transaction. */
#ifndef NIGHTSHIFT_LEARNED_H
#define NIGHTSHIFT_LEARNED_H

#include <stddef.h>
#include <stdint.h>

#include "queue/queue.h"

struct learned_prov {
	char *provider; /* owned */
	int64_t updated_at;
	double cwnd, p429, floor429, srtt_ms, ok_per_min;
	long long shared, ok;
};

struct learned_calib {
	char *provider, *model; /* owned */
	int64_t updated_at;
	long long est_in, rep_in, out_tokens, replies;
};

/* learned_save: replace the rows of the providers and models given, in
 * one transaction; rows of others are kept.
 * Returns QUEUE_OK or a queue error (queue_errmsg says why). */
int learned_save(struct queue *q, const struct learned_prov *p, size_t np,
		 const struct learned_calib *c, size_t nc, int64_t now_ms);

/* learned_load: every row, providers by name and models by provider and
 * name, into new arrays (free with learned_free). */
int learned_load(struct queue *q, struct learned_prov **p, size_t *np,
		 struct learned_calib **c, size_t *nc);

/* learned_free: free what learned_load returned; NULLs are fine. */
void learned_free(struct learned_prov *p, size_t np, struct learned_calib *c,
		  size_t nc);

#endif
