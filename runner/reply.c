/* reply.c — the reply pipeline (see reply.h): dialect, schema check,
 * gate, cost, calibration, budget, policy, compression. */
#include "runner/reply.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/blob.h"
#include "queue/complete.h"
#include "runner/json/jsonidx.h"
#include "runner/json/jsonschema.h"
#include "runner/providers/cost.h"
#include "runner/providers/dialect_anthropic.h"
#include "runner/providers/dialect_openai_response.h"
#include "runner/sched/admit.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "runner/sched/sched.h"
#include "runner/task.h"
#include "util/xalloc.h"

void reply_read(const struct reply_ctx *r, struct task *t, int status,
		const char *head, size_t hlen, const char *body, size_t blen,
		unsigned flags, int64_t now_ms)
{
	const struct prov *p = &r->provs[t->prov];

	if (p->dialect == PROV_ANTHROPIC)
		dialect_anthropic_response(status, head, hlen, body, blen,
					   flags, now_ms, &t->out);
	else
		dialect_openai_response(status, head, hlen, body, blen,
					p->flavor, flags, now_ms, &t->out);
}

cJSON *reply_schema_of(const char *body, size_t len, const struct jsonidx *x)
{
	size_t rf = jsonidx_get(x, body, 0, "response_format");
	size_t type = rf ? jsonidx_get(x, body, rf, "type") : 0;
	cJSON *root, *schema = NULL;

	if (!type || !jsonidx_equals(x, body, type, "json_schema"))
		return NULL;
	root = cJSON_ParseWithLength(body, len);
	if (jsonschema_of_request(root))
		schema = cJSON_Duplicate(jsonschema_of_request(root), 1);
	cJSON_Delete(root);
	return schema;
}

/* check_schema: a structured-output job's reply must carry the schema's
 * required keys with their types; else it is invalid output (billed, and
 * retried or failed over like any other). */
static void check_schema(struct task *t)
{
	cJSON *root, *content;
	char why[200];

	if (!t->schema || t->out.cls != OUTCOME_OK)
		return;
	root = cJSON_ParseWithLength(t->out.body, t->out.body_len);
	content = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(
				cJSON_GetObjectItemCaseSensitive(root,
								 "choices"),
				0),
			"message"),
		"content");
	if (!cJSON_IsString(content) ||
	    jsonschema_check(content->valuestring,
			     strlen(content->valuestring), t->schema, why,
			     sizeof(why)) != 0) {
		if (!cJSON_IsString(content))
			snprintf(why, sizeof(why), "reply has no text content");
		t->out.cls = OUTCOME_INVALID_OUTPUT;
		free(t->out.error_code);
		free(t->out.error_message);
		t->out.error_code = xstrdup("schema_mismatch");
		t->out.error_message = xstrdup(why);
	}
	cJSON_Delete(root);
}

/* dearest: what this reply's usage would have cost on the job's most
 * expensive candidate: the report's measure of what routing saved. */
static double dearest(const struct reply_ctx *r, const struct task *t)
{
	double max = 0;

	for (int i = 0; i < t->adm.ncands; i++) {
		struct route_cand c = t->adm.cands[i];
		double usd = cost_usd(&r->provs[c.prov].models[c.model],
				      &t->out.usage, t->sent_at_ms / 1000);

		if (usd > max)
			max = usd;
	}
	return max;
}

/* compress: the reply as the store will keep it, made here so that the
 * one store thread does not spend its time in zstd. Until the results'
 * dictionary exists the frame has none, and the plain body goes along:
 * the store samples it, or compresses it again once the dictionary is
 * there. (Those first frames were the store's work, 64k instructions
 * each, while the run starts and the store is what holds it back.) */
static void compress(const struct reply_ctx *r, struct task *t,
		     struct blob_codec *codec)
{
	const struct blob_dict *d = r->qr ? complete_result_dict(r->qr) : NULL;
	const void *z;
	size_t n;

	if (!t->out.body ||
	    blob_compress(codec, d, t->out.body, t->out.body_len, &z, &n))
		return; /* the store compresses it, or reports it too big */
	t->zbody = xmalloc(n);
	memcpy(t->zbody, z, n);
	t->zbody_len = n;
	if (!d)
		return;
	free(t->out.body);
	t->out.body = NULL;
	t->out.body_len = 0;
}

