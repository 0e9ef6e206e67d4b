/* linereader.h — stream a file as lines in constant memory.
 *
 * Lines may be of any length up to a cap; a longer line is skipped (and
 * reported) without ever being held whole. CRLF endings and a UTF-8 BOM on
 * the first line are accepted. Not thread-safe (one reader, one thread). */
#ifndef NIGHTSHIFT_LINEREADER_H
#define NIGHTSHIFT_LINEREADER_H

#include <stddef.h>

enum {
	LINEREADER_EOF = 0,
	LINEREADER_LINE = 1,
	LINEREADER_EIO = -1,     /* read error: errno is set */
	LINEREADER_ETOOLONG = -2, /* line over the cap: skipped */
};

struct linereader;

/* linereader_new: read from fd (borrowed; not closed) with lines capped at
 * max_line bytes (excluding the newline). */
struct linereader *linereader_new(int fd, size_t max_line);
void linereader_free(struct linereader **r);
/* linereader_next: the next line; *line (borrowed, not NUL-terminated)
 * stays valid until the next call. Returns a LINEREADER_* value. */
int linereader_next(struct linereader *r, const char **line, size_t *len);
/* linereader_lineno: 1-based number of the line last returned or skipped. */
long linereader_lineno(const struct linereader *r);

#endif
