/* fuzz_openai_request.c — the `openai` dialect's request builder
 * (dialect_openai_request.c) on any queued body: the first input byte
 * picks the provider's quirks (JSON mode, thinking off, parameters to
 * drop) and whether a model replaces the job's. The fast path (the body
 * edited as text through its index) must refuse what the tree path kept
 * for tests refuses, and otherwise build the same request: the same
 * text, or one that holds the same values (members in any order).
 * Either must be JSON without a raw control byte but white space, since
 * it goes on the wire. */
#include <cjson/cJSON.h>

#include "runner/providers/dialect_openai_request.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	static char *const drop[] = {"temperature", "seed", "model",
				     "messages"};
	struct dialect_openai_quirks q = {0};
	const char *model = mode & 0x40 ? "m-2" : NULL;
	unsigned ff = 0, fs = 0;
	char *body = fuzz_copy(in.p, in.n), *fast, *slow;

	q.json_mode = (enum dialect_json_mode)(mode % 3);
	q.thinking_off = (mode >> 2) & 1;
	if (mode & 0x08) {
		q.drop_params = drop;
		q.ndrop = sizeof(drop) / sizeof(drop[0]);
	}
	fast = dialect_openai_request(body, in.n, model, &q, &ff);
	slow = dialect_openai_request__slow(body, in.n, model, &q, &fs);
	FUZZ_CHECK((fast == NULL) == (slow == NULL), "fast %s, slow %s",
		   fast ? fast : "NULL", slow ? slow : "NULL");
	FUZZ_CHECK(ff == fs, "flags %u vs %u", ff, fs);
	if (fast) {
		cJSON *a = cJSON_ParseWithOpts(fast, NULL, 1);
		cJSON *b = cJSON_ParseWithOpts(slow, NULL, 1);

		for (const char *p = fast; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t' ||
				       *p == '\n' || *p == '\r',
				   "control byte in %s", fast);
		FUZZ_CHECK(a != NULL, "fast request is not JSON: %s", fast);
		FUZZ_CHECK(b != NULL, "slow request is not JSON: %s", slow);
		FUZZ_CHECK(strcmp(fast, slow) == 0 || fuzz_json_same(a, b),
			   "fast %s\n slow %s", fast, slow);
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	free(fast);
	free(slow);
	free(body);
	return 0;
}
