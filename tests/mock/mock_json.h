/* mock_json.h — finding values in JSON text without parsing it into a
 * tree: the span of one value, of an object's member, of each element of
 * an array. The batch inputs are hundreds of megabytes, so they are walked
 * in place (mapped from disk) and only one line's body is ever parsed with
 * cJSON; and a line's body is hashed as the bytes the client sent, as the
 * synchronous endpoints hash theirs. The walk checks structure (brackets,
 * strings, commas), not every token: cJSON judges the spans it is given.
 * Thread-safe (pure functions). */
#ifndef MOCK_JSON_H
#define MOCK_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* mock_json_ws returns the first byte at or after p that is not JSON
 * whitespace, or end. */
const char *mock_json_ws(const char *p, const char *end);

/* mock_json_skip returns the end of the value that starts at p (no
 * leading whitespace), or NULL when it is malformed or runs past end. */
const char *mock_json_skip(const char *p, const char *end);

/* mock_json_member sets *v and *vlen to the span of the member named key
 * (compared as written, escapes and all) of the object that starts at p,
 * the first such member when there are several. Returns 0, 1 when the
 * object has no such member, or -1 when [p, end) is not an object. */
int mock_json_member(const char *p, const char *end, const char *key,
		     const char **v, size_t *vlen);

/* An array being walked: mock_json_arr_start, then mock_json_arr_next
 * until it returns 0. */
struct mock_json_arr {
	const char *p, *end;
	bool first;
};

/* mock_json_arr_start starts a walk of the array at p. Returns 0, or -1
 * when p does not start an array. */
int mock_json_arr_start(struct mock_json_arr *a, const char *p,
			const char *end);

/* mock_json_arr_next sets *v and *vlen to the next element's span.
 * Returns 1, 0 at the array's end (a->p is then just past it), or -1
 * when the array is malformed. */
int mock_json_arr_next(struct mock_json_arr *a, const char **v, size_t *vlen);

#endif
