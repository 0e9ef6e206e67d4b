/* prices.c — lay LiteLLM's price map over the providers config.
 *
 * LiteLLM's model_prices_and_context_window.json is one JSON object of
 * some thousands of entries, keyed by model ("gpt-4o-mini") or by
 * "provider/model" ("deepseek/deepseek-chat"), each naming its
 * litellm_provider and mode and giving USD per token:
 * input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
 * cache_creation_input_token_cost, the Batch API's
 * input_cost_per_token_batches and output_cost_per_token_batches, plus
 * max_input_tokens and max_output_tokens. DashScope's entries carry no
 * flat price but a tiered_pricing array by input length; like the built-in
 * catalogue we take the lowest tier. Most entries are of no use here (embeddings, images,
 * other clouds, the "sample_spec" documentation entry), so only the keys a
 * configured model can have are looked up, and an entry that does not fit
 * (wrong provider, not a chat model, a field of the wrong type) is passed
 * over rather than refused: one odd entry upstream must not stop a run.
 * The file as a whole must parse, though: a truncated download would
 * otherwise silently leave the old prices in force. */
#include "runner/providers/prices.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "runner/json/jsoncheck.h"
#include "util/xalloc.h"

#define KEY_MAX 256

/* The kit's codes pass straight through. */
_Static_assert(PRICES_EINVAL == JC_EINVAL && PRICES_EIO == JC_EIO,
	       "prices and jsoncheck return codes differ");

/* Entries are checked silently: one that does not fit is passed over. */
static const struct jc_ctx quiet = {"prices", NULL, 0};

/* What one entry says, per token; has_* tells which fields it had. bin
 * and bout are the batch prices. */
struct entry {
	int has_in, has_out, has_cached, has_write, has_bin, has_bout;
	double in, out, cached, write, bin, bout;
	int64_t max_in, max_out; /* 0: not stated */
};

/* get_cost: an optional per-token price member, within the config's
 * bound per million. 0 when absent or valid (*has says which), else not
 * 0. */
static int get_cost(const cJSON *obj, const char *key, int *has, double *out)
{
	return jc_get_number(&quiet, obj, "", key, JC_PRICE_MAX / 1e6, "", has,
			     out);
}

/* get_count: an optional token count member; 0 (and *out 0) when absent,
 * not 0 when it is not a positive integer. */
static int get_count(const cJSON *obj, const char *key, int64_t *out)
{
	return jc_get_int(&quiet, obj, "", key, 1, JC_COUNT_MAX, 0, out);
}

/* get_costs: the six prices of obj (an entry or a tier). */
static int get_costs(const cJSON *obj, struct entry *e)
{
	if (get_cost(obj, "input_cost_per_token", &e->has_in, &e->in) ||
	    get_cost(obj, "output_cost_per_token", &e->has_out, &e->out) ||
	    get_cost(obj, "cache_read_input_token_cost", &e->has_cached,
		     &e->cached) ||
	    get_cost(obj, "cache_creation_input_token_cost", &e->has_write,
		     &e->write) ||
	    get_cost(obj, "input_cost_per_token_batches", &e->has_bin,
		     &e->bin) ||
	    get_cost(obj, "output_cost_per_token_batches", &e->has_bout,
		     &e->bout))
		return -1;
	return 0;
}

/* lowest_tier: the tier of tiered_pricing that starts at the smallest
 * input length, or NULL when the array is not a list of tier objects. */
static const cJSON *lowest_tier(const cJSON *tiers)
{
	const cJSON *t, *best = NULL;
	double best_from = 0;

	if (!cJSON_IsArray(tiers))
		return NULL;
	cJSON_ArrayForEach(t, tiers)
	{
		const cJSON *range =
		    cJSON_GetObjectItemCaseSensitive(t, "range");
		const cJSON *from = cJSON_GetArrayItem(range, 0);
		double f;

		if (!cJSON_IsObject(t))
			return NULL;
		f = cJSON_IsNumber(from) ? from->valuedouble : 0;
		if (!isfinite(f))
			return NULL;
		if (!best || f < best_from) {
			best = t;
			best_from = f;
		}
	}
	return best;
}

/* has_price: e states a price of some kind. */
static int has_price(const struct entry *e)
{
	return e->has_in || e->has_out || e->has_cached || e->has_write ||
	       e->has_bin || e->has_bout;
}

/* take: a tier's price (has, v) where the entry has none of its own. */
static void take(int *has, double *out, int has_v, double v)
{
	if (!*has && has_v) {
		*has = 1;
		*out = v;
	}
}

