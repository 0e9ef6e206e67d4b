/* xalloc.h — allocation that aborts on out-of-memory.
 *
 * nightshift treats OOM as a crash: the queue is durable and the next run
 * resumes, so callers need not thread ENOMEM through every path. cJSON and
 * curl still return NULL on their own and those NULLs are still checked.
 * Thread-safe (wraps malloc). */
#ifndef NIGHTSHIFT_XALLOC_H
#define NIGHTSHIFT_XALLOC_H

#include <stddef.h>

/* Allocation; each returns new memory freed with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
