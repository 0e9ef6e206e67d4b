/* budget.c — the --max-cost reservations (see budget.h). */
#include "runner/sched/budget.h"

void budget_init(struct budget *b, double cap_usd, double spent_usd)
{
	/* 1 nano-dollar stands for a cap of zero being set. */
	b->cap_nusd = cap_usd < 0 ? 0 : (long long)(cap_usd * 1e9) + 1;
	atomic_init(&b->spent_nusd, (long long)(spent_usd * 1e9 + 0.5));
	atomic_init(&b->reserved_nusd, 0);
	atomic_init(&b->refused_nusd, 0);
	atomic_init(&b->hit, 0);
}

int budget_reserve(struct budget *b, double worst_usd, long long *held)
{
	long long need, sum;

	*held = 0;
	if (!b->cap_nusd)
		return 0;
	need = (long long)(worst_usd * 1e9) + 1;
	sum = atomic_fetch_add(&b->reserved_nusd, need) + need;
	if (atomic_load(&b->spent_nusd) + sum > b->cap_nusd) {
		long long none = 0;

		atomic_fetch_sub(&b->reserved_nusd, need);
		atomic_compare_exchange_strong(&b->refused_nusd, &none, need);
		atomic_store(&b->hit, 1);
		return -1;
	}
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
	atomic_fetch_add(&b->spent_nusd, (long long)(usd * 1e9 + 0.5));
}

double budget_spent_usd(struct budget *b)
{
	return (double)atomic_load(&b->spent_nusd) / 1e9;
}

double budget_refused_usd(struct budget *b)
{
	return (double)atomic_load(&b->refused_nusd) / 1e9;
}
