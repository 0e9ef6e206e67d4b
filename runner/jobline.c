/* jobline.c — validation of job lines.
 *
 * A line is checked fully before anything is queued, so a provider never
 * sees a request that we could have refused: the point is a located error
 * at ingest time instead of a dead job at 3 a.m. The rules follow the
 * OpenAI Batch API input line plus nightshift's top-level extensions
 * (DESIGN.md "Job line"). */
#include "runner/jobline.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/xalloc.h"

static const char *const ROLES[] = {"system",    "developer", "user",
				    "assistant", "tool",      "function"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int jobline_utf8_valid(const char *str, size_t n, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t need;
		unsigned cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			*bad = i;
			return 0;
		}
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xC0) != 0x80) {
				*bad = i;
				return 0;
			}
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* Overlong forms, UTF-16 surrogates and > U+10FFFF. */
		if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp > 0x10FFFF) {
			*bad = i;
			return 0;
		}
		i += need + 1;
	}
	return 1;
}

/* describe: a short name of a JSON value's type, for error messages. */
static const char *describe(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

static int is_integer(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	       floor(v->valuedouble) == v->valuedouble &&
	       v->valuedouble >= lo && v->valuedouble <= hi;
}

/* content_bytes: text bytes of a message content (string or parts). */
static size_t content_bytes(const cJSON *c)
{
	size_t n = 0;
	const cJSON *part;

	if (cJSON_IsString(c))
		return strlen(c->valuestring);
	cJSON_ArrayForEach(part, c)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");

		if (cJSON_IsString(t))
			n += strlen(t->valuestring);
		else
			n += 256; /* an image or other part: a rough share */
	}
	return n;
}

static int check_messages(const cJSON *msgs, int64_t *est, char *err,
			  size_t errlen)
{
	const cJSON *m;
	int i = 0;
	size_t bytes = 0;

	if (!msgs)
		return fail(err, errlen, "body.messages: missing");
	if (!cJSON_IsArray(msgs))
		return fail(err, errlen,
			    "body.messages: must be an array, not %s",
			    describe(msgs));
	if (cJSON_GetArraySize(msgs) == 0)
		return fail(err, errlen, "body.messages: must not be empty");
	cJSON_ArrayForEach(m, msgs)
	{
		const cJSON *role, *content;
		size_t r;

		if (!cJSON_IsObject(m))
			return fail(err, errlen,
				    "body.messages[%d]: must be an object, "
				    "not %s",
				    i, describe(m));
		role = cJSON_GetObjectItemCaseSensitive(m, "role");
		content = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (!role)
			return fail(err, errlen,
				    "body.messages[%d].role: missing", i);
		if (!cJSON_IsString(role))
			return fail(err, errlen,
				    "body.messages[%d].role: must be a string, "
				    "not %s",
				    i, describe(role));
		for (r = 0; r < sizeof(ROLES) / sizeof(ROLES[0]); r++)
			if (strcmp(role->valuestring, ROLES[r]) == 0)
				break;
		if (r == sizeof(ROLES) / sizeof(ROLES[0]))
			return fail(err, errlen,
				    "body.messages[%d].role: \"%.40s\" is not "
				    "one of system, developer, user, "
				    "assistant, tool",
				    i, role->valuestring);
		if (!content)
			return fail(err, errlen,
				    "body.messages[%d].content: missing", i);
		/* An assistant turn that only made tool calls has null
		 * content in the OpenAI format. */
		if (!(cJSON_IsString(content) || cJSON_IsArray(content) ||
		      (cJSON_IsNull(content) &&
		       strcmp(role->valuestring, "assistant") == 0)))
			return fail(err, errlen,
				    "body.messages[%d].content: must be a "
				    "string or an array of parts, not %s",
				    i, describe(content));
		bytes += content_bytes(content);
		i++;
	}
	/* ~4 bytes a token for English, plus per-message framing; refined by
	 * the run loop from what providers report. */
	*est = (int64_t)((bytes + 3) / 4) + 4 * i;
	return 0;
}

static int check_body(const cJSON *body, struct jobline *j, char *err,
		      size_t errlen)
{
	const cJSON *model, *mt;
	static const char *const max_keys[] = {"max_tokens",
					       "max_completion_tokens"};

	if (!body)
		return fail(err, errlen, "body: missing");
	if (!cJSON_IsObject(body))
		return fail(err, errlen, "body: must be an object, not %s",
			    describe(body));
	model = cJSON_GetObjectItemCaseSensitive(body, "model");
	if (!model)
		return fail(err, errlen,
			    "body.model: missing (a route, provider:model, "
			    "or a model name)");
	if (!cJSON_IsString(model) || model->valuestring[0] == '\0')
		return fail(err, errlen,
			    "body.model: must be a non-empty string");
	for (size_t k = 0; k < 2; k++) {
		mt = cJSON_GetObjectItemCaseSensitive(body, max_keys[k]);
		if (!mt || cJSON_IsNull(mt))
			continue;
		if (!is_integer(mt, 1, 1e9))
			return fail(err, errlen,
				    "body.%s: must be a positive integer",
				    max_keys[k]);
		j->max_output_tokens = (int64_t)mt->valuedouble;
	}
	return check_messages(
		cJSON_GetObjectItemCaseSensitive(body, "messages"),
		&j->est_input_tokens, err, errlen);
}

