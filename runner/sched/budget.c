/* budget.c — the --max-cost reservations (see budget.h). */
#include "runner/sched/budget.h"

#include "util/sat.h"

void budget_init(struct budget *b, double cap_usd, double spent_usd)
{
	if (cap_usd > BUDGET_MAX_USD)
		cap_usd = BUDGET_MAX_USD;
	/* 1 nano-dollar stands for a cap of zero being set. */
	b->cap_nusd = cap_usd < 0 ? 0 : sat_of_double(cap_usd * 1e9) + 1;
	atomic_init(&b->spent_nusd, sat_of_double(spent_usd * 1e9));
	atomic_init(&b->reserved_nusd, 0);
	atomic_init(&b->refused_nusd, 0);
	atomic_init(&b->hit, 0);
}

/* fits: need more on top of spent and reserved stays within cap. Written
 * as room left so that nothing is summed past cap. */
static int fits(long long cap, long long spent, long long reserved,
		long long need)
{
	if (spent >= cap)
		return 0;
	cap -= spent;
	if (reserved >= cap)
		return 0;
	return need <= cap - reserved;
}

int budget_reserve(struct budget *b, double worst_usd, long long *held)
{
	/* rounded up, and never 0: a hold of 0 reads as none */
	long long need = sat_add(sat_of_double(worst_usd * 1e9), 1);
	long long r = atomic_load(&b->reserved_nusd);

	*held = 0;
	if (!b->cap_nusd)
		return 0;
	/* Add only what fits, so the sum never passes the cap (and cannot
	 * wrap); a lost race reads the sums again. */
	do {
		if (!fits(b->cap_nusd, atomic_load(&b->spent_nusd), r, need)) {
			long long none = 0;

			atomic_compare_exchange_strong(&b->refused_nusd, &none,
						       need);
			atomic_store(&b->hit, 1);
			return -1;
		}
	} while (!atomic_compare_exchange_weak(&b->reserved_nusd, &r,
					       r + need));
	*held = need;
	return 0;
}

void budget_release(struct budget *b, long long *held)
{
	if (*held)
		atomic_fetch_sub(&b->reserved_nusd, *held);
	*held = 0;
}

void budget_spend(struct budget *b, double usd)
{
	long long add = sat_of_double(usd * 1e9);
	long long s = atomic_load(&b->spent_nusd);

	while (!atomic_compare_exchange_weak(&b->spent_nusd, &s,
					     sat_add(s, add)))
		;
}

double budget_spent_usd(struct budget *b)
{
	return (double)atomic_load(&b->spent_nusd) / 1e9;
}

double budget_refused_usd(struct budget *b)
{
	return (double)atomic_load(&b->refused_nusd) / 1e9;
}
