/* auth.c — a provider's request headers (see auth.h). */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "runner/providers/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/providers/dialect_anthropic.h"

struct curl_slist *auth_headers(const struct prov *p, const char *key,
				int json)
{
	struct curl_slist *h = NULL;
	char line[600];

	if (p->dialect == PROV_ANTHROPIC) {
		if (key) {
			snprintf(line, sizeof(line), "x-api-key: %s", key);
			h = curl_slist_append(h, line);
		}
		h = curl_slist_append(h, "anthropic-version: "
					 DIALECT_ANTHROPIC_VERSION);
	} else if (key && *key) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", key);
		h = curl_slist_append(h, line);
	}
	if (json)
		h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	explicit_bzero(line, sizeof(line));
	if (!h)
		abort(); /* only fails on OOM; see xalloc.h */
	return h;
}

void auth_headers_free(struct curl_slist *h)
{
	for (struct curl_slist *n = h; n; n = n->next)
		explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(h);
}
