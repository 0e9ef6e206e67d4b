/* plan_out.c — a plan as `nightshift plan` shows it: the rows per
 * provider, model and lane; each provider's time at its limits (a batch
 * lane: its turnaround); the total against the deadline and the dearest
 * plan; as text or one JSON object (see plan.h). */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "runner/cli.h"
#include "runner/plan.h"
#include "util/timeparse.h"

/* need_s: how long provider p's share of the plan takes at its limits:
 * the slowest of its in-flight cap (round trips), rpm and tpm. *by says
 * which. */
static double need_s(const struct plan *pl, size_t p, const char **by)
{
	const struct prov *pv = &pl->cfg->provs[p];
	long long jobs = 0;
	int64_t tokens = 0;
	double rtt = pl->rtt_ms[p] > 0 ? pl->rtt_ms[p] : PLAN_RTT_MS;
	double t, best;

	for (size_t m = 0; m < pv->nmodels; m++) {
		const struct row *r = &pl->rows[2 * (pl->off[p] + m)];

		jobs += r->jobs;
		tokens += r->in + r->out;
	}
	best = (double)jobs * rtt / 1000 /
	       (pv->max_inflight > 0 ? pv->max_inflight : 1);
	*by = "in flight";
	if (pv->rpm > 0 && (t = (double)jobs * 60 / pv->rpm) > best) {
		best = t;
		*by = "rpm";
	}
	if (pv->tpm > 0 && (t = (double)tokens * 60 / (double)pv->tpm) > best) {
		best = t;
		*by = "tpm";
	}
	return best;
}

/* batch_jobs: jobs the plan puts in provider p's batch lane. */
static long long batch_jobs(const struct plan *pl, size_t p)
{
	long long n = 0;

	for (size_t m = 0; m < pl->cfg->provs[p].nmodels; m++)
		n += pl->rows[2 * (pl->off[p] + m) + 1].jobs;
	return n;
}

static const char *const LANES[] = {"auto", "sync", "batch"};

/* each_row: fn for every row that takes jobs, in provider, model, lane
 * order. */
static void each_row(const struct plan *pl,
		     void (*fn)(const struct plan *pl, size_t p, size_t m,
				int lane, const struct row *r, void *arg),
		     void *arg)
{
	for (size_t p = 0; p < pl->cfg->nprovs; p++)
		for (size_t m = 0; m < pl->cfg->provs[p].nmodels; m++)
			for (int ln = 0; ln < 2; ln++) {
				const struct row *r =
					&pl->rows[2 * (pl->off[p] + m) + ln];

				if (r->jobs)
					fn(pl, p, m, ln, r, arg);
			}
}

static void row_text(const struct plan *pl, size_t p, size_t m, int lane,
		     const struct row *r, void *arg)
{
	(void)arg;
	printf("%-12s %-24s %-5s %8lld %12lld %12lld %12.6f\n",
	       pl->cfg->provs[p].name, pl->cfg->provs[p].models[m].name,
	       lane ? "batch" : "sync", r->jobs, (long long)r->in,
	       (long long)r->out, r->usd);
}

static void row_json(const struct plan *pl, size_t p, size_t m, int lane,
		     const struct row *r, void *arg)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "provider", pl->cfg->provs[p].name);
	cJSON_AddStringToObject(x, "model", pl->cfg->provs[p].models[m].name);
	cJSON_AddStringToObject(x, "lane", lane ? "batch" : "sync");
	cJSON_AddNumberToObject(x, "jobs", (double)r->jobs);
	cJSON_AddNumberToObject(x, "input_tokens", (double)r->in);
	cJSON_AddNumberToObject(x, "output_tokens", (double)r->out);
	cJSON_AddNumberToObject(x, "cost_usd", r->usd);
	cJSON_AddItemToArray(arg, x);
}

/* hms: a time needed, rounded up to the second. */
static void hms(double s, char *out, size_t n)
{
	tp_hms(out, n, (long long)(s + 0.999));
}

