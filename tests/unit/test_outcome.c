/* test_outcome.c — stable class names (they are stored in the ledger),
 * lifecycle, and the scrubbing of provider error text: control
 * characters, length, UTF-8, and anything that looks like a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/xalloc.h"
#include "runner/providers/outcome.h"

static void class_names_stable(void **state)
{
	/* Written out: changing one breaks old ledgers, so it must be a
	 * deliberate edit here too. */
	static const char *const want[OUTCOME__COUNT] = {
	    "ok",
	    "rate_limited",
	    "overloaded",
	    "server_error",
	    "timeout",
	    "connection",
	    "invalid_output",
	    "content_filter",
	    "auth",
	    "billing",
	    "bad_request",
	    "not_found",
	    "context_overflow",
	    "too_large",
	};
	int i;
	enum outcome_class c;

	(void)state;
	for (i = 0; i < OUTCOME__COUNT; i++) {
		assert_string_equal(outcome_class_name((enum outcome_class)i),
				    want[i]);
		assert_int_equal(outcome_class_from_name(want[i], &c), 0);
		assert_int_equal(c, i);
	}
	assert_string_equal(outcome_class_name(OUTCOME__COUNT), "unknown");
	assert_string_equal(outcome_class_name((enum outcome_class) - 1),
			    "unknown");
	assert_int_equal(outcome_class_from_name("Rate_Limited", &c), -1);
	assert_int_equal(outcome_class_from_name(NULL, &c), -1);
}

static void transient_classes(void **state)
{
	int i, n = 0;

	(void)state;
	for (i = 0; i < OUTCOME__COUNT; i++)
		n += outcome_is_transient((enum outcome_class)i);
	assert_int_equal(n, 5);
	assert_true(outcome_is_transient(OUTCOME_RATE_LIMITED));
	assert_true(outcome_is_transient(OUTCOME_CONNECTION));
	assert_false(outcome_is_transient(OUTCOME_INVALID_OUTPUT));
	assert_false(outcome_is_transient(OUTCOME_OK));
}

static void lifecycle(void **state)
{
	struct outcome o = OUTCOME_INIT;
	struct outcome z;

	(void)state;
	assert_int_equal(o.retry_after_ms, -1);
	assert_int_equal(o.cls, OUTCOME_OK);
	o.cls = OUTCOME_AUTH;
	o.http_status = 401;
	o.retry_after_ms = 5;
	o.usage.in = 3;
	o.request_id = xstrdup("r");
	o.error_code = xstrdup("c");
	o.error_message = xstrdup("m");
	o.body = xstrdup("{}");
	o.body_len = 2;
	outcome_clear(&o);
	outcome_init(&z);
	assert_memory_equal(&o, &z, sizeof(o));
	assert_int_equal(o.retry_after_ms, -1);
	outcome_clear(&o); /* twice is fine */
}

static void set_error_copies_and_scrubs(void **state)
{
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_set_error(&o, OUTCOME_AUTH, "invalid_api_key",
			  "Incorrect API key provided: sk-proj-abcdef\n");
	assert_int_equal(o.cls, OUTCOME_AUTH);
	assert_string_equal(o.error_code, "invalid_api_key");
	assert_string_equal(o.error_message,
			    "Incorrect API key provided: [redacted]");
	/* a second call replaces (and frees) what the first set */
	outcome_set_error(&o, OUTCOME_CONNECTION, NULL, "no HTTP response");
	assert_int_equal(o.cls, OUTCOME_CONNECTION);
	assert_null(o.error_code);
	assert_string_equal(o.error_message, "no HTTP response");
	outcome_set_error(&o, OUTCOME_SERVER_ERROR, "", NULL);
	assert_null(o.error_code); /* empty once scrubbed: none */
	assert_null(o.error_message);
	outcome_clear(&o);
}

struct msg_case {
	const char *in;
	const char *want; /* NULL: result must be NULL */
};

