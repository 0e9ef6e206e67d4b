/* test_utf8.c — UTF-8 sequences: valid, overlong, surrogates, past
 * U+10FFFF, cut short; validation of long mostly-ASCII text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

static void sequences(void **state)
{
	static const struct {
		const char *s;
		size_t want;
	} c[] = {
		{"a", 1},
		{"\x7f", 1},
		{"\xc3\xa9", 2},	 /* é */
		{"\xe6\x97\xa5", 3},	 /* 日 */
		{"\xf0\x9f\x98\x80", 4}, /* 😀 */
		{"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
		{"\xc0\xaf", 0},	 /* overlong '/' */
		{"\xc1\xbf", 0},
		{"\xe0\x80\xaf", 0}, /* overlong */
		{"\xf0\x80\x80\xaf", 0},
		{"\xed\xa0\x80", 0},	 /* surrogate D800 */
		{"\xf4\x90\x80\x80", 0}, /* U+110000 */
		{"\xf5\x80\x80\x80", 0},
		{"\x80", 0}, /* continuation alone */
		{"\xff", 0},
		{"\xe6\x97", 0}, /* cut short */
		{"\xc3(", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t got = utf8_seq((const unsigned char *)c[i].s,
				      strlen(c[i].s));

		if (got != c[i].want)
			fail_msg("case %zu: %zu, want %zu", i, got, c[i].want);
	}
}

static void validation(void **state)
{
	char text[300];
	size_t bad = 0;

	(void)state;
	memset(text, 'a', sizeof(text));
	assert_true(utf8_valid(text, sizeof(text), &bad));
	memcpy(text + 100, "\xe6\x97\xa5", 3);
	assert_true(utf8_valid(text, sizeof(text), &bad));
	text[250] = (char)0xff; /* past the fast ASCII stride */
	assert_false(utf8_valid(text, sizeof(text), &bad));
	assert_int_equal(bad, 250);
	text[250] = 'a';
	/* a sequence cut by the end of the text */
	memcpy(text + sizeof(text) - 2, "\xe6\x97", 2);
	assert_false(utf8_valid(text, sizeof(text), NULL));
	assert_true(utf8_valid("", 0, &bad));
}

static void code_point_lengths(void **state)
{
	(void)state;
	assert_int_equal(utf8_cp_len(0x41), 1);
	assert_int_equal(utf8_cp_len(0x7ff), 2);
	assert_int_equal(utf8_cp_len(0x800), 3);
	assert_int_equal(utf8_cp_len(0xffff), 3);
	assert_int_equal(utf8_cp_len(0x10000), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sequences),
		cmocka_unit_test(validation),
		cmocka_unit_test(code_point_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
