/* jsoncheck.c — the validation kit (see jsoncheck.h).
 *
 * Paths are built only when a message is written: a silent context (the
 * price map, where most odd entries are simply passed over) costs no
 * formatting. */
#include "runner/json/jsoncheck.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonutil.h"
#include "util/quote.h"
#include "util/readfile.h"
#include "util/xalloc.h"

static int vfail(const struct jc_ctx *x, const char *path, const char *fmt,
		 va_list ap) __attribute__((format(printf, 3, 0)));

static int vfail(const struct jc_ctx *x, const char *path, const char *fmt,
		 va_list ap)
{
	char why[512];

	if (!x->err || !x->errlen)
		return JC_EINVAL;
	vsnprintf(why, sizeof(why), fmt, ap);
	if (path && *path)
		snprintf(x->err, x->errlen, "%s: %s: %s", x->source, path, why);
	else
		snprintf(x->err, x->errlen, "%s: %s", x->source, why);
	return JC_EINVAL;
}

int jc_fail(const struct jc_ctx *x, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(x, path, fmt, ap);
	va_end(ap);
	return rc;
}

int jc_fail_key(const struct jc_ctx *x, const char *path, const char *key,
		const char *fmt, ...)
{
	char p[JC_PATH_LEN];
	va_list ap;
	int rc;

	if (!x->err || !x->errlen)
		return JC_EINVAL;
	jc_subpath(p, sizeof(p), path, key, 0);
	va_start(ap, fmt);
	rc = vfail(x, p, fmt, ap);
	va_end(ap);
	return rc;
}

/* number_text: v as the shortest text strtod reads back as v: integers
 * in full ("1000000", not "1e+06"), others in %g form ("0.4", "1e+300"). */