static void message_table(void **state)
{
	static const struct msg_case c[] = {
	    {"Rate limit reached.", "Rate limit reached."},
	    {"  tabs\tand\r\nnew\nlines  ", "tabs and new lines"},
	    {"esc\x1b[31mred\x7f!", "esc [31mred !"},
	    {"c1\xc2\x85next", "c1 next"},
	    {"bad\xff\xfeutf8", "bad??utf8"},
	    {"overlong \xc0\xaf", "overlong ??"},
	    {"caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 ok",
	     "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 ok"},
	    {"Incorrect API key provided: sk-proj-Ab12*****wxYZ. See docs.",
	     "Incorrect API key provided: [redacted]. See docs."},
	    {"key sk_live_abc here", "key [redacted] here"},
	    {"google AIzaSyA1b2C3d4E5f6G7h8 leaked",
	     "google [redacted] leaked"},
	    {"Authorization: Bearer abc.def-1 x", "Authorization: Bearer "
						  "[redacted] x"},
	    {"token 9f8e7d6c5b4a39f8e7d6c5b4a39f8e7d6c5b4a3 end",
	     "token [redacted] end"},
	    /* the same test as quote_secret's: Groq's and xAI's prefixes, a
	     * bare key of 24 letters and digits */
	    {"key gsk_AbCdEf012345 refused", "key [redacted] refused"},
	    {"key xai-AbCdEf012345 refused", "key [redacted] refused"},
	    {"key a1b2c3d4e5f6a7b8c9d0e1f2 refused", "key [redacted] refused"},
	    /* request ids and plain words survive */
	    {"request 8af536f9-6b8b-93b5-bb5f-1597a3f65db4 failed",
	     "request 8af536f9-6b8b-93b5-bb5f-1597a3f65db4 failed"},
	    {"generate_content_free_tier_requests limit",
	     "generate_content_free_tier_requests limit"},
	    {"ask-me sk", "ask-me sk"},
	    {"", NULL},
	    {" \r\n\t ", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *got = outcome_message_dup(c[i].in, strlen(c[i].in));

		if (c[i].want == NULL
			? got != NULL
			: (got == NULL || strcmp(got, c[i].want) != 0))
			fail_msg("message(\"%s\") = \"%s\", want \"%s\"",
				 c[i].in, got ? got : "(null)",
				 c[i].want ? c[i].want : "(null)");
		free(got);
	}
	assert_null(outcome_message_dup(NULL, 5));
}

/* Long text is cut to the limit on a UTF-8 boundary; a key straddling
 * the cut is still redacted, never half-kept. */
static void message_cut(void **state)
{
	char in[2000], *got;
	size_t i;

	(void)state;
	for (i = 0; i + 3 <= sizeof(in) - 1; i += 3)
		memcpy(in + i, "\xe4\xb8\xad", 3); /* U+4E2D, 3 bytes */
	in[i] = '\0';
	got = outcome_message_dup(in, strlen(in));
	assert_non_null(got);
	assert_true(strlen(got) <= OUTCOME_MESSAGE_MAX);
	assert_true(strlen(got) >= OUTCOME_MESSAGE_MAX - 3);
	assert_int_equal(strlen(got) % 3, 0);
	free(got);

	memset(in, 'a', sizeof(in));
	for (i = 9; i < sizeof(in); i += 10)
		in[i] = ' ';
	memcpy(in + 290, "sk-SECRETSECRETSECRET", 21);
	in[sizeof(in) - 1] = '\0';
	got = outcome_message_dup(in, strlen(in));
	assert_non_null(got);
	assert_true(strlen(got) <= OUTCOME_MESSAGE_MAX);
	assert_null(strstr(got, "sk-"));
	assert_null(strstr(got, "SECR"));
	free(got);

	/* Input is read by length, not to a NUL. */
	got = outcome_message_dup("abcdef", 3);
	assert_string_equal(got, "abc");
	free(got);
}

static void scrub_secret(void **state)
{
	struct outcome o = OUTCOME_INIT;

	(void)state;
	o.error_message = xstrdup("bad key ABCDEFGHIJ12 and ABCDEFGHIJ12.");
	o.error_code = xstrdup("ABCDEFGHIJ12");
	o.request_id = xstrdup("ABCDEFGHIJ12");
	outcome_scrub(&o, "ABCDEFGHIJ12");
	assert_string_equal(o.error_message,
			    "bad key [redacted] and [redacted].");
	assert_string_equal(o.error_code, "[redacted]");
	/* short or missing secrets are ignored rather than wrecking text */
	outcome_scrub(&o, "red");
	assert_string_equal(o.error_code, "[redacted]");
	outcome_scrub(&o, NULL);
	outcome_clear(&o);
	outcome_scrub(&o, "ABCDEFGHIJ12"); /* NULL fields */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(class_names_stable),
	    cmocka_unit_test(transient_classes),
	    cmocka_unit_test(lifecycle),
	    cmocka_unit_test(set_error_copies_and_scrubs),
	    cmocka_unit_test(message_table),
	    cmocka_unit_test(message_cut),
	    cmocka_unit_test(scrub_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
