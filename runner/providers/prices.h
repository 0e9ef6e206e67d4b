/* prices.h — model prices from LiteLLM's price map
 * (model_prices_and_context_window.json), the file most LLM tools share,
 * laid over the providers of a loaded providers config so that prices
 * need not be kept by hand. `--prices FILE` (or $NIGHTSHIFT_PRICES) names
 * it.
 *
 * Not thread-safe: it changes the providers in place and reads the
 * environment; call it right after the config is loaded, before any
 * thread starts. */
#ifndef NIGHTSHIFT_PRICES_H
#define NIGHTSHIFT_PRICES_H

#include <stddef.h>

#include "runner/providers/prov.h"

/* Return codes (0 is success). */
#define PRICES_EINVAL (-1) /* not JSON, or not a price map */
#define PRICES_EIO (-2)	   /* the file could not be read */

/* The environment variable naming a price file (an explicit --prices FILE
 * wins over it). */
#define PRICES_ENV "NIGHTSHIFT_PRICES"
/* Largest price file read. LiteLLM's is about 1.6 MiB and grows. */
#define PRICES_MAX_FILE (64 * 1024 * 1024)

/* prices_apply: read the price map at path (NULL -> $NIGHTSHIFT_PRICES if
 * set and non-empty, else do nothing and return 0) and lay it over
 * provs[0..nprovs):
 * for each model of each provider whose flavor LiteLLM knows (see
 * flavor_litellm), the entry keyed "PREFIX/MODEL", else "MODEL",
 * whose litellm_provider is that provider's and whose mode is "chat" (or
 * absent) replaces the prices it has (per token there, per million here)
 * and the context window and output cap it states; what it lacks is kept.
 * LiteLLM has no off-peak windows: each window's price follows a new base
 * price as the same fraction of it (the config's 0.66 off-peak against
 * 1.32 peak becomes 0.2175 against a map's 0.435), per token kind; a
 * window whose base price was 0 cannot follow and is dropped, counted in
 * the model's noffpeak_dropped. A cache price the config
 * had left equal to the input price follows a new input price.
 * The map's batch prices (input_cost_per_token_batches,
 * output_cost_per_token_batches) become the model's batch prices when
 * the model is on its provider's batch lane (prov_has_lane) and are
 * passed over when not. Without them, a batch price the config gave
 * follows a new base price as a window does (dropped, so that the lane's
 * discount applies, when its base was 0); none given stays none, the
 * discount applying to the new base price. Each model
 * so priced gets price_source "litellm: PATH" and price_date = the file's
 * modification day (UTC, YYYY-MM-DD). Entries of the wrong shape are
 * skipped without a word: the map is large and holds many kinds of
 * models. Returns 0 and sets *npriced (may be NULL) to how many models
 * were priced, or PRICES_EIO / PRICES_EINVAL with a one-line message
 * naming the file in err. provs and path are borrowed. */
int prices_apply(struct prov *provs, size_t nprovs, const char *path,
		 size_t *npriced, char *err, size_t errlen);

/* prices_apply_text: as prices_apply, from text[0..len) (need not be
 * NUL-terminated). source names the text in messages and in price_source;
 * date (may be NULL) becomes price_date. Both borrowed. */
int prices_apply_text(struct prov *provs, size_t nprovs, const char *text,
		      size_t len, const char *source, const char *date,
		      size_t *npriced, char *err, size_t errlen);

#endif
