/* linereader.c — a read(2) buffer with memchr for newlines.
 *
 * The buffer grows to the line cap at most, so memory is bounded by
 * max_line whatever the file's size; a line over the cap is dropped chunk
 * by chunk while we look for its end. */
#include "runner/ingest/linereader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

#define CHUNK (256u << 10)

struct linereader {
	int fd;
	size_t max;
	char *buf;
	size_t cap, start, end;
	long lineno;
	int eof;
	int skipping; /* inside a line over the cap */
};

struct linereader *linereader_new(int fd, size_t max_line)
{
	struct linereader *r = xcalloc(1, sizeof(*r));

	r->fd = fd;
	r->max = max_line;
	r->cap = CHUNK;
	r->buf = xmalloc(r->cap);
	return r;
}

void linereader_free(struct linereader **rp)
{
	if (!*rp)
		return;
	free((*rp)->buf);
	free(*rp);
	*rp = NULL;
}

long linereader_lineno(const struct linereader *r)
{
	return r->lineno;
}

/* fill: read more after compacting; returns bytes read, 0 at EOF, -1. */
static ssize_t fill(struct linereader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		/* Room for one whole line of max bytes plus its newline. */
		size_t want = r->max + 2 > r->cap * 2 ? r->cap * 2 : r->max + 2;

		if (want <= r->cap)
			want = r->cap + CHUNK;
		r->buf = xrealloc(r->buf, want);
		r->cap = want;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		r->end += (size_t)n;
	return n;
}

static void trim(const struct linereader *r, const char *s, size_t n,
		 const char **line, size_t *len)
{
	if (r->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*line = s;
	*len = n;
}

int linereader_next(struct linereader *r, const char **line, size_t *len)
{
	for (;;) {
		char *s = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *nl = avail ? memchr(s, '\n', avail) : NULL;
		ssize_t n;

		if (nl) {
			size_t n_line = (size_t)(nl - s);

			r->start += n_line + 1;
			if (r->skipping) {
				r->skipping = 0;
				return LINEREADER_ETOOLONG;
			}
			r->lineno++;
			/* Allow a trailing \r beyond the cap. */
			if (n_line > r->max &&
			    !(n_line == r->max + 1 && s[n_line - 1] == '\r'))
				return LINEREADER_ETOOLONG;
			trim(r, s, n_line, line, len);
			return LINEREADER_LINE;
		}
		if (!r->skipping && avail > r->max + 1) {
			/* Over the cap with no end in sight: drop what we
			 * have and keep looking for the newline. */
			r->skipping = 1;
			r->lineno++;
		}
		if (r->skipping) {
			r->start = r->end = 0;
		}
		if (r->eof) {
			if (r->skipping) {
				r->skipping = 0;
				return LINEREADER_ETOOLONG;
			}
			if (avail == 0)
				return LINEREADER_EOF;
			r->lineno++;
			r->start = r->end;
			trim(r, s, avail, line, len);
			return LINEREADER_LINE;
		}
		n = fill(r);
		if (n < 0)
			return LINEREADER_EIO;
		if (n == 0)
			r->eof = 1;
	}
}
