/* fuzz_anthropic.c — the `anthropic` dialect (dialect_anthropic.c) both
 * ways. First input byte, bit 0 set: the rest is a queued job body,
 * translated to a Messages request, which must then be one JSON object
 * with a model, a positive max_tokens, a non-empty messages array and a
 * temperature within Anthropic's [0, 1]. Bit 0 clear: the second byte
 * picks the HTTP status, an "HTTP/" header block goes in as the headers,
 * the rest is the reply body, and the outcome must be what policy and the
 * store can take (fuzz_outcome_ok). */
#include <cjson/cJSON.h>

#include "runner/providers/dialect_anthropic.h"
#include "runner/providers/outcome.h"
#include "util/utf8.h"
#include "tests/fuzz/fuzz.h"

static void request(unsigned mode, struct fuzz_in *in)
{
	char *body = fuzz_copy(in->p, in->n), *out;
	unsigned flags = 0;
	const char *model = mode & 2 ? "claude-x" : NULL;
	int64_t dflt = mode & 4 ? 1 : 0;
	cJSON *r;
	const cJSON *v;

	out = dialect_anthropic_request(body, in->n, model, dflt, &flags);
	if (out != NULL) {
		r = cJSON_ParseWithOpts(out, NULL, 1);
		FUZZ_CHECK(cJSON_IsObject(r), "request is not an object: %s",
			   out);
		v = cJSON_GetObjectItemCaseSensitive(r, "model");
		FUZZ_CHECK(cJSON_IsString(v) && v->valuestring[0],
			   "request without a model: %s", out);
		if (model)
			FUZZ_CHECK(strcmp(v->valuestring, model) == 0,
				   "model %s, asked %s", v->valuestring, model);
		v = cJSON_GetObjectItemCaseSensitive(r, "max_tokens");
		FUZZ_CHECK(cJSON_IsNumber(v) && v->valuedouble >= 1,
			   "request without max_tokens: %s", out);
		v = cJSON_GetObjectItemCaseSensitive(r, "messages");
		FUZZ_CHECK(cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0,
			   "request without messages: %s", out);
		v = cJSON_GetObjectItemCaseSensitive(r, "temperature");
		FUZZ_CHECK(v == NULL || (cJSON_IsNumber(v) &&
					 v->valuedouble >= 0 &&
					 v->valuedouble <= 1),
			   "temperature out of [0, 1]: %s", out);
		FUZZ_CHECK(flags == 0 || flags == DIALECT_EXPECT_JSON,
			   "flags %u", flags);
		cJSON_Delete(r);
		free(out);
	}
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	int status;
	struct outcome o = OUTCOME_INIT;
	const char *h;
	size_t hlen;
	char *hdr, *body;

	if (mode & 1) {
		request(mode, &in);
		return 0;
	}
	status = FUZZ_STATUSES[fuzz_byte(&in) % FUZZ_NSTATUS];
	fuzz_headers(&in, &h, &hlen);
	hdr = h ? fuzz_copy(h, hlen) : NULL;
	body = mode & 0x40 ? NULL : fuzz_copy(in.p, in.n);
	dialect_anthropic_response(status, hdr, hlen, body, body ? in.n : 0,
				   mode & 0x80 ? DIALECT_EXPECT_JSON : 0,
				   FUZZ_NOW_MS, &o);
	fuzz_outcome_ok(&o, status);
	outcome_clear(&o);
	free(hdr);
	free(body);
	return 0;
}
