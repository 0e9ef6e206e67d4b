/* batchcfg.c — parse the batch-lane members of the providers config (see
 * batchcfg.h). As in the rest of the config, nothing is guessed: a lane
 * whose API cannot carry the provider's requests, a window its API does
 * not offer, or a batch price that no lane could ever charge is refused
 * with its path, rather than failing at the first batch a run submits. */
#include "runner/providers/batchcfg.h"

#include <math.h>
#include <string.h>

/* A typo's bound on one batch's request count (the largest cap any
 * provider documents is 100,000). */
#define MAX_REQUESTS 10000000

static const char *const api_names[] = {"openai", "anthropic", NULL};
static const char price_unit[] = " (USD per million tokens)";

/* api_mismatch: why api cannot be the batch API of a provider speaking
 * dialect d, or NULL when it can. A batch line is the dialect's request
 * body, so the two go together. */
static const char *api_mismatch(enum prov_dialect d, enum prov_batch_api api)
{
	if (d == PROV_ANTHROPIC && api != PROV_BATCH_ANTHROPIC)
		return "an anthropic-dialect provider's requests go in "
		       "Message Batches; use \"anthropic\" (or leave api out)";
	if (d == PROV_OPENAI && api != PROV_BATCH_OPENAI)
		return "an openai-dialect provider's requests go in Files + "
		       "Batches; use \"openai\" (or leave api out)";
	return NULL;
}

/* window_refusal: why a window of h hours does not suit provider p's
 * batch API, or NULL when it does. */
static const char *window_refusal(const struct prov *p, int h)
{
	if (h < BATCHCFG_WINDOW_H)
		return "must be at least 24 (hours: no batch API offers a "
		       "shorter completion window)";
	if (h == BATCHCFG_WINDOW_H)
		return NULL;
	if (p->batch.api == PROV_BATCH_ANTHROPIC)
		return "must be 24: Message Batches have a fixed 24 h window";
	if (p->flavor == FLAVOR_OPENAI)
		return "must be 24: OpenAI's Batch API takes only \"24h\"";
	return NULL;
}

int batchcfg_provider(const struct jc_ctx *x, const cJSON *spec,
		      const char *path, struct prov *p)
{
	static const char *const keys[] = {
	    "api", "discount", "max_requests", "max_bytes", "window_h", NULL};
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(spec, "batch");
	struct prov_batch *b = &p->batch;
	const cJSON *it;
	char bp[JC_PATH_LEN];
	const char *why;
	int64_t dflt_req, dflt_bytes;
	int rc, api;

	memset(b, 0, sizeof(*b));
	if (!obj)
		return 0;
	jc_subpath(bp, sizeof(bp), path, "batch", 0);
	if ((rc = jc_check_object(x, obj, bp, keys,
				  " such as {\"api\": \"openai\", "
				  "\"discount\": 0.5}")))
		return rc;

	it = cJSON_GetObjectItemCaseSensitive(obj, "api");
	api = it ? (cJSON_IsString(it) ? jc_in_list(api_names, it->valuestring)
				       : -1)
		 : (int)p->dialect;
	if (api < 0)
		return jc_refuse(x, bp, "api", it,
				 "must be \"openai\" (Files + Batches) or "
				 "\"anthropic\" (Message Batches)");
	b->api = (enum prov_batch_api)api;
	if ((why = api_mismatch(p->dialect, b->api)))
		return jc_refuse(x, bp, "api", it, "%s", why);

	b->discount = BATCHCFG_DISCOUNT;
	it = cJSON_GetObjectItemCaseSensitive(obj, "discount");
	if (it) {
		/* 0 would make every batch free; above 1 is no discount. */
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
		    !(it->valuedouble > 0) || it->valuedouble > 1)
			return jc_refuse(x, bp, "discount", it,
					 "must be a number in (0, 1]");
		b->discount = it->valuedouble;
	}

	dflt_req = b->api == PROV_BATCH_ANTHROPIC
		       ? BATCHCFG_ANTHROPIC_MAX_REQUESTS
		       : BATCHCFG_OPENAI_MAX_REQUESTS;
	dflt_bytes = b->api == PROV_BATCH_ANTHROPIC
			 ? BATCHCFG_ANTHROPIC_MAX_BYTES
			 : BATCHCFG_OPENAI_MAX_BYTES;
	if ((rc = jc_get_int(x, obj, bp, "max_requests", 1, MAX_REQUESTS,
			     dflt_req, &b->max_requests)) ||
	    (rc = jc_get_int(x, obj, bp, "max_bytes", 1, JC_COUNT_MAX,
			     dflt_bytes, &b->max_bytes)) ||
	    (rc = jc_get_int32(x, obj, bp, "window_h", 1, BATCHCFG_WINDOW_MAX_H,
			       BATCHCFG_WINDOW_H, &b->window_h)))
		return rc;
	if ((why = window_refusal(p, b->window_h)))
		return jc_refuse(
		    x, bp, "window_h",
		    cJSON_GetObjectItemCaseSensitive(obj, "window_h"), "%s",
		    why);
	b->on = 1;
	return 0;
}

int batchcfg_model(const struct jc_ctx *x, const cJSON *spec, const char *path,
		   const struct prov_batch *b, struct prov_model *m)
{
	static const char *const members[] = {"batch", "batch_input_per_mtok",
					      "batch_output_per_mtok", NULL};
	int on = 1, has_in, has_out, rc;
	size_t i;

	m->batch_input_per_mtok = m->batch_output_per_mtok = -1;
	for (i = 0; !b->on && members[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(spec, members[i]))
			return jc_fail_key(
			    x, path, members[i],
			    "the provider has no batch lane (no \"batch\" "
			    "object), so this would never be used");
	if ((rc = jc_get_bool(x, spec, path, "batch", &on)) ||
	    (rc = jc_get_number(x, spec, path, "batch_input_per_mtok",
				JC_PRICE_MAX, price_unit, &has_in,
				&m->batch_input_per_mtok)) ||
	    (rc = jc_get_number(x, spec, path, "batch_output_per_mtok",
				JC_PRICE_MAX, price_unit, &has_out,
				&m->batch_output_per_mtok)))
		return rc;
	m->batch_off = !on;
	if (m->batch_off && (has_in || has_out))
		return jc_fail_key(x, path,
				   has_in ? "batch_input_per_mtok"
					  : "batch_output_per_mtok",
				   "the model is not on the batch lane "
				   "(\"batch\": false), so this would never "
				   "be used");
	return 0;
}
