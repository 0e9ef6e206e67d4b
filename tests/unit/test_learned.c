/* test_learned.c — queue/learned: what runs learned about providers and
 * models, kept and read back; a later run replaces a provider's row and
 * keeps the others'. */
#include "queue/learned.h"
#include "qtest.h"

static void kept_and_read_back(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 0);
	struct learned_prov p[2] = {
	    {.provider = "qwen", .cwnd = 12.5, .p429 = 0.3, .floor429 = 0.28,
	     .srtt_ms = 850, .ok_per_min = 420, .shared = 2, .ok = 1000},
	    {.provider = "claude", .cwnd = 4, .srtt_ms = 3000, .ok = 7}};
	struct learned_calib c = {.provider = "qwen",
				  .model = "qwen-plus",
				  .est_in = 10000,
				  .rep_in = 13000,
				  .out_tokens = 5000,
				  .replies = 40};
	struct learned_prov *rp;
	struct learned_calib *rc;
	size_t np, nc;

	/* a new queue has learned nothing */
	assert_int_equal(learned_load(q, &rp, &np, &rc, &nc), QUEUE_OK);
	assert_int_equal(np + nc, 0);
	assert_int_equal(learned_save(q, p, 2, &c, 1, 1000), QUEUE_OK);
	/* the next run learned something else of qwen only */
	p[0].cwnd = 20;
	assert_int_equal(learned_save(q, p, 1, NULL, 0, 2000), QUEUE_OK);
	queue_close(&q);
	assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
	assert_int_equal(learned_load(q, &rp, &np, &rc, &nc), QUEUE_OK);
	assert_int_equal(np, 2);
	assert_int_equal(nc, 1);
	/* by name: claude, qwen */
	assert_string_equal(rp[0].provider, "claude");
	assert_true(rp[0].cwnd == 4 && rp[0].updated_at == 1000);
	assert_string_equal(rp[1].provider, "qwen");
	assert_true(rp[1].cwnd == 20 && rp[1].p429 == 0.3 &&
		    rp[1].floor429 == 0.28 && rp[1].srtt_ms == 850 &&
		    rp[1].ok_per_min == 420 && rp[1].shared == 2 &&
		    rp[1].ok == 1000 && rp[1].updated_at == 2000);
	assert_string_equal(rc[0].model, "qwen-plus");
	assert_true(rc[0].est_in == 10000 && rc[0].rep_in == 13000 &&
		    rc[0].out_tokens == 5000 && rc[0].replies == 40);
	learned_free(rp, np, rc, nc);
	learned_free(NULL, 0, NULL, 0);
	queue_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(kept_and_read_back, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
