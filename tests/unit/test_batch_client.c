/* test_batch_client.c — the batch client sends its key only to the
 * provider's own origin: a results_url elsewhere (another host, a host
 * that only begins like it, another scheme or port) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/providers/batch_client.h"

static void only_the_providers_origin(void **state)
{
	struct prov p = {.name = "a",
			 .dialect = PROV_ANTHROPIC,
			 .base_url = "https://api.anthropic.com",
			 .batch = {.on = 1, .api = PROV_BATCH_ANTHROPIC}};
	struct bclient *c = bclient_new(&p, "sk-test-0123456789");

	(void)state;
	assert_true(bclient_same_origin(
		c, "https://api.anthropic.com/v1/messages/batches/m/results"));
	assert_false(bclient_same_origin(
		c, "https://api.anthropic.com.evil.example/v1/x"));
	assert_false(bclient_same_origin(c, "http://api.anthropic.com/v1/x"));
	assert_false(bclient_same_origin(c, "https://api.anthropic.com:8443/x"));
	assert_false(bclient_same_origin(c, "https://files.example/x"));
	assert_false(bclient_same_origin(c, "msgbatch_01"));
	bclient_free(&c);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_the_providers_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
