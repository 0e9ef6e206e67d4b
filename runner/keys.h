/* keys.h — a provider's API key, read from the environment variable its
 * config names (the config holds only the variable's NAME). A key is
 * never written anywhere: not to the database, the ledger, logs or
 * messages; callers wipe their copy with explicit_bzero before free.
 *
 * Reads the environment: call these while nothing modifies it (before
 * the worker threads start). */
#ifndef NIGHTSHIFT_KEYS_H
#define NIGHTSHIFT_KEYS_H

#include <stddef.h>

#include "runner/providers/prov.h"

/* key_get: p's API key, without the spaces or tabs around it (new: wipe
 * it with explicit_bzero before free); "" when p needs none
 * (api_key_env NULL); NULL when the variable is unset or blank. *bad (may
 * be NULL) is set when the key holds a control character: a CR or LF
 * would end the header line it is sent in and start another. p is
 * borrowed. */
char *key_get(const struct prov *p, int *bad);

/* key_state: 1 if key_get gives a usable key (or none is needed), -1 if
 * the key holds a control character, 0 if it is unset. Keeps no copy. */
int key_state(const struct prov *p);

/* key_get_all: key_get of each of provs[0..n), as a new array (free it
 * with key_free_all). *bad is the index of the first key holding a
 * control character, or -1. From then on the process writes no core dump
 * (RLIMIT_CORE 0; on Linux, PR_SET_DUMPABLE 0): one would hold the keys. */
char **key_get_all(const struct prov *provs, size_t n, int *bad);
/* key_free_all: wipe and free keys[0..n) and the array (NULL: nothing). */
void key_free_all(char **keys, size_t n);

#endif
