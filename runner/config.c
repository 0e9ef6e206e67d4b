/* config.c — parse and validate the providers config.
 *
 * The config is small, hand-written and security-relevant (it names where
 * requests go and which environment variable holds each key), so the parser
 * is strict: every field is checked, unknown or duplicate fields are errors
 * (a typo must not silently fall back to a default), plain http:// is only
 * accepted for loopback hosts, and a field called api_key is refused with a
 * pointer to api_key_env. Every message names the source, the JSON path of
 * the field and the reason, and quotes no value from the file but provider
 * and model names: a key pasted into the wrong field must not end up on a
 * terminal or in a log.
 *
 * The cJSON tree is copied into plain structs (struct config) and deleted
 * before returning, so readers need no cJSON and a loaded config is
 * immutable. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "runner/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"
#include "runner/providers/catalogue.h"

/* Bounds that keep a typo from turning into an absurd setting. */
#define MAX_NAME 64
#define MAX_MODEL_NAME 128
#define MAX_URL 2048
#define MAX_TEXT 2048
#define MAX_PRICE 1000000.0
#define MAX_TOKEN_COUNT ((int64_t)1 << 40)
#define MAX_OFFPEAK 24
#define MAX_DROP 64
#define PATH_LEN 512
#define MINUTES_PER_DAY 1440

struct ctx {
	const char *source;
	char *err;
	size_t errlen;
};

static const char *const weekdays[] = {"sun", "mon", "tue", "wed",
				       "thu", "fri", "sat", NULL};

static int fail(struct ctx *x, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* fail: write "SOURCE: PATH: why" (or "SOURCE: why" when path is empty)
 * into the caller's buffer and return CONFIG_EINVAL. */
static int fail(struct ctx *x, const char *path, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (x->err && x->errlen) {
		if (path && *path)
			snprintf(x->err, x->errlen, "%s: %s: %s", x->source,
				 path, why);
		else
			snprintf(x->err, x->errlen, "%s: %s", x->source, why);
	}
	return CONFIG_EINVAL;
}

/* subpath: "PATH.KEY" (or "PATH[i]" when key is NULL) into buf. A key goes
 * into messages, so anything but printable ASCII is replaced and long keys
 * are cut. */
static void subpath(char *buf, size_t n, const char *path, const char *key,
		    size_t index)
{
	char clean[MAX_MODEL_NAME + 4];
	size_t i, j = 0;
	int w;

	if (!key) {
		w = snprintf(buf, n, "%s[%zu]", path, index);
	} else {
		for (i = 0; key[i] && j < MAX_MODEL_NAME; i++)
			clean[j++] =
				(key[i] > 0x20 && key[i] < 0x7f) ? key[i] : '?';
		if (key[i]) {
			clean[j++] = '.';
			clean[j++] = '.';
			clean[j++] = '.';
		}
		clean[j] = '\0';
		if (path && *path)
			w = snprintf(buf, n, "%s.%s", path, clean);
		else
			w = snprintf(buf, n, "%s", clean);
	}
	/* A path longer than the buffer only happens with absurd nesting;
	 * mark the cut rather than print half a name silently. */
	if (w < 0 || (size_t)w >= n)
		memcpy(buf + n - 4, "...", 4);
}

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

	if (n == 0 || n > MAX_MODEL_NAME)
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

static int in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

/* check_keys: every member of obj must be in allowed and appear once.
 * cJSON keeps duplicate keys, and a second "rpm" silently losing to the
 * first would be exactly the silent typo this parser refuses. */
static int check_keys(struct ctx *x, const cJSON *obj, const char *path,
		      const char *const *allowed)
{
	const cJSON *it, *prev;
	char p[PATH_LEN];

	for (it = obj->child; it; it = it->next) {
		subpath(p, sizeof(p), path, it->string, 0);
		if (in_list(allowed, it->string) < 0) {
			if (strcmp(it->string, "api_key") == 0)
				return fail(x, p,
					    "keys do not belong in the config; "
					    "put the key in an environment "
					    "variable and give its name in "
					    "api_key_env");
			return fail(x, p, "unknown field");
		}
		for (prev = obj->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return fail(x, p, "duplicate field");
	}
	return 0;
}

/* check_members: an object whose member names are chosen by the user
 * (providers, models, routes): an object, without duplicate names. */
static int check_members(struct ctx *x, const cJSON *obj, const char *path,
			 const char *what)
{
	const cJSON *it, *prev;
	char p[PATH_LEN];

	if (!cJSON_IsObject(obj))
		return fail(x, path, "must be an object of %s", what);
	for (it = obj->child; it; it = it->next) {
		for (prev = obj->child; prev != it; prev = prev->next) {
			if (strcmp(prev->string, it->string) == 0) {
				subpath(p, sizeof(p), path, it->string, 0);
				return fail(x, p, "duplicate name");
			}
		}
	}
	return 0;
}

/* get_int: optional integer member key of obj in [min, max], else dflt. */
static int get_int(struct ctx *x, const cJSON *obj, const char *path,
		   const char *key, int64_t min, int64_t max, int64_t dflt,
		   int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];
	double v;

	*out = dflt;
	if (!it)
		return 0;
	subpath(p, sizeof(p), path, key, 0);
	v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
	if (!isfinite(v) || v != floor(v) || v < (double)min) {
		if (min > 0)
			return fail(x, p, "must be a positive integer");
		return fail(x, p, "must be a non-negative integer");
	}
	if (v > (double)max)
		return fail(x, p, "must be at most %lld", (long long)max);
	*out = (int64_t)v;
	return 0;
}

static int get_int32(struct ctx *x, const cJSON *obj, const char *path,
		     const char *key, int min, int max, int dflt, int *out)
{
	int64_t v;
	int rc = get_int(x, obj, path, key, min, max, dflt, &v);

	*out = (int)v;
	return rc;
}

/* get_price: a price member; required when dflt < 0. */
static int get_price(struct ctx *x, const cJSON *obj, const char *path,
		     const char *key, double dflt, double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];
	double v;

	subpath(p, sizeof(p), path, key, 0);
	if (!it) {
		if (dflt < 0)
			return fail(x, p, "required (USD per million tokens)");
		*out = dflt;
		return 0;
	}
	v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
	if (!isfinite(v) || v < 0)
		return fail(x, p,
			    "must be a non-negative number (USD per million "
			    "tokens)");
	if (v > MAX_PRICE)
		return fail(x, p,
			    "must be at most %.0f (USD per million tokens)",
			    MAX_PRICE);
	*out = v;
	return 0;
}

