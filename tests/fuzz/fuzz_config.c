/* fuzz_config.c — the providers config reader (runner/config.c and the
 * jsoncheck kit under it) on any bytes. Besides crashes, leaks and reads
 * past the text: a config it refuses has a one-line reason; one it takes
 * has providers with a name, a base_url and models with finite prices
 * >= 0; and no message shows a value that looks like a key (config.c:
 * a key pasted into the wrong field must not reach a terminal or a
 * log). */
#include <cjson/cJSON.h>
#include <math.h>

#include "runner/config.h"
#include "runner/providers/prov.h"
#include "util/quote.h"
#include "tests/fuzz/fuzz.h"

/* in_a_name: s appears in some member name of v (at any depth).
 * Messages show member names (cleaned and cut): the path of the field. */
static int in_a_name(const cJSON *v, const char *s)
{
	for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
		if ((c->string && strstr(c->string, s)) || in_a_name(c, s))
			return 1;
	return 0;
}

/* not_shown: no string value of the text that looks like a key
 * (quote_secret; 8 bytes or more, at any depth but under "routes", whose
 * values name models, which messages may show) appears in err, unless
 * it is also part of a member name. */
static void not_shown(const cJSON *root, const cJSON *v, const char *err)
{
	for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
		if (c->string && strcmp(c->string, "routes") == 0)
			continue;
		if (cJSON_IsString(c) && strlen(c->valuestring) >= 8 &&
		    quote_secret(c->valuestring, strlen(c->valuestring)) &&
		    !in_a_name(root, c->valuestring))
			FUZZ_CHECK(strstr(err, c->valuestring) == NULL,
				   "message shows a key: %s", err);
		not_shown(root, c, err);
	}
}

static void check_taken(const struct config *c)
{
	FUZZ_CHECK(c->source && strcmp(c->source, "fuzz") == 0, "source");
	for (size_t i = 0; i < c->nprovs; i++) {
		const struct prov *p = &c->provs[i];

		FUZZ_CHECK(p->name && p->name[0], "provider %zu unnamed", i);
		FUZZ_CHECK(p->base_url && p->base_url[0], "%s: no base_url",
			   p->name);
		FUZZ_CHECK(p->max_inflight > 0, "%s: max_inflight %d", p->name,
			   p->max_inflight);
		for (size_t m = 0; m < p->nmodels; m++) {
			const struct prov_model *pm = &p->models[m];

			FUZZ_CHECK(pm->name && pm->name[0], "%s: model %zu",
				   p->name, m);
			FUZZ_CHECK(isfinite(pm->input_per_mtok) &&
				       pm->input_per_mtok >= 0 &&
				       isfinite(pm->output_per_mtok) &&
				       pm->output_per_mtok >= 0,
				   "%s/%s: prices", p->name, pm->name);
			for (size_t k = 0; k < pm->noffpeak; k++)
				FUZZ_CHECK(pm->offpeak[k].start_min >= 0 &&
					       pm->offpeak[k].start_min < 1440 &&
					       pm->offpeak[k].end_min >= 0 &&
					       pm->offpeak[k].end_min <= 1440,
					   "%s/%s: offpeak %zu minutes %d-%d",
					   p->name, pm->name, k,
					   pm->offpeak[k].start_min,
					   pm->offpeak[k].end_min);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), err[512];
	struct config *c = NULL;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = config_parse(text, size, "fuzz", &c, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(c != NULL, "taken, no config");
		check_taken(c);
	} else {
		cJSON *root = cJSON_ParseWithLength(text, size);

		FUZZ_CHECK(rc == CONFIG_EINVAL, "rc %d", rc);
		FUZZ_CHECK(c == NULL, "refused, yet a config");
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0],
			   "refused without a reason");
		FUZZ_CHECK(strncmp(err, "fuzz: ", 6) == 0,
			   "message does not name the source: %s", err);
		FUZZ_CHECK(strchr(err, '\n') == NULL, "message of two lines: %s",
			   err);
		not_shown(root, root, err);
		cJSON_Delete(root);
	}
	config_free(&c);
	FUZZ_CHECK(c == NULL, "config_free left a pointer");
	free(text);
	return 0;
}
