/* send.h — a batch's input file and its submission steps (send.c),
 * for the assignment pass (submit.c), which writes each batch's file as
 * it decides its jobs. Not thread-safe: the lane's thread. */
#ifndef NIGHTSHIFT_LANE_SEND_H
#define NIGHTSHIFT_LANE_SEND_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "runner/providers/batch_client.h"
#include "util/buf.h"

struct lane;
struct lbatch;

/* An input file being written: a line (or an element of "requests") a
 * job, gathered in out and written out a piece at a time. */
struct infile {
	char path[4096];
	FILE *f;
	struct buf out;
	int anth;
	int64_t lines, bytes;
	int err; /* a write failed */
};

/* infile_open: a new input file (0600, under $TMPDIR) for an
 * OpenAI-style batch (a line a request) or, anth, a Message Batches
 * create body; 0, or BC_RETRY (said) when none can be made. */
int infile_open(struct infile *in, int anth);
/* infile_add: job custom_id's request body[0..len) (as the sync lane
 * would send it) added; a write that fails is reported by infile_close. */
void infile_add(struct infile *in, const char *custom_id, const char *body,
		size_t len);
/* infile_close: the file complete on disk at in->path; 0, or BC_RETRY
 * (said, the file removed) when it could not be written. */
int infile_close(struct infile *in);
/* infile_discard: the file removed and in emptied (an empty in: no-op). */
void infile_discard(struct infile *in);

/* lane_send: lane_advance of batch b, with its input file already written
 * and closed when built is not NULL (taken over: removed once sent). */
int lane_send(struct lane *l, struct lbatch *b, struct infile *built);

/* A batch's network step (Files + Batches: its upload; Message Batches:
 * its create, which carries the requests) under way on a thread of its
 * own while the pass writes the next batch's file: the provider's side
 * of an upload (the mock's, checking every line) then costs no time. */
struct sending {
	pthread_t th;
	int on; /* under way */
	struct bclient *c;
	int64_t batch; /* its row id */
	int openai;
	const char *tag; /* borrowed from the batch */
	struct infile in;
	char *file_id;
	struct batch_info info;
	int rc;
};
/* lane_send_start: lane_send of b, just held by the pass with its file
 * built (taken over), begun on s's thread (s not under way); the steps
 * that touch the queue wait for lane_send_finish. Without a thread, or
 * for a batch that is not a fresh intent, lane_send itself. 0 or a
 * QUEUE_* code. Until lane_send_finish, nothing else may use b's
 * provider's client. */
int lane_send_start(struct lane *l, struct lbatch *b, struct infile *built,
		    struct sending *s);
/* lane_send_finish: wait for s's step and take its batch on from there
 * (recorded uploaded, created, live; or tried again later), as lane_send
 * would; 0 when none is under way. abandon (the lane failed): only wait;
 * the batch is left as the queue has it for the next run. */
int lane_send_finish(struct lane *l, struct sending *s, int abandon);

#endif