/* get_text: optional non-empty string without control characters; *out is
 * new or stays NULL when the member is absent. */
static int get_text(struct ctx *x, const cJSON *obj, const char *path,
		    const char *key, size_t max, char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];
	const unsigned char *s;

	if (!it)
		return 0;
	subpath(p, sizeof(p), path, key, 0);
	if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
		return fail(x, p, "must be a non-empty string");
	if (strlen(it->valuestring) > max)
		return fail(x, p, "must be at most %zu bytes", max);
	for (s = (const unsigned char *)it->valuestring; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return fail(x, p,
				    "must not contain control characters");
	*out = xstrdup(it->valuestring);
	return 0;
}

static int get_bool(struct ctx *x, const cJSON *obj, const char *path,
		    const char *key, int *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[PATH_LEN];

	if (!it)
		return 0;
	subpath(p, sizeof(p), path, key, 0);
	if (!cJSON_IsBool(it))
		return fail(x, p, "must be true or false");
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 0;
}

/* host_is_loopback: h[0..n) is 127.0.0.0/8 in dotted quad, localhost or
 * [::1]. Anything fancier (other IPv6 spellings, decimal IPs) is refused
 * rather than guessed at. */
static int host_is_loopback(const char *h, size_t n)
{
	unsigned a, b, c, d;
	char tail;
	char buf[32];

	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return 1;
	if (n == 5 && memcmp(h, "[::1]", 5) == 0)
		return 1;
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789.") != n)
		return 0;
	if (sscanf(buf, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4)
		return 0;
	return a == 127 && b < 256 && c < 256 && d < 256;
}

/* check_url: https://HOST[:PORT][/PATH], or http:// for a loopback host.
 * No credentials (they would end up in logs), query or fragment (the
 * dialects append the endpoint path). Sets *loopback. */
static int check_url(struct ctx *x, const char *p, const char *url,
		     int *loopback)
{
	const char *rest, *host, *hend, *aend, *s;
	int https;
	long port;

	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		rest = url + 7;
	} else {
		return fail(x, p,
			    "must start with https:// (or http:// for a "
			    "loopback host)");
	}
	for (s = url; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return fail(x, p, "must not contain spaces or control "
					  "characters");
	if (strpbrk(url, "?#"))
		return fail(x, p, "must not contain a query or fragment");
	aend = rest + strcspn(rest, "/");
	if (memchr(rest, '@', (size_t)(aend - rest)))
		return fail(x, p,
			    "must not contain credentials; keys come from the "
			    "variable named in api_key_env");
	host = rest;
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(aend - host));
		if (!hend)
			return fail(x, p, "has a malformed IPv6 host");
		hend++;
	} else {
		hend = host + strcspn(host, ":/");
	}
	if (hend == host)
		return fail(x, p, "has no host");
	if (hend < aend) {
		char *end;

		if (*hend != ':' || hend + 1 == aend)
			return fail(x, p, "has a malformed host or port");
		errno = 0;
		port = strtol(hend + 1, &end, 10);
		if (end != aend || errno || port < 1 || port > 65535 ||
		    !isdigit((unsigned char)hend[1]))
			return fail(x, p, "has a malformed port");
	}
	*loopback = host_is_loopback(host, (size_t)(hend - host));
	if (!https && !*loopback)
		return fail(x, p,
			    "http:// is only allowed for loopback hosts "
			    "(127.0.0.0/8, localhost, [::1]); use https://");
	return 0;
}

