/* test_reply.c — the reply pipeline without a network: a success priced
 * at its model's rates (and at the dearest candidate's, for the report),
 * compressed for the store, its budget given back and its latency
 * learned; a 429 retried no earlier than its Retry-After; a refused
 * account shutting its provider off; a structured-output reply that
 * misses its schema; the key scrubbed from a provider's message and from
 * a success that echoes it; a
 * content-filtered reply failing over while a candidate is left; a reply
 * without usage charged its reservation (estimated), one claiming more
 * than its request allowed charged at least that (suspect), neither
 * teaching the estimates. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue/blob.h"
#include "queue/claim.h"
#include "runner/config.h"
#include "runner/json/jsonidx.h"
#include "runner/reply.h"
#include "runner/sched/admit.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "runner/sched/sched.h"
#include "runner/task.h"

#define T0 ((int64_t)1714564800000)
/* a key no pattern would take for one (words, hyphens): only the
 * scrub by value keeps it out of messages */
#define KEY "correct-horse-battery-staple"

/* a: $1/$2 per Mtok; b: $3/$6 (the dearest); route r = b, a. */
static const char CONFIG[] =
	"{\"providers\":{"
	"\"a\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KA\",\"max_retries\":2,\"models\":{\"m\":"
	"{\"input_per_mtok\":1,\"output_per_mtok\":2}}},"
	"\"b\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:9\","
	"\"api_key_env\":\"KB\",\"models\":{\"m\":"
	"{\"input_per_mtok\":3,\"output_per_mtok\":6}}}},"
	"\"routes\":{\"r\":[\"b:m\",\"a:m\"]}}";

static const char BODY[] =
	"{\"model\":\"r\",\"messages\":[{\"role\":\"user\",\"content\":"
	"\"hi\"}]}";
static const char SCHEMA_BODY[] =
	"{\"model\":\"r\",\"messages\":[{\"role\":\"user\",\"content\":"
	"\"hi\"}],\"response_format\":{\"type\":\"json_schema\","
	"\"json_schema\":{\"name\":\"s\",\"schema\":{\"type\":\"object\","
	"\"required\":[\"x\"],\"properties\":{\"x\":{\"type\":"
	"\"integer\"}}}}}}";

struct fx {
	struct config *cfg;
	char *keys[2];
	unsigned char keyed[2];
	atomic_int disabled[2];
	struct sched *sched;
	struct estimates *est;
	struct budget budget;
	struct admit a;
	struct reply_ctx r;
	struct blob_codec *codec;
	struct jsonidx x;
};

static void setup_fx(struct fx *f)
{
	char err[300];

	memset(f, 0, sizeof(*f));
	assert_int_equal(config_parse(CONFIG, strlen(CONFIG), "t", &f->cfg,
				      err, sizeof(err)),
			 0);
	f->keys[0] = KEY;
	f->keys[1] = "sk-other-0123456789abcdefghij";
	for (int i = 0; i < 2; i++) {
		f->keyed[i] = 1;
		atomic_init(&f->disabled[i], 0);
	}
	f->sched = sched_new(f->cfg->provs, f->cfg->nprovs);
	f->est = est_new(f->cfg->provs, f->cfg->nprovs);
	budget_init(&f->budget, 10.0, 0);
	f->a = (struct admit){.provs = f->cfg->provs,
			      .nprovs = f->cfg->nprovs,
			      .routes = f->cfg->routes,
			      .nroutes = f->cfg->nroutes,
			      .keyed = f->keyed,
			      .disabled = f->disabled,
			      .sched = f->sched,
			      .est = f->est,
			      .budget = &f->budget};
	f->r = (struct reply_ctx){.provs = f->cfg->provs,
				  .keys = f->keys,
				  .policy = {.max_attempts = 5,
					     .base_ms = 1000,
					     .cap_ms = 60000,
					     .quality_retries = 1},
				  .admit = &f->a,
				  .qr = NULL};
	f->codec = blob_codec_new();
}

static void teardown_fx(struct fx *f)
{
	jsonidx_free(&f->x);
	blob_codec_free(&f->codec);
	sched_free(&f->sched);
	est_free(&f->est);
	config_free(&f->cfg);
}

/* sent: a task for body, admitted (to a, the cheaper) and sent at T0. */
static struct task *sent(struct fx *f, const char *body)
{
	struct claim_job j;
	struct task *t;
	char *detail = NULL;
	size_t end;

