/* test_jsonidx.c — the strict JSON indexer: what it accepts and refuses
 * (with cJSON as the oracle: whatever jsonidx accepts, cJSON must parse,
 * since the run loop reads stored bodies with it), the token links, string
 * decoding and numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonidx.h"

struct row {
	const char *name;
	const char *text;
	int ok;
};

static const struct row ROWS[] = {
	{"accepts_empty_object", "{}", 1},
	{"accepts_empty_array", "[ ]", 1},
	{"accepts_nested", "{\"a\":{\"b\":[{\"c\":null},[],{}]}}", 1},
	{"accepts_numbers", "[0,-0,1,-1,0.5,-0.5e+3,1E10,1e-2,123456789]", 1},
	{"accepts_literals", "[true,false,null]", 1},
	{"accepts_scalar_root", "\"x\"", 1},
	{"accepts_escapes",
	 "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"", 1},
	{"accepts_spacing", " {\t\"a\" :\r\n[ 1 , 2 ] } ", 1},
	{"accepts_raw_utf8", "[\"\xc3\xa9\xe6\x97\xa5\"]", 1},
	/* cJSON takes raw control characters in strings; so do we, the
	 * stored text then parses wherever cJSON reads it. */
	{"accepts_raw_tab_in_string", "[\"a\tb\"]", 1},
	{"rejects_empty", "", 0},
	{"rejects_blank", "   ", 0},
	{"rejects_open_object", "{", 0},
	{"rejects_close_only", "}", 0},
	{"rejects_trailing_comma_array", "[1,]", 0},
	{"rejects_trailing_comma_object", "{\"a\":1,}", 0},
	{"rejects_key_without_value", "{\"a\"}", 0},
	{"rejects_bare_key", "{a:1}", 0},
	{"rejects_single_quotes", "['a']", 0},
	{"rejects_missing_comma", "[1 2]", 0},
	{"rejects_missing_member_comma", "{\"a\":1 \"b\":2}", 0},
	{"rejects_leading_zero", "[01]", 0},
	{"rejects_bare_point", "[1.]", 0},
	{"rejects_leading_point", "[.5]", 0},
	{"rejects_lone_minus", "[-]", 0},
	{"rejects_plus", "[+1]", 0},
	{"rejects_empty_exponent", "[1e]", 0},
	{"rejects_signed_empty_exponent", "[1e+]", 0},
	{"rejects_nan", "[NaN]", 0},
	{"rejects_infinity", "[Infinity]", 0},
	{"rejects_short_literal", "[tru]", 0},
	{"rejects_null_prefix", "[nul]", 0},
	{"rejects_unterminated_string", "[\"abc]", 0},
	{"rejects_bad_escape", "[\"\\x\"]", 0},
	{"rejects_short_unicode_escape", "[\"\\u12\"]", 0},
	{"rejects_non_hex_escape", "[\"\\u12G4\"]", 0},
	{"rejects_lone_high_surrogate", "[\"\\ud800\"]", 0},
	{"rejects_lone_low_surrogate", "[\"\\udc00\"]", 0},
	{"rejects_high_surrogate_then_other", "[\"\\ud800\\u0041\"]", 0},
};

static int cjson_accepts(const char *s, size_t n)
{
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	int ok = v != NULL;

	cJSON_Delete(v);
	return ok;
}

static void check_row(void **state)
{
	const struct row *r = *state;
	size_t n = strlen(r->text), end;
	struct jsonidx x;
	int rc = jsonidx_parse(&x, r->text, n, &end);
	int whole = rc == 0 && end == n;

	/* "whole": the value spans the text up to trailing whitespace */
	while (rc == 0 && end < n && r->text[end] == ' ')
		end++;
	whole = rc == 0 && end == n;
	jsonidx_free(&x);
	if (whole != r->ok)
		fail_msg("\"%s\": jsonidx %s it", r->text,
			 whole ? "accepted" : "refused");
	if (whole)
		assert_true(cjson_accepts(r->text, n));
}

