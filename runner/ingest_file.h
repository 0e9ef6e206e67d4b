/* ingest_file.h — read a JSONL file of jobs into the queue, reporting each
 * bad line as FILE:LINE: reason. Used by `ingest` and by `run FILE`.
 * Not thread-safe (main thread). */
#ifndef NIGHTSHIFT_INGEST_FILE_H
#define NIGHTSHIFT_INGEST_FILE_H

#include <stddef.h>

struct queue;

struct ingest_opts {
	size_t max_line;       /* longest accepted line in bytes */
	long long max_errors;  /* bad lines reported in full; 0 = all */
	int strict;            /* queue nothing if any line is bad */
};

struct ingest_counts {
	long long lines, added, duplicate, rejected;
};

/* ingest_path: ingest path ("-" = stdin) into q; prints errors and a
 * summary; returns an exit code: EXIT_OK, EXIT_PARTIAL (lines rejected),
 * EXIT_RUNTIME (I/O or database failure), EXIT_USAGE (cannot open). */
int ingest_path(struct queue *q, const char *path,
		const struct ingest_opts *o, struct ingest_counts *counts);

#endif