/* is_chat_path: "/v1/chat/completions" or any path ending in
 * "/chat/completions" (some gateways add a prefix). */
static int is_chat_path(const char *u)
{
	static const char tail[] = "/chat/completions";
	size_t n = strlen(u), t = sizeof(tail) - 1;

	return u[0] == '/' && n >= t && strcmp(u + n - t, tail) == 0;
}

static int check_extensions(const cJSON *root, struct jobline *j, char *err,
			    size_t errlen)
{
	const cJSON *v;

	v = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (v && !(cJSON_IsString(v) && strcmp(v->valuestring, "POST") == 0))
		return fail(err, errlen, "method: must be \"POST\"");
	v = cJSON_GetObjectItemCaseSensitive(root, "url");
	if (v && !(cJSON_IsString(v) && is_chat_path(v->valuestring)))
		return fail(err, errlen,
			    "url: must be a chat-completions path such as "
			    "\"/v1/chat/completions\"");
	v = cJSON_GetObjectItemCaseSensitive(root, "priority");
	if (v) {
		if (!is_integer(v, -1e15, 1e15))
			return fail(err, errlen,
				    "priority: must be an integer, not %s",
				    describe(v));
		j->priority = (long long)v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "max_cost_usd");
	if (v) {
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
		    v->valuedouble < 0)
			return fail(err, errlen,
				    "max_cost_usd: must be a number >= 0");
		j->max_cost_usd = v->valuedouble;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "providers");
	if (v) {
		const cJSON *p;
		int i = 0;

		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
			return fail(err, errlen,
				    "providers: must be a non-empty array of "
				    "provider names");
		cJSON_ArrayForEach(p, v)
		{
			if (!cJSON_IsString(p) || p->valuestring[0] == '\0')
				return fail(err, errlen,
					    "providers[%d]: must be a "
					    "non-empty string",
					    i);
			i++;
		}
		j->providers = cJSON_PrintUnformatted(v);
		if (!j->providers)
			return fail(err, errlen, "providers: out of memory");
	}
	return 0;
}

static int check_keys(const cJSON *root, char *err, size_t errlen)
{
	static const char *const known[] = {
		"custom_id", "method",    "url",         "body",
		"priority",  "providers", "max_cost_usd"};
	const cJSON *k;

	cJSON_ArrayForEach(k, root)
	{
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k->string, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return fail(err, errlen,
				    "unknown field \"%.40s\" (allowed: "
				    "custom_id, method, url, body, priority, "
				    "providers, max_cost_usd)",
				    k->string);
	}
	return 0;
}

static int check_id(const cJSON *id, struct jobline *j, char *err,
		    size_t errlen)
{
	size_t n;

	if (!id)
		return fail(err, errlen, "custom_id: missing");
	if (!cJSON_IsString(id))
		return fail(err, errlen, "custom_id: must be a string, not %s",
			    describe(id));
	n = strlen(id->valuestring);
	if (n == 0)
		return fail(err, errlen, "custom_id: must not be empty");
	if (n > JOBLINE_MAX_ID)
		return fail(err, errlen,
			    "custom_id: longer than %d bytes", JOBLINE_MAX_ID);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id->valuestring[i] < 0x20)
			return fail(err, errlen,
				    "custom_id: contains a control character");
	j->custom_id = xstrdup(id->valuestring);
	return 0;
}

int jobline_parse(const char *line, size_t len, struct jobline *j,
		  char *err, size_t errlen)
{
	cJSON *root = NULL;
	const char *end = NULL;
	size_t bad;
	int rc = -1;

	memset(j, 0, sizeof(*j));
	j->max_cost_usd = -1;
	if (!jobline_utf8_valid(line, len, &bad))
		return fail(err, errlen, "not valid UTF-8 (byte %zu)",
			    bad + 1);
	root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at && at >= line && at <= line + len
				     ? (size_t)(at - line)
				     : len;

		return fail(err, errlen, "not valid JSON (at byte %zu)",
			    off + 1);
	}
	while (end && end < line + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (end && end < line + len) {
		fail(err, errlen, "not valid JSON (text after the object at "
				  "byte %zu)",
		     (size_t)(end - line) + 1);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		fail(err, errlen, "not a JSON object (%s)", describe(root));
		goto out;
	}
	if (check_id(cJSON_GetObjectItemCaseSensitive(root, "custom_id"), j,
		     err, errlen) ||
	    check_keys(root, err, errlen) ||
	    check_extensions(root, j, err, errlen) ||
	    check_body(cJSON_GetObjectItemCaseSensitive(root, "body"), j, err,
		       errlen))
		goto out;
	j->body = cJSON_PrintUnformatted(
		cJSON_GetObjectItemCaseSensitive(root, "body"));
	if (!j->body) {
		fail(err, errlen, "body: out of memory");
		goto out;
	}
	j->body_len = strlen(j->body);
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc)
		jobline_clear(j);
	return rc;
}

void jobline_clear(struct jobline *j)
{
	free(j->custom_id);
	cJSON_free(j->body);
	cJSON_free(j->providers);
	memset(j, 0, sizeof(*j));
	j->max_cost_usd = -1;
}
