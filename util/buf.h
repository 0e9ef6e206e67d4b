/* buf.h — a growable byte buffer with a hard cap, after curl's dynbuf.
 *
 * Every buffer that grows from outside data (a reply, a header block, a
 * line of input) has a most it may hold, so a hostile or broken peer
 * cannot make the process grow without bound: an add past the cap fails
 * and leaves the buffer as it was. The content is always NUL-terminated
 * (one byte beyond len), so text can be read in place; binary data may be
 * added too. Memory grows by doubling.
 * Not thread-safe: a buffer belongs to one thread at a time. */
#ifndef NIGHTSHIFT_BUF_H
#define NIGHTSHIFT_BUF_H

#include <stddef.h>

#define BUF_ETOOBIG (-1) /* the add would pass the buffer's cap */

struct buf {
	char *p;    /* NULL until the first add */
	size_t len; /* bytes held, not counting the NUL after them */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes it may hold */
};

/* A buffer that may hold up to max bytes, as an initializer. */
#define BUF_INIT(max)                                                          \
	{                                                                      \
		NULL, 0, 0, (max)                                              \
	}

/* buf_init: an empty buffer that may hold up to max bytes. */
void buf_init(struct buf *b, size_t max);
/* buf_add: append n bytes from p (borrowed). Returns 0, or BUF_ETOOBIG
 * when len + n would pass the cap (nothing is added then). */
int buf_add(struct buf *b, const void *p, size_t n);
/* buf_addstr: buf_add of a NUL-terminated string, without its NUL. */
int buf_addstr(struct buf *b, const char *s);
/* buf_reset: empty the buffer; its memory is kept for reuse unless it
 * holds more than keep bytes, which are given back. */
void buf_reset(struct buf *b, size_t keep);
/* buf_take: the content as a new NUL-terminated string (free()); the
 * buffer is left empty. Never NULL: an empty buffer gives "". */
char *buf_take(struct buf *b);
/* buf_free: release the memory; the buffer is empty and may be reused. */
void buf_free(struct buf *b);

#endif
