/* fuzz_prices.c — the LiteLLM price map reader (runner/providers/prices.c)
 * on any bytes, laid over the built-in catalogue as `--prices` lays it.
 * Besides crashes, leaks and reads past the text: a map it refuses leaves
 * a one-line reason; one it takes leaves every price finite and >= 0
 * (no NaN or negative price may reach cost arithmetic), off-peak windows
 * in the day, and no more models priced than there are. */
#include <math.h>

#include "runner/config.h"
#include "runner/providers/catalogue.h"
#include "runner/providers/prices.h"
#include "tests/fuzz/fuzz.h"

static int price_ok(double v)
{
	return isfinite(v) && v >= 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), err[512];
	const char *cat = catalogue_json();
	struct config *c = NULL;
	size_t priced = (size_t)-1, nmodels = 0;
	int rc;

	FUZZ_CHECK(config_parse(cat, strlen(cat), "built-in", &c, err,
				sizeof(err)) == 0,
		   "the catalogue: %s", err);
	for (size_t i = 0; i < c->nprovs; i++)
		nmodels += c->provs[i].nmodels;
	err[0] = '\0';
	rc = prices_apply_text(c->provs, c->nprovs, text, size, "fuzz",
			       "2026-01-01", &priced, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(priced <= nmodels, "%zu priced of %zu", priced,
			   nmodels);
		for (size_t i = 0; i < c->nprovs; i++)
			for (size_t m = 0; m < c->provs[i].nmodels; m++) {
				const struct prov_model *pm =
				    &c->provs[i].models[m];

				FUZZ_CHECK(price_ok(pm->input_per_mtok) &&
					       price_ok(pm->output_per_mtok) &&
					       price_ok(pm->cached_input_per_mtok) &&
					       price_ok(pm->cache_write_per_mtok),
					   "%s: a price %g %g %g %g", pm->name,
					   pm->input_per_mtok,
					   pm->output_per_mtok,
					   pm->cached_input_per_mtok,
					   pm->cache_write_per_mtok);
				/* batch prices: < 0 stands for none */
				FUZZ_CHECK(!isnan(pm->batch_input_per_mtok) &&
					       !isnan(pm->batch_output_per_mtok) &&
					       isfinite(pm->batch_input_per_mtok) &&
					       isfinite(pm->batch_output_per_mtok),
					   "%s: batch prices %g %g", pm->name,
					   pm->batch_input_per_mtok,
					   pm->batch_output_per_mtok);
				FUZZ_CHECK(pm->context_window >= 0 &&
					       pm->max_output_tokens >= 0,
					   "%s: window %lld, output %lld",
					   pm->name,
					   (long long)pm->context_window,
					   (long long)pm->max_output_tokens);
				for (size_t k = 0; k < pm->noffpeak; k++)
					FUZZ_CHECK(
					    price_ok(pm->offpeak[k].input_per_mtok) &&
						price_ok(pm->offpeak[k]
							     .output_per_mtok),
					    "%s: off-peak price %g %g", pm->name,
					    pm->offpeak[k].input_per_mtok,
					    pm->offpeak[k].output_per_mtok);
			}
	} else {
		FUZZ_CHECK(rc == PRICES_EINVAL, "rc %d", rc);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0] &&
			       strchr(err, '\n') == NULL,
			   "refused without a one-line reason: %s", err);
	}
	config_free(&c);
	free(text);
	return 0;
}
