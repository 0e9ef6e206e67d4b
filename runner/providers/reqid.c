/* reqid.c — the provider's request id of a reply (see reqid.h). */
#include "runner/providers/reqid.h"

#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonutil.h"
#include "runner/providers/httphdr.h"
#include "util/xalloc.h"

char *reqid_dup(const char *s, size_t n)
{
	char *out;
	size_t i, k = 0;

	if (s == NULL || n == 0)
		return NULL;
	if (n > REQID_MAX)
		n = REQID_MAX;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		if (s[i] > 0x20 && s[i] < 0x7f)
			out[k++] = s[i];
	out[k] = '\0';
	if (k == 0) {
		free(out);
		return NULL;
	}
	return out;
}

int reqid_header(const char *h, size_t hlen, const char *const *names, size_t n,
		 char **id)
{
	for (size_t i = 0; i < n; i++) {
		size_t vlen;
		const char *v = httphdr_get(h, hlen, names[i], &vlen);

		if (v && vlen) {
			*id = reqid_dup(v, vlen);
			return 1;
		}
	}
	*id = NULL;
	return 0;
}

char *reqid_get(const char *h, size_t hlen, const char *const *names, size_t n,
		const cJSON *obj)
{
	const char *v;
	char *id;

	if (reqid_header(h, hlen, names, n, &id))
		return id;
	v = json_str(obj, "request_id");
	if (v == NULL)
		v = json_str(obj, "id");
	return v ? reqid_dup(v, strlen(v)) : NULL;
}