/* read_entry: 1 and *e when the entry ej is a chat model of provider
 * `want` that states at least one figure, else 0. A flat price wins over
 * tiers; the tiers are read only when the entry has no flat base price
 * (a flat batch price beside them is kept). */
static int read_entry(const cJSON *ej, const char *want, struct entry *e)
{
	const cJSON *prov, *mode, *tier;

	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(ej))
		return 0;
	prov = cJSON_GetObjectItemCaseSensitive(ej, "litellm_provider");
	if (!cJSON_IsString(prov) || strcmp(prov->valuestring, want) != 0)
		return 0;
	mode = cJSON_GetObjectItemCaseSensitive(ej, "mode");
	if (mode &&
	    (!cJSON_IsString(mode) || strcmp(mode->valuestring, "chat") != 0))
		return 0;
	if (get_costs(ej, e))
		return 0;
	if (!e->has_in && !e->has_out && !e->has_cached && !e->has_write) {
		struct entry t;

		memset(&t, 0, sizeof(t));
		tier = lowest_tier(
		    cJSON_GetObjectItemCaseSensitive(ej, "tiered_pricing"));
		if (tier && get_costs(tier, &t))
			return 0;
		take(&e->has_in, &e->in, t.has_in, t.in);
		take(&e->has_out, &e->out, t.has_out, t.out);
		take(&e->has_cached, &e->cached, t.has_cached, t.cached);
		take(&e->has_write, &e->write, t.has_write, t.write);
		take(&e->has_bin, &e->bin, t.has_bin, t.bin);
		take(&e->has_bout, &e->bout, t.has_bout, t.bout);
	}
	if (get_count(ej, "max_input_tokens", &e->max_in) ||
	    get_count(ej, "max_output_tokens", &e->max_out))
		return 0;
	return has_price(e) || e->max_in || e->max_out;
}

/* find_entry: the entry for a model of a provider LiteLLM calls `lp`:
 * "lp/model" first (LiteLLM's own routing name), then the bare model. */
static int find_entry(const cJSON *root, const char *lp, const char *model,
		      struct entry *e)
{
	char key[KEY_MAX];
	int n = snprintf(key, sizeof(key), "%s/%s", lp, model);

	if (n > 0 && (size_t)n < sizeof(key) &&
	    read_entry(cJSON_GetObjectItemCaseSensitive(root, key), lp, e))
		return 1;
	return read_entry(cJSON_GetObjectItemCaseSensitive(root, model), lp, e);
}

/* per_mtok: a per-token price as USD per million tokens. Rounded to 1e-9
 * USD per million so that 1.5e-07 becomes exactly the double nearest 0.15,
 * as a hand-written 0.15 would be: costs then match either source to the
 * last bit rather than to 1e-17. */
static double per_mtok(double per_token)
{
	return round(per_token * 1e15) / 1e9;
}

/* follow: an off-peak price w set against base price old, moved to a new
 * base price: the same fraction of it (DeepSeek's half price stays half
 * of whatever the map says peak costs). 0 and *w when it can be said,
 * -1 when old is 0 (no fraction to keep) and the price changed. */
static int follow(double *w, double old, double now)
{
	if (now == old)
		return 0;
	if (!(old > 0))
		return -1;
	*w = round(*w / old * now * 1e9) / 1e9; /* as per_mtok rounds */
	return 0;
}

/* follow_windows: m's off-peak prices after its base prices moved from
 * (old_in, old_out). LiteLLM has no windows, and a window kept at the
 * catalogue's absolute figures under a lower map price would make
 * off-peak dearer than peak; so each follows its base price as the
 * provider's discount. A window one of whose prices cannot follow (its
 * base was 0) is dropped and counted in m->noffpeak_dropped. */
static void follow_windows(struct prov_model *m, double old_in, double old_out)
{
	size_t i, kept = 0;

	for (i = 0; i < m->noffpeak; i++) {
		struct prov_offpeak w = m->offpeak[i];

		if (follow(&w.input_per_mtok, old_in, m->input_per_mtok) ||
		    follow(&w.output_per_mtok, old_out, m->output_per_mtok)) {
			m->noffpeak_dropped++;
			continue;
		}
		m->offpeak[kept++] = w;
	}
	m->noffpeak = kept;
}

/* follow_batch: m's batch price *b (< 0: none, the lane's discount
 * applies) after its base price moved from old to now. A batch price set
 * against the old base keeps its fraction of it, as a window's does: kept
 * at its absolute figure it could end above a lower new base, and the
 * model-specific fraction is what the config knew. Without a fraction to
 * keep (old was 0) it is dropped, and the lane's discount applies. */
