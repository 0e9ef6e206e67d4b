/* prov.h — what a provider is, as the providers config describes it:
 * where it is, how it speaks, what its models cost and its limits, and
 * whether it has a batch lane. The
 * config (runner/config.h) parses these; the dialects, prices, costs and
 * the scheduler read them.
 * Read-only once loaded: thread-safe to read from any thread; the
 * functions are pure. */
#ifndef NIGHTSHIFT_PROV_H
#define NIGHTSHIFT_PROV_H

#include <stddef.h>
#include <stdint.h>

#include "runner/providers/flavor.h"

/* Longest provider name (also a route name) and model name. */
#define PROV_NAME_MAX 64
#define PROV_MODEL_MAX 128

enum prov_dialect { PROV_OPENAI, PROV_ANTHROPIC };

/* prov_dialect_parse: "openai" or "anthropic" (exact case) -> 0 and *d,
 * or -1 when it names neither. */
int prov_dialect_parse(const char *name, enum prov_dialect *d);
/* prov_dialect_name: the config name of d (static string). */
const char *prov_dialect_name(enum prov_dialect d);

/* prov_url_check: whether url may be a provider's base_url:
 * https://HOST[:PORT][/PATH], or http:// for a loopback host (127.0.0.0/8,
 * localhost, [::1]). NULL when it may, else why not (static; quotes
 * nothing of url, which may hold a pasted key). Sets *loopback once the
 * host is read. */
const char *prov_url_check(const char *url, int *loopback);

/* A time-of-day price window (UTC). start_min/end_min are minutes of the
 * day; end_min may be 1440 ("24:00"); end_min < start_min wraps past
 * midnight. days: bit d set = applies on weekday d (0 = Sunday, UTC day of
 * the instant priced); 0 = every day. */
struct prov_offpeak {
	int start_min, end_min;
	double input_per_mtok, output_per_mtok;
	unsigned days;
};

/* The two ways a request reaches a provider: one HTTP call each (sync),
 * or in a batch the provider runs when it likes, at a discount (batch; see
 * struct prov_batch). */
enum prov_lane { LANE_SYNC = 0, LANE_BATCH = 1 };

/* prov_lane_name: "sync" or "batch" (static string). */
const char *prov_lane_name(enum prov_lane l);
/* prov_lane_parse: "sync" or "batch" (exact case) -> 0 and *l, or -1 when
 * s (may be NULL) names neither. */
int prov_lane_parse(const char *s, enum prov_lane *l);

/* A batch API's wire shape. The values are those of batch_wire.h's enum
 * batch_api (BATCH_API_OPENAI, BATCH_API_ANTHROPIC), so one casts to the
 * other. */
enum prov_batch_api {
	PROV_BATCH_OPENAI = 0,	  /* Files + Batches (OpenAI, DashScope) */
	PROV_BATCH_ANTHROPIC = 1, /* Message Batches */
};

/* prov_batch_api_name: "openai" or "anthropic" (static string). */
const char *prov_batch_api_name(enum prov_batch_api a);

/* A provider's batch lane, as the config's "batch" object gives it; on is
 * 0 (and the rest 0) for a provider without one. discount is in (0, 1]:
 * the batch price of a model without batch prices of its own is its base
 * price times it. max_requests and max_bytes bound one batch (its input
 * file); window_h is the completion window asked for, in hours. */
struct prov_batch {
	int on;
	enum prov_batch_api api;
	double discount;
	int64_t max_requests, max_bytes;
	int window_h;
};

/* A model's prices are USD per million tokens. context_window and
 * max_output_tokens are 0 when the config does not say. price_source and
 * price_date are NULL unless a price file (runner/providers/prices.h) replaced
 * the model's figures; then they say which file and its date, and override the
 * provider's prices_source/prices_date for this model. noffpeak_dropped
 * counts the off-peak windows a price file's new base price left without
 * a price (see prices.h); 0 otherwise. batch_input_per_mtok and
 * batch_output_per_mtok are its prices on the provider's batch lane, < 0
 * when not given (then its base price times the lane's discount; see
 * cost_price_lane); batch_off is 1 when the model is not offered on the
 * provider's batch lane ("batch": false). */
struct prov_model {
	char *name;
	double input_per_mtok, output_per_mtok;
	double cached_input_per_mtok, cache_write_per_mtok;
	int64_t context_window, max_output_tokens;
	struct prov_offpeak *offpeak;
	size_t noffpeak, noffpeak_dropped;
	char *price_source, *price_date;
	double batch_input_per_mtok, batch_output_per_mtok;
	int batch_off;
};

/* Per-provider differences the dialects apply (all 0/empty by default).
 * json_mode_prompt: JSON mode is emulated by instruction + validation.
 * needs_json_word: JSON mode fails unless a message says "json".
 * disable_thinking: ask the provider to turn reasoning off.
 * drop_params: request fields the provider rejects; removed before sending. */
struct prov_quirks {
	int json_mode_prompt;
	int needs_json_word;
	int disable_thinking;
	char **drop_params;
	size_t ndrop;
};

/* One provider. base_url has no trailing '/'. api_key_env is the NAME of
 * the environment variable holding the key, or NULL for a server that needs
 * no key. prices_date/prices_source may be NULL.
 * rpm and tpm are 0 for "no limit". */
struct prov {
	char *name;
	enum prov_dialect dialect;
	enum prov_flavor flavor;
	char *base_url;
	char *api_key_env;
	int max_inflight, rpm;
	int64_t tpm;
	int timeout_s, connect_timeout_s, max_retries;
	struct prov_model *models;
	size_t nmodels;
	struct prov_quirks quirks;
	char *prices_date;
	char *prices_source;
	struct prov_batch batch;
};

/* prov_has_lane: whether model m of provider p can be sent on lane l: the
 * sync lane always; the batch lane when p has one and m is not batch_off. */
int prov_has_lane(const struct prov *p, const struct prov_model *m,
		  enum prov_lane l);

#endif
