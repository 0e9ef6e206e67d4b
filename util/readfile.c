/* readfile.c — a capped whole-file read (see readfile.h). */
#include "util/readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/xalloc.h"

int readfile_all(const char *path, size_t max, char **buf, size_t *len,
		 time_t *mtime)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *b = NULL;
	size_t n = 0, cap = max < 4096 ? max : 4096, got;
	int rc = 0, e;

	*buf = NULL;
	*len = 0;
	if (!f)
		return READFILE_EOPEN;
	if (fstat(fileno(f), &st) != 0) {
		rc = READFILE_EREAD;
		goto out;
	}
	if (mtime)
		*mtime = st.st_mtime;
	b = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				rc = READFILE_ETOOBIG;
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			b = xrealloc(b, cap + 1);
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = READFILE_EREAD;
		goto out;
	}
	/* n == max and more to come is caught by the next read's n == cap */
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	e = errno;
	free(b);
	fclose(f);
	errno = e;
	return rc;
}
