/* jsonkeys.h — duplicate keys and nesting depth of an indexed JSON text
 * (see jsonkeys.c). Pure functions; thread-safe. */
#ifndef NIGHTSHIFT_JSONKEYS_H
#define NIGHTSHIFT_JSONKEYS_H

#include <stddef.h>

#include "runner/json/jsonidx.h"

/* jsonkeys_dup: the token of a key that object obj of text s (indexed as
 * x) holds twice, or 0. Providers' parsers disagree on which of two equal
 * keys counts (most take the last, cJSON and jsonidx the first), so a job
 * line may hold neither. */
size_t jsonkeys_dup(const struct jsonidx *x, const char *s, size_t obj);

/* jsonkeys_too_deep: whether s[0..end) opens more than JSONIDX_MAX_DEPTH
 * arrays and objects: why a parse stopped at end, if so. */
int jsonkeys_too_deep(const char *s, size_t end);

#endif