static void follow_batch(double *b, double old, double now)
{
	if (*b >= 0 && follow(b, old, now))
		*b = -1;
}

/* apply: e over m; 1 when it set a price. A cache price equal to the old
 * input price means "no discount known" (config.c's default); it follows
 * the new input price rather than keep an input price that no longer
 * holds. Off-peak windows and the config's batch prices follow the base
 * prices (follow_windows, follow_batch); the map's batch prices replace
 * them when the model is on a batch lane (batch), and are passed over
 * when not (no lane could charge them). */
static int apply(struct prov_model *m, const struct entry *e, int batch,
		 const char *source, const char *date)
{
	double old_in = m->input_per_mtok, old_out = m->output_per_mtok;
	int bin = batch && e->has_bin, bout = batch && e->has_bout;

	if (e->has_in)
		m->input_per_mtok = per_mtok(e->in);
	if (e->has_out)
		m->output_per_mtok = per_mtok(e->out);
	if (e->has_cached)
		m->cached_input_per_mtok = per_mtok(e->cached);
	else if (m->cached_input_per_mtok == old_in)
		m->cached_input_per_mtok = m->input_per_mtok;
	if (e->has_write)
		m->cache_write_per_mtok = per_mtok(e->write);
	else if (m->cache_write_per_mtok == old_in)
		m->cache_write_per_mtok = m->input_per_mtok;
	if (e->max_in)
		m->context_window = e->max_in;
	if (e->max_out)
		m->max_output_tokens = e->max_out;
	follow_windows(m, old_in, old_out);
	if (bin)
		m->batch_input_per_mtok = per_mtok(e->bin);
	else
		follow_batch(&m->batch_input_per_mtok, old_in,
			     m->input_per_mtok);
	if (bout)
		m->batch_output_per_mtok = per_mtok(e->bout);
	else
		follow_batch(&m->batch_output_per_mtok, old_out,
			     m->output_per_mtok);
	if (!(e->has_in || e->has_out || e->has_cached || e->has_write ||
	      bin || bout))
		return 0;
	free(m->price_source);
	free(m->price_date);
	m->price_source = xmalloc(strlen(source) + sizeof("litellm: "));
	strcpy(m->price_source, "litellm: ");
	strcat(m->price_source, source);
	m->price_date = date ? xstrdup(date) : NULL;
	return 1;
}

int prices_apply_text(struct prov *provs, size_t nprovs, const char *text,
		      size_t len, const char *source, const char *date,
		      size_t *npriced, char *err, size_t errlen)
{
	struct jc_ctx x = {source ? source : "prices", err, errlen};
	cJSON *root = NULL;
	size_t i, j, n = 0;
	int rc = 0;

	if (npriced)
		*npriced = 0;
	if (err && errlen)
		err[0] = '\0';
	root = jc_parse(&x, text, len);
	if (!root)
		return PRICES_EINVAL;
	if (!cJSON_IsObject(root)) {
		rc = jc_refuse(&x, NULL, NULL, root,
			       "not a LiteLLM price map (the top level must "
			       "be an object of models)");
		goto out;
	}
	for (i = 0; i < nprovs; i++) {
		struct prov *p = &provs[i];
		const char *lp = flavor_litellm(p->flavor);
		struct entry e;

		for (j = 0; lp && j < p->nmodels; j++) {
			if (!find_entry(root, lp, p->models[j].name, &e))
				continue;
			n += (size_t)apply(
			    &p->models[j], &e,
			    prov_has_lane(p, &p->models[j], LANE_BATCH),
			    x.source, date);
		}
	}
	if (npriced)
		*npriced = n;
out:
	cJSON_Delete(root);
	return rc;
}

int prices_apply(struct prov *provs, size_t nprovs, const char *path,
		 size_t *npriced, char *err, size_t errlen)
{
	const char *env = getenv(PRICES_ENV);
	struct jc_ctx x = {path, err, errlen};
	char date[16];
	char *buf = NULL;
	size_t len = 0;
	time_t mtime = 0;
	struct tm tm;
	int rc;

	if (npriced)
		*npriced = 0;
	if (err && errlen)
		err[0] = '\0';
	if (!path && env && *env)
		x.source = path = env;
	if (!path)
		return 0;
	rc = jc_read_file(&x, PRICES_MAX_FILE, "a LiteLLM price map", &buf,
			  &len, &mtime);
	if (rc)
		return rc;
	date[0] = '\0';
	if (gmtime_r(&mtime, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	rc = prices_apply_text(provs, nprovs, buf, len, path,
			       date[0] ? date : NULL, npriced, err, errlen);
	free(buf);
	return rc;
}
