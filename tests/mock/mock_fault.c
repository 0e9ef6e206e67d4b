/* mock_fault.c — fault selection for the mock provider. Every rule is
 * deterministic so a test can count requests exactly: random draws come
 * from (seed, request index) rather than a shared generator, fail-first
 * counts tries per body hash, and the rate limit is a sliding window over
 * the times of the requests it accepted. */
#include "tests/mock/mock_fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/mock/mock_util.h"

struct slot {
	uint64_t hash; /* 0: empty */
	long count;
};

struct mock_fault {
	const struct mock_fault_cfg *cfg;
	atomic_uint_fast64_t next_seq;
	atomic_uint_fast64_t next_line; /* batch lines' own sequence */
	atomic_long *matched; /* per --fault-match rule: requests it took */
	pthread_mutex_t mu; /* guards everything below */
	struct slot *slots; /* fail-first tries per body, open addressing */
	size_t nslots, used;
	int64_t *ring; /* accept times of the last `cap` accepted requests */
	size_t cap, head, count;
};

struct mock_fault *mock_fault_new(const struct mock_fault_cfg *cfg)
{
	struct mock_fault *f = mock_xcalloc(1, sizeof(*f));

	f->cfg = cfg;
	atomic_init(&f->next_seq, 0);
	atomic_init(&f->next_line, 0);
	pthread_mutex_init(&f->mu, NULL);
	f->matched = mock_xcalloc(cfg->nmatch + 1, sizeof(*f->matched));
	for (size_t i = 0; i < cfg->nmatch; i++)
		atomic_init(&f->matched[i], 0);
	if (cfg->fail_first > 0) {
		f->nslots = 1024;
		f->slots = mock_xcalloc(f->nslots, sizeof(*f->slots));
	}
	if (cfg->rpm > 0) {
		long long cap = (long long)cfg->rpm * cfg->window_ms / 60000;

		f->cap = cap < 1 ? 1 : (size_t)cap;
		f->ring = mock_xcalloc(f->cap, sizeof(*f->ring));
	}
	return f;
}

void mock_fault_free(struct mock_fault *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f->slots);
	free(f->ring);
	free(f->matched);
	free(f);
}

uint64_t mock_fault_rand(const struct mock_fault *f, uint64_t seq,
			 unsigned stream)
{
	return mock_mix64(
	    mock_mix64(f->cfg->seed * 0x9e3779b97f4a7c15ULL + stream) ^ seq);
}

/* contains reports whether needle occurs in the first len bytes of hay;
 * bodies may hold NULs, so strstr would stop short. */
static bool contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= len; i++) {
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return true;
	}
	return false;
}

static struct slot *find_slot(struct slot *slots, size_t nslots, uint64_t hash)
{
	size_t i = (size_t)(mock_mix64(hash) & (nslots - 1));

	while (slots[i].hash != 0 && slots[i].hash != hash)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* tries_before returns how many times this body was seen before, and
 * counts this time. Called with f->mu held. */
static long tries_before(struct mock_fault *f, uint64_t hash)
{
	struct slot *s;
	long n;

	if (hash == 0)
		hash = 1; /* 0 marks an empty slot */
	if ((f->used + 1) * 2 > f->nslots) {
		size_t nn = f->nslots * 2;
		struct slot *ns = mock_xcalloc(nn, sizeof(*ns));

		for (size_t i = 0; i < f->nslots; i++) {
			if (f->slots[i].hash != 0)
				*find_slot(ns, nn, f->slots[i].hash) =
				    f->slots[i];
		}
		free(f->slots);
		f->slots = ns;
		f->nslots = nn;
	}
	s = find_slot(f->slots, f->nslots, hash);
	if (s->hash == 0) {
		s->hash = hash;
		f->used++;
	}
	n = s->count;
	if (s->count < f->cfg->fail_first)
		s->count++;
	return n;
}

/* admit applies the window limit; on refusal sets *wait_ms until a slot
 * frees. Called with f->mu held. */
static bool admit(struct mock_fault *f, int64_t now, int64_t *wait_ms)
{
	if (f->count < f->cap) {
		f->ring[(f->head + f->count) % f->cap] = now;
		f->count++;
		return true;
	}
	if (now - f->ring[f->head] >= f->cfg->window_ms) {
		f->ring[f->head] = now;
		f->head = (f->head + 1) % f->cap;
		return true;
	}
	*wait_ms = f->ring[f->head] + f->cfg->window_ms - now;
	return false;
}

/* per_body applies the rules that look at the body and the draws: match,
 * fail-first and the rates, keyed by k (and the schedule, unless
 * !scheduled). Returns true with *kind set when one of them matched. */
static bool per_body(struct mock_fault *f, const char *body, size_t len,
		     uint64_t hash, uint64_t k, bool scheduled,
		     enum mock_kind *kind)
{
	const struct mock_fault_cfg *cfg = f->cfg;

	for (size_t i = 0; i < cfg->nmatch; i++) {
		if (!contains(body, len, cfg->match[i].substr))
			continue;
		/* A rule with a count takes only its first matches; the
		 * rest go on down the rules (a job's first tries fail in
		 * the scripted way, then it is served). */
		if (cfg->match[i].times > 0 &&
		    atomic_fetch_add(&f->matched[i], 1) >=
			cfg->match[i].times)
			continue;
		*kind = cfg->match[i].kind;
		return true;
	}
	if (cfg->fail_first > 0) {
		long before;

		pthread_mutex_lock(&f->mu);
		before = tries_before(f, hash);
		pthread_mutex_unlock(&f->mu);
		if (before < cfg->fail_first) {
			*kind = cfg->fail_first_kind;
			return true;
		}
	}
	if (scheduled && k < cfg->nschedule) {
		*kind = cfg->schedule[k];
		return true;
	}
	if (cfg->nrates > 0) {
		double u = mock_unit(mock_fault_rand(f, k, 1)), acc = 0;

		for (size_t i = 0; i < cfg->nrates; i++) {
			acc += cfg->rates[i].rate;
			if (u < acc) {
				*kind = cfg->rates[i].kind;
				return true;
			}
		}
	}
	return false;
}

enum mock_kind mock_fault_pick_line(struct mock_fault *f, const char *body,
				    size_t len, uint64_t hash)
{
	/* Lines draw from a stream of their own, so a batch's size never
	 * shifts the synchronous requests' schedule or draws. */
	uint64_t k = atomic_fetch_add(&f->next_line, 1) | (1ULL << 63);
	enum mock_kind kind = MOCK_K_OK;

	per_body(f, body, len, hash, k, false, &kind);
	return kind;
}

enum mock_kind mock_fault_pick(struct mock_fault *f, const char *body,
			       size_t len, uint64_t hash, uint64_t *seq,
			       int *retry_after_s)
{
	const struct mock_fault_cfg *cfg = f->cfg;
	uint64_t k = atomic_fetch_add(&f->next_seq, 1);
	enum mock_kind kind = MOCK_K_OK;
	int64_t wait_ms = 0;
	bool limited = false;

	*seq = k;
	*retry_after_s = cfg->retry_after_s;
	if (per_body(f, body, len, hash, k, true, &kind))
		return kind;
	if (cfg->rpm > 0) {
		pthread_mutex_lock(&f->mu);
		limited = !admit(f, mock_mono_ms(), &wait_ms);
		pthread_mutex_unlock(&f->mu);
		if (limited) {
			kind = MOCK_K_RPM;
			*retry_after_s = (int)((wait_ms + 999) / 1000);
			if (*retry_after_s < 1)
				*retry_after_s = 1;
		}
	}
	return kind;
}
