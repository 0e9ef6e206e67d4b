/* replay.c — a main for a fuzz target without libFuzzer: feeds each input
 * file to LLVMFuzzerTestOneInput once, so that `make check` (any
 * compiler, sanitized or not) replays the seed corpus and every input that
 * once found a bug.
 *   usage: replay_NAME [FILE|DIR]...
 * With no argument it replays FUZZ_DIR/corpus/NAME and FUZZ_DIR/regress/NAME
 * (both compiled in). Prints "ok - NAME: FILE" per input and a cmocka-style
 * "[  PASSED  ] N test(s)." line, which tests/run.sh counts; a target's
 * failed check or a sanitizer report aborts the run, naming the input
 * just before. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME=\"name\" -DFUZZ_DIR=\"path/to/tests/fuzz\""
#endif

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* replay_file: one input. 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "ERROR: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			data = realloc(data, cap);
			if (data == NULL)
				abort();
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "ERROR: %s: read error\n", path);
		goto out;
	}
	/* the bytes in a buffer of their exact size, as libFuzzer gives
	 * them: a read past the end is then one a sanitizer sees */
	{
		uint8_t *exact = malloc(n ? n : 1);

		if (exact == NULL)
			abort();
		if (n)
			memcpy(exact, data, n);
		printf("# %s\n", path);
		fflush(stdout);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	printf("ok - %s: %s\n", FUZZ_NAME, path);
	rc = 0;
out:
	free(data);
	fclose(f);
	return rc;
}

/* replay_path: a file, or every regular file of a directory (sorted, so
 * runs are alike). Adds to *passed; returns how many failed to read. A
 * directory that does not exist holds nothing (a target may have no
 * regressions yet). */
static int replay_path(const char *path, int *passed)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : 1;
	if (!S_ISDIR(st.st_mode)) {
		if (replay_file(path) != 0)
			return 1;
		(*passed)++;
		return 0;
	}
	if ((d = opendir(path)) == NULL)
		return 1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (names[n] == NULL)
			abort();
		sprintf(names[n], "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(names[i]) != 0)
				bad++;
			else
				(*passed)++;
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	int passed = 0, bad = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bad += replay_path(argv[i], &passed);
	} else {
		bad += replay_path(FUZZ_DIR "/corpus/" FUZZ_NAME, &passed);
		bad += replay_path(FUZZ_DIR "/regress/" FUZZ_NAME, &passed);
		/* an empty seed corpus would make this a test that cannot
		 * fail */
		if (passed == 0) {
			fprintf(stderr, "ERROR: no inputs for %s\n",
				FUZZ_NAME);
			bad++;
		}
	}
	if (bad) {
		printf("[  FAILED  ] %d test(s)\n", bad);
		return 1;
	}
	printf("[  PASSED  ] %d test(s).\n", passed);
	return 0;
}