void plan_print_text(const struct plan *pl, const char *db)
{
	const struct config *cfg = pl->cfg;
	double total_s = 0, avail = pl->avail_s;
	char t[32];

	printf("plan: %lld jobs%s%s%s, --lane %s\n",
	       pl->jobs + pl->parked + pl->unroutable, db ? " in " : "",
	       db ? db : "", pl->file ? (db ? " and FILE" : " in FILE") : "",
	       LANES[pl->run_lane]);
	printf("%-12s %-24s %-5s %8s %12s %12s %12s\n", "provider", "model",
	       "lane", "jobs", "in tokens", "out tokens", "est. cost");
	each_row(pl, row_text, NULL);
	for (size_t p = 0; p < cfg->nprovs; p++) {
		const char *by;
		double s = need_s(pl, p, &by);

		if (s > 0) {
			hms(s, t, sizeof(t));
			printf("time at %s's limits: %s (%s; round trip %.0f "
			       "ms%s)\n",
			       cfg->provs[p].name, t, by,
			       pl->rtt_ms[p] > 0 ? pl->rtt_ms[p] : PLAN_RTT_MS,
			       pl->rtt_ms[p] > 0 ? ", learned" : ", assumed");
		}
		if (batch_jobs(pl, p)) {
			double b = (double)pl->turn_ms[p] / 1000;

			hms(b, t, sizeof(t));
			printf("time in %s's batch lane: %s (%s)\n",
			       cfg->provs[p].name, t,
			       pl->turn_learned[p] ? "its turnaround, learned"
						   : "its window; no "
						     "turnaround learned "
						     "yet");
			if (b > s)
				s = b;
		}
		if (s > total_s)
			total_s = s;
	}
	hms(total_s, t, sizeof(t));
	printf("total: %lld jobs, $%.6f, %s", pl->jobs, pl->usd, t);
	if (avail >= 0) {
		char a[32];

		hms(avail > 0 ? avail : 0, a, sizeof(a));
		printf(" of %s left: %s", a,
		       total_s <= avail ? "fits" : "does not fit");
	}
	printf("\n");
	if (pl->dearest > 0)
		printf("dearest plan: $%.6f; this one saves $%.6f (%.1f%%)\n",
		       pl->dearest, pl->dearest - pl->usd,
		       100 * (pl->dearest - pl->usd) / pl->dearest);
	if (pl->held)
		printf("in provider batches: %lld jobs (a run collects them)\n",
		       pl->held);
	if (pl->parked)
		printf("parked: %lld jobs whose candidates have no key set "
		       "(`nightshift providers` names the variables)\n",
		       pl->parked);
	if (pl->unroutable)
		printf("unroutable: %lld jobs (%s)\n", pl->unroutable, pl->why);
	if (pl->rejected)
		printf("rejected: %lld lines or bodies that would not be "
		       "queued\n",
		       pl->rejected);
}

int plan_print_json(const struct plan *pl, const char *db)
{
	const struct config *cfg = pl->cfg;
	cJSON *root = cJSON_CreateObject(), *arr, *x;
	double total_s = 0, avail = pl->avail_s;

	cJSON_AddItemToObject(root, "db",
			      db ? cJSON_CreateString(db) : cJSON_CreateNull());
	arr = cJSON_AddArrayToObject(root, "rows");
	each_row(pl, row_json, arr);
	arr = cJSON_AddArrayToObject(root, "providers");
	for (size_t p = 0; p < cfg->nprovs; p++) {
		const char *by;
		double s = need_s(pl, p, &by);
		long long nb = batch_jobs(pl, p);

		if (s <= 0 && !nb)
			continue;
		x = cJSON_CreateObject();
		if (nb) {
			double b = (double)pl->turn_ms[p] / 1000;

			cJSON_AddNumberToObject(x, "batch_jobs", (double)nb);
			cJSON_AddNumberToObject(x, "batch_time_s", b);
			cJSON_AddBoolToObject(x, "batch_time_learned",
					      pl->turn_learned[p]);
			if (b > s) {
				s = b;
				by = "batch turnaround";
			}
		}
		cJSON_AddStringToObject(x, "provider", cfg->provs[p].name);
		cJSON_AddNumberToObject(x, "time_s", s);
		cJSON_AddStringToObject(x, "limited_by", by);
		cJSON_AddNumberToObject(x, "rtt_ms",
					pl->rtt_ms[p] > 0 ? pl->rtt_ms[p]
							  : PLAN_RTT_MS);
		cJSON_AddBoolToObject(x, "rtt_learned", pl->rtt_ms[p] > 0);
		cJSON_AddItemToArray(arr, x);
		if (s > total_s)
			total_s = s;
	}
	x = cJSON_AddObjectToObject(root, "total");
	cJSON_AddNumberToObject(x, "jobs", (double)pl->jobs);
	cJSON_AddNumberToObject(x, "cost_usd", pl->usd);
	cJSON_AddNumberToObject(x, "time_s", total_s);
	cJSON_AddNumberToObject(x, "dearest_usd", pl->dearest);
	cJSON_AddNumberToObject(x, "saving_usd", pl->dearest - pl->usd);
	if (avail >= 0) {
		x = cJSON_AddObjectToObject(root, "deadline");
		cJSON_AddNumberToObject(x, "in_s", avail);
		cJSON_AddBoolToObject(x, "fits", total_s <= avail);
	}
	cJSON_AddStringToObject(root, "lane", LANES[pl->run_lane]);
	cJSON_AddNumberToObject(root, "in_batches", (double)pl->held);
	cJSON_AddNumberToObject(root, "parked", (double)pl->parked);
	cJSON_AddNumberToObject(root, "unroutable", (double)pl->unroutable);
	cJSON_AddNumberToObject(root, "rejected", (double)pl->rejected);
	return cli_print_json(root);
}

