/* config.h — the providers config: which providers exist, how to reach them,
 * what their models cost (per million tokens, with time-of-day windows), and
 * named routes over them. The same parser reads a user's file and the
 * built-in catalogue (runner/catalogue.c), so both obey the same rules.
 *
 * Not thread-safe while loading (config_load/config_parse/config_free);
 * a loaded config is read-only and may then be read from any thread. */
#ifndef NIGHTSHIFT_CONFIG_H
#define NIGHTSHIFT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Return codes (0 is success). */
#define CONFIG_EINVAL (-1) /* the config is wrong: bad JSON or a bad field */
#define CONFIG_EIO (-2)	   /* the file could not be read */

/* The environment variable naming a config file that replaces the
 * built-in catalogue (an explicit --providers FILE wins over it). */
#define CONFIG_ENV "NIGHTSHIFT_PROVIDERS"
/* Largest config file read; a providers file is a few KiB. */
#define CONFIG_MAX_FILE (4 * 1024 * 1024)

enum prov_dialect { PROV_OPENAI, PROV_ANTHROPIC };

/* A time-of-day price window (UTC). start_min/end_min are minutes of the
 * day; end_min may be 1440 ("24:00"); end_min < start_min wraps past
 * midnight. days: bit d set = applies on weekday d (0 = Sunday, UTC day of
 * the instant priced); 0 = every day. */
struct prov_offpeak {
	int start_min, end_min;
	double input_per_mtok, output_per_mtok;
	unsigned days;
};

/* A model's prices are USD per million tokens. context_window and
 * max_output_tokens are 0 when the config does not say. price_source and
 * price_date are NULL unless a price file (runner/prices.h) replaced the
 * model's figures; then they say which file and its date, and override
 * the provider's prices_source/prices_date for this model. */
struct prov_model {
	char *name;
	double input_per_mtok, output_per_mtok;
	double cached_input_per_mtok, cache_write_per_mtok;
	int64_t context_window, max_output_tokens;
	struct prov_offpeak *offpeak;
	size_t noffpeak;
	char *price_source, *price_date;
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
 * no key. flavor is one of "generic", "openai", "dashscope", "deepseek",
 * "mistral", "gemini", "anthropic". prices_date/prices_source may be NULL.
 * rpm and tpm are 0 for "no limit". */
struct prov {
	char *name;
	enum prov_dialect dialect;
	char *flavor;
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
};

/* A candidate: indexes into config->provs and that provider's models. */
struct route_cand {
	int prov;
	int model;
};

struct route {
	char *name;
	struct route_cand *cands;
	size_t ncands;
};

/* Providers and routes keep the order of the file. source is the file path,
 * or "built-in". */
struct config {
	struct prov *provs;
	size_t nprovs;
	struct route *routes;
	size_t nroutes;
	char *source;
};

/* Loading */

/* config_load: read the config. path NULL -> $NIGHTSHIFT_PROVIDERS if set
 * and non-empty, else the built-in catalogue. Returns 0 and sets *out (new,
 * free with config_free), or CONFIG_EINVAL / CONFIG_EIO with a one-line
 * message in err ("FILE: providers.qwen.max_inflight: must be a positive
 * integer"). path is borrowed. Messages quote no value from the file but
 * provider and model names, so a key pasted into the wrong field is never
 * echoed. */
int config_load(const char *path, struct config **out, char *err,
		size_t errlen);

/* config_parse: as config_load, from text[0..len) (need not be
 * NUL-terminated). source names the text in messages and becomes
 * config->source (borrowed; NULL -> "config"). */
int config_parse(const char *text, size_t len, const char *source,
		 struct config **out, char *err, size_t errlen);

/* config_free: free *c and set it to NULL; NULL or *c NULL does nothing. */
void config_free(struct config **c);

/* Lookups (read-only) */

/* config_find_prov: index of the provider called name, or -1. */
int config_find_prov(const struct config *c, const char *name);

/* config_find_model: index of p's model called model, or -1. */
int config_find_model(const struct prov *p, const char *model);

/* config_candidates: resolve a job's body.model. In this order: a route
 * name (its list, in order); "provider:model" (that one pair, when the
 * prefix is a configured provider that lists the model); a bare model name
 * (every provider that lists it, in config order; model ids may contain
 * ':', as in "llama3:8b"). Writes at most cap entries to out and returns
 * how many it wrote; with cap 0 (out may be NULL) it returns how many there
 * are. 0 means the name is unknown. */
size_t config_candidates(const struct config *c, const char *body_model,
			 struct route_cand *out, size_t cap);

/* config_price: the input/output price (USD per million tokens) in force at
 * epoch second t: the first off-peak window that contains t, else the
 * model's base prices. Cached-input and cache-write prices have no windows. */
void config_price(const struct prov_model *m, int64_t t, double *in_per_mtok,
		  double *out_per_mtok);

/* config_key: the provider's API key from its variable, without the spaces
 * or tabs around it (new: wipe it with explicit_bzero before free); ""
 * when the provider needs none; NULL when the variable is unset or blank.
 * *bad (may be NULL) is set when the key holds a control character: a CR
 * or LF would end the header line it is sent in and start another. Reads
 * the environment: call it while nothing modifies the environment. */
char *config_key(const struct prov *p, int *bad);
/* config_key_state: 1 if config_key gives a usable key (or none is
 * needed), -1 if the key holds a control character, 0 if it is unset. */
int config_key_state(const struct prov *p);

/* config_dialect_name: "openai" or "anthropic" (static string). */
const char *config_dialect_name(enum prov_dialect d);

#endif
