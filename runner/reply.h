/* reply.h — the reply pipeline: what a finished request comes to.
 *
 * The worker hands over the transfer's result; this room reads it with
 * the provider's dialect (or takes the transport error the worker
 * classified), scrubs it, checks a structured-output reply against the
 * job's schema, tells the provider's gate, prices the usage, calibrates
 * the estimates, gives back the budget held, asks the retry policy for
 * the job's fate, shuts a provider off when its account is refused, and
 * compresses a result for the store. It decides and fills in the task;
 * only the worker touches transfers, and only the store the database.
 *
 * Thread-safe: a struct reply_ctx is shared by the workers (read-only, or
 * atomics and locks below it); a task belongs to the calling worker. */
#ifndef NIGHTSHIFT_REPLY_H
#define NIGHTSHIFT_REPLY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runner/policy.h"
#include "runner/providers/prov.h"

struct admit;
struct blob_codec;
struct jsonidx;
struct qrun;
struct task;

/* What the pipeline needs of the run; every pointer borrowed. */
struct reply_ctx {
	const struct prov *provs;
	char *const *keys;	   /* per provider, scrubbed from messages */
	struct policy_cfg policy;  /* max_attempts is the provider's */
	const struct admit *admit; /* gates, estimates, budget, shut-offs */
	struct qrun *qr;	   /* the result dictionary; NULL: none */
	/* per provider: the end (epoch ms) of the longest wait a reply's
	 * Retry-After asked for so far, for the progress line to say;
	 * NULL: not kept */
	atomic_llong *held_until;
};

/* reply_read: t's outcome (t->out, initialized) from the HTTP response to
 * its request, read by its provider's dialect: status, the raw header
 * block and the body (borrowed), flags as the request builder set them,
 * at wall clock now_ms. */
void reply_read(const struct reply_ctx *r, struct task *t, int status,
		const char *head, size_t hlen, const char *body, size_t blen,
		unsigned flags, int64_t now_ms);

/* reply_settle: what t's outcome (filled by reply_read, or by the worker
 * for a transport failure) comes to: t->cost_usd, t->cost_ref_usd and
 * t->act are set, the provider's gate, the estimates and the budget are
 * told, and a result is compressed into t->zbody with codec (the
 * caller's). rnd is a random value for the backoff's jitter. */
void reply_settle(const struct reply_ctx *r, struct task *t,
		  struct blob_codec *codec, int64_t now_ms, uint64_t rnd);

/* reply_schema_of: the json_schema a job's reply must follow (new, free
 * with cJSON_Delete), or NULL. body[0..len) is the job's body and x its
 * index (jsonidx_parse); most jobs have none, so the body is parsed into
 * a tree only when it asks for one. */
cJSON *reply_schema_of(const char *body, size_t len, const struct jsonidx *x);

#endif
