/* test_jsoncheck.c — the validation kit: whole-text parsing and where a
 * syntax error is reported (byte, line, column), trailing text refused,
 * "SOURCE: PATH: why" messages with cleaned member names, unknown and
 * duplicate fields, the api_key refusal, each getter's range and message
 * (a table), the refused value each message names (jc_got: strings quoted
 * and cut, numbers as the shortest text, other types by name, a key
 * never), a silent context that writes nothing, and the capped file
 * read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/json/jsoncheck.h"

#define SECRET "sk-secret-999"

struct pcase {
	const char *name;
	const char *text;
	const char *want; /* NULL: parses; else the whole message */
};

static const struct pcase pcases[] = {
    {"object", "{\"a\":1}", NULL},
    {"trailing white space", "{\"a\":1} \n\t\r\n", NULL},
    {"a bare number", "42", NULL},
    {"empty", "", "f: invalid JSON near byte 0 (line 1, column 1)"},
    {"trailing text", "{\"a\":1} x",
     "f: invalid JSON near byte 8 (line 1, column 9)"},
    {"two values", "{}\n{}", "f: invalid JSON near byte 3 (line 2, column 1)"},
    /* JSON's white space is space, tab, CR and LF, not C's isspace */
    {"form feed after", "{}\f", "f: invalid JSON near byte 2 (line 1, column 3)"},
    {"error on line 3", "{\n \"a\": 1,\n \"b\": ,\n}",
     "f: invalid JSON near byte 17 (line 3, column 7)"},
    {"secret in a broken file", "{\"k\": \"" SECRET "\" ",
     "f: invalid JSON near byte 21 (line 1, column 22)"},
};

static void parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *k = &pcases[i];
		char err[256] = "untouched";
		struct jc_ctx x = {"f", err, sizeof(err)};
		cJSON *root = jc_parse(&x, k->text, strlen(k->text));

		if (!k->want) {
			if (!root)
				fail_msg("%s: refused: %s", k->name, err);
			assert_string_equal(err, "untouched");
		} else {
			if (root || strcmp(err, k->want) != 0)
				fail_msg("%s: got \"%s\", want \"%s\"", k->name,
					 err, k->want);
		}
		assert_null(strstr(err, SECRET));
		cJSON_Delete(root);
	}
}

/* The length is the caller's: text past it is never read. */
static void parse_stops_at_len(void **state)
{
	static const char text[] = "{\"a\":1}garbage";
	char err[128] = "";
	struct jc_ctx x = {"f", err, sizeof(err)};
	cJSON *root = jc_parse(&x, text, 7);

	(void)state;
	assert_non_null(root);
	cJSON_Delete(root);
}

static void fail_and_subpath(void **state)
{
	char err[64], p[JC_PATH_LEN], small[12];
	char longkey[JC_NAME_SHOWN + 10];
	struct jc_ctx x = {"src", err, sizeof(err)};
	struct jc_ctx quiet = {"src", NULL, 0};

	(void)state;
	assert_int_equal(jc_fail(&x, "a.b", "bad %d", 7), JC_EINVAL);
	assert_string_equal(err, "src: a.b: bad 7");
	assert_int_equal(jc_fail(&x, NULL, "no path"), JC_EINVAL);
	assert_string_equal(err, "src: no path");
	assert_int_equal(jc_fail(&x, "", "empty path"), JC_EINVAL);
	assert_string_equal(err, "src: empty path");
	assert_int_equal(jc_fail_key(&x, "a", "b", "why"), JC_EINVAL);
	assert_string_equal(err, "src: a.b: why");
	assert_int_equal(jc_fail(&quiet, "a", "why"), JC_EINVAL);
	assert_int_equal(jc_fail_key(&quiet, "a", "b", "why"), JC_EINVAL);

	jc_subpath(p, sizeof(p), "providers", "qwen", 0);
	assert_string_equal(p, "providers.qwen");
	jc_subpath(p, sizeof(p), "", "top", 0);
	assert_string_equal(p, "top");
	jc_subpath(p, sizeof(p), "r", NULL, 3);
	assert_string_equal(p, "r[3]");
	/* a member name is cleaned: no control bytes, spaces or UTF-8 */
	jc_subpath(p, sizeof(p), "m", "a b\n\xc3\xa9", 0);
	assert_string_equal(p, "m.a?b???");
	/* and cut */
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	jc_subpath(p, sizeof(p), "", longkey, 0);
	assert_int_equal(strlen(p), JC_NAME_SHOWN + 3);
	assert_string_equal(p + JC_NAME_SHOWN, "...");
	/* a path cut by the buffer says so */
	jc_subpath(small, sizeof(small), "providers", "qwen", 0);
	assert_string_equal(small, "provider...");
}

