/* test_quote.c — values as error messages show them: JSON-quoted with
 * control characters escaped and bad UTF-8 replaced, cut after
 * QUOTE_SHOWN bytes (never inside a UTF-8 sequence) with the length said,
 * a small buffer never overrun, and strings that look like API keys never
 * shown (and model names, URLs and prose that do not, shown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/quote.h"

#define HIDDEN "a string that looks like an API key (not shown)"

static void quoting(void **state)
{
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		const char *want;
	} rows[] = {
	    {"grpc", 0, "\"grpc\""},
	    {"", 0, "\"\""},
	    {"a\"b\\c", 0, "\"a\\\"b\\\\c\""},
	    {"line\nbreak\r\ttab", 0, "\"line\\nbreak\\r\\ttab\""},
	    /* an escape sequence must not reach the terminal */
	    {"\x1b[2Jx\x7f", 0, "\"\\u001b[2Jx\\u007f\""},
	    {"a\0b", 3, "\"a\\u0000b\""},
	    /* C1 controls too (U+009B is a CSI), but not U+00A0 and up; a
	     * stray continuation byte is not a character */
	    {"\xc2\x9b" "2Jx\xc2\x85", 0, "\"\\u009b2Jx\\u0085\""},
	    /* U+2028, U+2029 split lines in many viewers (issue 17) */
	    {"a\xe2\x80\xa8" "b\xe2\x80\xa9", 0, "\"a\\u2028b\\u2029\""},
	    {"\xe2\x80\xa7", 0, "\"\xe2\x80\xa7\""},
	    {"\xc2\xa0\xc3\xa9", 0, "\"\xc2\xa0\xc3\xa9\""},
	    {"a\x85" "b", 0, "\"a\\ufffdb\""},
	    {"caf\xc3\xa9", 0, "\"caf\xc3\xa9\""},
	    {"bad\xff\xc3", 0, "\"bad\\ufffd\\ufffd\""},
	    /* cut after 40 bytes, the whole length said */
	    {"the quick brown fox jumps over the lazy dog", 0,
	     "\"the quick brown fox jumps over the lazy \"... (43 bytes)"},
	    /* a sequence that starts before the cut is kept whole */
	    {"012345678901234567890123456789012345678\xe6\x97\xa5zz", 0,
	     "\"012345678901234567890123456789012345678\xe6\x97\xa5\"... "
	     "(44 bytes)"},
	};
	char buf[QUOTE_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].s);

		quote_str(buf, sizeof(buf), rows[i].s, len);
		if (strcmp(buf, rows[i].want) != 0)
			fail_msg("row %zu: [%s], want [%s]", i, buf,
				 rows[i].want);
	}
}

/* The worst case fits QUOTE_LEN; a smaller buffer is cut, not overrun. */
static void worst_case_and_small_buffers(void **state)
{
	char s[100], buf[QUOTE_LEN], small[10];

	(void)state;
	memset(s, 0x01, sizeof(s));
	quote_str(buf, sizeof(buf), s, sizeof(s));
	assert_int_equal(strlen(buf),
			 1 + QUOTE_SHOWN * 6 + 1 + strlen("... (100 bytes)"));
	assert_ptr_equal(quote_str(small, sizeof(small), s, sizeof(s)), small);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(quote_str(small, 1, "abc", 3), "");
}

static void secrets_are_not_shown(void **state)
{
	static const char *const keys[] = {
	    "sk-secret-999",
	    "sk-proj-abcDEF0123456789",
	    "sk-ant-api03-xyz",
	    "sk_live_abc",
	    "AIzaSyA1b2c3d4e5",
	    "xai-abc123",
	    "gsk_abc123",
	    "hf_abcdef",
	    "Bearer abc",
	    "my key is sk-abc",
	    "https://x.example/v1?key=sk-abc",
	    /* bare keys: long runs of letters and digits */
	    "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9",
	    "0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	static const char *const plain[] = {
	    "grpc",
	    "anthropic",
	    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
	    "Meta-Llama-3.1-70B-Instruct-Turbo",
	    "https://api.example.com/v1",
	    "task-runner",
	    "desk-top",
	    "2026-11-01",
	    "abcdefghijklmnopqrstuvwxyzabcdef", /* letters only */
	    "012345678901234567890123456789",	/* digits only */
	    "DASHSCOPE_API_KEY",
	};
	char buf[QUOTE_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!quote_secret(keys[i], strlen(keys[i])))
			fail_msg("shown: %s", keys[i]);
		assert_string_equal(
		    quote_str(buf, sizeof(buf), keys[i], strlen(keys[i])),
		    HIDDEN);
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (quote_secret(plain[i], strlen(plain[i])))
			fail_msg("hidden: %s", plain[i]);
		assert_int_equal(
		    quote_str(buf, sizeof(buf), plain[i], strlen(plain[i]))[0],
		    '"');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(quoting),
	    cmocka_unit_test(worst_case_and_small_buffers),
	    cmocka_unit_test(secrets_are_not_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
