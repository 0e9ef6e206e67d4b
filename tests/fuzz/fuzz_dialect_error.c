/* fuzz_dialect_error.c — the error parser both dialects share
 * (dialect_error.c: the error object in any shape providers send, its
 * class, message and announced pause) and the JSON-mode content check
 * (dialect_json.c) on any reply. The first input byte picks the flavor,
 * the second the HTTP status; an "HTTP/" header block goes in as the
 * headers; the rest is the body, read as a tree when it is JSON (as the
 * dialects do) or as text. Checks: an error reply never comes out OK; a
 * body the tree-free reader says holds an error is one cJSON reads; the
 * outcome is what policy and the store can take (fuzz_outcome_ok); a
 * content the JSON-mode check takes is a JSON object. */
#include <cjson/cJSON.h>

#include "runner/json/jsonutil.h"
#include "runner/providers/dialect_error.h"
#include "runner/providers/dialect_json.h"
#include "runner/providers/outcome.h"
#include "util/utf8.h"
#include "tests/fuzz/fuzz.h"

static void json_mode(const char *text, size_t n)
{
	char *s = fuzz_cstr(text, n), *inner = NULL;

	if (dialect_json_text_ok(s, &inner)) {
		const char *t = inner ? inner : s;
		cJSON *v = cJSON_Parse(t);

		FUZZ_CHECK(cJSON_IsObject(v), "taken as a JSON object: %s", t);
		cJSON_Delete(v);
	} else {
		FUZZ_CHECK(inner == NULL, "refused, yet unwrapped");
	}
	free(inner);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	int status = FUZZ_STATUSES[fuzz_byte(&in) % FUZZ_NSTATUS];
	enum prov_flavor flavor = (enum prov_flavor)(mode % FLAVOR__COUNT);
	struct outcome o = OUTCOME_INIT;
	const char *h;
	size_t hlen;
	char *hdr, *body;
	cJSON *root;

	fuzz_headers(&in, &h, &hlen);
	hdr = h ? fuzz_copy(h, hlen) : NULL;
	body = fuzz_copy(in.p, in.n);
	root = json_parse_exact(body, in.n);
	if (dialect_error_begin(status, &o) == 0) {
		if (dialect_error_check(status, hdr, hlen, body, in.n, root,
					flavor, FUZZ_NOW_MS, &o) == 0) {
			FUZZ_CHECK(status >= 200 && status < 300 && root,
				   "status %d left to the caller", status);
			/* a 2xx the caller reads: if it holds an error, it
			 * is one (else o is the caller's to fill) */
			if (dialect_error_found(root)) {
				outcome_clear(&o);
				dialect_error_begin(status, &o);
				dialect_error_outcome(status, hdr, hlen, body,
						      in.n, root, flavor,
						      FUZZ_NOW_MS, &o);
				FUZZ_CHECK(o.cls != OUTCOME_OK,
					   "an error found is OK");
				fuzz_outcome_ok(&o, status);
			}
		} else {
			FUZZ_CHECK(o.cls != OUTCOME_OK, "status %d settled OK",
				   status);
			fuzz_outcome_ok(&o, status);
		}
	} else {
		fuzz_outcome_ok(&o, status);
	}
	outcome_clear(&o);
	json_mode((const char *)in.p, in.n);
	cJSON_Delete(root);
	free(hdr);
	free(body);
	return 0;
}