static void check_keys_and_members(void **state)
{
	static const char *const allowed[] = {"a", "b", NULL};
	static const struct {
		const char *text, *want;
	} rows[] = {
	    {"{\"a\":1,\"b\":2}", NULL},
	    {"{}", NULL},
	    {"{\"a\":1,\"c\":2}", "s: o.c: unknown field"},
	    {"{\"a\":1,\"a\":2}", "s: o.a: duplicate field"},
	    {"{\"api_key\":\"" SECRET "\"}",
	     "s: o.api_key: keys do not belong in the config; put the key in "
	     "an environment variable and give its name in api_key_env"},
	};
	char err[256];
	struct jc_ctx x = {"s", err, sizeof(err)};
	size_t i;
	cJSON *o;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc;

		o = cJSON_Parse(rows[i].text);
		assert_non_null(o);
		err[0] = '\0';
		rc = jc_check_keys(&x, o, "o", allowed);
		if (rows[i].want) {
			assert_int_equal(rc, JC_EINVAL);
			assert_string_equal(err, rows[i].want);
		} else {
			assert_int_equal(rc, 0);
		}
		cJSON_Delete(o);
	}
	assert_int_equal(jc_in_list(allowed, "b"), 1);
	assert_int_equal(jc_in_list(allowed, "B"), -1);

	o = cJSON_Parse("{\"p\":{},\"q\":{},\"p\":{}}");
	assert_int_equal(jc_check_members(&x, o, "providers", "providers"),
			 JC_EINVAL);
	assert_string_equal(err, "s: providers.p: duplicate name");
	cJSON_Delete(o);
	o = cJSON_Parse("[1]");
	assert_int_equal(jc_check_members(&x, o, "routes", "routes"),
			 JC_EINVAL);
	assert_string_equal(err,
			    "s: routes: must be an object of routes, got an "
			    "array");
	cJSON_Delete(o);
	o = cJSON_Parse("{\"p\":{},\"q\":{}}");
	assert_int_equal(jc_check_members(&x, o, "providers", "providers"), 0);
	cJSON_Delete(o);
}

/* What a refusal says it got, value by value. */
static void got_table(void **state)
{
	static const char *const rows[][2] = {
	    {"\"grpc\"", "\"grpc\""},
	    {"\"\"", "\"\""},
	    {"\"say \\\"hi\\\"\\n\"", "\"say \\\"hi\\\"\\n\""},
	    {"\"\\u001b[31mred\"", "\"\\u001b[31mred\""},
	    {"\"caf\u00e9\"", "\"caf\u00e9\""},
	    {"\"" SECRET "\"", "a string that looks like an API key (not shown)"},
	    {"0", "0"},
	    {"-1", "-1"},
	    {"0.4", "0.4"},
	    {"1.10", "1.1"},
	    {"1e6", "1000000"},
	    {"1e300", "1e+300"},
	    {"-2.5e-7", "-2.5e-07"},
	    {"0.1234567890123", "0.1234567890123"},
	    {"true", "a boolean"},
	    {"false", "a boolean"},
	    {"null", "null"},
	    {"[1]", "an array"},
	    {"[]", "an empty array"},
	    {"{\"a\":1}", "an object"},
	    {"{}", "an empty object"},
	};
	char buf[JC_GOT_LEN], small[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *v = cJSON_Parse(rows[i][0]);

		assert_non_null(v);
		if (strcmp(jc_got(v, buf, sizeof(buf)), rows[i][1]) != 0)
			fail_msg("%s: got [%s], want [%s]", rows[i][0], buf,
				 rows[i][1]);
		/* a small buffer is cut, never overrun */
		assert_ptr_equal(jc_got(v, small, sizeof(small)), small);
		assert_true(strlen(small) < sizeof(small));
		cJSON_Delete(v);
	}
}

/* jc_refuse: "PATH.KEY: why, got VALUE", or "PATH: ..." without a key;
 * silent contexts write nothing. */
