/* test_timeparse.c — the one parser of durations and times: command-line
 * durations, Retry-After forms, Go durations, HH:MM, RFC 3339 stamps and
 * config dates, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/timeparse.h"

#define BAD (-999) /* expected: TP_EINVAL */
#define SAT TP_SPAN_MAX_MS

struct dur_case {
	const char *in;
	unsigned flags;
	int64_t want;
};

static void durations(void **state)
{
	static const struct dur_case c[] = {
		/* command line: units, or bare seconds */
		{"30", TP_UNITS | TP_SECS, 30000},
		{"30s", TP_UNITS | TP_SECS, 30000},
		{"2m", TP_UNITS | TP_SECS, 120000},
		{"1h", TP_UNITS | TP_SECS, 3600000},
		{"1h30m", TP_UNITS | TP_SECS, 5400000},
		{"500ms", TP_UNITS | TP_SECS, 500},
		{"1.5h", TP_UNITS | TP_SECS, 5400000},
		{"0", TP_UNITS | TP_SECS, 0},
		{"-5s", TP_UNITS | TP_SECS, BAD},
		{"1e3", TP_UNITS | TP_SECS, BAD},
		{"nan", TP_UNITS | TP_SECS, BAD},
		{"inf", TP_UNITS | TP_SECS, BAD},
		{"5 s", TP_UNITS | TP_SECS, BAD},
		{"5d", TP_UNITS | TP_SECS, BAD},
		{"", TP_UNITS | TP_SECS, BAD},
		{"s", TP_UNITS | TP_SECS, BAD},
		/* Retry-After: seconds only */
		{"120", TP_SECS, 120000},
		{"0", TP_SECS, 0},
		{"1.5", TP_SECS, 1500},
		{"0.0001", TP_SECS, 1}, /* rounded up: never early */
		{"2.0005", TP_SECS, 2001},
		{"99999999999999999999999", TP_SECS, SAT},
		{"2s", TP_SECS, BAD},
		{"+5", TP_SECS, BAD},
		{"1,5", TP_SECS, BAD},
		{".", TP_SECS, BAD},
		{"", TP_SECS, BAD},
		{"-5", TP_SECS, BAD},
		{"abc", TP_SECS, BAD},
		{"12 ", TP_SECS, BAD},
		/* retry-after-ms */
		{"1500", TP_MSECS, 1500},
		{"2.5", TP_MSECS, 3},
		{"1500ms", TP_MSECS, BAD},
		/* Go durations: units required */
		{"1s", TP_UNITS, 1000},
		{"6s", TP_UNITS, 6000},
		{"2h", TP_UNITS, 7200000},
		{"1h2m3s", TP_UNITS, 3723000},
		{"20.718s", TP_UNITS, 20718},
		{"58.821668433s", TP_UNITS, 58822},
		{"1.5ms", TP_UNITS, 2},
		{"0s", TP_UNITS, 0},
		{"999ns", TP_UNITS, 1},
		{"500\xce\xbcs", TP_UNITS, 1},
		{"99999999999999h", TP_UNITS, SAT},
		{"6m0s", TP_UNITS, 360000},
		{"1m2.5s", TP_UNITS, 62500},
		{"12ms", TP_UNITS, 12},
		{"500us", TP_UNITS, 1},
		{"500\xc2\xb5s", TP_UNITS, 1},
		{"1500ns", TP_UNITS, 1},
		{"0", TP_UNITS, 0},
		{"120", TP_UNITS, BAD},
		{"1.2.3s", TP_UNITS, BAD},
		{"1hm", TP_UNITS, BAD},
		{"", TP_UNITS, BAD},
		{"1", TP_UNITS, BAD},
		{"1x", TP_UNITS, BAD},
		{"1s2", TP_UNITS, BAD},
		{"ms", TP_UNITS, BAD},
		{"10000000h", TP_UNITS, SAT},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t got = -12345;
		int rc = tp_duration(c[i].in, strlen(c[i].in), c[i].flags,
				     &got);

		if (c[i].want == BAD) {
			if (rc != TP_EINVAL)
				fail_msg("\"%s\" (flags %u) accepted as %lld",
					 c[i].in, c[i].flags, (long long)got);
		} else if (rc != 0 || got != c[i].want) {
			fail_msg("\"%s\" (flags %u) = rc %d, %lld; want %lld",
				 c[i].in, c[i].flags, rc, (long long)got,
				 (long long)c[i].want);
		}
	}
	/* the length bounds the text: no NUL needed */
	{
		int64_t got;

		assert_int_equal(tp_duration("30sXYZ", 3, TP_UNITS, &got), 0);
		assert_int_equal(got, 30000);
		assert_int_equal(tp_duration(NULL, 0, TP_UNITS, &got),
				 TP_EINVAL);
	}
}

