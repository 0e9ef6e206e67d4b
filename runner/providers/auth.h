/* auth.h — the headers every request to a provider carries: its key in
 * the dialect's header, the API version Anthropic asks for, JSON content.
 * Shared by the sync endpoints (runner/endpoint.h) and the batch-lane
 * client (batch_client.h), which send the same credentials.
 * Thread-safe (no shared state). */
#ifndef NIGHTSHIFT_AUTH_H
#define NIGHTSHIFT_AUTH_H

#include <curl/curl.h>

#include "runner/providers/prov.h"

/* auth_headers: p's header list with key (may be NULL: none), new; the
 * list holds the key, so free it with auth_headers_free. json: add
 * "Content-Type: application/json". */
struct curl_slist *auth_headers(const struct prov *p, const char *key,
				int json);
/* auth_headers_free: wipe and free a list; NULL does nothing. */
void auth_headers_free(struct curl_slist *h);

#endif