static void number_text(double v, char *buf, size_t n)
{
	int p;

	if (!isfinite(v)) {
		snprintf(buf, n, "a number out of range");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (p = 1; p < 17; p++) {
		snprintf(buf, n, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, n, "%.17g", v);
}

const char *jc_got(const cJSON *v, char *buf, size_t n)
{
	const char *what = "a value";

	if (!v) {
		what = "nothing";
	} else if (cJSON_IsString(v)) {
		return quote_str(buf, n, v->valuestring,
				 strlen(v->valuestring));
	} else if (cJSON_IsNumber(v)) {
		number_text(v->valuedouble, buf, n);
		return buf;
	} else if (cJSON_IsArray(v)) {
		what = v->child ? "an array" : "an empty array";
	} else if (cJSON_IsObject(v)) {
		what = v->child ? "an object" : "an empty object";
	} else if (cJSON_IsBool(v)) {
		what = "a boolean";
	} else if (cJSON_IsNull(v)) {
		what = "null";
	}
	snprintf(buf, n, "%s", what);
	return buf;
}

int jc_refuse(const struct jc_ctx *x, const char *path, const char *key,
	      const cJSON *got, const char *fmt, ...)
{
	char why[512], g[JC_GOT_LEN];
	va_list ap;

	if (!x->err || !x->errlen)
		return JC_EINVAL;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	jc_got(got, g, sizeof(g));
	if (key)
		return jc_fail_key(x, path, key, "%s, got %s", why, g);
	return jc_fail(x, path, "%s, got %s", why, g);
}

void jc_subpath(char *buf, size_t n, const char *path, const char *key,
		size_t index)
{
	char clean[JC_NAME_SHOWN + 4];
	size_t i, j = 0;
	int w;

	if (!key) {
		w = snprintf(buf, n, "%s[%zu]", path, index);
	} else {
		for (i = 0; key[i] && j < JC_NAME_SHOWN; i++)
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

int jc_read_file(const struct jc_ctx *x, size_t max, const char *what,
		 char **buf, size_t *len, time_t *mtime)
{
	int rc = readfile_all(x->source, max, buf, len, mtime);

	switch (rc) {
	case 0:
		return 0;
	case READFILE_EOPEN:
		jc_fail(x, NULL, "cannot open: %s", strerror(errno));
		return JC_EIO;
	case READFILE_ETOOBIG:
		return jc_fail(x, NULL, "larger than %zu bytes; not %s?", max,
			       what);
	default:
		jc_fail(x, NULL, "cannot read: %s", strerror(errno));
		return JC_EIO;
	}
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

cJSON *jc_parse(const struct jc_ctx *x, const char *text, size_t len)
{
	size_t off = 0, line, col;
	/* trailing text is a broken or concatenated file: refused too */
	cJSON *root = json_parse_stop(text, len, &off);

	if (!root) {
		locate(text, off, &line, &col);
		jc_fail(x, NULL,
			"invalid JSON near byte %zu (line %zu, column %zu)",
			off, line, col);
	}
	return root;
}

int jc_in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

/* named_before: an earlier member of obj has the name of member it. cJSON keeps
 * duplicate keys, and a second "rpm" silently losing to the first would
 * be exactly the silent typo this kit refuses. Quadratic, on objects of a
 * few dozen members. */
static int named_before(const cJSON *obj, const cJSON *it)
{
	const cJSON *prev;

	for (prev = obj->child; prev != it; prev = prev->next)
		if (strcmp(prev->string, it->string) == 0)
			return 1;
	return 0;
}

int jc_check_keys(const struct jc_ctx *x, const cJSON *obj, const char *path,
		  const char *const *allowed)
{
	const cJSON *it;

	for (it = obj->child; it; it = it->next) {
		if (jc_in_list(allowed, it->string) < 0) {
			if (strcmp(it->string, "api_key") == 0)
				return jc_fail_key(
				    x, path, it->string,
				    "keys do not belong in the "
				    "config; put the key in an "
				    "environment variable and give "
				    "its name in api_key_env");
			return jc_fail_key(x, path, it->string,
					   "unknown field");
		}
		if (named_before(obj, it))
			return jc_fail_key(x, path, it->string,
					   "duplicate field");
	}
	return 0;
}

int jc_check_object(const struct jc_ctx *x, const cJSON *obj, const char *path,
		    const char *const *allowed, const char *hint)
{
	if (!cJSON_IsObject(obj))
		return jc_refuse(x, path, NULL, obj, "must be an object%s",
				 hint);
	return jc_check_keys(x, obj, path, allowed);
}

int jc_check_members(const struct jc_ctx *x, const cJSON *obj, const char *path,
		     const char *what)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return jc_refuse(x, path, NULL, obj, "must be an object of %s",
				 what);
	for (it = obj->child; it; it = it->next)
		if (named_before(obj, it))
			return jc_fail_key(x, path, it->string,
					   "duplicate name");
	return 0;
}

int jc_get_array(const struct jc_ctx *x, const cJSON *obj, const char *path,
		 const char *key, size_t max, const char *what,
		 const char *noun, const cJSON **arr, char *apath, size_t n)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	*arr = NULL;
	if (!it)
		return 0;
	jc_subpath(apath, n, path, key, 0);
	if (!cJSON_IsArray(it))
		return jc_refuse(x, apath, NULL, it, "must be an array of %s",
				 what);
	if ((size_t)cJSON_GetArraySize(it) > max)
		return jc_fail(x, apath, "must have at most %zu %s, got %d",
			       max, noun, cJSON_GetArraySize(it));
	*arr = it;
	return 0;
}

int jc_get_int(const struct jc_ctx *x, const cJSON *obj, const char *path,
	       const char *key, int64_t min, int64_t max, int64_t dflt,
	       int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	*out = dflt;
	if (!it)
		return 0;
	v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
	if (!isfinite(v) || v != floor(v) || v < (double)min) {
		if (min > 0)
			return jc_refuse(x, path, key, it,
					 "must be a positive integer");
		return jc_refuse(x, path, key, it,
				 "must be a non-negative integer");
	}
	if (v > (double)max)
		return jc_refuse(x, path, key, it, "must be at most %lld",
				 (long long)max);
	*out = (int64_t)v;
	return 0;
}

int jc_get_int32(const struct jc_ctx *x, const cJSON *obj, const char *path,
		 const char *key, int min, int max, int dflt, int *out)
{
	int64_t v;
	int rc = jc_get_int(x, obj, path, key, min, max, dflt, &v);

	*out = (int)v;
	return rc;
}

int jc_get_number(const struct jc_ctx *x, const cJSON *obj, const char *path,
		  const char *key, double max, const char *unit, int *has,
		  double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	if (has)
		*has = 0;
	if (!it)
		return 0;
	v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
	if (!isfinite(v) || v < 0)
		return jc_refuse(x, path, key, it,
				 "must be a non-negative number%s", unit);
	if (v > max)
		return jc_refuse(x, path, key, it, "must be at most %.0f%s",
				 max, unit);
	if (has)
		*has = 1;
	*out = v;
	return 0;
}

int jc_get_price(const struct jc_ctx *x, const cJSON *obj, const char *path,
		 const char *key, double dflt, double *out)
{
	static const char unit[] = " (USD per million tokens)";
	int has, rc;

	rc = jc_get_number(x, obj, path, key, JC_PRICE_MAX, unit, &has, out);
	if (rc || has)
		return rc;
	if (dflt < 0)
		return jc_fail_key(x, path, key, "required%s", unit);
	*out = dflt;
	return 0;
}

int jc_get_text(const struct jc_ctx *x, const cJSON *obj, const char *path,
		const char *key, size_t max, char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	const unsigned char *s;

	if (!it)
		return 0;
	if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
		return jc_refuse(x, path, key, it,
				 "must be a non-empty string");
	if (strlen(it->valuestring) > max)
		return jc_refuse(x, path, key, it, "must be at most %zu bytes",
				 max);
	for (s = (const unsigned char *)it->valuestring; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return jc_refuse(x, path, key, it,
					 "must not contain control characters");
	*out = xstrdup(it->valuestring);
	return 0;
}

int jc_get_bool(const struct jc_ctx *x, const cJSON *obj, const char *path,
		const char *key, int *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsBool(it))
		return jc_refuse(x, path, key, it, "must be true or false");
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 0;
}
