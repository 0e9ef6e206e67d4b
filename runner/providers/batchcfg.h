/* batchcfg.h — the batch-lane members of the providers config: a
 * provider's "batch" object (which batch API, its discount, the limits of
 * one batch, the completion window) and a model's "batch",
 * "batch_input_per_mtok" and "batch_output_per_mtok". runner/config.c
 * calls these while it parses a provider; they report as it does
 * ("FILE: providers.qwen.batch.discount: must be a number in (0, 1], got
 * 2"), through runner/json/jsoncheck.h.
 *
 * Thread-safe (no shared state). */
#ifndef NIGHTSHIFT_BATCHCFG_H
#define NIGHTSHIFT_BATCHCFG_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "runner/json/jsoncheck.h"
#include "runner/providers/prov.h"

/* Defaults of one batch's limits, by API (the providers' documented caps:
 * OpenAI's 50,000 requests and 200 MB per input file, Anthropic's 100,000
 * requests and 256 MB per batch). A provider with other caps (DashScope:
 * 500 MB) says so in its "batch" object. */
#define BATCHCFG_OPENAI_MAX_REQUESTS 50000
#define BATCHCFG_OPENAI_MAX_BYTES 200000000
#define BATCHCFG_ANTHROPIC_MAX_REQUESTS 100000
#define BATCHCFG_ANTHROPIC_MAX_BYTES 256000000
/* The default discount and completion window (hours), and the longest
 * window any provider takes (DashScope's 14 days). */
#define BATCHCFG_DISCOUNT 0.5
#define BATCHCFG_WINDOW_H 24
#define BATCHCFG_WINDOW_MAX_H 336

/* batchcfg_provider: the member "batch" of provider object spec (path is
 * the provider's, "providers.qwen") into p->batch, for a provider whose
 * dialect and flavor are already set. Absent: p->batch is all 0 (no
 * lane). An api that does not carry the provider's dialect (an
 * anthropic-dialect provider with "openai", and vice versa), and a window
 * the provider's API cannot take, are refused. Returns 0, or JC_EINVAL
 * with the message written through x. spec and path are borrowed. */
int batchcfg_provider(const struct jc_ctx *x, const cJSON *spec,
		      const char *path, struct prov *p);

/* batchcfg_model: a model's batch members of model object spec (at path)
 * into m, for a provider whose lane is b (parsed by batchcfg_provider):
 * "batch" (true or false, default true) and the batch prices (< 0 when
 * absent). Any of them on a provider without a batch lane, and a batch
 * price on a model with "batch": false, is refused: it could never be
 * used. Returns 0, or JC_EINVAL with the message written through x. */
int batchcfg_model(const struct jc_ctx *x, const cJSON *spec, const char *path,
		   const struct prov_batch *b, struct prov_model *m);

#endif