	memset(&j, 0, sizeof(j));
	j.body = strdup(body);
	j.body_len = strlen(body);
	j.custom_id = strdup("job-1");
	j.est_input_tokens = 10;
	j.max_cost_usd = -1;
	j.candidate = -1;
	t = task_new(&j);
	assert_int_equal(admit_route(&f->a, &t->job, &t->adm, &f->x, &end,
				     &detail),
			 1);
	t->schema = reply_schema_of(t->job.body, t->job.body_len, &f->x);
	assert_int_equal(admit_job(&f->a, &t->job, &t->adm, T0, &detail),
			 ADMIT_GO);
	assert_null(detail);
	t->prov = t->adm.cands[t->job.candidate].prov;
	t->model = t->adm.cands[t->job.candidate].model;
	assert_int_equal(t->prov, 0);
	t->sent_at_ms = T0;
	t->latency_ms = 840;
	return t;
}

/* answer: t's reply is status/head/body, read and settled at T0 + 1 s. */
static void answer(struct fx *f, struct task *t, int status,
		   const char *head, const char *body)
{
	reply_read(&f->r, t, status, head, strlen(head), body, strlen(body),
		   0, T0 + 1000);
	t->out.http_status = status;
	reply_settle(&f->r, t, f->codec, T0 + 1000, 42);
}

static const char OK_HEAD[] = "HTTP/1.1 200 OK\r\n\r\n";

static void done_priced_compressed_released(void **state)
{
	static const char reply[] =
		"{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{"
		"\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
		"\"hello\"},\"finish_reason\":\"stop\"}],\"usage\":{"
		"\"prompt_tokens\":1000,\"completion_tokens\":500}}";
	struct fx f;
	struct task *t;
	struct sched_stats st;
	const void *plain;
	size_t n;

	(void)state;
	setup_fx(&f);
	t = sent(&f, BODY);
	assert_true(atomic_load(&f.budget.reserved_nusd) > 0);
	answer(&f, t, 200, OK_HEAD, reply);
	assert_int_equal(t->out.cls, OUTCOME_OK);
	assert_int_equal(t->act.verb, POLICY_DONE);
	/* 1,000 in at $1/M and 500 out at $2/M; on b, $3/M and $6/M */
	assert_true(t->cost_usd > 0.001999999 && t->cost_usd < 0.002000001);
	assert_true(t->cost_ref_usd > 0.005999999 &&
		    t->cost_ref_usd < 0.006000001);
	assert_true(budget_spent_usd(&f.budget) > 0.001999 &&
		    budget_spent_usd(&f.budget) < 0.002001);
	assert_int_equal(atomic_load(&f.budget.reserved_nusd), 0);
	sched_stats(f.sched, 0, &st);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(est_latency_ms(f.est), 840);
	/* no dictionary yet: a plain frame, and the body kept for the
	 * store's sample */
	assert_non_null(t->zbody);
	assert_non_null(t->out.body);
	assert_int_equal(blob_decompress(f.codec, NULL, t->zbody,
					 t->zbody_len, &plain, &n),
			 0);
	assert_int_equal(n, strlen(reply));
	assert_memory_equal(plain, reply, n);
	task_free(t);
	teardown_fx(&f);
}

static void rate_limited_waits_its_retry_after(void **state)
{
	struct fx f;
	struct task *t;

	(void)state;
	setup_fx(&f);
	t = sent(&f, BODY);
	answer(&f, t, 429,
	       "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\n\r\n",
	       "{\"error\":{\"message\":\"slow down\","
	       "\"type\":\"rate_limit_error\"}}");
	assert_int_equal(t->out.cls, OUTCOME_RATE_LIMITED);
	assert_int_equal(t->act.verb, POLICY_RETRY);
	assert_true(t->act.at_ms >= T0 + 1000 + 5000);
	assert_null(t->zbody);
	task_free(t);
	teardown_fx(&f);
}

static void refused_account_shuts_provider_off(void **state)
{
	struct fx f;
	struct task *t;

	(void)state;
	setup_fx(&f);
	t = sent(&f, BODY);
	answer(&f, t, 401, "HTTP/1.1 401 Unauthorized\r\n\r\n",
	       "{\"error\":{\"message\":\"Incorrect API key provided: " KEY
	       "\",\"code\":\"invalid_api_key\"}}");
	assert_int_equal(t->out.cls, OUTCOME_AUTH);
	assert_true(t->act.disable_provider);
	assert_true(atomic_load(&f.disabled[0]));
	assert_false(atomic_load(&f.disabled[1]));
	/* the key the provider echoed back is never kept */
	assert_non_null(t->out.error_message);
	assert_non_null(strstr(t->out.error_message, "Incorrect API key"));
	assert_null(strstr(t->out.error_message, KEY));
	task_free(t);
	teardown_fx(&f);
}

