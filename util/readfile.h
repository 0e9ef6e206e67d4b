/* readfile.h — a whole small file into memory, with a cap: the providers
 * config and the price map are read this way, and a wrong path (a log, a
 * disk image) must fail fast rather than fill memory.
 * Thread-safe (no shared state). */
#ifndef NIGHTSHIFT_READFILE_H
#define NIGHTSHIFT_READFILE_H

#include <stddef.h>
#include <time.h>

/* Failures; errno says why for the first two. */
#define READFILE_EOPEN (-1)   /* cannot be opened */
#define READFILE_EREAD (-2)   /* cannot be read (or stat'ed) */
#define READFILE_ETOOBIG (-3) /* larger than the cap */

/* readfile_all: the file at path (borrowed) into *buf (new, free(); one
 * NUL byte after the content), its length in *len and its modification
 * time in *mtime (may be NULL). At most max bytes. Returns 0 or a
 * READFILE_* code, with *buf NULL. */
int readfile_all(const char *path, size_t max, char **buf, size_t *len,
		 time_t *mtime);

#endif