static void tokens_link_members_and_elements(void **state)
{
	const char *s = "{\"a\":[1,2],\"b\":\"x\",\"a\":3}";
	struct jsonidx x;
	size_t end, v[3], unknown;
	static const char *const names[] = {"b", "a", "zz"};

	(void)state;
	assert_int_equal(jsonidx_parse(&x, s, strlen(s), &end), 0);
	assert_int_equal(end, strlen(s));
	assert_int_equal(x.t[0].type, JSONIDX_OBJECT);
	assert_int_equal(x.t[0].n, 3);
	assert_int_equal(jsonidx_first(&x, 0), 1); /* key "a" */
	assert_int_equal(x.t[2].type, JSONIDX_ARRAY);
	assert_int_equal(x.t[2].n, 2);
	assert_int_equal(jsonidx_first(&x, 2), 3);
	assert_int_equal(x.t[3].next, 4);
	assert_int_equal(x.t[4].next, 0);
	assert_int_equal(x.t[1].next, 5); /* key "b" */
	/* the first of duplicated keys wins, as with cJSON */
	assert_int_equal(jsonidx_get(&x, s, 0, "a"), 2);
	assert_int_equal(jsonidx_get(&x, s, 0, "b"), 6);
	assert_int_equal(jsonidx_get(&x, s, 0, "c"), 0);
	assert_int_equal(jsonidx_get(&x, s, 2, "a"), 0); /* not an object */
	unknown = jsonidx_members(&x, s, 0, names, 2, v);
	assert_int_equal(v[0], 6);
	assert_int_equal(v[1], 2);
	assert_int_equal(unknown, 0);
	unknown = jsonidx_members(&x, s, 0, names + 1, 2, v);
	assert_int_equal(unknown, 5); /* "b" is not among "a", "zz" */
	assert_int_equal(v[1], 0);
	assert_int_equal(x.t[0].ws, 0);
	jsonidx_free(&x);
}

static void whitespace_inside_containers_is_counted(void **state)
{
	const char *s = "{ \"a\" : [ 1,\t2 ] , \"b\":{}}";
	struct jsonidx x;
	size_t end;

	(void)state;
	assert_int_equal(jsonidx_parse(&x, s, strlen(s), &end), 0);
	assert_int_equal(x.t[0].ws, 8);
	assert_int_equal(x.t[2].ws, 3); /* the array */
	assert_int_equal(x.n, 7);
	assert_int_equal(x.t[6].ws, 0); /* {} */
	jsonidx_free(&x);
}

static void strings_decode_like_cjson(void **state)
{
	static const char *const texts[] = {
		"\"plain text\"",
		"\"a\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/z\"",
		"\"\\u0041\\u0800\\uffff\"",
		"\"\xe6\x97\xa5 and \\u65e5\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct jsonidx x;
		size_t end, n;
		char out[64], small[4];
		cJSON *c = cJSON_Parse(texts[i]);

		assert_non_null(c);
		assert_int_equal(
			jsonidx_parse(&x, texts[i], strlen(texts[i]), &end), 0);
		n = jsonidx_decode(&x, texts[i], 0, out, sizeof(out));
		assert_int_equal(n, strlen(c->valuestring));
		assert_int_equal(x.t[0].n, n);
		assert_string_equal(out, c->valuestring);
		assert_true(jsonidx_equals(&x, texts[i], 0, c->valuestring));
		/* a short buffer gets a NUL-terminated prefix and the full
		 * length back */
		assert_int_equal(
			jsonidx_decode(&x, texts[i], 0, small, sizeof(small)),
			n);
		assert_int_equal(strlen(small), 3);
		assert_memory_equal(small, c->valuestring, 3);
		jsonidx_free(&x);
		cJSON_Delete(c);
	}
}

static void numbers_convert(void **state)
{
	const char *s = "[300,-12,1.5e2,0.25,12345678901234567890,-0]";
	const double want[] = {300, -12, 150, 0.25, 12345678901234567890.0, 0};
	struct jsonidx x;
	size_t end, k = 0;

	(void)state;
	assert_int_equal(jsonidx_parse(&x, s, strlen(s), &end), 0);
	for (size_t t = jsonidx_first(&x, 0); t; t = x.t[t].next, k++)
		assert_true(jsonidx_number(&x, s, t) == want[k]);
	assert_int_equal(k, 6);
	jsonidx_free(&x);
}