/* parse_hhmm: "HH:MM" to minutes of the day; "24:00" only when allow_end. */
static int parse_hhmm(const char *s, int allow_end, int *out)
{
	int h, m;

	if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_end)))
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int date_ok(const char *s)
{
	int y, mo, d;
	char tail;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    strspn(s, "0123456789-") != 10)
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3)
		return 0;
	return y >= 2000 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
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

static int parse_window(struct ctx *x, const cJSON *w, const char *path,
			struct prov_offpeak *o)
{
	static const char *const keys[] = {"start", "end", "input_per_mtok",
					   "output_per_mtok", "days", NULL};
	const cJSON *start, *end, *days, *d;
	char p[PATH_LEN];
	size_t i;
	int rc;

	if (!cJSON_IsObject(w))
		return fail(x, path,
			    "must be an object {\"start\":\"HH:MM\", "
			    "\"end\":\"HH:MM\", \"input_per_mtok\":N, "
			    "\"output_per_mtok\":N}");
	if ((rc = check_keys(x, w, path, keys)))
		return rc;
	start = cJSON_GetObjectItemCaseSensitive(w, "start");
	end = cJSON_GetObjectItemCaseSensitive(w, "end");
	subpath(p, sizeof(p), path, "start", 0);
	if (!cJSON_IsString(start) ||
	    parse_hhmm(start->valuestring, 0, &o->start_min))
		return fail(x, p, "must be a UTC time \"HH:MM\" (00:00-23:59)");
	subpath(p, sizeof(p), path, "end", 0);
	if (!cJSON_IsString(end) ||
	    parse_hhmm(end->valuestring, 1, &o->end_min))
		return fail(x, p, "must be a UTC time \"HH:MM\" (00:00-24:00)");
	if (o->start_min == o->end_min % MINUTES_PER_DAY &&
	    !(o->start_min == 0 && o->end_min == MINUTES_PER_DAY))
		return fail(x, p,
			    "must differ from start (00:00-24:00 is the whole "
			    "day)");
	if ((rc = get_price(x, w, path, "input_per_mtok", -1,
			    &o->input_per_mtok)) ||
	    (rc = get_price(x, w, path, "output_per_mtok", -1,
			    &o->output_per_mtok)))
		return rc;
	o->days = 0;
	days = cJSON_GetObjectItemCaseSensitive(w, "days");
	if (!days)
		return 0;
	subpath(p, sizeof(p), path, "days", 0);
	if (!cJSON_IsArray(days) || !days->child)
		return fail(x, p,
			    "must be a non-empty array of \"mon\" ... "
			    "\"sun\"");
	for (d = days->child, i = 0; d; d = d->next, i++) {
		char dp[PATH_LEN];
		int wd = cJSON_IsString(d) ? in_list(weekdays, d->valuestring)
					   : -1;

		subpath(dp, sizeof(dp), p, NULL, i);
		if (wd < 0)
			return fail(x, dp,
				    "must be one of \"mon\", \"tue\", \"wed\", "
				    "\"thu\", \"fri\", \"sat\", \"sun\"");
		if (o->days & (1u << wd))
			return fail(x, dp, "duplicate day");
		o->days |= 1u << wd;
	}
	return 0;
}

