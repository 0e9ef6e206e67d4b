/* jsonutil.c — small JSON helpers (see jsonutil.h). */
#include "runner/json/jsonutil.h"

#include <stddef.h>
#include <string.h>

cJSON *json_parse_stop(const char *buf, size_t len, size_t *stop)
{
	const char *end = NULL, *nul;
	cJSON *root = NULL;

	/* A NUL byte is no JSON. cJSON, reading with a length, takes one as
	 * white space or inside a string, and the text then keeps it: a
	 * reply stored as it came would hold a NUL that every C reader cuts
	 * at (found by tests/fuzz/fuzz_openai_response.c). */
	if (buf != NULL && len > 0 && (nul = memchr(buf, '\0', len)) != NULL) {
		if (stop)
			*stop = (size_t)(nul - buf);
		return NULL;
	}
	if (buf != NULL && len > 0)
		root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root != NULL) {
		/* JSON's white space only: the four RFC 8259 names */
		while (end != NULL && end < buf + len &&
		       (*end == ' ' || *end == '\t' || *end == '\r' ||
			*end == '\n'))
			end++;
		if (end == buf + len)
			return root;
		cJSON_Delete(root);
	}
	/* cJSON points at where it gave up, or at what followed the value */
	if (stop)
		*stop = end && end >= buf && end <= buf + len
				? (size_t)(end - buf)
				: 0;
	return NULL;
}

cJSON *json_parse_exact(const char *buf, size_t len)
{
	return json_parse_stop(buf, len, NULL);
}

const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

int64_t json_count(const cJSON *obj, const char *key, int64_t dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
	    it->valuedouble > 1e15)
		return dflt;
	return (int64_t)it->valuedouble;
}

/* string_end: s[i] opens a (valid) string; the index after its closing
 * quote: the first quote not escaped by an odd run of backslashes. */
static size_t string_end(const char *s, size_t i, size_t n)
{
	const char *from = s + i + 1, *q;

	for (; (q = memchr(from, '"', (size_t)(s + n - from))); from = q + 1) {
		size_t k = 0;

		while (q - k > s + i + 1 && q[-1 - (ptrdiff_t)k] == '\\')
			k++;
		if (k % 2 == 0)
			return (size_t)(q - s) + 1;
	}
	return n;
}

size_t json_compact(char *s, size_t at, size_t end)
{
	size_t r = at, w = at;

	while (r < end) {
		if (s[r] == '"') {
			size_t e = string_end(s, r, end);

			memmove(s + w, s + r, e - r);
			w += e - r;
			r = e;
		} else if ((unsigned char)s[r] <= 0x20) {
			r++;
		} else {
			s[w++] = s[r++];
		}
	}
	return w;
}