/* Which strings hold a \u0000 escape: the NUL C strings cut at. An
 * escaped backslash before "u0000" is none, nor is a NUL-free escape; a
 * number is no string. */
static void strings_holding_nul(void **state)
{
	const char *s = "[\"a\\u0000b\",\"a\\\\u0000b\",\"\\u0041\",\"u0000\","
			"\"\\\\\\u0000\",\"\\u0000\",0]";
	const int want[] = {1, 0, 0, 0, 1, 1, 0};
	struct jsonidx x;
	size_t end, k = 0;

	(void)state;
	assert_int_equal(jsonidx_parse(&x, s, strlen(s), &end), 0);
	for (size_t t = jsonidx_first(&x, 0); t; t = x.t[t].next, k++)
		if (jsonidx_holds_nul(&x, s, t) != want[k])
			fail_msg("element %zu: want %d", k, want[k]);
	assert_int_equal(k, 7);
	jsonidx_free(&x);
}

/* The parse's summary: whether any string holds a \u0000 escape (an
 * escaped backslash before u0000 is none), whether any number has an
 * exponent, the longest number, and whether a raw control character sits
 * in a string or, other than tab, CR or LF, between tokens; each text is
 * parsed after another that set them, so a summary left over shows. */
static void parse_sums_up_nul_escapes_and_numbers(void **state)
{
	static const struct {
		const char *s;
		int nul, exp, ctl;
		size_t longest;
	} cases[] = {
		{"[\"a\\u0000b\",1e5,-12.5]", 1, 1, 0, 5},
		{"{\"a\":\"a\\\\u0000b\",\"b\":12}", 0, 0, 0, 2},
		{"[\"\\\\\\u0000\",1E-2]", 1, 1, 0, 4},
		{"[true,null,\"u0000\"]", 0, 0, 0, 0},
		{"[0.000000000000000000000000000000000000000000000000000000000001]",
		 0, 0, 0, 62},
		{"[\"a\tb\"]", 0, 0, 1, 0},
		{"[\"a\\tb\",\"long enough for a word or two \x01\"]", 0, 0, 1,
		 0},
		{"[1,\r\n\t 2]", 0, 0, 0, 1},
		{"[1,\x1f"
		 "2]",
		 0, 0, 1, 1},
	};
	struct jsonidx x;
	size_t end;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(jsonidx_parse(&x, cases[i].s,
					       strlen(cases[i].s), &end),
				 0);
		if (x.nul != cases[i].nul || x.exp != cases[i].exp ||
		    x.ctl != cases[i].ctl ||
		    x.longest_number != cases[i].longest)
			fail_msg("case %zu: nul %d exp %d ctl %d longest %zu",
				 i, x.nul, x.exp, x.ctl, x.longest_number);
		jsonidx_free(&x);
	}
}

static void parse_stops_after_one_value(void **state)
{
	const char *s = "{\"a\":1} trailing";
	struct jsonidx x;
	size_t end;

	(void)state;
	assert_int_equal(jsonidx_parse(&x, s, strlen(s), &end), 0);
	assert_int_equal(end, 7);
	jsonidx_free(&x);
	assert_int_equal(jsonidx_parse(&x, "[1,}", 4, &end), -1);
	assert_int_equal(end, 3); /* the first byte that is not JSON */
	jsonidx_free(&x);
}

