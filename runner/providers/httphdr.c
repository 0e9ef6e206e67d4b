/* httphdr.c — field lookup in the raw header block libcurl collects.
 *
 * The worker appends every header line curl reports to one buffer, so a
 * response that went through "100 Continue" or a redirect holds several
 * blocks, each opening with a status line. Only the last one describes the
 * response whose body we have, so every lookup starts there. Lines may end
 * in CRLF or a bare LF; obsolete line folding is not supported (HTTP/1.1
 * deprecated it and HTTP/2 cannot carry it). */
#include "runner/providers/httphdr.h"

#include <string.h>

#include "util/xalloc.h"

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Returns the end of the line starting at p (the '\n' or end), and sets
 * *len to the line's length without its CR/LF. */
static const char *line_end(const char *p, const char *end, size_t *len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;
	size_t n = (size_t)(e - p);

	if (n > 0 && p[n - 1] == '\r')
		n--;
	*len = n;
	return e;
}

static int is_status_line(const char *p, size_t n)
{
	return n >= 5 && memcmp(p, "HTTP/", 5) == 0;
}

const char *httphdr_last_block(const char *h, size_t hlen, size_t *blen)
{
	const char *p = h, *end, *start = h;

	*blen = 0;
	if (h == NULL)
		return NULL;
	end = h + hlen; /* not before: NULL + 0 is undefined */
	while (p < end) {
		size_t n;
		const char *e = line_end(p, end, &n);

		if (is_status_line(p, n))
			start = p;
		p = e < end ? e + 1 : end;
	}
	*blen = (size_t)(end - start);
	return start;
}

const char *httphdr_get(const char *h, size_t hlen, const char *name,
			size_t *vlen)
{
	size_t blen, nlen = strlen(name);
	const char *p = httphdr_last_block(h, hlen, &blen), *end;

	*vlen = 0;
	if (p == NULL)
		return NULL;
	end = p + blen;
	while (p < end) {
		size_t n, i;
		const char *e = line_end(p, end, &n);

		if (n > nlen && p[nlen] == ':') {
			for (i = 0; i < nlen; i++)
				if (lower((unsigned char)p[i]) !=
				    lower((unsigned char)name[i]))
					break;
			if (i == nlen) {
				const char *v = p + nlen + 1, *ve = p + n;

				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				while (ve > v &&
				       (ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				*vlen = (size_t)(ve - v);
				return v;
			}
		}
		p = e < end ? e + 1 : end;
	}
	return NULL;
}

char *httphdr_dup(const char *h, size_t hlen, const char *name, size_t max)
{
	size_t n;
	const char *v = httphdr_get(h, hlen, name, &n);

	if (v == NULL || n == 0)
		return NULL;
	return xstrndup(v, n < max ? n : max);
}

int httphdr_status(const char *h, size_t hlen)
{
	size_t blen, n, i;
	const char *p = httphdr_last_block(h, hlen, &blen);
	int code = 0, digits = 0;

	if (p == NULL)
		return 0;
	line_end(p, p + blen, &n);
	if (!is_status_line(p, n))
		return 0;
	for (i = 5; i < n && p[i] != ' '; i++)
		;
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '9' && digits < 3; i++) {
		code = code * 10 + (p[i] - '0');
		digits++;
	}
	return digits == 3 ? code : 0;
}
