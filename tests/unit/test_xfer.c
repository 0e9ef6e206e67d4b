/* test_xfer.c — a worker's pooled transfers: the reply buffers' caps (a
 * reply past 64 MiB fails its transfer rather than grow memory), big
 * buffers given back when a transfer returns to the pool, the pool's
 * reuse, and what a transfer that failed below HTTP comes to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "runner/xfer.h"

static void buffers_are_capped_and_given_back(void **state)
{
	struct xfer_pool pool;
	struct xfer *x, *again;
	char *big = calloc(1, (2u << 20) + 1);

	(void)state;
	assert_non_null(big);
	xfer_pool_init(&pool);
	x = xfer_get(&pool);
	assert_int_equal(x->body.max, 64u << 20);
	assert_int_equal(x->head.max, 64u << 10);
	assert_int_equal(x->sends, 0);
	/* the body takes up to its cap and not a byte more */
	for (int i = 0; i < 32; i++)
		assert_int_equal(buf_add(&x->body, big, 2u << 20), 0);
	assert_int_equal(buf_add(&x->body, "x", 1), BUF_ETOOBIG);
	assert_int_equal(buf_add(&x->head, big, (64u << 10) + 1),
			 BUF_ETOOBIG);
	x->sends = 3;
	x->req = strdup("{}");
	xfer_put(&pool, x);
	/* back in the pool: request freed, the 64 MiB given back */
	assert_null(x->req);
	assert_null(x->body.p);
	assert_int_equal(x->body.len, 0);
	again = xfer_get(&pool);
	assert_ptr_equal(again, x);
	assert_int_equal(again->sends, 0);
	/* a small reply's buffer is kept for the next transfer */
	assert_int_equal(buf_add(&again->body, big, 1000), 0);
	xfer_put(&pool, again);
	assert_non_null(again->body.p);
	assert_int_equal(again->body.len, 0);
	xfer_pool_free(&pool);
	free(big);
}

static void failures_below_http(void **state)
{
	struct xfer_pool pool;
	struct xfer *x;
	struct outcome o = OUTCOME_INIT;

	(void)state;
	xfer_pool_init(&pool);
	x = xfer_get(&pool);
	x->errbuf[0] = '\0';
	xfer_failed(x, CURLE_WRITE_ERROR, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	assert_string_equal(o.error_code, "transport");
	assert_string_equal(o.error_message,
			    "response larger than the 64 MiB cap");
	strcpy(x->errbuf, "Operation timed out after 120000 milliseconds");
	xfer_failed(x, CURLE_OPERATION_TIMEDOUT, &o);
	assert_int_equal(o.cls, OUTCOME_TIMEOUT);
	assert_string_equal(o.error_code, "timeout");
	assert_string_equal(o.error_message, x->errbuf);
	x->errbuf[0] = '\0';
	xfer_failed(x, CURLE_COULDNT_CONNECT, &o);
	assert_int_equal(o.cls, OUTCOME_CONNECTION);
	assert_string_equal(o.error_message,
			    curl_easy_strerror(CURLE_COULDNT_CONNECT));
	xfer_failed(x, CURLE_RECV_ERROR, &o);
	assert_int_equal(o.cls, OUTCOME_CONNECTION);
	outcome_clear(&o);
	xfer_put(&pool, x);
	xfer_pool_free(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buffers_are_capped_and_given_back),
		cmocka_unit_test(failures_below_http),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