/* Past the tokens kept on the stack the array moves to the heap. */
static void large_documents_grow_the_token_array(void **state)
{
	size_t n = 5000, len = 0, end, k = 0;
	char *s = malloc(n * 8 + 16);
	struct jsonidx x;

	(void)state;
	s[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%zu", i ? "," : "", i);
	s[len++] = ']';
	assert_int_equal(jsonidx_parse(&x, s, len, &end), 0);
	assert_int_equal(end, len);
	assert_int_equal(x.n, n + 1);
	for (size_t t = jsonidx_first(&x, 0); t; t = x.t[t].next, k++)
		assert_true(jsonidx_number(&x, s, t) == (double)k);
	assert_int_equal(k, n);
	jsonidx_free(&x);
	free(s);
}

static void nesting_is_capped(void **state)
{
	size_t d = JSONIDX_MAX_DEPTH;
	char *s = malloc(2 * d + 4);
	struct jsonidx x;
	size_t end;

	(void)state;
	memset(s, '[', d);
	memset(s + d, ']', d);
	assert_int_equal(jsonidx_parse(&x, s, 2 * d, &end), 0);
	jsonidx_free(&x);
	memset(s, '[', d + 1);
	memset(s + d + 1, ']', d + 1);
	assert_int_equal(jsonidx_parse(&x, s, 2 * d + 2, &end), -1);
	jsonidx_free(&x);
	free(s);
}

/* Which texts cJSON reads exactly as jsonidx does: the fast paths take
 * only those, so each text refused here is one where the two differ. */
static void exact_only_where_cjson_agrees(void **state)
{
	static const struct {
		const char *s;
		int want; /* 0: exact, -1: not */
	} c[] = {
		{"{\"a\":1}", 0},
		{"{\"a\":1} \t\r\n", 0},
		{"{\"a\":\"x\\\\u0000\"}", 0}, /* an escaped backslash */
		{"{\"a\":1e3,\"b\":-2.5E-3}", 0},
		{"{\"a\":1234567890123456789012345678901234567890"
		 "12345678901234567890123}", 0}, /* 63 digits */
		{"{\"a\":1}x", -1},
		{"{\"a\":1}\f", -1}, /* not one of the four whitespace bytes */
		{"[1,2]", -1},
		{"\"s\"", -1},
		{"{\"a\":\"x\\u0000y\"}", -1},
		{"{\"model\\u0000x\":1}", -1},
		{"{\"a\":1234567890123456789012345678901234567890"
		 "123456789012345678901234}", -1}, /* 64 digits */
		{"{\"a\":1e999}", -1},
		{"{\"a\":-1E400}", -1},
		{"{\"a\":", -1},
		{"", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct jsonidx x;
		size_t len = strlen(c[i].s), end;
		int got = jsonidx_parse_exact(&x, c[i].s, len);

		if (got == 0)
			jsonidx_free(&x);
		if (got != c[i].want)
			fail_msg("jsonidx_parse_exact(%s) = %d, want %d",
				 c[i].s, got, c[i].want);
		/* the same through a parse the caller made */
		if (jsonidx_parse(&x, c[i].s, len, &end) == 0) {
			got = jsonidx_exact(&x, c[i].s, len, end);
			jsonidx_free(&x);
			if (got != c[i].want)
				fail_msg("jsonidx_exact(%s) = %d, want %d",
					 c[i].s, got, c[i].want);
		} else {
			jsonidx_free(&x);
			assert_int_equal(c[i].want, -1);
		}
	}
	{
		struct jsonidx x;

		assert_int_equal(jsonidx_parse_exact(&x, NULL, 0), -1);
	}
}

int main(void)
{
	size_t n = sizeof(ROWS) / sizeof(ROWS[0]);
	struct CMUnitTest *t = calloc(n + 16, sizeof(*t));
	int rc;

	for (size_t i = 0; i < n; i++) {
		t[i].name = ROWS[i].name;
		t[i].test_func = check_row;
		t[i].initial_state = (void *)&ROWS[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		tokens_link_members_and_elements);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		whitespace_inside_containers_is_counted);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(strings_decode_like_cjson);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(numbers_convert);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(strings_holding_nul);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		parse_sums_up_nul_escapes_and_numbers);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		parse_stops_after_one_value);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		large_documents_grow_the_token_array);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(nesting_is_capped);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		exact_only_where_cjson_agrees);
	rc = _cmocka_run_group_tests("jsonidx", t, n, NULL, NULL);
	free(t);
	return rc;
}
