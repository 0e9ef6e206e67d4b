/* mock_content.c — the assistant text the mock provider answers with. It
 * is a function of the request body's hash alone: the same job always gets
 * the same text, so tests can predict lengths and token counts, and
 * different jobs get different text. The text quotes the start of the
 * last user message (a reader of a dry run's results can match them to
 * their jobs) and is padded with filler words to a realistic length. */
#include "tests/mock/mock_content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/mock/mock_util.h"

/* Filler for padding content to a realistic length, with each word's
 * length (prose is on a benchmark's hot path). */
#define W(s) {s, sizeof(s) - 1}
static const struct {
	const char *w;
	size_t len;
} filler[] = {
	W("the"), W("report"), W("notes"), W("that"), W("revenue"),
	W("grew"), W("while"), W("costs"), W("fell"), W("across"),
	W("regions"), W("and"), W("teams"), W("agreed"), W("on"),
	W("next"), W("steps"), W("for"), W("review"), W("including"),
	W("risks"), W("timelines"), W("budget"), W("owners"), W("with"),
	W("a"), W("focus"), W("clear"), W("summary"), W("of"), W("key"),
	W("points"), W("in"), W("plain"), W("terms"), W("overall"),
};
#undef W
#define NFILLER (sizeof(filler) / sizeof(filler[0]))

/* text_of returns the text of a message content (a string, or an array
 * of {type:"text",text} parts) into buf, or sums its bytes when buf is
 * NULL. Returns the byte count. */
static size_t text_of(const cJSON *content, char *buf, size_t cap)
{
	size_t n = 0;
	const cJSON *part;

	if (cJSON_IsString(content)) {
		n = strlen(content->valuestring);
		if (buf) {
			n = n < cap ? n : cap;
			memcpy(buf, content->valuestring, n);
		}
		return n;
	}
	if (!cJSON_IsArray(content))
		return 0;
	cJSON_ArrayForEach(part, content)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
		size_t len;

		if (!cJSON_IsString(t))
			continue;
		len = strlen(t->valuestring);
		if (buf) {
			if (n > 0 && n < cap)
				buf[n++] = ' ';
			len = len < cap - n ? len : cap - n;
			memcpy(buf + n, t->valuestring, len);
		}
		n += len;
	}
	return n;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\f' || ch == '\v';
}

/* snippet writes the first ~12 words of the last user message into out
 * (cap bytes, NUL-terminated, valid UTF-8). */
static void snippet(const cJSON *req, char *out, size_t cap)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(req, "messages");
	const cJSON *m, *last = NULL;
	char text[512];
	size_t n, o = 0;
	int words = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(m, msgs)
	{
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");

		if (cJSON_IsString(role) &&
		    strcmp(role->valuestring, "user") == 0)
			last = m;
	}
	if (!last)
		return;
	n = text_of(cJSON_GetObjectItemCaseSensitive(last, "content"), text,
		    sizeof(text));
	for (size_t i = 0; i < n && words < 12;) {
		size_t j;

		while (i < n && is_space(text[i]))
			i++;
		for (j = i; j < n && !is_space(text[j]); j++)
			;
		if (j == i)
			break;
		if (o > 0 && o + 1 < cap)
			out[o++] = ' ';
		if (o + (j - i) >= cap)
			break;
		memcpy(out + o, text + i, j - i);
		o += j - i;
		words++;
		i = j;
	}
	o = mock_utf8_cut(out, o);
	mock_utf8_clean(out, o);
	out[o] = '\0';
}

/* max_tokens returns the request's output cap, or -1 when it has none. */
static long max_tokens(const cJSON *req)
{
	static const char *const names[] = {"max_tokens",
					    "max_completion_tokens"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(req, names[i]);

		if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
		    v->valuedouble < 1e9)
			return (long)v->valuedouble;
	}
	return -1;
}

long mock_content_prompt_tokens(const cJSON *req)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(req, "messages");
	const cJSON *sys = cJSON_GetObjectItemCaseSensitive(req, "system");
	const cJSON *m;
	size_t bytes = 0;
	long nmsg = 0;

	cJSON_ArrayForEach(m, msgs)
	{
		bytes += text_of(cJSON_GetObjectItemCaseSensitive(m, "content"),
				 NULL, 0);
		nmsg++;
	}
	/* Anthropic's top-level system counts as the system message it was
	 * translated from, so both dialects bill a job the same. */
	if (sys) {
		bytes += text_of(sys, NULL, 0);
		nmsg++;
	}
	return (long)((bytes + 3) / 4) + 4 * nmsg;
}

/* prose returns new text of about len bytes (len > the prefix): the
 * snippet, then filler words up to the first word end at or past len. */
