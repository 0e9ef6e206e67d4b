/* test_reqid.c — the provider's request id: which header wins, when the
 * body decides, and what of the id is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "runner/providers/reqid.h"

static const char *const names[] = {"x-request-id", "request-id"};

static void dup_keeps_printable_ascii(void **state)
{
	char long_id[REQID_MAX + 40];
	char *d;

	(void)state;
	d = reqid_dup("req_1 \t\x01\x7f\xc3\xa9"
		      "x",
		      12);
	assert_string_equal(d, "req_1x");
	free(d);
	d = reqid_dup("abcdef", 3); /* by length: no NUL needed */
	assert_string_equal(d, "abc");
	free(d);
	assert_null(reqid_dup(" \t\r\n", 4));
	assert_null(reqid_dup("", 0));
	assert_null(reqid_dup(NULL, 5));
	memset(long_id, 'a', sizeof(long_id));
	d = reqid_dup(long_id, sizeof(long_id));
	assert_int_equal(strlen(d), REQID_MAX);
	free(d);
}

static void headers_in_order_of_preference(void **state)
{
	const char both[] = "HTTP/2 200\r\nrequest-id: second\r\n"
			    "x-request-id: first\r\n\r\n";
	const char one[] = "HTTP/2 200\r\nRequest-Id: second\r\n\r\n";
	const char blank[] = "HTTP/2 200\r\nx-request-id: \x01\x02\r\n\r\n";
	char *id;

	(void)state;
	assert_int_equal(reqid_header(both, strlen(both), names, 2, &id), 1);
	assert_string_equal(id, "first");
	free(id);
	assert_int_equal(reqid_header(one, strlen(one), names, 2, &id), 1);
	assert_string_equal(id, "second");
	free(id);
	/* a header with nothing printable still decides: no id */
	assert_int_equal(reqid_header(blank, strlen(blank), names, 2, &id), 1);
	assert_null(id);
	assert_int_equal(reqid_header(NULL, 0, names, 2, &id), 0);
	assert_null(id);
}

static void body_decides_without_a_header(void **state)
{
	const char h[] = "HTTP/2 200\r\nx-request-id: hdr\r\n\r\n";
	const char blank[] = "HTTP/2 200\r\nx-request-id: \x01\r\n\r\n";
	cJSON *both = cJSON_Parse("{\"request_id\":\"rid\",\"id\":\"cmpl\"}");
	cJSON *id_only = cJSON_Parse("{\"request_id\":7,\"id\":\"cmpl\"}");
	cJSON *arr = cJSON_Parse("[{\"request_id\":\"rid\"}]");
	char *id;

	(void)state;
	id = reqid_get(NULL, 0, names, 2, both);
	assert_string_equal(id, "rid");
	free(id);
	id = reqid_get(NULL, 0, names, 2, id_only);
	assert_string_equal(id, "cmpl");
	free(id);
	id = reqid_get(h, strlen(h), names, 2, both);
	assert_string_equal(id, "hdr");
	free(id);
	assert_null(reqid_get(blank, strlen(blank), names, 2, both));
	assert_null(reqid_get(NULL, 0, names, 2, arr)); /* not an object */
	assert_null(reqid_get(NULL, 0, names, 2, NULL));
	cJSON_Delete(both);
	cJSON_Delete(id_only);
	cJSON_Delete(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dup_keeps_printable_ascii),
	    cmocka_unit_test(headers_in_order_of_preference),
	    cmocka_unit_test(body_decides_without_a_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
