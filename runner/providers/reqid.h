/* reqid.h — the provider's request id of a reply, as the outcome keeps it:
 * read from a header or, when no header gives one, from the body, and
 * copied as a short printable token, since it is logged and stored and a
 * broken proxy's bytes must not pass through. Both dialects read it so.
 * Thread-safe (pure functions). */
#ifndef NIGHTSHIFT_REQID_H
#define NIGHTSHIFT_REQID_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Longest request id kept; ids are short, a longer one is garbage. */
#define REQID_MAX 128

/* reqid_dup: a new (free()) copy of the first REQID_MAX bytes of s[0..n)
 * with anything but printable ASCII (0x21-0x7e) dropped; NULL when s is
 * NULL or nothing is left. */
char *reqid_dup(const char *s, size_t n);

/* reqid_header: the id from the first of names[0..n) (in that order of
 * preference) present with a value in the header block h (borrowed, may
 * be NULL). Returns 1 when a header gives one (then *id is its reqid_dup,
 * which may be NULL), or 0 with *id NULL when the body decides. */
int reqid_header(const char *h, size_t hlen, const char *const *names, size_t n,
		 char **id);

/* reqid_get: reqid_header, else the body's string "request_id", else its
 * string "id" (obj borrowed, may be NULL or not an object), through
 * reqid_dup. Returns a new string or NULL. */
char *reqid_get(const char *h, size_t hlen, const char *const *names, size_t n,
		const cJSON *obj);

#endif
