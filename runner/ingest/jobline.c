/* jobline.c — validation of job lines.
 *
 * A line is checked fully before anything is queued, so a provider never
 * sees a request that we could have refused: the point is a located error
 * at ingest time instead of a dead job at 3 a.m. The rules follow the
 * OpenAI Batch API input line plus nightshift's top-level extensions
 * (DESIGN.md "Job line").
 *
 * DESIGN: this runs once per line of files with millions of lines, so it
 * allocates nothing for a line of ordinary size: the line is indexed in
 * place (jsonidx) instead of being built into a cJSON tree, the few strings checked are compared
 * without copying, and the body is stored as written minus the whitespace
 * outside its strings (re-printing it from a tree cost as much as parsing
 * it), which also makes the same job spelled with other spacing the same
 * bytes. */
#include "runner/ingest/jobline.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonidx.h"
#include "runner/json/jsonkeys.h"
#include "runner/json/jsonutil.h"
#include "util/quote.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* "function" is not here: it is the retired name of "tool", and the
 * providers nightshift sends to answer it with a 400 at run time. */
static const char *const ROLES[] = {"system", "developer", "user", "assistant",
				    "tool"};

/* The line being checked: its text and its index. */
struct doc {
	const char *s;
	struct jsonidx x;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int type(const struct doc *d, size_t v)
{
	return d->x.t[v].type;
}

/* members: the values of obj's members named names[0..n), 0 when absent;
 * returns the first member with another name, or 0. */
static size_t members(const struct doc *d, size_t obj,
		      const char *const *names, size_t n, size_t *vals)
{
	return jsonidx_members(&d->x, d->s, obj, names, n, vals);
}

static int equals(const struct doc *d, size_t v, const char *str)
{
	return jsonidx_equals(&d->x, d->s, v, str);
}

/* nonempty: a string whose text does not start with a NUL (which C code
 * downstream would read as empty). */
static int nonempty(const struct doc *d, size_t v)
{
	char c[2];

	return type(d, v) == JSONIDX_STRING &&
	       jsonidx_decode(&d->x, d->s, v, c, sizeof(c)) > 0 && c[0];
}

/* A refused value as a message names it ("got \"robot\""). */
struct got {
	char s[QUOTE_LEN];
};

/* got: value v as a refusal names it: a string quoted and cut (never one
 * that looks like a key: util/quote.h), a number as written (cut), other
 * types by name. Returns g->s. */
static const char *got(const struct doc *d, size_t v, struct got *g)
{
	const struct jsonidx_tok *t = &d->x.t[v];
	char *text;

	switch (t->type) {
	case JSONIDX_NULL:
		return strcpy(g->s, "null");
	case JSONIDX_TRUE:
	case JSONIDX_FALSE:
		return strcpy(g->s, "a boolean");
	case JSONIDX_NUMBER:
		snprintf(g->s, sizeof(g->s), "%.*s%s",
			 (int)(t->end - t->start < QUOTE_SHOWN
				   ? t->end - t->start
				   : QUOTE_SHOWN),
			 d->s + t->start,
			 t->end - t->start > QUOTE_SHOWN ? "..." : "");
		return g->s;
	case JSONIDX_STRING:
		/* only on the way to an error: a copy is fine */
		text = xmalloc(t->n + 1);
		jsonidx_decode(&d->x, d->s, v, text, t->n + 1);
		quote_str(g->s, sizeof(g->s), text, t->n);
		free(text);
		return g->s;
	case JSONIDX_ARRAY:
		return strcpy(g->s, t->n ? "an array" : "an empty array");
	default:
		return strcpy(g->s, t->n ? "an object" : "an empty object");
	}
}

/* is_integer: v is a number written as an integer (digits, maybe a
 * minus: no fraction, no exponent) from lo to hi; *out its value. 1.0,
 * 1e2 and 1E+2 are refused (issue 17): a body goes to the provider as
 * written, and some answer such a max_tokens with a 400; and 1e-400
 * reads as 0. */
static int is_integer(const struct doc *d, size_t v, double lo, double hi,
		      double *out)
{
	const struct jsonidx_tok *t = &d->x.t[v];
	double x;

	if (type(d, v) != JSONIDX_NUMBER)
		return 0;
	for (size_t i = t->start; i < t->end; i++)
		if (d->s[i] == '.' || d->s[i] == 'e' || d->s[i] == 'E')
			return 0;
	x = jsonidx_number(&d->x, d->s, v);
	*out = x;
	return isfinite(x) && floor(x) == x && x >= lo && x <= hi;
}

/* content_bytes: text bytes of a message content (string or parts). */
static size_t content_bytes(const struct doc *d, size_t c)
{
	size_t n = 0;

	if (type(d, c) == JSONIDX_STRING)
		return d->x.t[c].n;
	for (size_t part = jsonidx_first(&d->x, c); part;
	     part = d->x.t[part].next) {
		size_t t = jsonidx_get(&d->x, d->s, part, "text");

		if (t && type(d, t) == JSONIDX_STRING)
			n += d->x.t[t].n;
		else
			n += 256; /* an image or other part: a rough share */
	}
	return n;
}

static int check_messages(const struct doc *d, size_t msgs, int64_t *est,
			  char *err, size_t errlen)
{
	int i = 0;
	size_t bytes = 0;
	struct got g;

	if (!msgs)
		return fail(err, errlen, "body.messages: missing");
	if (type(d, msgs) != JSONIDX_ARRAY)
		return fail(err, errlen,
			    "body.messages: must be an array, got %s",
			    got(d, msgs, &g));
	if (d->x.t[msgs].n == 0)
		return fail(err, errlen, "body.messages: must not be empty");
	for (size_t m = jsonidx_first(&d->x, msgs); m; m = d->x.t[m].next) {
		static const char *const keys[] = {"role", "content"};
		size_t v[2], role, content, r;

		if (type(d, m) != JSONIDX_OBJECT)
			return fail(err, errlen,
				    "body.messages[%d]: must be an object, "
				    "got %s",
				    i, got(d, m, &g));
		members(d, m, keys, 2, v);
		role = v[0];
		content = v[1];
		if (!role)
			return fail(err, errlen,
				    "body.messages[%d].role: missing", i);
		if (type(d, role) != JSONIDX_STRING)
			return fail(err, errlen,
				    "body.messages[%d].role: must be a string, "
				    "got %s",
				    i, got(d, role, &g));
		for (r = 0; r < sizeof(ROLES) / sizeof(ROLES[0]); r++)
			if (equals(d, role, ROLES[r]))
				break;
		if (r == sizeof(ROLES) / sizeof(ROLES[0]))
			return fail(err, errlen,
				    "body.messages[%d].role: must be one of "
				    "system, developer, user, assistant, "
				    "tool, got %s%s",
				    i, got(d, role, &g),
				    equals(d, role, "function")
					? " (the retired name of \"tool\", "
					  "which providers refuse)"
					: "");
		if (!content)
			return fail(err, errlen,
				    "body.messages[%d].content: missing", i);
		/* An assistant turn that only made tool calls has null
		 * content in the OpenAI format. */
		if (!(type(d, content) == JSONIDX_STRING ||
		      type(d, content) == JSONIDX_ARRAY ||
		      (type(d, content) == JSONIDX_NULL &&
		       equals(d, role, "assistant"))))
			return fail(err, errlen,
				    "body.messages[%d].content: must be a "
				    "string or an array of parts, got %s",
				    i, got(d, content, &g));
		bytes += content_bytes(d, content);
		i++;
	}
	/* ~4 bytes a token for English, plus per-message framing; refined by
	 * the run loop from what providers report. */
	*est = (int64_t)((bytes + 3) / 4) + 4 * i;
	return 0;
}

static int check_body(const struct doc *d, size_t body,
		      struct jobline_view *j, char *err, size_t errlen)
{
	static const char *const keys[] = {"model", "messages", "max_tokens",
					   "max_completion_tokens"};
	size_t v[4], model, mt;
	struct got g;