static int parse_model(struct ctx *x, const cJSON *spec, const char *path,
		       struct prov_model *m)
{
	static const char *const keys[] = {
		"input_per_mtok",	"output_per_mtok",
		"cached_input_per_mtok", "cache_write_per_mtok",
		"context_window",	"max_output_tokens",
		"offpeak",		NULL};
	const cJSON *op, *w;
	char p[PATH_LEN];
	size_t i, n;
	int rc;

	if (!cJSON_IsObject(spec))
		return fail(x, path,
			    "must be an object with input_per_mtok and "
			    "output_per_mtok");
	if ((rc = check_keys(x, spec, path, keys)))
		return rc;
	if ((rc = get_price(x, spec, path, "input_per_mtok", -1,
			    &m->input_per_mtok)) ||
	    (rc = get_price(x, spec, path, "output_per_mtok", -1,
			    &m->output_per_mtok)))
		return rc;
	/* Cache prices default to the plain input price: an unknown discount
	 * must not make a model look cheaper than it is. */
	if ((rc = get_price(x, spec, path, "cached_input_per_mtok",
			    m->input_per_mtok, &m->cached_input_per_mtok)) ||
	    (rc = get_price(x, spec, path, "cache_write_per_mtok",
			    m->input_per_mtok, &m->cache_write_per_mtok)))
		return rc;
	if ((rc = get_int(x, spec, path, "context_window", 1, MAX_TOKEN_COUNT,
			  0, &m->context_window)) ||
	    (rc = get_int(x, spec, path, "max_output_tokens", 1,
			  MAX_TOKEN_COUNT, 0, &m->max_output_tokens)))
		return rc;
	op = cJSON_GetObjectItemCaseSensitive(spec, "offpeak");
	if (!op)
		return 0;
	subpath(p, sizeof(p), path, "offpeak", 0);
	if (!cJSON_IsArray(op))
		return fail(x, p, "must be an array of time windows");
	n = (size_t)cJSON_GetArraySize(op);
	if (n > MAX_OFFPEAK)
		return fail(x, p, "must have at most %d windows", MAX_OFFPEAK);
	if (n == 0)
		return 0;
	m->offpeak = xcalloc(n, sizeof(*m->offpeak));
	for (w = op->child, i = 0; w; w = w->next, i++) {
		char wp[PATH_LEN];

		subpath(wp, sizeof(wp), p, NULL, i);
		if ((rc = parse_window(x, w, wp, &m->offpeak[i])))
			return rc;
		m->noffpeak = i + 1;
	}
	return 0;
}

static int parse_quirks(struct ctx *x, const cJSON *q, const char *path,
			struct prov_quirks *qk)
{
	static const char *const keys[] = {"json_mode", "needs_json_word",
					   "enable_thinking", "drop_params",
					   NULL};
	const cJSON *jm, *dp, *d;
	char p[PATH_LEN];
	int thinking = -1;
	size_t i, j, n;
	int rc;