static void times_of_day(void **state)
{
	static const struct {
		const char *in;
		int allow_end, want;
	} c[] = {
		{"00:00", 0, 0},   {"07:30", 0, 450},  {"7:30", 0, 450},
		{"23:59", 0, 1439}, {"24:00", 1, 1440}, {"24:00", 0, BAD},
		{"24:01", 1, BAD}, {"12:60", 0, BAD},  {"7:5", 0, BAD},
		{"+7:05", 0, BAD}, {" 7:05", 0, BAD},  {"07:05 ", 0, BAD},
		{"0705", 0, BAD},  {"", 0, BAD},       {"123:00", 0, BAD},
		{"ab:cd", 0, BAD},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int got = -1, rc = tp_hhmm(c[i].in, c[i].allow_end, &got);

		if (c[i].want == BAD) {
			if (rc != TP_EINVAL)
				fail_msg("\"%s\" accepted as %d", c[i].in,
					 got);
		} else if (rc != 0 || got != c[i].want) {
			fail_msg("\"%s\" = rc %d, %d; want %d", c[i].in, rc,
				 got, c[i].want);
		}
	}
}

static void rfc3339_stamps(void **state)
{
	static const struct {
		const char *in;
		int64_t want;
	} c[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2024-05-01T12:00:00Z", 1714564800000LL},
		{"2024-05-01t12:00:00z", 1714564800000LL},
		{"2024-05-01 12:00:00Z", 1714564800000LL},
		{"2024-05-01T12:00:00.5Z", 1714564800500LL},
		{"2024-05-01T12:00:00.0001Z", 1714564800001LL},
		{"2024-05-01T14:00:00+02:00", 1714564800000LL},
		{"2024-05-01T10:30:00-01:30", 1714564800000LL},
		{"2024-02-29T00:00:00Z", 1709164800000LL},
		{"2023-02-29T00:00:00Z", BAD},
		{"2024-13-01T00:00:00Z", BAD},
		{"2024-05-01T24:00:00Z", BAD},
		{"2024-05-01T12:00:00", BAD},
		{"2024-05-01T12:00Z", BAD},
		{"2024-05-01T12:00:00+2:00", BAD},
		{"1969-12-31T23:59:59Z", BAD},
		{"2024-05-01T12:00:00Z ", BAD},
		{"2024-05-01T12:00:00Zjunk", BAD},
		{"2024-05-01T12:00:00.Z", BAD},
		{"2024-05-01", BAD},
		{"", BAD},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t got = -1;
		int rc = tp_rfc3339(c[i].in, strlen(c[i].in), &got);

		if (c[i].want == BAD) {
			if (rc != TP_EINVAL)
				fail_msg("\"%s\" accepted as %lld", c[i].in,
					 (long long)got);
		} else if (rc != 0 || got != c[i].want) {
			fail_msg("\"%s\" = rc %d, %lld; want %lld", c[i].in,
				 rc, (long long)got, (long long)c[i].want);
		}
	}
}

/* Spans as the progress line and plan print them. */
static void hms(void **state)
{
	static const struct {
		long long s;
		const char *want;
	} cases[] = {{0, "0:00"},	   {59, "0:59"},	 {61, "1:01"},
		     {3599, "59:59"},	   {3600, "1:00:00"},	 {3661, "1:01:01"},
		     {360000, "100:00:00"}, {-5, "0:00"}};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tp_hms(buf, sizeof(buf), cases[i].s);
		assert_string_equal(buf, cases[i].want);
	}
}

static void dates(void **state)
{
	(void)state;
	assert_true(tp_date_ok("2026-11-20"));
	assert_true(tp_date_ok("2000-01-31"));
	assert_false(tp_date_ok("1999-12-31"));
	assert_false(tp_date_ok("2026-13-01"));
	assert_false(tp_date_ok("2026-00-10"));
	assert_false(tp_date_ok("2026-01-32"));
	assert_false(tp_date_ok("2026-1-02"));
	assert_false(tp_date_ok("2026-01-02x"));
	assert_false(tp_date_ok("20260102"));
	assert_false(tp_date_ok(""));
	assert_false(tp_date_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(times_of_day),
		cmocka_unit_test(rfc3339_stamps),
		cmocka_unit_test(dates),
		cmocka_unit_test(hms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
