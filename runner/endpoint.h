/* endpoint.h — how a worker reaches each provider: the URL of its chat
 * endpoint (also kept parsed), the headers every request to it carries
 * (its key among them), the dialect's rewrites for it, and so the request
 * body for a job on one of its models. Built once per worker, so that a
 * request costs no URL parse, header list or quirks lookup of its own.
 * Not thread-safe: each worker owns its endpoints. */
#ifndef NIGHTSHIFT_ENDPOINT_H
#define NIGHTSHIFT_ENDPOINT_H

#include <stddef.h>

#include <curl/curl.h>

#include "queue/claim.h"
#include "runner/providers/prov.h"
#include "runner/sched/route.h"

struct endpoints;
struct jsonidx;

/* endpoints_new: the endpoints of provs[0..n), with keys[i] (may be
 * NULL: no key header) in provider i's headers. provs and keys are
 * borrowed; the key is copied into the header list and wiped from it by
 * endpoints_free (NULL or &NULL: nothing). */
struct endpoints *endpoints_new(const struct prov *provs, size_t n,
				char *const *keys);
void endpoints_free(struct endpoints **e);

/* endpoint_url: provider prov's endpoint URL (borrowed), and parsed
 * (*parsed, borrowed: hand it to CURLOPT_CURLU), NULL when the string did
 * not parse and must be given as it is. */
const char *endpoint_url(const struct endpoints *e, int prov,
			 CURLU **parsed);

/* endpoint_headers: the header list of a request to prov for job
 * custom_id: the provider's list, after an X-Client-Request-Id line (in
 * line, cap bytes, the caller's, linked through node) when the id can be
 * one. Borrowed from e and the caller's storage. */
struct curl_slist *endpoint_headers(const struct endpoints *e, int prov,
				    const char *custom_id,
				    struct curl_slist *node, char *line,
				    size_t cap);

/* endpoint_request: the body to send for job j to candidate c, built by
 * c's provider's dialect; x (may be NULL) is the job body's index ending
 * at end, for the builder to reuse. *flags is set for the dialect's
 * reply reading. Returns a new string (free()), or NULL with *why (a
 * static string) when the job cannot be sent to this provider. */
char *endpoint_request(const struct endpoints *e, struct route_cand c,
		       const struct claim_job *j, const struct jsonidx *x,
		       size_t end, unsigned *flags, const char **why);

/* endpoint_timeout_ms: how long a request for job j to provider p may
 * take in all. */
long endpoint_timeout_ms(const struct prov *p, const struct claim_job *j);

#endif