	if (!cJSON_IsObject(q))
		return fail(x, path, "must be an object");
	if ((rc = check_keys(x, q, path, keys)))
		return rc;
	jm = cJSON_GetObjectItemCaseSensitive(q, "json_mode");
	if (jm) {
		subpath(p, sizeof(p), path, "json_mode", 0);
		if (!cJSON_IsString(jm) ||
		    (strcmp(jm->valuestring, "native") != 0 &&
		     strcmp(jm->valuestring, "prompt") != 0))
			return fail(x, p, "must be \"native\" or \"prompt\"");
		qk->json_mode_prompt = strcmp(jm->valuestring, "prompt") == 0;
	}
	if ((rc = get_bool(x, q, path, "needs_json_word",
			   &qk->needs_json_word)) ||
	    (rc = get_bool(x, q, path, "enable_thinking", &thinking)))
		return rc;
	qk->disable_thinking = thinking == 0;
	dp = cJSON_GetObjectItemCaseSensitive(q, "drop_params");
	if (!dp)
		return 0;
	subpath(p, sizeof(p), path, "drop_params", 0);
	if (!cJSON_IsArray(dp))
		return fail(x, p, "must be an array of request field names");
	n = (size_t)cJSON_GetArraySize(dp);
	if (n > MAX_DROP)
		return fail(x, p, "must have at most %d names", MAX_DROP);
	if (n == 0)
		return 0;
	qk->drop_params = xcalloc(n, sizeof(char *));
	for (d = dp->child, i = 0; d; d = d->next, i++) {
		char ip[PATH_LEN];

		subpath(ip, sizeof(ip), p, NULL, i);
		if (!cJSON_IsString(d) ||
		    !name_ok(d->valuestring, MAX_NAME, "."))
			return fail(x, ip, "must be a request field name");
		for (j = 0; j < qk->ndrop; j++)
			if (strcmp(qk->drop_params[j], d->valuestring) == 0)
				return fail(x, ip, "duplicate name");
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

static int parse_provider(struct ctx *x, const cJSON *spec, const char *path,
			  struct prov *p)
{
	static const char *const keys[] = {
		"dialect",	 "flavor",	 "base_url",
		"api_key_env",	 "max_inflight", "rpm",
		"tpm",		 "timeout_s",	 "connect_timeout_s",
		"max_retries",	 "models",	 "prices_date",
		"prices_source", "quirks",	 NULL};
	const cJSON *it, *models, *m;
	char q[PATH_LEN];
	int loopback = 0;
	size_t i;
	int rc;

	if (!cJSON_IsObject(spec))
		return fail(x, path, "must be an object");
	if ((rc = check_keys(x, spec, path, keys)))
		return rc;

	it = cJSON_GetObjectItemCaseSensitive(spec, "dialect");
	subpath(q, sizeof(q), path, "dialect", 0);
	if (!it)
		return fail(x, q, "required (\"openai\" or \"anthropic\")");
	if (cJSON_IsString(it) && strcmp(it->valuestring, "openai") == 0)
		p->dialect = PROV_OPENAI;
	else if (cJSON_IsString(it) &&
		 strcmp(it->valuestring, "anthropic") == 0)
		p->dialect = PROV_ANTHROPIC;
	else
		return fail(x, q, "must be \"openai\" or \"anthropic\"");

	it = cJSON_GetObjectItemCaseSensitive(spec, "flavor");
	subpath(q, sizeof(q), path, "flavor", 0);
	if (!it)
		p->flavor = default_flavor(p->name, p->dialect);
	else if (!cJSON_IsString(it) ||
		 flavor_parse(it->valuestring, &p->flavor) != 0)
		return fail(x, q, "must be one of %s", flavor_names());

	subpath(q, sizeof(q), path, "base_url", 0);
	if (!cJSON_GetObjectItemCaseSensitive(spec, "base_url"))
		return fail(x, q, "required");
	if ((rc = get_text(x, spec, path, "base_url", MAX_URL, &p->base_url)) ||
	    (rc = check_url(x, q, p->base_url, &loopback)))
		return rc;
	/* The dialects append "/chat/completions" or "/v1/messages". */
	for (i = strlen(p->base_url); i > 0 && p->base_url[i - 1] == '/'; i--)
		p->base_url[i - 1] = '\0';

	/* No key variable is only accepted when said out loud (null) or for
	 * a local server; a forgotten api_key_env on a cloud provider would
	 * otherwise send unauthenticated requests and fail at run time. */
	it = cJSON_GetObjectItemCaseSensitive(spec, "api_key_env");
	subpath(q, sizeof(q), path, "api_key_env", 0);
	if (!it && !loopback)
		return fail(x, q,
			    "required: the NAME of the environment variable "
			    "holding the key (null if the server needs no "
			    "key)");
	if (it && !cJSON_IsNull(it)) {
		if (!cJSON_IsString(it) || !env_name_ok(it->valuestring))
			return fail(x, q,
				    "must be the NAME of an environment "
				    "variable ([A-Za-z_][A-Za-z0-9_]*), not "
				    "a key");
		p->api_key_env = xstrdup(it->valuestring);
	}

	if ((rc = get_int32(x, spec, path, "max_inflight", 1, 100000, 16,
			    &p->max_inflight)) ||
	    (rc = get_int32(x, spec, path, "rpm", 0, 100000000, 0, &p->rpm)) ||
	    (rc = get_int(x, spec, path, "tpm", 0, MAX_TOKEN_COUNT, 0,
			  &p->tpm)) ||
	    (rc = get_int32(x, spec, path, "timeout_s", 1, 86400, 120,
			    &p->timeout_s)) ||
	    (rc = get_int32(x, spec, path, "connect_timeout_s", 1, 3600, 10,
			    &p->connect_timeout_s)) ||
	    (rc = get_int32(x, spec, path, "max_retries", 0, 100, 4,
			    &p->max_retries)))
		return rc;
	if (p->connect_timeout_s > p->timeout_s) {
		subpath(q, sizeof(q), path, "connect_timeout_s", 0);
		return fail(x, q, "must not exceed timeout_s");
	}

	if ((rc = get_text(x, spec, path, "prices_date", 10,
			   &p->prices_date)) ||
	    (rc = get_text(x, spec, path, "prices_source", MAX_TEXT,
			   &p->prices_source)))
		return rc;
	if (p->prices_date && !date_ok(p->prices_date)) {
		subpath(q, sizeof(q), path, "prices_date", 0);
		return fail(x, q, "must be a date \"YYYY-MM-DD\"");
	}
	if (p->prices_source && strncmp(p->prices_source, "https://", 8) != 0 &&
	    strncmp(p->prices_source, "http://", 7) != 0) {
		subpath(q, sizeof(q), path, "prices_source", 0);
		return fail(x, q, "must be a URL");
	}

	it = cJSON_GetObjectItemCaseSensitive(spec, "quirks");
	subpath(q, sizeof(q), path, "quirks", 0);
	if (it && (rc = parse_quirks(x, it, q, &p->quirks)))
		return rc;

	models = cJSON_GetObjectItemCaseSensitive(spec, "models");
	subpath(q, sizeof(q), path, "models", 0);
	if (!models)
		return fail(x, q, "required (at least one model with prices)");
	if ((rc = check_members(x, models, q, "models")))
		return rc;
	if (!models->child)
		return fail(x, q, "must list at least one model");
	p->models = xcalloc((size_t)cJSON_GetArraySize(models),
			    sizeof(*p->models));
	for (m = models->child, i = 0; m; m = m->next, i++) {
		char mp[PATH_LEN];

		subpath(mp, sizeof(mp), q, m->string, 0);
		if (!model_name_ok(m->string))
			return fail(x, mp,
				    "model name must be 1-%d printable "
				    "characters without spaces",
				    MAX_MODEL_NAME);
		p->models[i].name = xstrdup(m->string);
		p->nmodels = i + 1;
		if ((rc = parse_model(x, m, mp, &p->models[i])))
			return rc;
	}
	return 0;
}

static int parse_route(struct ctx *x, const struct config *c,
		       const cJSON *list, const char *path, struct route *r)
{
	const cJSON *it;
	char p[PATH_LEN];
	size_t i, j;

	if (!cJSON_IsArray(list) || !list->child)
		return fail(x, path,
			    "must be a non-empty array of \"provider:model\"");
	r->cands = xcalloc((size_t)cJSON_GetArraySize(list),
			   sizeof(*r->cands));
	for (it = list->child, i = 0; it; it = it->next, i++) {
		const char *s, *colon;
		char prov[MAX_NAME + 1];
		struct route_cand rc;

		subpath(p, sizeof(p), path, NULL, i);
		s = cJSON_IsString(it) ? it->valuestring : NULL;
		colon = s ? strchr(s, ':') : NULL;
		if (!colon || colon == s || colon[1] == '\0' ||
		    (size_t)(colon - s) > MAX_NAME)
			return fail(x, p, "must be \"provider:model\"");
		memcpy(prov, s, (size_t)(colon - s));
		prov[colon - s] = '\0';
		rc.prov = config_find_prov(c, prov);
		if (rc.prov < 0)
			return fail(x, p, "provider \"%s\" is not configured",
				    name_ok(prov, MAX_NAME, NULL) ? prov
								  : "?");
		rc.model = config_find_model(&c->provs[rc.prov], colon + 1);
		if (rc.model < 0)
			return fail(x, p,
				    "provider \"%s\" has no model \"%.*s\"",
				    c->provs[rc.prov].name, MAX_MODEL_NAME,
				    model_name_ok(colon + 1) ? colon + 1 : "?");
		for (j = 0; j < r->ncands; j++)
			if (r->cands[j].prov == rc.prov &&
			    r->cands[j].model == rc.model)
				return fail(x, p, "duplicate of entry %zu", j);
		r->cands[r->ncands++] = rc;
	}
	return 0;
}

/* locate: line and column (1-based) of byte off in text. */
static void locate(const char *text, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int build(struct ctx *x, const cJSON *root, struct config *c)
{
	static const char *const keys[] = {"$schema", "providers", "routes",
					   NULL};
	const cJSON *provs, *routes, *it;
	char p[PATH_LEN];
	size_t i;
	int rc;

	if (!cJSON_IsObject(root))
		return fail(x, NULL, "the top level must be a JSON object");
	if ((rc = check_keys(x, root, "", keys)))
		return rc;
	it = cJSON_GetObjectItemCaseSensitive(root, "$schema");
	if (it && !cJSON_IsString(it))
		return fail(x, "$schema", "must be a string");

	provs = cJSON_GetObjectItemCaseSensitive(root, "providers");
	if (!provs)
		return fail(x, "providers", "required");
	if ((rc = check_members(x, provs, "providers", "providers")))
		return rc;
	if (!provs->child)
		return fail(x, "providers", "must list at least one provider");
	c->provs = xcalloc((size_t)cJSON_GetArraySize(provs),
			   sizeof(*c->provs));
	for (it = provs->child, i = 0; it; it = it->next, i++) {
		subpath(p, sizeof(p), "providers", it->string, 0);
		if (!name_ok(it->string, MAX_NAME, NULL))
			return fail(x, p,
				    "provider name must be 1-%d characters of "
				    "[A-Za-z0-9_-]",
				    MAX_NAME);
		c->provs[i].name = xstrdup(it->string);
		c->nprovs = i + 1;
		if ((rc = parse_provider(x, it, p, &c->provs[i])))
			return rc;
	}

	routes = cJSON_GetObjectItemCaseSensitive(root, "routes");
	if (!routes)
		return 0;
	if ((rc = check_members(x, routes, "routes", "routes")))
		return rc;
	if (!routes->child)
		return 0;
	c->routes = xcalloc((size_t)cJSON_GetArraySize(routes),
			    sizeof(*c->routes));
	for (it = routes->child, i = 0; it; it = it->next, i++) {
		subpath(p, sizeof(p), "routes", it->string, 0);
		if (!name_ok(it->string, MAX_NAME, "."))
			return fail(x, p,
				    "route name must be 1-%d characters of "
				    "[A-Za-z0-9_.-]",
				    MAX_NAME);
		c->routes[i].name = xstrdup(it->string);
		c->nroutes = i + 1;
		if ((rc = parse_route(x, c, it, p, &c->routes[i])))
			return rc;
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *source,
		 struct config **out, char *err, size_t errlen)
{
	struct ctx x = {source ? source : "config", err, errlen};
	struct config *c = NULL;
	const char *end = NULL;
	cJSON *root = NULL;
	size_t off, line, col;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root && end) {
		/* cJSON stops after the first value; trailing text is a
		 * broken file, not something to ignore. */
		while ((size_t)(end - text) < len &&
		       isspace((unsigned char)*end))
			end++;
		if ((size_t)(end - text) < len) {
			cJSON_Delete(root);
			root = NULL;
		}
	}
	if (!root) {
		off = (end && end >= text && (size_t)(end - text) <= len)
			      ? (size_t)(end - text)
			      : 0;
		locate(text, off, &line, &col);
		rc = fail(&x, NULL,
			  "invalid JSON near byte %zu (line %zu, column %zu)",
			  off, line, col);
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	c->source = xstrdup(x.source);
	rc = build(&x, root, c);
	if (rc == 0) {
		*out = c;
		c = NULL;
	}
out:
	config_free(&c);
	cJSON_Delete(root);
	return rc;
}

/* read_file: whole file into a new buffer (free()), capped. */
static int read_file(struct ctx *x, const char *path, char **buf,
		     size_t *len)
{
	FILE *f = NULL;
	char *b = NULL;
	size_t n = 0, cap = 4096, got;
	int rc = 0;

	*buf = NULL;
	f = fopen(path, "rb");
	if (!f) {
		rc = fail(x, NULL, "cannot open: %s", strerror(errno));
		goto out_io;
	}
	b = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap >= CONFIG_MAX_FILE) {
				rc = fail(x, NULL,
					  "larger than %d bytes; not a "
					  "providers config?",
					  CONFIG_MAX_FILE);
				goto out;
			}
			cap *= 2;
			b = xrealloc(b, cap);
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = fail(x, NULL, "cannot read: %s", strerror(errno));
		goto out_io;
	}
	*buf = b;
	*len = n;
	b = NULL;
	goto out;
out_io:
	rc = CONFIG_EIO;
out:
	free(b);
	if (f)
		fclose(f);
	return rc;
}

int config_load(const char *path, struct config **out, char *err,
		size_t errlen)
{
	struct ctx x = {NULL, err, errlen};
	const char *env = getenv(CONFIG_ENV);
	const char *text;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!path && env && *env)
		path = env;
	if (!path) {
		text = catalogue_json();
		return config_parse(text, strlen(text), "built-in", out, err,
				    errlen);
	}
	x.source = path;
	rc = read_file(&x, path, &buf, &len);
	if (rc == 0)
		rc = config_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

int config_find_prov(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nprovs; i++)
		if (strcmp(c->provs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int config_find_model(const struct prov *p, const char *model)
{
	size_t i;

	for (i = 0; i < p->nmodels; i++)
		if (strcmp(p->models[i].name, model) == 0)
			return (int)i;
	return -1;
}

size_t config_candidates(const struct config *c, const char *body_model,
			 struct route_cand *out, size_t cap)
{
	const char *colon;
	size_t i, n = 0;
	int pi, mi;

	for (i = 0; i < c->nroutes; i++) {
		const struct route *r = &c->routes[i];

		if (strcmp(r->name, body_model) != 0)
			continue;
		if (cap == 0)
			return r->ncands;
		for (n = 0; n < r->ncands && n < cap; n++)
			out[n] = r->cands[n];
		return n;
	}
	/* "provider:model" when the prefix names a provider; otherwise the
	 * colon belongs to a model id ("llama3:8b") and it is a bare name. */
	colon = strchr(body_model, ':');
	if (colon && (size_t)(colon - body_model) <= MAX_NAME) {
		char prov[MAX_NAME + 1];

		memcpy(prov, body_model, (size_t)(colon - body_model));
		prov[colon - body_model] = '\0';
		pi = config_find_prov(c, prov);
		mi = pi < 0 ? -1
			    : config_find_model(&c->provs[pi], colon + 1);
		if (mi >= 0) {
			if (cap > 0) {
				out[0].prov = pi;
				out[0].model = mi;
			}
			return 1;
		}
	}
	for (i = 0; i < c->nprovs; i++) {
		mi = config_find_model(&c->provs[i], body_model);
		if (mi < 0)
			continue;
		if (cap == 0) {
			n++;
			continue;
		}
		if (n == cap)
			break;
		out[n].prov = (int)i;
		out[n].model = mi;
		n++;
	}
	return n;
}

char *config_key(const struct prov *p, int *bad)
{
	const char *k = p->api_key_env ? getenv(p->api_key_env) : "";
	size_t n;

	if (bad)
		*bad = 0;
	if (!k)
		return NULL;
	/* Spaces around a key would be sent as part of it. */
	while (*k == ' ' || *k == '\t')
		k++;
	n = strlen(k);
	while (n > 0 && (k[n - 1] == ' ' || k[n - 1] == '\t'))
		n--;
	if (n == 0 && p->api_key_env)
		return NULL;
	for (size_t i = 0; bad && i < n; i++)
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			*bad = 1;
	return xstrndup(k, n);
}

int config_key_state(const struct prov *p)
{
	int bad;
	char *k = config_key(p, &bad);

	if (!k)
		return 0;
	explicit_bzero(k, strlen(k));
	free(k);
	return bad ? -1 : 1;
}

const char *config_dialect_name(enum prov_dialect d)
{
	return d == PROV_ANTHROPIC ? "anthropic" : "openai";
}
