/* budget.h — the spend cap (--max-cost). A request is sent only if its
 * worst case (estimated input plus its max_tokens, at today's prices)
 * fits what is left once the spend so far and the worst cases of the
 * requests in flight are counted; so spend never passes the cap by more
 * than what was already in flight. Amounts are kept in nano-dollars.
 * Thread-safe (atomics); budget_init before the threads start. */
#ifndef NIGHTSHIFT_BUDGET_H
#define NIGHTSHIFT_BUDGET_H

#include <stdatomic.h>

struct budget {
	long long cap_nusd;	    /* 0: no cap */
	atomic_llong spent_nusd;    /* what the cap counts as spent */
	atomic_llong reserved_nusd; /* worst cases of requests in flight */
	atomic_llong refused_nusd;  /* worst case of the first request the
				       cap could not take */
	atomic_int hit;		    /* the cap refused a request */
};

/* budget_init: a cap of cap_usd (< 0: none) of which spent_usd is spent
 * already. */
void budget_init(struct budget *b, double cap_usd, double spent_usd);
/* budget_reserve: hold worst_usd for a request about to be sent. Returns
 * 0 with *held set (pass it to budget_release), or -1 when the cap
 * cannot take it (then hit is set and *held is 0). With no cap, 0 and
 * nothing held. */
int budget_reserve(struct budget *b, double worst_usd, long long *held);
/* budget_release: give back what budget_reserve held; *held becomes 0. */
void budget_release(struct budget *b, long long *held);
/* budget_spend: a request cost usd (counted whether there is a cap or
 * not, so the figures read the same). */
void budget_spend(struct budget *b, double usd);
/* budget_spent_usd, budget_refused_usd: the figures for messages. */
double budget_spent_usd(struct budget *b);
double budget_refused_usd(struct budget *b);

#endif