static void refuse_names_the_value(void **state)
{
	char err[256];
	struct jc_ctx x = {"providers.json", err, sizeof(err)};
	struct jc_ctx quiet = {"q", NULL, 0};
	cJSON *v = cJSON_Parse("\"grpc\"");

	(void)state;
	assert_int_equal(jc_refuse(&x, "providers.qwen", "dialect", v,
				   "must be \"%s\" or \"%s\"", "openai",
				   "anthropic"),
			 JC_EINVAL);
	assert_string_equal(err, "providers.json: providers.qwen.dialect: "
				 "must be \"openai\" or \"anthropic\", got "
				 "\"grpc\"");
	assert_int_equal(jc_refuse(&x, "routes.r[0]", NULL, v, "bad"),
			 JC_EINVAL);
	assert_string_equal(err, "providers.json: routes.r[0]: bad, got "
				 "\"grpc\"");
	assert_int_equal(jc_refuse(&quiet, "a", "b", v, "bad"), JC_EINVAL);
	cJSON_Delete(v);
	/* jc_check_object names what it got instead of an object */
	v = cJSON_Parse("[1,2]");
	assert_int_equal(jc_check_object(&x, v, "m", (const char *const[]){NULL},
					 " with prices"),
			 JC_EINVAL);
	assert_string_equal(err, "providers.json: m: must be an object with "
				 "prices, got an array");
	cJSON_Delete(v);
}

enum getter { INT, INT32, NUMBER, PRICE, TEXT, BOOL, ARRAY };

struct gcase {
	const char *name;
	enum getter g;
	const char *member; /* JSON for member "k", or NULL for none */
	int64_t min, max;   /* INT, INT32; max for NUMBER, TEXT, ARRAY */
	double dflt;	    /* INT, INT32, PRICE */
	const char *want;   /* NULL: accepted; else the whole message */
	double value;	    /* what *out holds when accepted */
};

