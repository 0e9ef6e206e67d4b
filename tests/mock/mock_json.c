/* mock_json.c — spans of JSON values found by walking the text: strings
 * are skipped to their closing quote (escapes honoured), containers by
 * counting brackets outside strings, and scalars as runs of the bytes a
 * number or literal may hold. What the walk lets through, cJSON rejects
 * when the span is parsed. */
#include "tests/mock/mock_json.h"

#include <string.h>

const char *mock_json_ws(const char *p, const char *end)
{
	while (p < end &&
	       (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* skip_string returns the end of the string whose opening quote is at p,
 * or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	p++;
	while (p < end) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		const char *b;
		size_t bs = 0;

		if (!q)
			return NULL;
		/* An odd run of backslashes before the quote escapes it. */
		for (b = q; b > p && b[-1] == '\\'; b--)
			bs++;
		if (bs % 2 == 0)
			return q + 1;
		p = q + 1;
	}
	return NULL;
}

static bool scalar_byte(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       ch == '-' || ch == '+' || ch == '.' || ch == 'E';
}

const char *mock_json_skip(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {
		const char *q = p;

		while (q < end && scalar_byte(*q))
			q++;
		return q > p ? q : NULL;
	}
	while (p < end) {
		switch (*p) {
		case '"':
			p = skip_string(p, end);
			if (!p)
				return NULL;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return p + 1;
			break;
		default:
			break;
		}
		p++;
	}
	return NULL;
}

int mock_json_member(const char *p, const char *end, const char *key,
		     const char **v, size_t *vlen)
{
	size_t klen = strlen(key);

	p = mock_json_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = mock_json_ws(p + 1, end);
	if (p < end && *p == '}')
		return 1;
	while (p < end) {
		const char *k = p, *kend, *val, *vend;

		if (*p != '"')
			return -1;
		kend = skip_string(p, end);
		if (!kend)
			return -1;
		p = mock_json_ws(kend, end);
		if (p >= end || *p != ':')
			return -1;
		val = mock_json_ws(p + 1, end);
		vend = mock_json_skip(val, end);
		if (!vend)
			return -1;
		if ((size_t)(kend - k) == klen + 2 &&
		    memcmp(k + 1, key, klen) == 0) {
			*v = val;
			*vlen = (size_t)(vend - val);
			return 0;
		}
		p = mock_json_ws(vend, end);
		if (p < end && *p == '}')
			return 1;
		if (p >= end || *p != ',')
			return -1;
		p = mock_json_ws(p + 1, end);
	}
	return -1;
}

int mock_json_arr_start(struct mock_json_arr *a, const char *p,
			const char *end)
{
	p = mock_json_ws(p, end);
	if (p >= end || *p != '[')
		return -1;
	a->p = p + 1;
	a->end = end;
	a->first = true;
	return 0;
}

int mock_json_arr_next(struct mock_json_arr *a, const char **v, size_t *vlen)
{
	const char *p = mock_json_ws(a->p, a->end), *q;

	if (p >= a->end)
		return -1;
	if (*p == ']') {
		a->p = p + 1;
		return 0;
	}
	if (!a->first) {
		if (*p != ',')
			return -1;
		p = mock_json_ws(p + 1, a->end);
	}
	q = mock_json_skip(p, a->end);
	if (!q)
		return -1;
	a->first = false;
	a->p = q;
	*v = p;
	*vlen = (size_t)(q - p);
	return 1;
}
