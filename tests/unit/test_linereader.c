/* test_linereader.c — line splitting, CRLF, BOM and the length cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/ingest/linereader.h"

/* reader_on: a reader over a temp file holding data (unlinked at once). */
static struct linereader *reader_on(const void *data, size_t n, size_t max,
				    int *fd)
{
	char path[] = "/tmp/nightshift-lr-XXXXXX";

	*fd = mkstemp(path);
	assert_true(*fd >= 0);
	unlink(path);
	assert_int_equal(write(*fd, data, n), (ssize_t)n);
	assert_int_equal(lseek(*fd, 0, SEEK_SET), 0);
	return linereader_new(*fd, max);
}

static void expect_line(struct linereader *r, const char *want, long no)
{
	const char *line;
	size_t len;

	assert_int_equal(linereader_next(r, &line, &len), LINEREADER_LINE);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
	assert_int_equal(linereader_lineno(r), no);
}

static void expect_code(struct linereader *r, int code, long no)
{
	const char *line;
	size_t len;

	assert_int_equal(linereader_next(r, &line, &len), code);
	if (code != LINEREADER_EOF)
		assert_int_equal(linereader_lineno(r), no);
}

static void splits_lf_and_crlf_lines(void **state)
{
	static const char d[] = "one\r\ntwo\nthree\r\n";
	int fd;
	struct linereader *r = reader_on(d, sizeof(d) - 1, 100, &fd);

	(void)state;
	expect_line(r, "one", 1);
	expect_line(r, "two", 2);
	expect_line(r, "three", 3);
	expect_code(r, LINEREADER_EOF, 0);
	linereader_free(&r);
	close(fd);
}

static void strips_bom_on_first_line_only(void **state)
{
	static const char d[] = "\xEF\xBB\xBF{}\n\xEF\xBB\xBFx\n";
	int fd;
	struct linereader *r = reader_on(d, sizeof(d) - 1, 100, &fd);

	(void)state;
	expect_line(r, "{}", 1);
	expect_line(r, "\xEF\xBB\xBFx", 2);
	linereader_free(&r);
	close(fd);
}

static void last_line_without_newline(void **state)
{
	static const char d[] = "a\nlast";
	int fd;
	struct linereader *r = reader_on(d, sizeof(d) - 1, 100, &fd);

	(void)state;
	expect_line(r, "a", 1);
	expect_line(r, "last", 2);
	expect_code(r, LINEREADER_EOF, 0);
	linereader_free(&r);
	close(fd);
}

static void empty_lines_are_lines(void **state)
{
	static const char d[] = "\n\r\nx\n";
	int fd;
	struct linereader *r = reader_on(d, sizeof(d) - 1, 100, &fd);

	(void)state;
	expect_line(r, "", 1);
	expect_line(r, "", 2);
	expect_line(r, "x", 3);
	linereader_free(&r);
	close(fd);
}

static void line_at_cap_is_kept_and_over_cap_skipped(void **state)
{
	static const char d[] = "12345\n123456\n12345\r\nok";
	int fd;
	struct linereader *r = reader_on(d, sizeof(d) - 1, 5, &fd);

	(void)state;
	expect_line(r, "12345", 1);
	expect_code(r, LINEREADER_ETOOLONG, 2);
	expect_line(r, "12345", 3);
	expect_line(r, "ok", 4);
	linereader_free(&r);
	close(fd);
}

/* A line far bigger than the read chunk and the cap is skipped without the
 * reader ever growing to hold it, and numbering carries on. */
static void huge_line_is_skipped_in_constant_memory(void **state)
{
	size_t big = 3u << 20;
	char *d = malloc(big + 32);
	int fd;
	struct linereader *r;

	(void)state;
	memcpy(d, "first\n", 6);
	memset(d + 6, 'x', big);
	memcpy(d + 6 + big, "\nafter\n", 7);
	r = reader_on(d, big + 13, 1024, &fd);
	expect_line(r, "first", 1);
	expect_code(r, LINEREADER_ETOOLONG, 2);
	expect_line(r, "after", 3);
	expect_code(r, LINEREADER_EOF, 0);
	linereader_free(&r);
	close(fd);
	free(d);
}

static void huge_last_line_without_newline_is_skipped(void **state)
{
	size_t big = 1u << 20;
	char *d = malloc(big + 8);
	int fd;
	struct linereader *r;

	(void)state;
	memcpy(d, "a\n", 2);
	memset(d + 2, 'y', big);
	r = reader_on(d, big + 2, 100, &fd);
	expect_line(r, "a", 1);
	expect_code(r, LINEREADER_ETOOLONG, 2);
	expect_code(r, LINEREADER_EOF, 0);
	linereader_free(&r);
	close(fd);
	free(d);
}

/* Lines longer than the read chunk but under the cap arrive whole. */
static void long_line_under_cap_arrives_whole(void **state)
{
	size_t big = 700u << 10;
	char *d = malloc(big + 8);
	const char *line;
	size_t len;
	int fd;
	struct linereader *r;

	(void)state;
	memset(d, 'z', big);
	memcpy(d + big, "\nb\n", 3);
	r = reader_on(d, big + 3, 1u << 20, &fd);
	assert_int_equal(linereader_next(r, &line, &len), LINEREADER_LINE);
	assert_int_equal(len, big);
	assert_true(line[0] == 'z' && line[big - 1] == 'z');
	expect_line(r, "b", 2);
	linereader_free(&r);
	close(fd);
	free(d);
}

static void reads_from_a_pipe(void **state)
{
	int p[2];
	struct linereader *r;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x\ny", 3), 3);
	close(p[1]);
	r = linereader_new(p[0], 100);
	expect_line(r, "x", 1);
	expect_line(r, "y", 2);
	expect_code(r, LINEREADER_EOF, 0);
	linereader_free(&r);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(splits_lf_and_crlf_lines),
		cmocka_unit_test(strips_bom_on_first_line_only),
		cmocka_unit_test(last_line_without_newline),
		cmocka_unit_test(empty_lines_are_lines),
		cmocka_unit_test(line_at_cap_is_kept_and_over_cap_skipped),
		cmocka_unit_test(huge_line_is_skipped_in_constant_memory),
		cmocka_unit_test(huge_last_line_without_newline_is_skipped),
		cmocka_unit_test(long_line_under_cap_arrives_whole),
		cmocka_unit_test(reads_from_a_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