/* clang-format off */
static const struct gcase gcases[] = {
	{"int absent: default", INT, NULL, 1, 10, 7, NULL, 7},
	{"int ok", INT, "5", 1, 10, 7, NULL, 5},
	{"int min", INT, "1", 1, 10, 7, NULL, 1},
	{"int max", INT, "10", 1, 10, 7, NULL, 10},
	{"int 0 when positive", INT, "0", 1, 10, 7,
	 "s: o.k: must be a positive integer, got 0", 0},
	{"int negative", INT, "-1", 0, 10, 7,
	 "s: o.k: must be a non-negative integer, got -1", 0},
	{"int fraction", INT, "1.5", 1, 10, 7,
	 "s: o.k: must be a positive integer, got 1.5", 0},
	{"int string", INT, "\"8\"", 1, 10, 7,
	 "s: o.k: must be a positive integer, got \"8\"", 0},
	{"int secret", INT, "\"" SECRET "\"", 1, 10, 7,
	 "s: o.k: must be a positive integer, got a string that looks like "
	 "an API key (not shown)", 0},
	{"int too big", INT, "11", 1, 10, 7,
	 "s: o.k: must be at most 10, got 11", 0},
	{"int huge", INT, "1e300", 0, JC_COUNT_MAX, 0,
	 "s: o.k: must be at most 1099511627776, got 1e+300", 0},
	{"int overflowing a double", INT, "1e400", 0, 10, 0,
	 "s: o.k: must be a non-negative integer, got a number out of range",
	 0},
	{"int32 ok", INT32, "100000", 1, 100000, 16, NULL, 100000},
	{"int32 absent", INT32, NULL, 1, 100000, 16, NULL, 16},
	{"int32 bool", INT32, "true", 0, 100, 4,
	 "s: o.k: must be a non-negative integer, got a boolean", 0},
	{"int32 null", INT32, "null", 0, 100, 4,
	 "s: o.k: must be a non-negative integer, got null", 0},
	{"int32 array", INT32, "[1]", 0, 100, 4,
	 "s: o.k: must be a non-negative integer, got an array", 0},
	{"int32 empty object", INT32, "{}", 0, 100, 4,
	 "s: o.k: must be a non-negative integer, got an empty object", 0},
	{"number absent", NUMBER, NULL, 0, 1, 0, NULL, -1},
	{"number ok", NUMBER, "0.5", 0, 1, 0, NULL, 0.5},
	{"number negative", NUMBER, "-0.5", 0, 1, 0,
	 "s: o.k: must be a non-negative number, got -0.5", 0},
	{"number too big", NUMBER, "2", 0, 1, 0,
	 "s: o.k: must be at most 1, got 2", 0},
	{"number shortest text", NUMBER, "1.10", 0, 1, 0,
	 "s: o.k: must be at most 1, got 1.1", 0},
	{"price ok", PRICE, "0.4", 0, 0, -1, NULL, 0.4},
	{"price zero", PRICE, "0", 0, 0, -1, NULL, 0},
	{"price absent, required", PRICE, NULL, 0, 0, -1,
	 "s: o.k: required (USD per million tokens)", 0},
	{"price absent, default", PRICE, NULL, 0, 0, 2.5, NULL, 2.5},
	{"price negative", PRICE, "-0.1", 0, 0, -1,
	 "s: o.k: must be a non-negative number (USD per million tokens), "
	 "got -0.1", 0},
	{"price string", PRICE, "\"0.4\"", 0, 0, -1,
	 "s: o.k: must be a non-negative number (USD per million tokens), "
	 "got \"0.4\"", 0},
	{"price secret", PRICE, "\"" SECRET "\"", 0, 0, -1,
	 "s: o.k: must be a non-negative number (USD per million tokens), "
	 "got a string that looks like an API key (not shown)", 0},
	{"price too big", PRICE, "1000001", 0, 0, -1,
	 "s: o.k: must be at most 1000000 (USD per million tokens), "
	 "got 1000001", 0},
	{"text ok", TEXT, "\"abc\"", 0, 8, 0, NULL, 0},
	{"text absent", TEXT, NULL, 0, 8, 0, NULL, 0},
	{"text empty", TEXT, "\"\"", 0, 8, 0,
	 "s: o.k: must be a non-empty string, got \"\"", 0},
	{"text number", TEXT, "1", 0, 8, 0,
	 "s: o.k: must be a non-empty string, got 1", 0},
	{"text too long", TEXT, "\"abcdefghij\"", 0, 8, 0,
	 "s: o.k: must be at most 8 bytes, got \"abcdefghij\"", 0},
	{"text too long: cut", TEXT,
	 "\"0123456789012345678901234567890123456789+-*/\"", 0, 8, 0,
	 "s: o.k: must be at most 8 bytes, got "
	 "\"0123456789012345678901234567890123456789\"... (44 bytes)", 0},
	{"text too long: a key", TEXT, "\"" SECRET "\"", 0, 8, 0,
	 "s: o.k: must be at most 8 bytes, got a string that looks like an "
	 "API key (not shown)", 0},
	{"text control", TEXT, "\"a\\tb\"", 0, 8, 0,
	 "s: o.k: must not contain control characters, got \"a\\tb\"", 0},
	{"text DEL", TEXT, "\"a\\u007fb\"", 0, 8, 0,
	 "s: o.k: must not contain control characters, got \"a\\u007fb\"",
	 0},
	{"bool true", BOOL, "true", 0, 0, 0, NULL, 1},
	{"bool false", BOOL, "false", 0, 0, 0, NULL, 0},
	{"bool absent", BOOL, NULL, 0, 0, 0, NULL, -1},
	{"bool number", BOOL, "1", 0, 0, 0,
	 "s: o.k: must be true or false, got 1", 0},
	{"bool string", BOOL, "\"yes\"", 0, 0, 0,
	 "s: o.k: must be true or false, got \"yes\"", 0},
	{"array ok", ARRAY, "[1,2]", 0, 2, 0, NULL, 2},
	{"array empty", ARRAY, "[]", 0, 2, 0, NULL, 0},
	{"array absent", ARRAY, NULL, 0, 2, 0, NULL, -1},
	{"array too long", ARRAY, "[1,2,3]", 0, 2, 0,
	 "s: o.k: must have at most 2 things, got 3", 0},
	{"array object", ARRAY, "{\"a\":1}", 0, 2, 0,
	 "s: o.k: must be an array of some things, got an object", 0},
};
/* clang-format on */

/* get: run row k's getter on obj; *v is what it gave back (-1 for
 * "left alone" where the getter leaves *out alone when absent). */
