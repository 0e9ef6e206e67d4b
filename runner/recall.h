/* recall.h — a run starts from what the last runs learned about each
 * provider (its concurrency window, share of 429s, round trip) and each
 * model (token calibration), and leaves what it learned for the next:
 * a nightly cron job does not probe each provider from scratch.
 * Not thread-safe: call recall_restore before the workers start and
 * recall_keep after they stop. */
#ifndef NIGHTSHIFT_RECALL_H
#define NIGHTSHIFT_RECALL_H

#include "queue/queue.h"
#include "runner/runctx.h"

struct learned_prov;
struct learned_calib;
struct sched;
struct estimates;
struct config;

/* recall_apply: seed sched's gates (NULL: none) and est's calibration
 * from rows p[0..np) and c[0..nc) (all borrowed) for the providers and
 * models cfg has; rows of others are ignored. */
void recall_apply(const struct config *cfg, struct sched *sched,
		  struct estimates *est, const struct learned_prov *p,
		  size_t np, const struct learned_calib *c, size_t nc);

/* recall_restore: seed rc's gates (and calibration) from q's rows for
 * the providers rc has; rows of others are ignored. A failure to read is
 * not fatal (the run starts fresh): returns 0, or -1 having said why on
 * stderr. */
int recall_restore(struct runctx *rc, struct queue *q);

/* recall_keep: store what rc learned of each provider that answered this
 * run. Returns QUEUE_OK or a queue error (queue_errmsg says why). */
int recall_keep(struct runctx *rc, struct queue *q);

#endif