/* Issue 17: a 200 reply that echoed the key was stored, and exported,
 * verbatim; error replies were already scrubbed. */
static void key_echoed_in_a_success_is_scrubbed(void **state)
{
	static const char reply[] =
		"{\"id\":\"c1 " KEY "\",\"choices\":[{\"index\":0,"
		"\"message\":{\"role\":\"assistant\",\"content\":\"your key "
		"is " KEY " and again " KEY "\"},\"finish_reason\":\"stop\"}],"
		"\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}";
	struct fx f;
	struct task *t;
	const void *plain;
	size_t n;

	(void)state;
	setup_fx(&f);
	t = sent(&f, BODY);
	answer(&f, t, 200, OK_HEAD, reply);
	assert_int_equal(t->out.cls, OUTCOME_OK);
	assert_int_equal(t->act.verb, POLICY_DONE);
	assert_non_null(t->zbody);
	assert_int_equal(blob_decompress(f.codec, NULL, t->zbody,
					 t->zbody_len, &plain, &n),
			 0);
	assert_null(memmem(plain, n, KEY, strlen(KEY)));
	assert_non_null(memmem(plain, n, "your key is [redacted] and again "
				  "[redacted]",
			       strlen("your key is [redacted] and again "
				      "[redacted]")));
	assert_non_null(t->out.request_id);
	assert_null(strstr(t->out.request_id, KEY));
	task_free(t);
	teardown_fx(&f);
}

static void schema_miss_is_invalid_output(void **state)
{
	struct fx f;
	struct task *t;

	(void)state;
	setup_fx(&f);
	t = sent(&f, SCHEMA_BODY);
	assert_non_null(t->schema);
	answer(&f, t, 200, OK_HEAD,
	       "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{"
	       "\"role\":\"assistant\",\"content\":\"{\\\"y\\\":1}\"},"
	       "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
	       "10,\"completion_tokens\":5}}");
	assert_int_equal(t->out.cls, OUTCOME_INVALID_OUTPUT);
	assert_string_equal(t->out.error_code, "schema_mismatch");
	/* billed all the same, and retried once on the same candidate */
	assert_true(t->cost_usd > 0);
	assert_int_equal(t->act.verb, POLICY_RETRY);
	task_free(t);
	teardown_fx(&f);
}

static void content_filter_fails_over_while_one_is_left(void **state)
{
	static const char filtered[] =
		"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{"
		"\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":"
		"\"content_filter\"}],\"usage\":{\"prompt_tokens\":10,"
		"\"completion_tokens\":0}}";
	struct fx f;
	struct task *t;

	(void)state;
	setup_fx(&f);
	t = sent(&f, BODY);
	answer(&f, t, 200, OK_HEAD, filtered);
	assert_int_equal(t->out.cls, OUTCOME_CONTENT_FILTER);
	assert_int_equal(t->act.verb, POLICY_FAILOVER);
	task_free(t);
	/* b was failed over from already: nothing is left */
	t = sent(&f, BODY);
	t->job.cand_exhausted = 1u << 0;
	answer(&f, t, 200, OK_HEAD, filtered);
	assert_int_equal(t->act.verb, POLICY_DEAD);
	task_free(t);
	teardown_fx(&f);
}

static const char NO_USAGE[] =
	"{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{"
	"\"role\":\"assistant\",\"content\":\"hello\"},\"finish_reason\":"
	"\"stop\"}]}";

/* reply_with: NO_USAGE with usage (a member, or "") into buf[n]. */
static const char *reply_with(char *buf, size_t n, const char *usage)
{
	snprintf(buf, n, "%.*s%s}", (int)strlen(NO_USAGE) - 1, NO_USAGE,
		 usage);
	return buf;
}

/* What the issue saw: replies without usage recorded at $0, so the cap
 * never stopped the run. Now the reply costs what admission held for it,
 * the budget spends that, and the estimates learn nothing from it. */