	if (!body)
		return fail(err, errlen, "body: missing");
	if (type(d, body) != JSONIDX_OBJECT)
		return fail(err, errlen, "body: must be an object, got %s",
			    got(d, body, &g));
	members(d, body, keys, 4, v);
	model = v[0];
	if (!model)
		return fail(err, errlen,
			    "body.model: missing (a route, provider:model, "
			    "or a model name)");
	if (!nonempty(d, model))
		return fail(err, errlen,
			    "body.model: must be a non-empty string, got %s",
			    got(d, model, &g));
	for (size_t k = 2; k < 4; k++) {
		double x;

		mt = v[k];
		if (!mt || type(d, mt) == JSONIDX_NULL)
			continue;
		if (!is_integer(d, mt, 1, 1e9, &x))
			return fail(err, errlen,
				    "body.%s: must be an integer from 1 to "
				    "1000000000 written in digits (no "
				    "fraction or exponent), got %s",
				    keys[k], got(d, mt, &g));
		j->max_output_tokens = (int64_t)x;
	}
	return check_messages(d, v[1], &j->est_input_tokens, err, errlen);
}

/* is_chat_path: "/v1/chat/completions", the OpenAI Batch API's, or a path
 * ending in it (some gateways add a prefix: "/compatible-mode/v1/..."). */
static int is_chat_path(const struct doc *d, size_t v)
{
	static const char tail[] = "/v1/chat/completions";
	size_t n = d->x.t[v].n, t = sizeof(tail) - 1;
	char buf[256], *u = n < sizeof(buf) ? buf : xmalloc(n + 1);
	int ok;

	jsonidx_decode(&d->x, d->s, v, u, n + 1);
	ok = u[0] == '/' && n >= t && strlen(u) == n &&
	     strcmp(u + n - t, tail) == 0;
	if (u != buf)
		free(u);
	return ok;
}

/* The top-level fields, in the order of ROOT_KEYS. */
enum {
	F_ID,
	F_METHOD,
	F_URL,
	F_BODY,
	F_PRIORITY,
	F_PROVIDERS,
	F_COST,
	F_NS,
	F_N
};
static const char *const ROOT_KEYS[F_N] = {
	"custom_id", "method",	  "url",	  "body",
	"priority",  "providers", "max_cost_usd", "nightshift"};

/* check_ns: the "nightshift" object: {"lane": "auto"|"sync"|"batch"}. */
static int check_ns(const struct doc *d, size_t v, struct jobline_view *j,
		    char *err, size_t errlen)
{
	static const char *const LANES[] = {"auto", "sync", "batch"};
	static const char *const KEYS[] = {"lane"};
	size_t lane, unknown;
	struct got g;

	if (type(d, v) != JSONIDX_OBJECT)
		return fail(err, errlen,
			    "nightshift: must be an object such as "
			    "{\"lane\": \"batch\"}, got %s",
			    got(d, v, &g));
	unknown = jsonidx_members(&d->x, d->s, v, KEYS, 1, &lane);
	if (unknown)
		return fail(err, errlen,
			    "nightshift: unknown field %s (allowed: lane)",
			    got(d, unknown, &g));
	if (!lane)
		return 0;
	for (int i = 0; i < 3; i++)
		if (type(d, lane) == JSONIDX_STRING &&
		    equals(d, lane, LANES[i])) {
			j->lane = i;
			return 0;
		}
	return fail(err, errlen,
		    "nightshift.lane: must be \"auto\", \"sync\" or "
		    "\"batch\", got %s",
		    got(d, lane, &g));
}

static int check_extensions(const struct doc *d, const size_t *f,
			    struct jobline_view *j, char *err, size_t errlen)
{
	struct got g;
	size_t v;
	double x;

