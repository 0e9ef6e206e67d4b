/* test_sent.c — runner/sent: the requests sent and not recorded, and the
 * snapshot each group commit writes down (names quoted as JSON, costs in
 * nano-dollars, nothing written when nothing changed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runner/sent.h"
#include "runner/task.h"

static void set_and_snapshots(void **state)
{
	struct prov_model m[2] = {{.name = "qwen-plus"}, {.name = "a\"b"}};
	struct prov p[1] = {{.name = "qwen", .models = m, .nmodels = 2}};
	struct task t[3];
	struct sent s;
	const char *json = "x";

	(void)state;
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 3; i++)
		t[i].job.id = 10 + i;
	t[0].adm.worst_usd = 0.25;
	t[1].model = 1;
	t[1].adm.worst_usd = 1e-9;
	t[2].adm.worst_usd = 1e300; /* saturates */
	sent_init(&s, p, 1);
	/* nothing yet, nothing changed */
	assert_int_equal(sent_snapshot(&s, &json), 0);
	assert_null(json);
	sent_add(&s, &t[0]);
	sent_add(&s, &t[1]);
	assert_int_equal(sent_snapshot(&s, &json), 1);
	assert_string_equal(json, "[[11,\"qwen\",\"a\\\"b\",1],"
				  "[10,\"qwen\",\"qwen-plus\",250000000]]");
	assert_int_equal(sent_snapshot(&s, &json), 0);
	sent_add(&s, &t[2]);
	sent_remove(&s, &t[1]);
	sent_remove(&s, &t[1]); /* not in the set: nothing */
	assert_int_equal(sent_snapshot(&s, &json), 1);
	assert_string_equal(json, "[[12,\"qwen\",\"qwen-plus\","
				  "9223372036854775807],[10,\"qwen\","
				  "\"qwen-plus\",250000000]]");
	sent_remove(&s, &t[0]);
	sent_remove(&s, &t[2]);
	assert_int_equal(sent_snapshot(&s, &json), 1);
	assert_null(json); /* empty: the run's row goes */
	sent_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_and_snapshots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