static void reply_without_usage_costs_its_reservation(void **state)
{
	static const char *const usages[] = {
		"", ",\"usage\":null",
		",\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":-1}",
		",\"usage\":{\"prompt_tokens\":\"lots\"}"};
	char body[400];

	(void)state;
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		struct fx f;
		struct task *t;
		double held;
		struct route_cand c = {0, 0};

		setup_fx(&f);
		t = sent(&f, BODY);
		held = t->adm.worst_usd;
		assert_true(held > 0);
		assert_true(atomic_load(&f.budget.reserved_nusd) > 0);
		answer(&f, t, 200, OK_HEAD,
		       reply_with(body, sizeof(body), usages[i]));
		assert_int_equal(t->out.cls, OUTCOME_OK);
		assert_int_equal(t->act.verb, POLICY_DONE);
		assert_int_equal(t->cost_basis, COST_ESTIMATED);
		assert_true(t->cost_usd == held);
		/* no saving is claimed on unknown tokens */
		assert_true(t->cost_ref_usd == held);
		assert_true(budget_spent_usd(&f.budget) > held * 0.999 &&
			    budget_spent_usd(&f.budget) < held * 1.001);
		assert_int_equal(atomic_load(&f.budget.reserved_nusd), 0);
		/* the estimate is not taught zero tokens */
		assert_int_equal(est_input(f.est, c, 10), 10);
		task_free(t);
		teardown_fx(&f);
	}
}

/* Usage beyond the request's max_tokens is kept as reported and charged
 * at least the reservation: a little over costs the reservation, 1e15
 * tokens cost what they say (and the budget saturates, never wraps). */
static void usage_beyond_the_request_is_suspect(void **state)
{
	static const char over[] =
		"{\"model\":\"r\",\"max_tokens\":20,\"messages\":[{"
		"\"role\":\"user\",\"content\":\"hi\"}]}";
	struct route_cand c = {0, 0};
	struct fx f;
	struct task *t;
	char body[400];

	(void)state;
	setup_fx(&f);
	t = sent(&f, over);
	t->job.max_output_tokens = 20; /* as ingest reads it */
	answer(&f, t, 200, OK_HEAD,
	       reply_with(body, sizeof(body),
			  ",\"usage\":{\"prompt_tokens\":10,"
			  "\"completion_tokens\":21}"));
	assert_int_equal(t->cost_basis, COST_SUSPECT);
	assert_int_equal(t->out.usage.out, 21); /* recorded as reported */
	assert_true(t->cost_usd == t->adm.worst_usd);
	assert_int_equal(est_input(f.est, c, 10), 10);
	task_free(t);

	/* Ten of them, uncapped (the cap would stop at the first): the
	 * spend saturates, and the output estimate, which ten replies would
	 * set, stays on its prior. */
	budget_init(&f.budget, -1, 0);
	reply_with(body, sizeof(body),
		   ",\"usage\":{\"prompt_tokens\":1e15,"
		   "\"completion_tokens\":1e15}");
	for (int i = 0; i < 10; i++) {
		t = sent(&f, over);
		t->job.max_output_tokens = 20;
		answer(&f, t, 200, OK_HEAD, body);
		assert_int_equal(t->cost_basis, COST_SUSPECT);
		/* 1e15 x $1/M + 1e15 x $2/M */
		assert_true(t->cost_usd > 2.99e9 && t->cost_usd < 3.01e9);
		assert_true(budget_spent_usd(&f.budget) > 2.99e9);
		assert_true(budget_spent_usd(&f.budget) < 9.3e9);
		task_free(t);
	}
	assert_int_equal(est_output(f.est, c, 0), 256);
	teardown_fx(&f);
}

/* Zero tokens reported are zero: a reported figure, not a missing one. */
/* A billed reply reporting that its prompt read no tokens cannot be
 * right: kept as reported, charged at least the reservation (suspect). */
static void reported_zero_usage_is_suspect(void **state)
{
	struct fx f;
	struct task *t;
	char body[400];

	(void)state;
	setup_fx(&f);
	t = sent(&f, BODY);
	answer(&f, t, 200, OK_HEAD,
	       reply_with(body, sizeof(body),
			  ",\"usage\":{\"prompt_tokens\":0,"
			  "\"completion_tokens\":0}"));
	assert_int_equal(t->cost_basis, COST_SUSPECT);
	assert_true(t->cost_usd > 0 && t->cost_usd == t->adm.worst_usd);
	task_free(t);
	teardown_fx(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(done_priced_compressed_released),
		cmocka_unit_test(rate_limited_waits_its_retry_after),
		cmocka_unit_test(refused_account_shuts_provider_off),
		cmocka_unit_test(key_echoed_in_a_success_is_scrubbed),
		cmocka_unit_test(schema_miss_is_invalid_output),
		cmocka_unit_test(content_filter_fails_over_while_one_is_left),
		cmocka_unit_test(reply_without_usage_costs_its_reservation),
		cmocka_unit_test(usage_beyond_the_request_is_suspect),
		cmocka_unit_test(reported_zero_usage_is_suspect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
