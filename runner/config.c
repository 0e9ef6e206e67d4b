/* config.c — parse and validate the providers config.
 *
 * The config is small, hand-written and security-relevant (it names where
 * requests go and which environment variable holds each key), so the parser
 * is strict: every field is checked, unknown or duplicate fields are errors
 * (a typo must not silently fall back to a default), plain http:// is only
 * accepted for loopback hosts, and a field called api_key is refused with a
 * pointer to api_key_env. Every message names the source, the JSON path of
 * the field, the reason and the refused value (quoted and cut by the kit,
 * which never shows one that looks like a key); api_key_env's value and
 * a base_url holding credentials or a query are never shown at all: a key
 * pasted into the wrong field must not end up on a terminal or in a log.
 * The checks shared with the price map (messages, paths, getters, the
 * capped read) are runner/json/jsoncheck.h's; a provider's batch lane and
 * its models' batch members are parsed by runner/providers/batchcfg.h.
 *
 * The cJSON tree is copied into plain structs (struct config) and deleted
 * before returning, so readers need no cJSON and a loaded config is
 * immutable. */
#include "runner/config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runner/json/jsoncheck.h"
#include "runner/providers/batchcfg.h"
#include "runner/providers/catalogue.h"
#include "util/timeparse.h"
#include "util/xalloc.h"

/* Bounds that keep a typo from turning into an absurd setting. */
#define MAX_URL 2048
#define MAX_TEXT 2048
#define MAX_OFFPEAK 24
#define MAX_DROP 64
#define MINUTES_PER_DAY 1440

/* The kit's codes pass straight through. */
_Static_assert(CONFIG_EINVAL == JC_EINVAL && CONFIG_EIO == JC_EIO,
	       "config and jsoncheck return codes differ");

static const char *const weekdays[] = {"sun", "mon", "tue", "wed",
				       "thu", "fri", "sat", NULL};

/* name_ok: 1..max characters of [A-Za-z0-9_-] plus any in extra. Provider
 * and route names never contain ':' (it separates "provider:model"). */
static int name_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	size_t i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!isalnum(ch) && ch != '_' && ch != '-' &&
		    !(extra && strchr(extra, ch)))
			return 0;
	}
	return 1;
}

/* model_name_ok: models are the providers' own ids ("qwen-plus",
 * "gpt-4.1-mini", "llama3:8b", "org/model"): printable non-space ASCII. */
