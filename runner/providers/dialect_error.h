/* dialect_error.h — a provider's error reply read and classified, for both
 * dialects: the error object found in any shape providers send, its
 * code/type/status strings mapped to an outcome class (the HTTP status
 * decides only when they do not; ambiguous codes are read by the
 * provider's flavor), its message scrubbed, and the pause it announced.
 * Thread-safe (pure functions: no I/O, no globals, clock passed in). */
#ifndef NIGHTSHIFT_DIALECT_ERROR_H
#define NIGHTSHIFT_DIALECT_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runner/providers/flavor.h"
#include "runner/providers/outcome.h"

/* dialect_error_begin: start reading a reply into o (initialized; it is
 * cleared, then given http_status). Returns 1 when there was no HTTP
 * reply (http_status <= 0): o is then CONNECTION and complete; else 0. */
int dialect_error_begin(int http_status, struct outcome *o);

/* dialect_error_check: settle o (begun by dialect_error_begin) when the
 * reply cannot be a success: a status other than 2xx is an error reply
 * (dialect_error_outcome), a 2xx whose body is not JSON (root NULL) is
 * INVALID_OUTPUT. Returns 1 then, or 0 when the caller is to read the 2xx
 * reply in root (borrowed). Arguments as for dialect_error_outcome. */
int dialect_error_check(int http_status, const char *h, size_t hlen,
			const char *body, size_t blen, const cJSON *root,
			enum prov_flavor flavor, int64_t now_ms,
			struct outcome *o);

/* dialect_error_found: whether the parsed body root (borrowed, may be
 * NULL) holds a provider error in a known shape: {"error":{...}} (or a
 * string), Gemini's [{"error":{...}}], a flat {"object":"error",...} or
 * DashScope's native {"code":...,"message":...} without "choices". */
int dialect_error_found(const cJSON *root);

/* dialect_error_outcome: o (begun by dialect_error_begin) as the error
 * reply it is: http_status (a 2xx for an error carried by a success
 * status; Gemini's numeric code is then the status that counts), the
 * header block h and the raw body (borrowed, either may be NULL), root
 * its tree (NULL when it is not JSON: the text itself is then the
 * message) and flavor the provider's. Sets o's class, error code, scrubbed
 * message ("HTTP <status>" when there is none) and retry_after_ms (the
 * 429-only reset headers are read for a 429 or a rate-limit class). */
void dialect_error_outcome(int http_status, const char *h, size_t hlen,
			   const char *body, size_t blen, const cJSON *root,
			   enum prov_flavor flavor, int64_t now_ms,
			   struct outcome *o);

#endif