/* charge: t's cost and its basis (see cost_charge), judged against what
 * its request allowed: the job's max_tokens, else the model's output
 * limit, else the Messages API default the request was sent with. */
static void charge(const struct reply_ctx *r, struct task *t)
{
	const struct prov *p = &r->provs[t->prov];
	const struct prov_model *m = &p->models[t->model];
	struct cost_allowed al = {
		.est_in = t->adm.est_in > t->job.est_input_tokens
				  ? t->adm.est_in
				  : t->job.est_input_tokens,
		.body_bytes = (int64_t)t->job.body_len,
		.max_out = cost_output_bound(p->dialect, m,
					     t->job.max_output_tokens),
		.worst_usd = t->adm.worst_usd,
	};

	t->cost_usd = cost_charge_lane(p, m, (enum prov_lane)t->lane, &t->out,
				       &al, t->sent_at_ms / 1000,
				       &t->cost_basis);
	if (t->lane == LANE_BATCH) {
		enum cost_basis b;

		t->cost_sync_usd = cost_charge_lane(p, m, LANE_SYNC, &t->out,
						    &al, t->sent_at_ms / 1000,
						    &b);
	}
}

/* hold: keep the end of the wait a reply asked for (a 429's or 503's
 * Retry-After), the latest per provider, so that the main thread can say
 * who holds the run up, and until when (issue 17: an hour's Retry-After
 * idled a run with nothing but "ETA --:--" to show). */
static void hold(const struct reply_ctx *r, const struct task *t,
		 int64_t now_ms)
{
	atomic_llong *h;
	long long until = t->out.retry_after_ms, was;

	if (!r->held_until || until <= now_ms)
		return;
	h = &r->held_until[t->prov];
	was = atomic_load(h);
	while (until > was && !atomic_compare_exchange_weak(h, &was, until))
		;
}

void reply_settle(const struct reply_ctx *r, struct task *t,
		  struct blob_codec *codec, int64_t now_ms, uint64_t rnd)
{
	const struct admit *a = r->admit;
	const struct prov *p = &r->provs[t->prov];
	struct route_cand c = {.prov = t->prov, .model = t->model};
	struct policy_cfg pc = r->policy;
	struct policy_job pj;

	outcome_scrub(&t->out, r->keys[t->prov]);
	check_schema(t);
	/* a batch line says nothing of the sync lane's gate */
	if (t->lane == LANE_SYNC)
		sched_done(a->sched, t->prov,
		   &(struct sched_reply){.cls = t->out.cls,
					 .retry_after_ms = t->out.retry_after_ms,
					 .limit_spent = t->out.limit_spent,
					 .rtt_ms = t->latency_ms,
					 .probe = t->adm.probe},
		   now_ms);
	hold(r, t, now_ms);
	charge(r, t);
	/* Only usage taken at its word calibrates the estimates: a missing
	 * one would teach them zero, an absurd one 1e15. */
	est_learn(a->est, c, t->job.est_input_tokens, &t->out.usage,
		  t->out.cls == OUTCOME_OK && t->cost_basis == COST_REPORTED,
		  t->lane == LANE_SYNC ? t->latency_ms : 0);
	/* Spent before the hold goes, so that the cost is never out of
	 * both of the budget's sums. */
	budget_spend(a->budget, t->cost_usd);
	admit_release(a, &t->adm);
	/* Unknown tokens claim no saving. */
	t->cost_ref_usd = t->cost_basis == COST_REPORTED ? dearest(r, t)
							 : t->cost_usd;
	pc.max_attempts = p->max_retries + 1;
	pc.max_requests = POLICY_REQUESTS_PER_ATTEMPT * pc.max_attempts;
	/* The policy sees the choice as "this one, and one more if any":
	 * which one comes next is chosen cheapest-first on the next claim. */
	pj = (struct policy_job){
		.attempts = t->job.cand_attempts + 1,
		.requests = t->job.attempts + 1,
		.invalid_outputs = t->out.cls == OUTCOME_INVALID_OUTPUT
					   ? t->job.cand_invalid + 1
					   : 0,
		.candidate = 0,
		.ncandidates = admit_others_left(a, &t->job, &t->adm) ? 2 : 1,
		.now_ms = now_ms,
	};
	t->act = policy_next(&pc, &pj, &t->out, rnd);
	if (t->act.disable_provider)
		atomic_store(&a->disabled[t->prov], 1);
	if (t->act.verb == POLICY_DONE)
		compress(r, t, codec);
}
