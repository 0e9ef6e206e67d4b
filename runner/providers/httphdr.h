/* httphdr.h — look up fields in a raw HTTP response header block.
 *
 * libcurl hands the worker every header line it received, including the
 * interim blocks of a 100-continue or a followed redirect. These helpers
 * read only the last block (the final response), match names without
 * regard to case, and never need the block to be NUL-terminated.
 * Thread-safe (pure functions, no state). */
#ifndef NIGHTSHIFT_HTTPHDR_H
#define NIGHTSHIFT_HTTPHDR_H

#include <stddef.h>

/* httphdr_last_block: the final response's header block inside h[0..hlen).
 * Returns a pointer into h (borrowed) and sets *blen; a block with no
 * status line (bare "Name: value" lines) is returned whole. */
const char *httphdr_last_block(const char *h, size_t hlen, size_t *blen);

/* httphdr_get: value of the first field called `name` (case-insensitive)
 * in the last block, with surrounding spaces and tabs trimmed. Returns a
 * pointer into h (borrowed, not NUL-terminated) and sets *vlen, or NULL
 * when absent. */
const char *httphdr_get(const char *h, size_t hlen, const char *name,
			size_t *vlen);

/* httphdr_dup: like httphdr_get but returns a new NUL-terminated copy
 * (free()), or NULL when absent or empty. Values are cut at `max` bytes so
 * a hostile header cannot grow memory without bound. */
char *httphdr_dup(const char *h, size_t hlen, const char *name, size_t max);

/* httphdr_status: the status code on the last block's status line
 * ("HTTP/1.1 429 Too Many Requests" -> 429), or 0 when there is none. */
int httphdr_status(const char *h, size_t hlen);

#endif
