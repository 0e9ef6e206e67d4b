/* lane_int.h — what the rooms of the batch lane (lane.c, submit.c,
 * collect.c) share: the lane's state and the batches it tends. */
#ifndef NIGHTSHIFT_LANE_INT_H
#define NIGHTSHIFT_LANE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "queue/batch.h"
#include "runner/lane/lane.h"
#include "runner/providers/batch_client.h"
#include "runner/reply.h"

struct blob_codec;
struct endpoints;
struct queue;
struct qrun;
struct runctx;

/* A batch the lane tends, as the queue has it plus what only this run
 * knows (when to look next, its budget hold). */
struct lbatch {
	struct qbatch q;
	int prov, model;	 /* indexes into the config; -1: unknown */
	int64_t next_ms;	 /* when to poll (or try its next step) */
	int64_t every_ms;	 /* poll interval: 1 s, growing to 60 s */
	int tries;		 /* failed steps in a row */
	long long held_nusd;	 /* its worst case, held in the budget */
	int mine;		 /* created or adopted by this run */
};

struct lane {
	struct runctx *rc;
	struct lane_opts o;
	struct queue *q; /* the lane's own connection */
	struct qrun *qr; /* owner CLAIM_BATCH_OWNER */
	struct blob_codec *codec;
	struct endpoints *ep;	  /* request bodies, as the sync lane builds */
	struct bclient **client;  /* per provider, NULL: no batch lane */
	unsigned char *batch;	  /* per provider: ADMIT_LANE_* */
	int64_t *turnaround_ms;	  /* per provider: learned, else its window */
	unsigned char *turnaround_known; /* per provider: learned */
	struct lbatch *b;
	size_t nb;
	int lane_wait;	/* jobs wait for the lane (CLAIM_LANE_WAIT) */
	int fatal;	/* QUEUE_* code that stopped the lane */
	/* what it was doing when the database proved damaged (said by the
	 * run, with how to save what can be read) */
	char corrupt[640];
	char tag[24];	/* this database's batch tag prefix */
	pthread_t th;
	int started;
};

/* lane_api: provider prov's batch API (BATCH_API_*). */
#define lane_api(l, prov)                                                      \
	((enum batch_api)(l)->rc->cfg->provs[(prov)].batch.api)

/* lane_known_remote: whether a batch row has the provider's id remote
 * (adoption must not take one twice). */
int lane_known_remote(struct lane *l, const char *remote);

/* lane_status_name: the provider's status in its own words
 * ("in_progress", "ended", ...; static). */
const char *lane_status_name(enum batch_status s);


/* lane_say: a line on stderr, "nightshift run: " first. */
void lane_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* lane_fail: the lane stops on a queue failure code (message said). */
int lane_fail(struct lane *l, int code, const char *what);

/* submit.c */
/* lane_assign: one pass over the queued jobs (lane_wait: only those left
 * to the lane), putting those whose cheapest (candidate, lane) is a batch
 * lane into new batches and submitting them. */
int lane_assign(struct lane *l, int lane_wait);

/* send.c (more in send.h) */
/* lane_advance: the next submission step of batch b (intent -> uploaded
 * -> live), adopting what a killed run may have created. */
int lane_advance(struct lane *l, struct lbatch *b);
/* lane_drop: b was never created, or the provider refused it: its jobs go
 * back to the queue (not_before), b is dropped. */
int lane_drop(struct lane *l, struct lbatch *b, int64_t not_before,
	      const char *why);

/* collect.c */
/* lane_poll: look at live batch b; when it has ended, collect its lines.
 * *changed: its state moved. */
int lane_poll(struct lane *l, struct lbatch *b, int *changed);
/* lane_cancel: ask the provider to cancel b, saying why ("has not ended in
 * time for the deadline"); its unfinished jobs go to the sync lane once it
 * has ended. */
int lane_cancel(struct lane *l, struct lbatch *b, const char *why);

/* lane_batch_add: b (taken over) joins the lane's list; returns it. */
struct lbatch *lane_batch_add(struct lane *l, const struct qbatch *b);
/* lane_batch_gone: remove the batches collected or dropped. */
void lane_batch_gone(struct lane *l);

#endif
