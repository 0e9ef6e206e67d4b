/* batch_client.h — the HTTP calls of a provider's batch lane: upload an
 * input file, create, look at, list and cancel batches, and download what
 * they produced. Files + Batches (OpenAI, DashScope) and Message Batches
 * (Anthropic) differ in paths and bodies; batch_wire.h translates, this
 * room only moves bytes, on one curl handle per client.
 *
 * Every call says how it went: BC_OK; BC_RETRY for what may pass if asked
 * again later (no connection, a timeout, 429, 5xx), BC_REFUSED for the
 * provider's considered no (other 4xx). The client's err then holds a
 * one-line reason, scrubbed of the key.
 * Not thread-safe: a client belongs to one thread. */
#ifndef NIGHTSHIFT_BATCH_CLIENT_H
#define NIGHTSHIFT_BATCH_CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include "runner/providers/batch_wire.h"
#include "runner/providers/prov.h"

enum { BC_OK = 0, BC_RETRY = -1, BC_REFUSED = -2 };

struct bclient;

/* bclient_new: a client for provider p (borrowed) with key (copied into
 * its headers, wiped by bclient_free; may be NULL). */
struct bclient *bclient_new(const struct prov *p, const char *key);
void bclient_free(struct bclient **c);
/* bclient_err: the last failure's reason (borrowed). */
const char *bclient_err(const struct bclient *c);
/* bclient_status: the last response's HTTP status (0: none). */
int bclient_status(const struct bclient *c);

/* bclient_upload: OpenAI-style only: POST the file at path (purpose
 * "batch") to /files; *file_id new. */
int bclient_upload(struct bclient *c, const char *path, char **file_id);
/* bclient_create: create a batch: OpenAI-style from file_id with tag in
 * its metadata (path unused); Anthropic from the request list in the file
 * at path (file_id, tag unused). *out filled (batch_info_clear). */
int bclient_create(struct bclient *c, const char *file_id, const char *tag,
		   const char *path, struct batch_info *out);
/* bclient_get / bclient_cancel: the batch remote_id now / after asking it
 * to cancel. */
int bclient_get(struct bclient *c, const char *remote_id,
		struct batch_info *out);
int bclient_cancel(struct bclient *c, const char *remote_id,
		   struct batch_info *out);
/* bclient_list: one page of batches, newest first, after the id `after`
 * (NULL: from the newest); as batch_list_parse. */
int bclient_list(struct bclient *c, const char *after,
		 struct batch_info **items, size_t *n, int *has_more,
		 char **last_id);
/* bclient_same_origin: whether url is on the provider's own scheme, host
 * and port (a results_url elsewhere must not be sent the key). */
int bclient_same_origin(const struct bclient *c, const char *url);
/* bclient_download: the file file_id (OpenAI-style: output or error
 * file), or an ended Anthropic batch's results (file_id: its remote id, or
 * its results_url when bclient_same_origin), written to out from its
 * start (truncated first). */
int bclient_download(struct bclient *c, const char *file_id, FILE *out);

#endif
