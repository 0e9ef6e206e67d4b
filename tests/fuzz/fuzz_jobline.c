/* fuzz_jobline.c — the job-line validator (runner/ingest/jobline.c) on
 * any bytes. Besides crashes and reads past the line, it checks what
 * ingest relies on for a line it takes:
 *  - the custom_id is 1 to JOBLINE_MAX_ID bytes, no control character;
 *  - the stored body is a JSON object cJSON reads, with no whitespace
 *    outside its strings, that means what the line's body meant (cJSON
 *    reads both: the run loop reads stored bodies with it);
 *  - providers, when given, is a compact JSON array;
 *  - the numbers are in their documented ranges;
 *  - jobline_parse (on a borrowed line) agrees with the in-place parse;
 * and for a line it refuses, that the reason is a non-empty message. */
#include <cjson/cJSON.h>
#include <math.h>

#include "runner/ingest/jobline.h"
#include "runner/json/jsonidx.h"
#include "runner/json/jsonutil.h"
#include "tests/fuzz/fuzz.h"

/* compact: a JSON text with no byte <= 0x20 outside its strings. */
static int compact(const char *s, size_t n)
{
	struct jsonidx x;
	size_t end;
	int ok = jsonidx_parse(&x, s, n, &end) == 0 && end == n &&
		 x.ws == 0;

	jsonidx_free(&x);
	return ok;
}

static void check_taken(const uint8_t *data, size_t size,
			const struct jobline_view *v)
{
	size_t idn = strlen(v->custom_id);
	const char *line = (const char *)data;
	cJSON *orig, *body;

	FUZZ_CHECK(idn >= 1 && idn <= JOBLINE_MAX_ID, "custom_id of %zu bytes",
		   idn);
	for (size_t i = 0; i < idn; i++)
		FUZZ_CHECK((unsigned char)v->custom_id[i] >= 0x20,
			   "control byte in custom_id");
	FUZZ_CHECK(strlen(v->body) == v->body_len, "body_len %zu, strlen %zu",
		   v->body_len, strlen(v->body));
	FUZZ_CHECK(compact(v->body, v->body_len), "body not compact: %s",
		   v->body);
	FUZZ_CHECK(v->providers == NULL ||
		       compact(v->providers, strlen(v->providers)),
		   "providers not compact");
	FUZZ_CHECK(v->lane >= 0 && v->lane <= 2, "lane %d", v->lane);
	FUZZ_CHECK(v->max_cost_usd == -1 ||
		       (isfinite(v->max_cost_usd) && v->max_cost_usd >= 0),
		   "max_cost_usd %g", v->max_cost_usd);
	FUZZ_CHECK(v->max_output_tokens >= 0 && v->max_output_tokens <= 1000000000,
		   "max_output_tokens %lld", (long long)v->max_output_tokens);
	FUZZ_CHECK(v->est_input_tokens > 0, "est_input_tokens %lld",
		   (long long)v->est_input_tokens);
	FUZZ_CHECK(v->priority >= -1000000000000000LL &&
		       v->priority <= 1000000000000000LL,
		   "priority %lld", v->priority);

	/* the line, as cJSON reads it (it skips a BOM as ingest does) */
	orig = cJSON_ParseWithLength(line, size);
	FUZZ_CHECK(orig != NULL, "cJSON refuses a line jobline takes");
	body = json_parse_exact(v->body, v->body_len);
	FUZZ_CHECK(cJSON_IsObject(body), "stored body is not an object to "
					 "cJSON: %s",
		   v->body);
	FUZZ_CHECK(fuzz_tree_same(body, cJSON_GetObjectItemCaseSensitive(
						orig, "body")),
		   "stored body means something else: %s", v->body);
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body,
								   "model")),
		   "stored body without a model string");
	{
		const cJSON *id =
		    cJSON_GetObjectItemCaseSensitive(orig, "custom_id");

		FUZZ_CHECK(cJSON_IsString(id) &&
			       strcmp(id->valuestring, v->custom_id) == 0,
			   "custom_id \"%s\" vs cJSON's", v->custom_id);
	}
	cJSON_Delete(body);
	cJSON_Delete(orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_copy(data, size), err[256];
	struct jobline_view v;
	struct jobline j;
	char err2[256];
	int rc, rc2;

	err[0] = '\0';
	rc = jobline_parse_inplace(line, size, &v, err, sizeof(err));
	rc2 = jobline_parse((const char *)data, size, &j, err2, sizeof(err2));
	FUZZ_CHECK(rc == rc2, "in place %d, borrowed %d", rc, rc2);
	if (rc == 0) {
		check_taken(data, size, &v);
		FUZZ_CHECK(strcmp(j.custom_id, v.custom_id) == 0 &&
			       j.body_len == v.body_len &&
			       memcmp(j.body, v.body, v.body_len + 1) == 0 &&
			       (j.providers == NULL) == (v.providers == NULL) &&
			       (!j.providers ||
				strcmp(j.providers, v.providers) == 0) &&
			       j.priority == v.priority && j.lane == v.lane &&
			       j.est_input_tokens == v.est_input_tokens &&
			       j.max_output_tokens == v.max_output_tokens,
			   "jobline_parse and jobline_parse_inplace differ");
	} else {
		FUZZ_CHECK(rc == -1, "rc %d", rc);
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)),
			   "refused without a reason");
		FUZZ_CHECK(strcmp(err, err2) == 0, "reasons differ: %s / %s",
			   err, err2);
	}
	jobline_clear(&j);
	free(line);
	return 0;
}
