/* test_readfile.c — the capped whole-file read: content and NUL, the
 * cap, a missing file, a directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/readfile.h"

static char dir[] = "/tmp/ns_readfile_XXXXXX";

static void write_file(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
}

static void reads_whole(void **state)
{
	char path[128], *buf;
	size_t len;
	time_t mt = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, 10000);
	assert_int_equal(readfile_all(path, 1 << 20, &buf, &len, &mt), 0);
	assert_int_equal(len, 10000);
	assert_int_equal(buf[0], 'a');
	assert_int_equal(buf[9999], 'a' + 9999 % 26);
	assert_int_equal(buf[len], '\0');
	assert_true(mt > 0);
	free(buf);
	write_file(path, 0);
	assert_int_equal(readfile_all(path, 100, &buf, &len, NULL), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	unlink(path);
}

static void refuses(void **state)
{
	char path[128], *buf = (char *)1;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/big", dir);
	write_file(path, 70000);
	assert_int_equal(readfile_all(path, 65536, &buf, &len, NULL),
			 READFILE_ETOOBIG);
	assert_null(buf);
	unlink(path);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(readfile_all(path, 65536, &buf, &len, NULL),
			 READFILE_EOPEN);
	assert_int_equal(errno, ENOENT);
	/* a directory opens but cannot be read */
	assert_int_equal(readfile_all(dir, 65536, &buf, &len, NULL),
			 READFILE_EREAD);
	assert_int_equal(errno, EISDIR);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_whole),
		cmocka_unit_test(refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
