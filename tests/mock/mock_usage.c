/* mock_usage.c — the usage member of the mock's replies: the counts of
 * mock_content, split into the details real providers report (OpenAI's
 * prompt_tokens_details.cached_tokens and
 * completion_tokens_details.reasoning_tokens, included in their totals;
 * Anthropic's cache_read_input_tokens and cache_creation_input_tokens,
 * beside input_tokens), or broken on purpose (the usage fault kinds).
 * What a reply reported is noted for the request log, so a test can sum
 * what the mock served. */
#include "tests/mock/mock_usage.h"

/* share: n times f, rounded down (the mock's usage details). */
static long long share(long long n, double f)
{
	return (long long)((double)n * f);
}

/* mock_usage_put appends the reply's usage member as kind k has it: the real
 * counts, with the cached, cache-write and reasoning details the call
 * asks for (noted in r->usage for the log); none at all (nousage); each
 * count negative (negusage); or 1e15 of each, the most a sane reader
 * takes for a count (hugeusage). in is the whole prompt, out the
 * content's tokens. */
void mock_usage_put(struct mock_sb *b, const struct mock_call *c, long long in,
		    long long out, enum mock_kind k, struct mock_reply *r)
{
	bool anthropic = c->dialect == MOCK_ANTHROPIC;
	struct mock_usage u = {.set = true};

	if (k == MOCK_K_NOUSAGE)
		return;
	if (k == MOCK_K_NEGUSAGE) {
		in = -in - 1;
		out = -out - 1;
		u.set = false;
	} else if (k == MOCK_K_HUGEUSAGE) {
		in = out = 1000000000000000LL;
		u.set = false;
	} else {
		u.cached = share(in, c->cached);
		/* OpenAI reports no cache writes; Anthropic no reasoning
		 * apart (thinking is in output_tokens). */
		u.cache_write = anthropic ? share(in, c->cache_write) : 0;
		if (u.cached + u.cache_write > in)
			u.cache_write = in - u.cached;
		u.reasoning = anthropic ? 0 : share(out, c->reasoning);
		u.in = in - u.cached - u.cache_write;
		u.out = out;
		r->usage = u;
	}
	if (anthropic) {
		/* input_tokens is the uncached part; the cache's are
		 * counted apart. */
		mock_sb_raw(b, ",\"usage\":{\"input_tokens\":");
		mock_sb_long(b, u.set ? u.in : in);
		mock_sb_raw(b, ",\"output_tokens\":");
		mock_sb_long(b, out);
		if (u.cached || u.cache_write) {
			mock_sb_raw(b, ",\"cache_read_input_tokens\":");
			mock_sb_long(b, u.cached);
			mock_sb_raw(b, ",\"cache_creation_input_tokens\":");
			mock_sb_long(b, u.cache_write);
		}
		mock_sb_raw(b, "}");
		return;
	}
	/* OpenAI's counts include their details: prompt_tokens the cached
	 * ones, completion_tokens the reasoning ones. */
	mock_sb_raw(b, ",\"usage\":{\"prompt_tokens\":");
	mock_sb_long(b, in);
	mock_sb_raw(b, ",\"completion_tokens\":");
	mock_sb_long(b, out + u.reasoning);
	mock_sb_raw(b, ",\"total_tokens\":");
	mock_sb_long(b, in + out + u.reasoning);
	if (u.cached) {
		mock_sb_raw(b,
			    ",\"prompt_tokens_details\":{\"cached_tokens\":");
		mock_sb_long(b, u.cached);
		mock_sb_raw(b, "}");
	}
	if (u.reasoning) {
		mock_sb_raw(b, ",\"completion_tokens_details\":"
			       "{\"reasoning_tokens\":");
		mock_sb_long(b, u.reasoning);
		mock_sb_raw(b, "}");
	}
	mock_sb_raw(b, "}");
}
