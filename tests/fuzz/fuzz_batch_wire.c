/* fuzz_batch_wire.c — what the batch APIs send back, read
 * (runner/providers/batch_wire_read.c): result lines of output and error
 * files, batch objects, list pages, the uploaded file's id, and our own
 * custom_ids read back. First input byte: bit 0 the API (OpenAI or
 * Anthropic), the next bits which reader; the rest is the text.
 * Checks, besides crashes and reads past the text: a result line's
 * custom_id and body point into the line, the body is one JSON value,
 * the message is clean text; a REPLY line goes on to the sync
 * dialect's reply reader as the lane passes it, and its outcome must be
 * one policy can take; a batch object's counts are >= 0 and its strings
 * non-empty; a custom_id read back writes back to the same text. */
#include <cjson/cJSON.h>
#include <inttypes.h>

#include "runner/json/jsonidx.h"
#include "runner/providers/batch_wire.h"
#include "runner/providers/dialect_anthropic.h"
#include "runner/providers/dialect_openai_response.h"
#include "runner/providers/outcome.h"
#include "util/utf8.h"
#include "tests/fuzz/fuzz.h"

static void line(enum batch_api api, const char *s, size_t n)
{
	struct jsonidx x = {0};
	struct batch_line l;
	const char *why = NULL;

	/* twice with the same scratch index, as the lane reads a file */
	for (int pass = 0; pass < 2; pass++) {
		if (batch_line_parse(api, &x, s, n, &l, &why) != 0) {
			FUZZ_CHECK(why && why[0], "refused without a reason");
			continue;
		}
		FUZZ_CHECK(l.custom_id >= s && l.custom_id + l.custom_id_len < s + n,
			   "custom_id outside the line");
		FUZZ_CHECK(l.custom_id_len > 0, "empty custom_id");
		/* the code is the provider's, raw: the lane scrubs it
		 * (outcome_set_error) */
		FUZZ_CHECK(memchr(l.code, '\0', sizeof(l.code)), "code");
		FUZZ_CHECK(memchr(l.message, '\0', sizeof(l.message)) &&
			       (l.message[0] == '\0' || fuzz_text_ok(l.message)),
			   "message: %s", l.message);
		FUZZ_CHECK(memchr(l.request_id, '\0', sizeof(l.request_id)) &&
			       fuzz_text_ok(l.request_id),
			   "request_id: %s", l.request_id);
		if (l.kind != BATCH_LINE_REPLY)
			continue;
		FUZZ_CHECK(l.status >= 100 && l.status <= 599, "status %d",
			   l.status);
		if (l.body) {
			struct jsonidx b;
			size_t end;
			struct outcome o = OUTCOME_INIT;

			FUZZ_CHECK(l.body >= s && l.body + l.body_len <= s + n,
				   "body outside the line");
			FUZZ_CHECK(jsonidx_parse(&b, l.body, l.body_len, &end) == 0 &&
				       end == l.body_len,
				   "body is not one JSON value");
			jsonidx_free(&b);
			if (api == BATCH_API_ANTHROPIC)
				dialect_anthropic_response(
				    l.status, NULL, 0, l.body, l.body_len, 0,
				    FUZZ_NOW_MS, &o);
			else
				dialect_openai_response(
				    l.status, NULL, 0, l.body, l.body_len,
				    FLAVOR_OPENAI, 0, FUZZ_NOW_MS, &o);
			fuzz_outcome_ok(&o, l.status);
			outcome_clear(&o);
		}
	}
	jsonidx_free(&x);
}

static void info_ok(const struct batch_info *b)
{
	FUZZ_CHECK(b->id && b->id[0], "no id");
	FUZZ_CHECK(b->status >= BATCH_ST_VALIDATING &&
		       b->status <= BATCH_ST_ENDED,
		   "status %d", (int)b->status);
	FUZZ_CHECK(b->total >= 0 && b->done_ok >= 0 && b->errored >= 0 &&
		       b->expired >= 0 && b->cancelled >= 0 &&
		       b->processing >= 0,
		   "counts %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
		   " %" PRId64 " %" PRId64,
		   b->total, b->done_ok, b->errored, b->expired, b->cancelled,
		   b->processing);
	FUZZ_CHECK(b->created_ms >= 0 && b->ended_ms >= 0 &&
		       b->expires_ms >= 0,
		   "times");
	FUZZ_CHECK(!b->error || fuzz_text_ok(b->error), "error: %s", b->error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned mode = fuzz_byte(&in);
	enum batch_api api = mode & 1 ? BATCH_API_ANTHROPIC : BATCH_API_OPENAI;
	char *s = fuzz_copy(in.p, in.n);

	switch ((mode >> 1) % 5) {
	case 0:
	case 1: /* result lines are what the lane reads most */
		line(api, s, in.n);
		break;
	case 2: {
		struct batch_info b;

		if (batch_info_parse(api, s, in.n, &b) == 0)
			info_ok(&b);
		else
			FUZZ_CHECK(b.id == NULL, "refused, yet an id");
		batch_info_clear(&b);
		break;
	}
	case 3: {
		struct batch_info *items;
		size_t n;
		int more;
		char *last;

		if (batch_list_parse(api, s, in.n, &items, &n, &more, &last) ==
		    0)
			for (size_t i = 0; i < n; i++)
				info_ok(&items[i]);
		else
			FUZZ_CHECK(items == NULL && n == 0 && last == NULL,
				   "refused, yet items");
		batch_list_free(items, n);
		free(last);
		break;
	}
	default: {
		char *id = batch_file_id_parse(s, in.n), out[BATCH_CUSTOM_ID_MAX + 1];
		int64_t bt, job;

		FUZZ_CHECK(id == NULL || id[0], "empty file id");
		free(id);
		/* the text as one of our custom_ids, tag "ns1" */
		if (batch_custom_id_parse(s, in.n, "ns1", &bt, &job) == 0) {
			int k = batch_custom_id(out, sizeof(out), "ns1", bt,
						job);

			FUZZ_CHECK(k >= 0 && (size_t)k == in.n &&
				       memcmp(out, s, in.n) == 0,
				   "custom_id read back as %s", out);
		}
		break;
	}
	}
	free(s);
	return 0;
}
