/* results.h — a batch's result files read into the queue: each line
 * joined to its job, settled as a synchronous reply would be, and
 * recorded, a chunk of lines a commit. Memory stays flat (two chunks of
 * lines at a time); a helper thread settles lines while the lane's
 * thread reads and records them.
 * Not thread-safe: called by the lane's thread, on the lane's connection. */
#ifndef NIGHTSHIFT_LANE_RESULTS_H
#define NIGHTSHIFT_LANE_RESULTS_H

struct lane;
struct lbatch;
struct results;

/* results_new: a reader of batch b's result files, its helper thread
 * started (without one the lines are settled on the caller's thread). */
struct results *results_new(struct lane *l, struct lbatch *b);
/* results_read: download file_id (OpenAI: an output or error file;
 * Anthropic: the batch's results, by the batch's id) and apply each of
 * its lines: 0, BC_RETRY or BC_REFUSED when the download failed (what
 * was applied stays), or a QUEUE_* code (said; the lane stops). */
int results_read(struct results *r, const char *file_id);
/* results_free: wait for the helper, free r (NULL or &NULL: nothing). */
void results_free(struct results **r);

#endif