static int model_name_ok(const char *s)
{
	size_t n = strlen(s);
	size_t i;

	if (n == 0 || n > PROV_MODEL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

/* env_name_ok: a portable environment variable name. This also rejects
 * most keys pasted here by mistake ("sk-...", base64 with '+' or '/'). */
static int env_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 128 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static void model_free(struct prov_model *m)
{
	free(m->name);
	free(m->offpeak);
	free(m->price_source);
	free(m->price_date);
}

static void prov_free(struct prov *p)
{
	size_t i;

	free(p->name);
	free(p->base_url);
	free(p->api_key_env);
	free(p->prices_date);
	free(p->prices_source);
	for (i = 0; i < p->nmodels; i++)
		model_free(&p->models[i]);
	free(p->models);
	for (i = 0; i < p->quirks.ndrop; i++)
		free(p->quirks.drop_params[i]);
	free(p->quirks.drop_params);
}

void config_free(struct config **c)
{
	struct config *cf;
	size_t i;

	if (!c || !*c)
		return;
	cf = *c;
	for (i = 0; i < cf->nprovs; i++)
		prov_free(&cf->provs[i]);
	free(cf->provs);
	for (i = 0; i < cf->nroutes; i++) {
		free(cf->routes[i].name);
		free(cf->routes[i].cands);
	}
	free(cf->routes);
	free(cf->source);
	free(cf);
	*c = NULL;
}

static int parse_window(const struct jc_ctx *x, const cJSON *w,
			const char *path, struct prov_offpeak *o)
{
	static const char *const keys[] = {
	    "start", "end", "input_per_mtok", "output_per_mtok", "days", NULL};
	const cJSON *start, *end, *days, *d;
	char p[JC_PATH_LEN];
	size_t i;
	int rc;

	if ((rc = jc_check_object(x, w, path, keys,
				  " {\"start\":\"HH:MM\", \"end\":\"HH:MM\", "
				  "\"input_per_mtok\":N, "
				  "\"output_per_mtok\":N}")))
		return rc;
	start = cJSON_GetObjectItemCaseSensitive(w, "start");
	end = cJSON_GetObjectItemCaseSensitive(w, "end");
	if (!cJSON_IsString(start) ||
	    tp_hhmm(start->valuestring, 0, &o->start_min))
		return jc_refuse(x, path, "start", start,
				 "must be a UTC time \"HH:MM\" (00:00-23:59)");
	if (!cJSON_IsString(end) || tp_hhmm(end->valuestring, 1, &o->end_min))
		return jc_refuse(x, path, "end", end,
				 "must be a UTC time \"HH:MM\" (00:00-24:00)");
	if (o->start_min == o->end_min % MINUTES_PER_DAY &&
	    !(o->start_min == 0 && o->end_min == MINUTES_PER_DAY))
		return jc_fail_key(x, path, "end",
				   "must differ from start (00:00-24:00 is the "
				   "whole day)");
	if ((rc = jc_get_price(x, w, path, "input_per_mtok", -1,
			       &o->input_per_mtok)) ||
	    (rc = jc_get_price(x, w, path, "output_per_mtok", -1,
			       &o->output_per_mtok)))
		return rc;
	o->days = 0;
	days = cJSON_GetObjectItemCaseSensitive(w, "days");
	if (!days)
		return 0;
	jc_subpath(p, sizeof(p), path, "days", 0);
	if (!cJSON_IsArray(days) || !days->child)
		return jc_refuse(x, p, NULL, days,
				 "must be a non-empty array of \"mon\" ... "
				 "\"sun\"");
	for (d = days->child, i = 0; d; d = d->next, i++) {
		char dp[JC_PATH_LEN];
		int wd = cJSON_IsString(d)
			     ? jc_in_list(weekdays, d->valuestring)
			     : -1;

		jc_subpath(dp, sizeof(dp), p, NULL, i);
		if (wd < 0)
			return jc_refuse(
			    x, dp, NULL, d,
			    "must be one of \"mon\", \"tue\", \"wed\", "
			    "\"thu\", \"fri\", \"sat\", \"sun\"");
		if (o->days & (1u << wd))
			return jc_refuse(x, dp, NULL, d, "duplicate day");
		o->days |= 1u << wd;
	}
	return 0;
}

static int parse_model(const struct jc_ctx *x, const cJSON *spec,
		       const char *path, struct prov_model *m)
{
	static const char *const keys[] = {"input_per_mtok",
					   "output_per_mtok",
					   "cached_input_per_mtok",
					   "cache_write_per_mtok",
					   "context_window",
					   "max_output_tokens",
					   "offpeak",
					   "batch",
					   "batch_input_per_mtok",
					   "batch_output_per_mtok",
					   NULL};
	const cJSON *op, *w;
	char p[JC_PATH_LEN];
	size_t i;
	int rc;

	if ((rc = jc_check_object(x, spec, path, keys,
				  " with input_per_mtok and output_per_mtok")))
		return rc;
	if ((rc = jc_get_price(x, spec, path, "input_per_mtok", -1,
			       &m->input_per_mtok)) ||
	    (rc = jc_get_price(x, spec, path, "output_per_mtok", -1,
			       &m->output_per_mtok)))
		return rc;
	/* Cache prices default to the plain input price: an unknown discount
	 * must not make a model look cheaper than it is. */
	if ((rc = jc_get_price(x, spec, path, "cached_input_per_mtok",
			       m->input_per_mtok, &m->cached_input_per_mtok)) ||
	    (rc = jc_get_price(x, spec, path, "cache_write_per_mtok",
			       m->input_per_mtok, &m->cache_write_per_mtok)))
		return rc;
	if ((rc = jc_get_int(x, spec, path, "context_window", 1, JC_COUNT_MAX,
			     0, &m->context_window)) ||
	    (rc = jc_get_int(x, spec, path, "max_output_tokens", 1,
			     JC_COUNT_MAX, 0, &m->max_output_tokens)))
		return rc;
	if ((rc = jc_get_array(x, spec, path, "offpeak", MAX_OFFPEAK,
			       "time windows", "windows", &op, p, sizeof(p))))
		return rc;
	if (!op || !op->child)
		return 0;
	m->offpeak =
	    xcalloc((size_t)cJSON_GetArraySize(op), sizeof(*m->offpeak));
	for (w = op->child, i = 0; w; w = w->next, i++) {
		char wp[JC_PATH_LEN];

		jc_subpath(wp, sizeof(wp), p, NULL, i);
		if ((rc = parse_window(x, w, wp, &m->offpeak[i])))
			return rc;
		m->noffpeak = i + 1;
	}
	return 0;
}

static int parse_quirks(const struct jc_ctx *x, const cJSON *q,
			const char *path, struct prov_quirks *qk)
{
	static const char *const keys[] = {"json_mode", "needs_json_word",
					   "enable_thinking", "drop_params",
					   NULL};
	const cJSON *jm, *dp, *d;
	char p[JC_PATH_LEN];
	int thinking = -1;
	size_t i, j;
	int rc;

	if ((rc = jc_check_object(x, q, path, keys, "")))
		return rc;
	jm = cJSON_GetObjectItemCaseSensitive(q, "json_mode");
	if (jm) {
		if (!cJSON_IsString(jm) ||
		    (strcmp(jm->valuestring, "native") != 0 &&
		     strcmp(jm->valuestring, "prompt") != 0))
			return jc_refuse(x, path, "json_mode", jm,
					 "must be \"native\" or \"prompt\"");
		qk->json_mode_prompt = strcmp(jm->valuestring, "prompt") == 0;
	}
	if ((rc = jc_get_bool(x, q, path, "needs_json_word",
			      &qk->needs_json_word)) ||
	    (rc = jc_get_bool(x, q, path, "enable_thinking", &thinking)))
		return rc;
	qk->disable_thinking = thinking == 0;
	if ((rc = jc_get_array(x, q, path, "drop_params", MAX_DROP,
			       "request field names", "names", &dp, p,
			       sizeof(p))))
		return rc;
	if (!dp || !dp->child)
		return 0;
	qk->drop_params =
	    xcalloc((size_t)cJSON_GetArraySize(dp), sizeof(char *));
	for (d = dp->child, i = 0; d; d = d->next, i++) {
		char ip[JC_PATH_LEN];

		jc_subpath(ip, sizeof(ip), p, NULL, i);
		if (!cJSON_IsString(d) ||
		    !name_ok(d->valuestring, PROV_NAME_MAX, "."))
			return jc_refuse(x, ip, NULL, d,
					 "must be a request field name");
		for (j = 0; j < qk->ndrop; j++)
			if (strcmp(qk->drop_params[j], d->valuestring) == 0)
				return jc_refuse(x, ip, NULL, d,
						 "duplicate name");
		qk->drop_params[qk->ndrop++] = xstrdup(d->valuestring);
	}
	return 0;
}

/* default_flavor: a provider named after a flavor speaks as it ("qwen"
 * is DashScope's); any other is generic. */
static enum prov_flavor default_flavor(const char *name, enum prov_dialect d)
{
	enum prov_flavor f;

	if (d == PROV_ANTHROPIC)
		return FLAVOR_ANTHROPIC;
	if (strcmp(name, "qwen") == 0)
		return FLAVOR_DASHSCOPE;
	if (flavor_parse(name, &f) == 0 && f != FLAVOR_ANTHROPIC)
		return f;
	return FLAVOR_GENERIC;
}

static int parse_provider(const struct jc_ctx *x, const cJSON *spec,
			  const char *path, struct prov *p)
{
	static const char *const keys[] = {
	    "dialect",		 "flavor",	"base_url", "api_key_env",
	    "max_inflight",	 "rpm",		"tpm",	    "timeout_s",
	    "connect_timeout_s", "max_retries", "models",   "prices_date",
	    "prices_source",	 "quirks",	"batch",    NULL};
	const cJSON *it, *models, *m;
	const char *why;
	char q[JC_PATH_LEN];
	int loopback = 0;
	size_t i;
	int rc;

	if ((rc = jc_check_object(x, spec, path, keys, "")))
		return rc;

	it = cJSON_GetObjectItemCaseSensitive(spec, "dialect");
	if (!it)
		return jc_fail_key(x, path, "dialect",
				   "required (\"openai\" or \"anthropic\")");
	if (!cJSON_IsString(it) ||
	    prov_dialect_parse(it->valuestring, &p->dialect) != 0)
		return jc_refuse(x, path, "dialect", it,
				 "must be \"openai\" or \"anthropic\"");

	it = cJSON_GetObjectItemCaseSensitive(spec, "flavor");
	if (!it)
		p->flavor = default_flavor(p->name, p->dialect);
	else if (!cJSON_IsString(it) ||
		 flavor_parse(it->valuestring, &p->flavor) != 0)
		return jc_refuse(x, path, "flavor", it, "must be one of %s",
				 flavor_names());

	if (!cJSON_GetObjectItemCaseSensitive(spec, "base_url"))
		return jc_fail_key(x, path, "base_url", "required");
	if ((rc =
		 jc_get_text(x, spec, path, "base_url", MAX_URL, &p->base_url)))
		return rc;
	/* A URL with credentials or a query (Gemini's "?key=") may hold a
	 * key: only the reason is said. */
	if ((why = prov_url_check(p->base_url, &loopback)) &&
	    strpbrk(p->base_url, "@?#"))
		return jc_fail_key(x, path, "base_url", "%s", why);
	if (why)
		return jc_refuse(
		    x, path, "base_url",
		    cJSON_GetObjectItemCaseSensitive(spec, "base_url"), "%s",
		    why);
	/* The dialects append "/chat/completions" or "/v1/messages". */
	for (i = strlen(p->base_url); i > 0 && p->base_url[i - 1] == '/'; i--)
		p->base_url[i - 1] = '\0';

	/* No key variable is only accepted when said out loud (null) or for
	 * a local server; a forgotten api_key_env on a cloud provider would
	 * otherwise send unauthenticated requests and fail at run time. */
	it = cJSON_GetObjectItemCaseSensitive(spec, "api_key_env");
	if (!it && !loopback)
		return jc_fail_key(x, path, "api_key_env",
				   "required: the NAME of the environment "
				   "variable holding the key (null if the "
				   "server needs no key)");
	if (it && !cJSON_IsNull(it)) {
		/* A string here that is no variable's name is most likely
		 * the key itself: its value is never shown. */
		if (cJSON_IsString(it) && !env_name_ok(it->valuestring))
			return jc_fail_key(x, path, "api_key_env",
					   "must be the NAME of an environment "
					   "variable ([A-Za-z_][A-Za-z0-9_]*), "
					   "not a key; got a string of %zu "
					   "bytes (not shown)",
					   strlen(it->valuestring));
		if (!cJSON_IsString(it))
			return jc_refuse(x, path, "api_key_env", it,
					 "must be the NAME of an environment "
					 "variable, or null");
		p->api_key_env = xstrdup(it->valuestring);
	}

	if ((rc = jc_get_int32(x, spec, path, "max_inflight", 1, 100000, 16,
			       &p->max_inflight)) ||
	    (rc = jc_get_int32(x, spec, path, "rpm", 0, 100000000, 0,
			       &p->rpm)) ||
	    (rc = jc_get_int(x, spec, path, "tpm", 0, JC_COUNT_MAX, 0,
			     &p->tpm)) ||
	    (rc = jc_get_int32(x, spec, path, "timeout_s", 1, 86400, 120,
			       &p->timeout_s)) ||
	    (rc = jc_get_int32(x, spec, path, "connect_timeout_s", 1, 3600, 10,
			       &p->connect_timeout_s)) ||
	    (rc = jc_get_int32(x, spec, path, "max_retries", 0, 100, 4,
			       &p->max_retries)))
		return rc;
	/* An unset connect_timeout_s follows timeout_s down: "timeout_s: 5"
	 * alone was refused over a default the user never set (issue 17). */
	if (!cJSON_GetObjectItemCaseSensitive(spec, "connect_timeout_s") &&
	    p->connect_timeout_s > p->timeout_s)
		p->connect_timeout_s = p->timeout_s;
	if (p->connect_timeout_s > p->timeout_s)
		return jc_refuse(
		    x, path, "connect_timeout_s",
		    cJSON_GetObjectItemCaseSensitive(spec, "connect_timeout_s"),
		    "must not exceed timeout_s (%d)", p->timeout_s);

	if ((rc = jc_get_text(x, spec, path, "prices_date", 10,
			      &p->prices_date)) ||
	    (rc = jc_get_text(x, spec, path, "prices_source", MAX_TEXT,
			      &p->prices_source)))
		return rc;
	if (p->prices_date && !tp_date_ok(p->prices_date))
		return jc_refuse(
		    x, path, "prices_date",
		    cJSON_GetObjectItemCaseSensitive(spec, "prices_date"),
		    "must be a date \"YYYY-MM-DD\"");
	if (p->prices_source && strncmp(p->prices_source, "https://", 8) != 0 &&
	    strncmp(p->prices_source, "http://", 7) != 0)
		return jc_refuse(
		    x, path, "prices_source",
		    cJSON_GetObjectItemCaseSensitive(spec, "prices_source"),
		    "must be a URL");

	it = cJSON_GetObjectItemCaseSensitive(spec, "quirks");
	jc_subpath(q, sizeof(q), path, "quirks", 0);
	if (it && (rc = parse_quirks(x, it, q, &p->quirks)))
		return rc;

	/* Before the models: their batch members depend on the lane. */
	if ((rc = batchcfg_provider(x, spec, path, p)))
		return rc;

	models = cJSON_GetObjectItemCaseSensitive(spec, "models");
	jc_subpath(q, sizeof(q), path, "models", 0);
	if (!models)
		return jc_fail(x, q,
			       "required (at least one model with prices)");
	if ((rc = jc_check_members(x, models, q, "models")))
		return rc;
	if (!models->child)
		return jc_fail(x, q, "must list at least one model");
	p->models =
	    xcalloc((size_t)cJSON_GetArraySize(models), sizeof(*p->models));
	for (m = models->child, i = 0; m; m = m->next, i++) {
		char mp[JC_PATH_LEN];

		jc_subpath(mp, sizeof(mp), q, m->string, 0);
		if (!model_name_ok(m->string))
			return jc_fail(x, mp,
				       "model name must be 1-%d printable "
				       "characters without spaces",
				       PROV_MODEL_MAX);
		p->models[i].name = xstrdup(m->string);
		p->nmodels = i + 1;
		if ((rc = parse_model(x, m, mp, &p->models[i])) ||
		    (rc = batchcfg_model(x, m, mp, &p->batch, &p->models[i])))
			return rc;
	}
	return 0;
}

static int parse_route(const struct jc_ctx *x, const struct config *c,
		       const cJSON *list, const char *path, struct route *r)
{
	const cJSON *it;
	char p[JC_PATH_LEN];
	size_t i, j;

	if (!cJSON_IsArray(list) || !list->child)
		return jc_refuse(x, path, NULL, list,
				 "must be a non-empty array of "
				 "\"provider:model\"");
	r->cands = xcalloc((size_t)cJSON_GetArraySize(list), sizeof(*r->cands));
	for (it = list->child, i = 0; it; it = it->next, i++) {
		const char *s, *colon;
		char prov[PROV_NAME_MAX + 1];
		struct route_cand rc;

		jc_subpath(p, sizeof(p), path, NULL, i);
		s = cJSON_IsString(it) ? it->valuestring : NULL;
		colon = s ? strchr(s, ':') : NULL;
		if (!colon || colon == s || colon[1] == '\0' ||
		    (size_t)(colon - s) > PROV_NAME_MAX)
			return jc_refuse(x, p, NULL, it,
					 "must be \"provider:model\"");
		memcpy(prov, s, (size_t)(colon - s));
		prov[colon - s] = '\0';
		rc.prov = route_find_prov(c->provs, c->nprovs, prov);
		if (rc.prov < 0)
			return jc_fail(
			    x, p, "provider \"%s\" is not configured",
			    name_ok(prov, PROV_NAME_MAX, NULL) ? prov : "?");
		rc.model = route_find_model(&c->provs[rc.prov], colon + 1);
		if (rc.model < 0)
			return jc_fail(
			    x, p, "provider \"%s\" has no model \"%.*s\"",
			    c->provs[rc.prov].name, PROV_MODEL_MAX,
			    model_name_ok(colon + 1) ? colon + 1 : "?");
		for (j = 0; j < r->ncands; j++)
			if (r->cands[j].prov == rc.prov &&
			    r->cands[j].model == rc.model)
				return jc_refuse(x, p, NULL, it,
						 "duplicate of entry %zu", j);
		r->cands[r->ncands++] = rc;
	}
	return 0;
}

static int build(const struct jc_ctx *x, const cJSON *root, struct config *c)
{
	static const char *const keys[] = {"$schema", "providers", "routes",
					   NULL};
	const cJSON *provs, *routes, *it;
	char p[JC_PATH_LEN];
	size_t i;
	int rc;

	if (!cJSON_IsObject(root))
		return jc_refuse(x, NULL, NULL, root,
				 "the top level must be a JSON object");
	if ((rc = jc_check_keys(x, root, "", keys)))
		return rc;
	it = cJSON_GetObjectItemCaseSensitive(root, "$schema");
	if (it && !cJSON_IsString(it))
		return jc_refuse(x, "$schema", NULL, it, "must be a string");

	provs = cJSON_GetObjectItemCaseSensitive(root, "providers");
	if (!provs)
		return jc_fail(x, "providers", "required");
	if ((rc = jc_check_members(x, provs, "providers", "providers")))
		return rc;
	if (!provs->child)
		return jc_fail(x, "providers",
			       "must list at least one provider");
	c->provs =
	    xcalloc((size_t)cJSON_GetArraySize(provs), sizeof(*c->provs));
	for (it = provs->child, i = 0; it; it = it->next, i++) {
		jc_subpath(p, sizeof(p), "providers", it->string, 0);
		if (!name_ok(it->string, PROV_NAME_MAX, NULL))
			return jc_fail(
			    x, p,
			    "provider name must be 1-%d characters of "
			    "[A-Za-z0-9_-]",
			    PROV_NAME_MAX);
		c->provs[i].name = xstrdup(it->string);
		c->nprovs = i + 1;
		if ((rc = parse_provider(x, it, p, &c->provs[i])))
			return rc;
	}

	routes = cJSON_GetObjectItemCaseSensitive(root, "routes");
	if (!routes)
		return 0;
	if ((rc = jc_check_members(x, routes, "routes", "routes")))
		return rc;
	if (!routes->child)
		return 0;
	c->routes =
	    xcalloc((size_t)cJSON_GetArraySize(routes), sizeof(*c->routes));
	for (it = routes->child, i = 0; it; it = it->next, i++) {
		jc_subpath(p, sizeof(p), "routes", it->string, 0);
		if (!name_ok(it->string, PROV_NAME_MAX, "."))
			return jc_fail(x, p,
				       "route name must be 1-%d characters of "
				       "[A-Za-z0-9_.-]",
				       PROV_NAME_MAX);
		c->routes[i].name = xstrdup(it->string);
		c->nroutes = i + 1;
		if ((rc = parse_route(x, c, it, p, &c->routes[i])))
			return rc;
	}
	return 0;
}

/* nul_check: refuse a NUL in text, raw or as \u0000 in a string. cJSON
 * ends its C strings at one, so base_url "…/v1\u0000.evil" read as
 * ".../v1" and api_key_env "A\u0000B" as "A": what the user wrote and
 * what runs would differ (issue 17). 0, or CONFIG_EINVAL with the
 * line and column in x's message. */
static int nul_check(const struct jc_ctx *x, const char *text, size_t len)
{
	size_t line = 1, col = 1;
	int in_str = 0;

	for (size_t i = 0; i < len; i++, col++) {
		const char *what = NULL;

		if (text[i] == '\0')
			what = "a NUL byte";
		else if (in_str && text[i] == '\\' && i + 1 < len) {
			if (len - i >= 6 &&
			    memcmp(text + i + 1, "u0000", 5) == 0)
				what = "a NUL character (\\u0000)";
			else {
				i++; /* the escaped character, '"' too */
				col++;
				continue;
			}
		} else if (text[i] == '"')
			in_str = !in_str;
		else if (text[i] == '\n') {
			line++;
			col = 0;
		}
		if (what) {
			jc_fail(x, NULL,
				"line %zu, column %zu: %s is not allowed: it "
				"would cut the value short",
				line, col, what);
			return CONFIG_EINVAL;
		}
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *source,
		 struct config **out, char *err, size_t errlen)
{
	struct jc_ctx x = {source ? source : "config", err, errlen};
	struct config *c = NULL;
	cJSON *root;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (nul_check(&x, text, len))
		return CONFIG_EINVAL;
	root = jc_parse(&x, text, len);
	if (!root)
		return CONFIG_EINVAL;
	c = xcalloc(1, sizeof(*c));
	c->source = xstrdup(x.source);
	rc = build(&x, root, c);
	if (rc == 0) {
		*out = c;
		c = NULL;
	}
	config_free(&c);
	cJSON_Delete(root);
	return rc;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	struct jc_ctx x = {path, err, errlen};
	const char *env = getenv(CONFIG_ENV);
	const char *text;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!path && env && *env)
		x.source = path = env;
	if (!path) {
		text = catalogue_json();
		return config_parse(text, strlen(text), "built-in", out, err,
				    errlen);
	}
	rc = jc_read_file(&x, CONFIG_MAX_FILE, "a providers config", &buf, &len,
			  NULL);
	if (rc == 0)
		rc = config_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}
