/* buf.c — the capped growable buffer (see buf.h). */
#include "util/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Least allocation: small texts (a header line, an error message) fit
 * in the first one. */
#define MIN_ALLOC 64

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	size_t need;

	if (n > b->max - b->len) /* len never passes max */
		return BUF_ETOOBIG;
	need = b->len + n + 1;
	if (need > b->cap) {
		size_t cap = b->cap < MIN_ALLOC ? MIN_ALLOC : b->cap;

		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (b->max < SIZE_MAX && cap > b->max + 1)
			cap = b->max + 1;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

void buf_reset(struct buf *b, size_t keep)
{
	b->len = 0;
	if (b->cap > keep) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	} else if (b->p) {
		b->p[0] = '\0';
	}
}

char *buf_take(struct buf *b)
{
	char *s = b->p ? b->p : xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