static char *prose(uint64_t hash, const char *snip, size_t len)
{
	size_t sl = strlen(snip), cap = len + sl + 64, o = 0;
	char *s = mock_xmalloc(cap);
	uint64_t i = 0;

	/* "Summary (HASH8): SNIPPET ...", built by hand: snprintf was a
	 * tenth of a batch's result time. */
	memcpy(s, "Summary (", 9);
	mock_hex(s + 9, hash >> 32, 8);
	memcpy(s + 17, "): ", 3);
	memcpy(s + 20, snip, sl);
	o = 20 + sl;
	memcpy(s + o, " ...", 4);
	o += 4;
	while (o < len) {
		size_t w = (size_t)(mock_mix64(hash + ++i) % NFILLER);

		/* Words are short and o < len, so this stays in cap. */
		s[o++] = ' ';
		memcpy(s + o, filler[w].w, filler[w].len);
		o += filler[w].len;
	}
	s[o++] = '.';
	s[o] = '\0';
	return s;
}

/* json_content returns {"summary":...,"id":...} no longer than limit
 * bytes when it can (limit < 0: no limit), shortening the summary. */
static char *json_content(uint64_t hash, const char *text, long limit)
{
	char id[20], *summary = mock_xstrdup(text), *out = NULL;
	size_t slen = strlen(summary);

	snprintf(id, sizeof(id), "%08llx", (unsigned long long)(hash >> 32));
	for (int tries = 0; tries < 16; tries++) {
		cJSON *o = cJSON_CreateObject();
		size_t olen;

		if (!o)
			abort();
		cJSON_AddStringToObject(o, "summary", summary);
		cJSON_AddStringToObject(o, "id", id);
		free(out);
		out = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!out)
			abort();
		olen = strlen(out);
		if (limit < 0 || olen <= (size_t)limit || slen == 0)
			break;
		/* Escapes make the printed text longer than the summary;
		 * cutting the excess and retrying converges quickly. */
		slen =
		    olen - (size_t)limit >= slen
			? 0
			: mock_utf8_cut(summary, slen - (olen - (size_t)limit));
		summary[slen] = '\0';
	}
	free(summary);
	return out;
}

/* type_of: a property's JSON type: the first non-null of a type list. */
static const char *type_of(const cJSON *prop)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(prop, "type"), *e;

	if (cJSON_IsString(t))
		return t->valuestring;
	cJSON_ArrayForEach(e, t)
	{
		if (cJSON_IsString(e) && strcmp(e->valuestring, "null") != 0)
			return e->valuestring;
	}
	return "string";
}

/* schema_content: an object holding every property of schema, each a
 * value of its type; strings are words of text. */
static char *schema_content(uint64_t hash, const char *text,
			    const cJSON *schema)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema,
							      "properties");
	const cJSON *p;
	cJSON *o = cJSON_CreateObject();
	char words[48];
	char *out;
	size_t n = strlen(text);

	if (n >= sizeof(words))
		n = mock_utf8_cut(text, sizeof(words) - 1);
	memcpy(words, text, n);
	words[n] = '\0';
	if (!o)
		abort();
	cJSON_ArrayForEach(p, props)
	{
		const char *t = type_of(p);
		cJSON *v;

		if (strcmp(t, "integer") == 0)
			v = cJSON_CreateNumber((double)(hash % 1000));
		else if (strcmp(t, "number") == 0)
			v = cJSON_CreateNumber((double)(hash % 100000) / 100);
		else if (strcmp(t, "boolean") == 0)
			v = cJSON_CreateBool(hash & 1);
		else if (strcmp(t, "array") == 0)
			v = cJSON_CreateArray();
		else if (strcmp(t, "object") == 0)
			v = cJSON_CreateObject();
		else if (strcmp(t, "null") == 0)
			v = cJSON_CreateNull();
		else
			v = cJSON_CreateString(words);
		if (!v)
			abort();
		cJSON_AddItemToObject(o, p->string, v);
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!out)
		abort();
	return out;
}

void mock_content_make(const cJSON *req, uint64_t hash, bool as_json,
		       const cJSON *schema, struct mock_content *out)
{
	char snip[160];
	size_t len = 200 + (size_t)(mock_mix64(hash) % 401);
	long cap = max_tokens(req);
	char *text;
	size_t tlen;

	snippet(req, snip, sizeof(snip));
	text = prose(hash, snip, len);
	out->cut = false;
	if (as_json && cJSON_IsObject(
			       cJSON_GetObjectItemCaseSensitive(schema,
								"properties"))) {
		char *j = schema_content(hash, text, schema);

		free(text);
		text = j;
	} else if (as_json) {
		char *j = json_content(hash, text, cap < 0 ? -1 : cap * 4);

		free(text);
		text = j;
	}
	tlen = strlen(text);
	if (cap >= 0 && tlen > (size_t)cap * 4) {
		tlen = mock_utf8_cut(text, (size_t)cap * 4);
		text[tlen] = '\0';
		out->cut = true;
	}
	out->text = text;
	out->prompt_tokens = mock_content_prompt_tokens(req);
	out->completion_tokens = (long)((tlen + 3) / 4);
}

void mock_content_clear(struct mock_content *c)
{
	free(c->text);
	c->text = NULL;
}
