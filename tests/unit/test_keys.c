/* test_keys.c — API keys from the environment: unset and blank are
 * "unset", spaces around a key are not sent, a control character (a CR
 * LF that would start another header line) is flagged, and a keyless
 * provider gets "" rather than NULL; once the keys are loaded the process
 * writes no core dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cmocka.h>

#include "runner/keys.h"

#define VAR "NIGHTSHIFT_TEST_KEY"

static void blank_or_unset_is_unset(void **state)
{
	struct prov p = {.name = "a", .api_key_env = VAR};
	int bad = -1;

	(void)state;
	unsetenv(VAR);
	assert_int_equal(key_state(&p), 0);
	assert_null(key_get(&p, &bad));
	assert_int_equal(bad, 0);
	setenv(VAR, "", 1);
	assert_int_equal(key_state(&p), 0);
	setenv(VAR, " \t ", 1);
	assert_int_equal(key_state(&p), 0);
	assert_null(key_get(&p, NULL));
	unsetenv(VAR);
}

static void spaces_around_the_key_are_not_sent(void **state)
{
	struct prov p = {.name = "a", .api_key_env = VAR};
	char *k;
	int bad = -1;

	(void)state;
	setenv(VAR, "sk-test-123", 1);
	assert_int_equal(key_state(&p), 1);
	setenv(VAR, "  sk-test-123\t", 1);
	k = key_get(&p, &bad);
	assert_string_equal(k, "sk-test-123");
	assert_int_equal(bad, 0);
	free(k);
	/* spaces inside are the key's own */
	setenv(VAR, "sk test", 1);
	k = key_get(&p, &bad);
	assert_string_equal(k, "sk test");
	free(k);
	unsetenv(VAR);
}

static void control_character_is_flagged(void **state)
{
	struct prov p = {.name = "a", .api_key_env = VAR};
	char *k;
	int bad = 0;

	(void)state;
	setenv(VAR, "sk-test\r\nX-Injected: 1", 1);
	assert_int_equal(key_state(&p), -1);
	k = key_get(&p, &bad);
	assert_non_null(k);
	assert_int_equal(bad, 1);
	free(k);
	setenv(VAR, "sk-\x7f", 1);
	assert_int_equal(key_state(&p), -1);
	unsetenv(VAR);
}

static void keyless_provider_gets_empty_key(void **state)
{
	struct prov p = {.name = "local", .api_key_env = NULL};
	char *k;

	(void)state;
	assert_int_equal(key_state(&p), 1);
	k = key_get(&p, NULL);
	assert_string_equal(k, "");
	free(k);
}

/* Issue 17: a core dump of a run held the key 57 times. */
static void loading_keys_turns_core_dumps_off(void **state)
{
	struct prov p = {.name = "a", .api_key_env = VAR};
	struct rlimit rl;
	char **keys;
	int bad;

	(void)state;
	setenv(VAR, "sk-test-0123456789", 1);
	keys = key_get_all(&p, 1, &bad);
	assert_string_equal(keys[0], "sk-test-0123456789");
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_true(rl.rlim_cur == 0);
	assert_true(rl.rlim_max == 0);
#ifdef __linux__
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
#endif
	key_free_all(keys, 1);
	unsetenv(VAR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(blank_or_unset_is_unset),
	    cmocka_unit_test(spaces_around_the_key_are_not_sent),
	    cmocka_unit_test(control_character_is_flagged),
	    cmocka_unit_test(keyless_provider_gets_empty_key),
	    cmocka_unit_test(loading_keys_turns_core_dumps_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
