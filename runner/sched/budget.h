/* budget.h — the spend cap (--max-cost). A request is sent only if its
 * worst case (estimated input plus its max_tokens, at today's prices)
 * fits what is left once the spend so far and the worst cases of the
 * requests in flight are counted; so spend never passes the cap by more
 * than what was already in flight. Amounts are kept in nano-dollars, and
 * every amount and sum saturates at INT64_MAX (about $9.2e9) instead of
 * wrapping: a cost that is inf, nan or absurd (a provider reporting 1e15
 * tokens) pins the spend high and stops the run, never makes it negative.
 * Thread-safe (atomics); budget_init before the threads start. */
#ifndef NIGHTSHIFT_BUDGET_H
#define NIGHTSHIFT_BUDGET_H

#include <stdatomic.h>

/* The largest cap --max-cost takes: 1e18 nano-dollars, a ninth of what an
 * int64 holds, so the cap plus what is held in flight never nears the
 * saturation point. */
#define BUDGET_MAX_USD 1e9

struct budget {
	long long cap_nusd;	    /* 0: no cap */
	atomic_llong spent_nusd;    /* what the cap counts as spent */
	atomic_llong reserved_nusd; /* worst cases of requests in flight;
				       never above cap_nusd */
	atomic_llong refused_nusd;  /* worst case of the first request the
				       cap could not take */
	atomic_int hit;		    /* the cap refused a request */
};

/* budget_init: a cap of cap_usd (< 0: none; above BUDGET_MAX_USD: taken
 * as BUDGET_MAX_USD) of which spent_usd is spent already. */
void budget_init(struct budget *b, double cap_usd, double spent_usd);
/* budget_reserve: hold worst_usd for a request about to be sent. Returns
 * 0 with *held set (pass it to budget_release), or -1 when the cap
 * cannot take it (then hit is set and *held is 0). With no cap, 0 and
 * nothing held. */
int budget_reserve(struct budget *b, double worst_usd, long long *held);
/* budget_release: give back what budget_reserve held; *held becomes 0. */
void budget_release(struct budget *b, long long *held);
/* budget_spend: a request cost usd (counted whether there is a cap or
 * not, so the figures read the same). Call it before budget_release of
 * the request's hold, so that the cost is never out of both sums. */
void budget_spend(struct budget *b, double usd);
/* budget_spent_usd, budget_refused_usd: the figures for messages (never
 * negative; at most INT64_MAX nano-dollars). */
double budget_spent_usd(struct budget *b);
double budget_refused_usd(struct budget *b);

#endif
