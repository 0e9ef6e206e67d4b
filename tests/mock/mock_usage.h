/* mock_usage.h — the usage member of the mock's replies, with the cached,
 * cache-write and reasoning details real providers report.
 * Thread-safe (pure functions; no globals). */
#ifndef MOCK_USAGE_H
#define MOCK_USAGE_H

#include "tests/mock/mock_reply.h"
#include "tests/mock/mock_util.h"

/* mock_usage_put appends ",\"usage\":{...}" to b for a reply to c of kind
 * k (the usage kinds: nousage, negusage, hugeusage; any other kind gets
 * the real counts) whose prompt is in tokens and content out tokens, and
 * notes what it reported in r->usage. */
void mock_usage_put(struct mock_sb *b, const struct mock_call *c, long long in,
		    long long out, enum mock_kind k, struct mock_reply *r);

#endif
