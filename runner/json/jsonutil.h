/* jsonutil.h — small JSON helpers: a whole text parsed as one value,
 * cJSON readers the dialects share, and compaction of a valid text. Pure;
 * thread-safe. */
#ifndef NIGHTSHIFT_JSONUTIL_H
#define NIGHTSHIFT_JSONUTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* json_parse_exact: parse exactly buf[0..len): anything but whitespace
 * after the value makes it invalid (a truncated or concatenated body is
 * not a response), and so does a NUL byte anywhere (cJSON would take it).
 * New tree (cJSON_Delete) or NULL. */
cJSON *json_parse_exact(const char *buf, size_t len);
/* json_parse_stop: json_parse_exact, and when it fails, *stop (may be
 * NULL) is the offset where the text stopped being one JSON value: where
 * cJSON gave up, what follows the value, or the first NUL byte (0 for an
 * empty text). */
cJSON *json_parse_stop(const char *buf, size_t len, size_t *stop);
/* json_str: obj[key] if it is a string (borrowed from the tree), else NULL. */
const char *json_str(const cJSON *obj, const char *key);
/* json_count: obj[key] as a token count, or dflt when absent or not a sane
 * count (negative, fractional garbage, > 1e15). */
int64_t json_count(const cJSON *obj, const char *key, int64_t dflt);

/* json_compact: drop the whitespace outside the strings of the valid JSON
 * text s[at..end), in place; returns where the text now ends. Ingest
 * stores a job's body so, and the same job spelled with other spacing is
 * the same bytes. */
size_t json_compact(char *s, size_t at, size_t end);

#endif