static int get(const struct jc_ctx *x, const struct gcase *k, const cJSON *obj,
	       double *v, char **text)
{
	int64_t i64 = -1;
	int i32 = -1, has = -1, b = -1, rc;
	double d = -1;
	const cJSON *arr = NULL;
	char ap[JC_PATH_LEN];

	switch (k->g) {
	case INT:
		rc = jc_get_int(x, obj, "o", "k", k->min, k->max,
				(int64_t)k->dflt, &i64);
		*v = (double)i64;
		return rc;
	case INT32:
		rc = jc_get_int32(x, obj, "o", "k", (int)k->min, (int)k->max,
				  (int)k->dflt, &i32);
		*v = i32;
		return rc;
	case NUMBER:
		rc = jc_get_number(x, obj, "o", "k", (double)k->max, "", &has,
				   &d);
		assert_int_equal(has, k->member && rc == 0);
		*v = d;
		return rc;
	case PRICE:
		rc = jc_get_price(x, obj, "o", "k", k->dflt, &d);
		*v = d;
		return rc;
	case TEXT:
		rc = jc_get_text(x, obj, "o", "k", (size_t)k->max, text);
		*v = 0;
		return rc;
	case BOOL:
		rc = jc_get_bool(x, obj, "o", "k", &b);
		*v = b;
		return rc;
	case ARRAY:
		rc =
		    jc_get_array(x, obj, "o", "k", (size_t)k->max,
				 "some things", "things", &arr, ap, sizeof(ap));
		*v = arr ? cJSON_GetArraySize(arr) : -1;
		if (arr)
			assert_string_equal(ap, "o.k");
		return rc;
	}
	return -1;
}

static void getter_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(gcases) / sizeof(gcases[0]); i++) {
		const struct gcase *k = &gcases[i];
		char err[256] = "untouched", json[256], *text = NULL;
		struct jc_ctx x = {"s", err, sizeof(err)};
		struct jc_ctx quiet = {"s", NULL, 0};
		cJSON *obj;
		double v;
		int rc;

		snprintf(json, sizeof(json), "{\"k\":%s}",
			 k->member ? k->member : "0");
		obj = k->member ? cJSON_Parse(json) : cJSON_Parse("{}");
		assert_non_null(obj);
		rc = get(&x, k, obj, &v, &text);
		if (k->want) {
			if (rc != JC_EINVAL || strcmp(err, k->want) != 0)
				fail_msg("%s: rc %d \"%s\", want \"%s\"",
					 k->name, rc, err, k->want);
			assert_null(text);
			/* silently, the same verdict */
			assert_int_equal(get(&quiet, k, obj, &v, &text),
					 JC_EINVAL);
		} else {
			if (rc != 0 || v != k->value)
				fail_msg("%s: rc %d v %g \"%s\"", k->name, rc,
					 v, err);
			assert_string_equal(err, "untouched");
			if (k->g == TEXT && k->member)
				assert_string_equal(text, "abc");
		}
		assert_null(strstr(err, SECRET));
		free(text);
		cJSON_Delete(obj);
	}
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_jsoncheck_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void read_file_capped(void **state)
{
	char big[5001];
	char *path = write_temp("{\"a\": 1}\n"), *bigpath, *buf = NULL;
	char dir[] = "/tmp/test_jsoncheck_dir_XXXXXX";
	char err[512], want[600];
	struct jc_ctx x = {path, err, sizeof(err)};
	time_t mtime = 0;
	size_t len = 0;

	(void)state;
	assert_int_equal(jc_read_file(&x, 64, "a thing", &buf, &len, &mtime),
			 0);
	assert_int_equal(len, 9);
	assert_string_equal(buf, "{\"a\": 1}\n");
	assert_true(mtime > 0);
	free(buf);
	/* over the cap: a wrong file, not an I/O error */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bigpath = write_temp(big);
	x.source = bigpath;
	assert_int_equal(jc_read_file(&x, 4096, "a thing", &buf, &len, NULL),
			 JC_EINVAL);
	assert_null(buf);
	snprintf(want, sizeof(want), "%s: larger than 4096 bytes; not a thing?",
		 bigpath);
	assert_string_equal(err, want);
	unlink(bigpath);
	free(bigpath);
	x.source = path;
	unlink(path);
	assert_int_equal(jc_read_file(&x, 64, "a thing", &buf, &len, NULL),
			 JC_EIO);
	snprintf(want, sizeof(want), "%s: cannot open: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_non_null(mkdtemp(dir));
	x.source = dir;
	assert_int_equal(jc_read_file(&x, 64, "a thing", &buf, &len, NULL),
			 JC_EIO);
	snprintf(want, sizeof(want), "%s: cannot read: ", dir);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_table),
	    cmocka_unit_test(parse_stops_at_len),
	    cmocka_unit_test(fail_and_subpath),
	    cmocka_unit_test(check_keys_and_members),
	    cmocka_unit_test(got_table),
	    cmocka_unit_test(refuse_names_the_value),
	    cmocka_unit_test(getter_table),
	    cmocka_unit_test(read_file_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
