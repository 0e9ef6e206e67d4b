/* mock_fault.h — which fault kind each request gets: by body substring,
 * the first N tries of each distinct body, a fixed schedule, seeded random
 * rates, and a real requests-per-window limit, first match winning in
 * that order. Thread-safe (a mutex guards the tables; counters atomic). */
#ifndef MOCK_FAULT_H
#define MOCK_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "tests/mock/mock_reply.h"

struct mock_fault_match {
	char *substr; /* owned by the config */
	enum mock_kind kind;
	long times; /* only the first `times` matching requests; 0: all */
};

struct mock_fault_rate {
	enum mock_kind kind;
	double rate;
};

/* The selection rules; filled by option parsing, read-only afterwards. */
struct mock_fault_cfg {
	struct mock_fault_match *match;
	size_t nmatch;
	long fail_first; /* 0: off */
	enum mock_kind fail_first_kind;
	enum mock_kind *schedule;
	size_t nschedule;
	struct mock_fault_rate *rates;
	size_t nrates;
	long rpm; /* 0: no limit */
	long window_ms;
	int retry_after_s;
	uint64_t seed;
};

struct mock_fault;

/* mock_fault_new returns new selection state over cfg, which is borrowed
 * and must outlive it; freed with mock_fault_free. */
struct mock_fault *mock_fault_new(const struct mock_fault_cfg *cfg);
void mock_fault_free(struct mock_fault *f);

/* mock_fault_pick chooses the kind for one request whose body (len bytes,
 * NUL-terminated) hashes to hash. *seq is set to the request's index
 * among picked requests (0, 1, ...: the schedule position, and the key
 * of its random draws); *retry_after_s to the Retry-After to send. */
enum mock_kind mock_fault_pick(struct mock_fault *f, const char *body,
			       size_t len, uint64_t hash, uint64_t *seq,
			       int *retry_after_s);

/* mock_fault_pick_line chooses the kind for one batch line whose body
 * (len bytes) hashes to hash: --fault-match, --fail-first (tries counted
 * with the synchronous ones, by body) and --fault, drawn from a sequence
 * of their own; the schedule and the rate limit do not apply to lines. */
enum mock_kind mock_fault_pick_line(struct mock_fault *f, const char *body,
				    size_t len, uint64_t hash);

/* mock_fault_rand returns a pseudo-random value for request seq and
 * stream (each use its own), fixed by the seed. */
uint64_t mock_fault_rand(const struct mock_fault *f, uint64_t seq,
			 unsigned stream);

#endif