	v = f[F_METHOD];
	if (v && !equals(d, v, "POST"))
		return fail(err, errlen, "method: must be \"POST\", got %s",
			    got(d, v, &g));
	v = f[F_URL];
	if (v && !(type(d, v) == JSONIDX_STRING && is_chat_path(d, v)))
		return fail(err, errlen,
			    "url: must be \"/v1/chat/completions\" (a "
			    "prefix before it is allowed), got %s",
			    got(d, v, &g));
	v = f[F_PRIORITY];
	if (v) {
		if (!is_integer(d, v, -1e15, 1e15, &x))
			return fail(err, errlen,
				    "priority: must be an integer from "
				    "-1000000000000000 to 1000000000000000 "
				    "written in digits (no fraction or "
				    "exponent), got %s",
				    got(d, v, &g));
		j->priority = (long long)x;
	}
	v = f[F_COST];
	if (v) {
		if (type(d, v) != JSONIDX_NUMBER ||
		    !isfinite(x = jsonidx_number(&d->x, d->s, v)) || x < 0)
			return fail(err, errlen,
				    "max_cost_usd: must be a number >= 0, got "
				    "%s",
				    got(d, v, &g));
		j->max_cost_usd = x;
	}
	if (f[F_NS] && check_ns(d, f[F_NS], j, err, errlen))
		return -1;
	v = f[F_PROVIDERS];
	if (v) {
		int i = 0;

		if (type(d, v) != JSONIDX_ARRAY || d->x.t[v].n == 0)
			return fail(err, errlen,
				    "providers: must be a non-empty array of "
				    "provider names, got %s",
				    got(d, v, &g));
		for (size_t p = jsonidx_first(&d->x, v); p;
		     p = d->x.t[p].next) {
			if (!nonempty(d, p))
				return fail(err, errlen,
					    "providers[%d]: must be a "
					    "non-empty string, got %s",
					    i, got(d, p, &g));
			i++;
		}
	}
	return 0;
}

/* check_keys: refuse the first field not in ROOT_KEYS, if any. */
static int check_keys(const struct doc *d, size_t unknown, char *err,
		      size_t errlen)
{
	struct got g;

	if (!unknown)
		return 0;
	return fail(err, errlen,
		    "unknown field %s (allowed: custom_id, method, url, "
		    "body, priority, providers, max_cost_usd, nightshift)",
		    got(d, unknown, &g));
}

/* id_breaks_lines: whether id[i] starts a control character or a line
 * separator: C0, DEL, C1 (U+0080-U+009F, NEL among them), U+2028, U+2029.
 * An id is printed in messages, logs and reports, where any of these
 * breaks or garbles a line (issue 17: DEL, U+0085 and U+2028 got in).
 * The id is valid UTF-8 here. */
static int id_breaks_lines(const char *id, size_t n, size_t i)
{
	const unsigned char *u = (const unsigned char *)id + i;

	if (u[0] < 0x20 || u[0] == 0x7F)
		return 1;
	if (u[0] == 0xC2 && i + 1 < n && u[1] >= 0x80 && u[1] <= 0x9F)
		return 1;
	return u[0] == 0xE2 && i + 2 < n && u[1] == 0x80 &&
	       (u[2] == 0xA8 || u[2] == 0xA9);
}

/* check_id: decode the custom_id into id (JOBLINE_MAX_ID + 1 bytes). */
static int check_id(const struct doc *d, size_t v, char *id, char *err,
		    size_t errlen)
{
	struct got g;
	size_t n;

	if (!v)
		return fail(err, errlen, "custom_id: missing");
	if (type(d, v) != JSONIDX_STRING)
		return fail(err, errlen, "custom_id: must be a string, got %s",
			    got(d, v, &g));
	n = d->x.t[v].n;
	if (n == 0)
		return fail(err, errlen, "custom_id: must not be empty");
	if (n > JOBLINE_MAX_ID)
		return fail(err, errlen,
			    "custom_id: longer than %d bytes, got %s",
			    JOBLINE_MAX_ID, got(d, v, &g));
	jsonidx_decode(&d->x, d->s, v, id, JOBLINE_MAX_ID + 1);
	for (size_t i = 0; i < n; i++)
		if (id_breaks_lines(id, n, i))
			return fail(err, errlen,
				    "custom_id: contains a control character "
				    "or a line separator, got %s",
				    got(d, v, &g));
	return 0;
}

/* check_dups: no object in the line holds a key twice; the error names the
 * key, and where it is when it is deeper than the body's members. */
static int check_dups(const struct doc *d, size_t body, size_t at,
		      char *err, size_t errlen)
{
	for (size_t o = 0; o < d->x.n; o++) {
		size_t k;
		char name[64];

		if (d->x.t[o].type != JSONIDX_OBJECT || !(k = jsonkeys_dup(&d->x, d->s, o)))
			continue;
		jsonidx_decode(&d->x, d->s, k, name, sizeof(name));
		if (o == 0)
			return fail(err, errlen, "%s: given twice", name);
		if (o == body)
			return fail(err, errlen, "body.%s: given twice", name);
		return fail(err, errlen,
			    "body: key \"%s\" given twice in the object at "
			    "byte %zu",
			    name, at + d->x.t[o].start + 1);
	}
	return 0;
}

/* check_nul: a NUL inside a body string would be cut off, with all that
 * follows it, by the JSON tree the request is built from; so a job that
 * cannot be sent intact is refused here, not sent shortened. */
static int check_nul(const struct doc *d, size_t body, size_t at, char *err,
		     size_t errlen)
{
	const struct jsonidx_tok *t = d->x.t;

	if (!d->x.nul)
		return 0;
	for (size_t k = body + 1; k < d->x.n && t[k].start < t[body].end; k++)
		if (jsonidx_holds_nul(&d->x, d->s, k))
			return fail(err, errlen,
				    "body: the string at byte %zu holds "
				    "\\u0000 (NUL), which a request cannot "
				    "carry",
				    at + t[k].start + 1);
	return 0;
}

/* keep: compact value v in place and NUL-terminate it. A member's value
 * is followed by at least its object's closing brace, so there is room. */
static const char *keep(struct doc *d, char *line, size_t v, size_t *len)
{
	const struct jsonidx_tok *t = &d->x.t[v];
	size_t end = t->ws ? json_compact(line, t->start, t->end) : t->end;

	line[end] = '\0';
	*len = end - t->start;
	return line + t->start;
}

int jobline_parse_inplace(char *line, size_t len, struct jobline_view *j,
			  char *err, size_t errlen)
{
	struct doc d; /* not zeroed: its token array is large */
	char id[JOBLINE_MAX_ID + 1];
	const char *nul;
	size_t f[F_N], unknown, bad, end, at = 0, vid, vbody, vprov;
	int rc = -1;

	memset(j, 0, sizeof(*j));
	j->max_cost_usd = -1;
	if (!utf8_valid(line, len, &bad))
		return fail(err, errlen, "not valid UTF-8 (byte %zu)",
			    bad + 1);
	/* Every reader of the stored body would cut a string short at a NUL
	 * byte. */
	if ((nul = memchr(line, '\0', len)))
		return fail(err, errlen,
			    "not valid JSON (NUL byte at byte %zu)",
			    (size_t)(nul - line) + 1);
	if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		at = 3; /* a BOM, as cJSON allows */
	d.s = line + at;
	if (jsonidx_parse(&d.x, line + at, len - at, &end)) {
		if (jsonkeys_too_deep(line + at, end))
			fail(err, errlen,
			     "not valid JSON (at byte %zu: nested deeper than "
			     "%d arrays and objects)",
			     at + end + 1, JSONIDX_MAX_DEPTH);
		else
			fail(err, errlen, "not valid JSON (at byte %zu)",
			     at + end + 1);
		goto out;
	}
	line += at;
	len -= at;
	while (end < len &&
	       (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
		end++;
	if (end < len) {
		/* "}\r{" is a file whose lines end in CR alone (classic Mac
		 * OS): read as one line, it was refused with no hint. */
		int cr = end > 0 && line[end - 1] == '\r';

		fail(err, errlen,
		     "not valid JSON (text after the object at byte %zu)%s",
		     at + end + 1,
		     cr ? "; the lines seem to end in CR alone: nightshift "
			  "reads LF or CRLF line endings (convert with "
			  "tr '\\r' '\\n')"
			: "");
		goto out;
	}
	if (type(&d, 0) != JSONIDX_OBJECT) {
		struct got g;

		fail(err, errlen, "not a JSON object, got %s", got(&d, 0, &g));
		goto out;
	}
	unknown = members(&d, 0, ROOT_KEYS, F_N, f);
	vid = f[F_ID];
	vbody = f[F_BODY];
	vprov = f[F_PROVIDERS];
	if (check_dups(&d, vbody, at, err, errlen) ||
	    check_id(&d, vid, id, err, errlen) ||
	    check_keys(&d, unknown, err, errlen) ||
	    check_extensions(&d, f, j, err, errlen) ||
	    check_body(&d, vbody, j, err, errlen) ||
	    check_nul(&d, vbody, at, err, errlen))
		goto out;
	j->body = keep(&d, line, vbody, &j->body_len);
	if (vprov)
		j->providers = keep(&d, line, vprov, &bad);
	/* The decoded id is never longer than its quoted source. */
	memcpy(line + d.x.t[vid].start, id, d.x.t[vid].n + 1);
	j->custom_id = line + d.x.t[vid].start;
	rc = 0;
out:
	jsonidx_free(&d.x);
	if (rc) {
		memset(j, 0, sizeof(*j));
		j->max_cost_usd = -1;
	}
	return rc;
}

int jobline_parse(const char *line, size_t len, struct jobline *j,
		  char *err, size_t errlen)
{
	char *copy = xmalloc(len + 1);
	struct jobline_view v;
	int rc;

	memset(j, 0, sizeof(*j));
	j->max_cost_usd = -1;
	memcpy(copy, line, len);
	rc = jobline_parse_inplace(copy, len, &v, err, errlen);
	if (rc == 0) {
		j->custom_id = xstrdup(v.custom_id);
		j->body = xstrndup(v.body, v.body_len);
		j->body_len = v.body_len;
		j->priority = v.priority;
		j->providers = v.providers ? xstrdup(v.providers) : NULL;
		j->max_cost_usd = v.max_cost_usd;
		j->lane = v.lane;
		j->est_input_tokens = v.est_input_tokens;
		j->max_output_tokens = v.max_output_tokens;
	}
	free(copy);
	return rc;
}

int jobline_same_json(const char *a, size_t alen, const char *b,
		      size_t blen)
{
	/* Rare (a stored hash that differs), so a full parse is fine. */
	cJSON *x = cJSON_ParseWithLength(a, alen);
	cJSON *y = x ? cJSON_ParseWithLength(b, blen) : NULL;
	int same = y && cJSON_Compare(x, y, 1);

	cJSON_Delete(x);
	cJSON_Delete(y);
	return same;
}

void jobline_clear(struct jobline *j)
{
	free(j->custom_id);
	free(j->body);
	free(j->providers);
	memset(j, 0, sizeof(*j));
	j->max_cost_usd = -1;
}
