/* fuzz_openai_response.c — the `openai` dialect's reply reader
 * (runner/providers/dialect_openai_response.c, with dialect_error.c and
 * dialect_json.c under it) on any reply: the first input byte picks the
 * provider flavor and whether JSON was asked for, the second the HTTP
 * status; an "HTTP/" header block, when the rest starts with one, goes in
 * as the headers, and what follows is the body. The fast path (an index
 * of the body, no tree) must come to exactly what the tree path kept for
 * tests does, and the outcome must be what policy and the store can take
 * (fuzz_outcome_ok). */
#include <cjson/cJSON.h>

#include "runner/providers/dialect_openai_response.h"
#include "runner/providers/outcome.h"
#include "util/utf8.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	int status = FUZZ_STATUSES[fuzz_byte(&in) % FUZZ_NSTATUS];
	enum prov_flavor flavor = (enum prov_flavor)(mode % FLAVOR__COUNT);
	unsigned flags = mode & 0x80 ? DIALECT_EXPECT_JSON : 0;
	struct outcome a = OUTCOME_INIT, b = OUTCOME_INIT;
	const char *h;
	size_t hlen;
	char *hdr, *body;

	fuzz_headers(&in, &h, &hlen);
	hdr = h ? fuzz_copy(h, hlen) : NULL;
	/* mode bit 6: no body at all (NULL), as after a connection error */
	body = mode & 0x40 ? NULL : fuzz_copy(in.p, in.n);
	dialect_openai_response(status, hdr, hlen, body, body ? in.n : 0,
				flavor, flags, FUZZ_NOW_MS, &a);
	dialect_openai_response__slow(status, hdr, hlen, body,
				      body ? in.n : 0, flavor, flags,
				      FUZZ_NOW_MS, &b);
	fuzz_outcome_ok(&a, status);
	fuzz_outcome_same(&a, &b);
	outcome_clear(&a);
	outcome_clear(&b);
	free(hdr);
	free(body);
	return 0;
}
