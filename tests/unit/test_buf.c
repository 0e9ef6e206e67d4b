/* test_buf.c — the capped growable buffer: growth, the cap, NUL
 * termination, reset and take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"

static void grows_and_terminates(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[1000];

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_add(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 100000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.p[b.len], '\0');
	assert_int_equal(buf_addstr(&b, "end"), 0);
	assert_memory_equal(b.p + 100000, "end", 4);
	buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void cap_refuses_and_keeps(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_add(&b, "0123456789", 10), 0);
	/* full: one more byte is refused and nothing changes */
	assert_int_equal(buf_add(&b, "a", 1), BUF_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.p, "0123456789");
	assert_true(b.cap <= 11); /* never allocates past cap + NUL */
	assert_int_equal(buf_add(&b, "", 0), 0);
	buf_reset(&b, 1024);
	assert_int_equal(b.len, 0);
	assert_non_null(b.p); /* kept for reuse: small */
	assert_string_equal(b.p, "");
	assert_int_equal(buf_add(&b, "01234567890", 11), BUF_ETOOBIG);
	buf_free(&b);
}

static void reset_gives_back_big(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char big[5000] = {0};

	(void)state;
	assert_int_equal(buf_add(&b, big, sizeof(big)), 0);
	buf_reset(&b, 4096);
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_add(&b, "ok", 2), 0);
	assert_string_equal(b.p, "ok");
	buf_free(&b);
}

static void take_detaches(void **state)
{
	struct buf b = BUF_INIT(100);
	char *s;

	(void)state;
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);
	buf_addstr(&b, "hello");
	s = buf_take(&b);
	assert_string_equal(s, "hello");
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(s);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grows_and_terminates),
		cmocka_unit_test(cap_refuses_and_keeps),
		cmocka_unit_test(reset_gives_back_big),
		cmocka_unit_test(take_detaches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
