/* report.c — the per-provider ledger report.
 *
 * Memory is per provider+model and error class, never per request, and
 * the ledger (millions of rows) is read three times:
 * - counts, tokens, cost, failovers out and 429s: one plain scan, summed
 *   into the handful of provider+model groups here (a GROUP BY would sort
 *   the whole table);
 * - retries and failovers in: one stream in job order (job_id, then id),
 *   from SQLite's sorter as for the latencies (the ledger's index on
 *   job_id went with schema 4: a write per request for this one read).
 *   A job's requests come out together and in the order they were
 *   sent, so a row meeting a job for the first time counts a distinct
 *   job, and a request after a "failover" on another row arrived by
 *   failover; only the previous request and each row's last job are kept;
 * - latency percentiles, exact (nearest rank): the ledger is read once
 *   sorted by latency (SQLite's sorter, spilling to temporary files for a
 *   big ledger; there is no index for it, since one would cost every
 *   request of every run a page write). In that order each provider+model's
 *   requests, each provider's and all requests come out sorted, so one
 *   pass yields every row's p50, p95 and p99.
 * The results of done jobs (one row per job) give the cost on each
 * route's dearest candidate, and the small events table the circuit trips.
 * Everything is read in one transaction so the numbers agree. */
#include "queue/report.h"

#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"
#include "util/sat.h"
#include "util/xalloc.h"

static const int PCT[3] = {50, 95, 99};

static void row_init(struct report_row *r, const char *provider,
		     const char *model)
{
	memset(r, 0, sizeof(*r));
	r->provider = provider ? xstrdup(provider) : NULL;
	r->model = model ? xstrdup(model) : NULL;
	r->p50_ms = r->p95_ms = r->p99_ms = -1;
}

static void row_clear(struct report_row *r)
{
	for (size_t i = 0; i < r->nclasses; i++)
		free(r->classes[i].name);
	free(r->classes);
	free(r->provider);
	free(r->model);
}

/* add_class: count n failures of class name on r, keeping names sorted. */
static void add_class(struct report_row *r, const char *name, int64_t n)
{
	size_t i = 0;
	int cmp = 1;

	while (i < r->nclasses && (cmp = strcmp(r->classes[i].name, name)) < 0)
		i++;
	if (i < r->nclasses && cmp == 0) {
		r->classes[i].count += n;
		return;
	}
	r->classes = xrealloc(r->classes,
			      (r->nclasses + 1) * sizeof(*r->classes));
	memmove(r->classes + i + 1, r->classes + i,
		(r->nclasses - i) * sizeof(*r->classes));
	r->classes[i].name = xstrdup(name);
	r->classes[i].count = n;
	r->nclasses++;
}

/* add_row: fold the counts of src into dst (not retries, failovers in
 * or latencies, which do not add up). */
static void add_row(struct report_row *dst, const struct report_row *src)
{
	dst->requests += src->requests;
	dst->successes += src->successes;
	dst->failures += src->failures;
	dst->tokens_in = sat_add(dst->tokens_in, src->tokens_in);
	dst->tokens_out = sat_add(dst->tokens_out, src->tokens_out);
	dst->cost_usd += src->cost_usd;
	dst->estimated += src->estimated;
	dst->estimated_usd += src->estimated_usd;
	dst->suspect += src->suspect;
	dst->suspect_usd += src->suspect_usd;
	dst->failovers_out += src->failovers_out;
	dst->http_429 += src->http_429;
	dst->circuit_trips += src->circuit_trips;
	dst->disabled += src->disabled;
	dst->cost_ref_usd += src->cost_ref_usd;
	dst->saving_usd += src->saving_usd;
	for (size_t i = 0; i < src->nclasses; i++)
		add_class(dst, src->classes[i].name, src->classes[i].count);
}

static struct report_row *push(struct report_row **rows, size_t *n,
			       const char *provider, const char *model)
{
	*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
	row_init(&(*rows)[*n], provider, model);
	return &(*rows)[(*n)++];
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static struct report_row *find(struct report_row *rows, size_t n,
			       const char *provider, const char *model)
{
	for (size_t i = 0; i < n; i++)
		if (same(rows[i].provider, provider) &&
		    (!model || same(rows[i].model, model)))
			return &rows[i];
	return NULL;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;
	int c = strcmp(x->provider, y->provider);

	return c ? c : strcmp(x->model, y->model);
}

/* model_row: the row of provider+model, added if new (the models are
 * sorted again once all are in). */
static struct report_row *model_row(struct report *r, struct report_row *last,
				    const char *provider, const char *model)
{
	/* last is the row used before: rows in a stream mostly share it */
	if (last && same(last->model, model) && same(last->provider, provider))
		return last;
	last = find(r->models, r->nmodels, provider, model);
	return last ? last : push(&r->models, &r->nmodels, provider, model);
}

/* provider_row: the row of provider, inserted in name order if new (a
 * provider with events but no request). */
static struct report_row *provider_row(struct report *r, const char *provider)
{
	size_t i = 0;
	int cmp = 1;

	while (i < r->nproviders &&
	       (cmp = strcmp(r->providers[i].provider, provider)) < 0)
		i++;
	if (i < r->nproviders && cmp == 0)
		return &r->providers[i];
	push(&r->providers, &r->nproviders, provider, NULL);
	if (i < r->nproviders - 1) {
		struct report_row tmp = r->providers[r->nproviders - 1];

		memmove(r->providers + i + 1, r->providers + i,
			(r->nproviders - 1 - i) * sizeof(*r->providers));
		r->providers[i] = tmp;
	}
	return &r->providers[i];
}

/* load_groups: one model row per provider+model, with its counts. One
 * plain scan summed here: a GROUP BY would sort the whole ledger, and
 * there are only a handful of groups. */
static int load_groups(struct queue *q, struct report *r)
{
	sqlite3_stmt *st = NULL;
	struct report_row *m = NULL;
	int rc = qquery(q,
			"SELECT provider, model, error_class, "
			"tokens_in + tokens_cached + tokens_cache_write, "
			"tokens_out + tokens_reasoning, cost_usd, "
			"action IS 'failover', http_status IS 429, "
			"cost_basis, lane IS 'batch', coalesce(cost_sync_usd, "
			"cost_usd) FROM attempts",
			&st, "reading the ledger");

	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *prov = (const char *)sqlite3_column_text(st, 0);
		const char *model = (const char *)sqlite3_column_text(st, 1);
		const char *cls = (const char *)sqlite3_column_text(st, 2);
		const char *basis = (const char *)sqlite3_column_text(st, 8);
		double usd = sqlite3_column_double(st, 5);

		if (!prov || !model || !cls)
			continue; /* NOT NULL columns: cannot happen */
		struct report_lane *ln = &r->lanes[sqlite3_column_int(st, 9)];

		ln->requests++;
		ln->cost_usd += usd;
		ln->cost_sync_usd += sqlite3_column_double(st, 10);
		m = model_row(r, m, prov, model);
		m->requests++;
		if (strcmp(cls, "ok") == 0) {
			m->successes++;
		} else {
			m->failures++;
			add_class(m, cls, 1);
		}
		/* A sum of token columns past int64 comes back as a real,
		 * read pinned at INT64_MAX: the totals saturate there. */
		m->tokens_in = sat_add(m->tokens_in,
				       sqlite3_column_int64(st, 3));
		m->tokens_out = sat_add(m->tokens_out,
					sqlite3_column_int64(st, 4));
		m->cost_usd += usd;
		m->failovers_out += sqlite3_column_int(st, 6);
		m->http_429 += sqlite3_column_int(st, 7);
		if (basis && strcmp(basis, "estimated") == 0) {
			m->estimated++;
			m->estimated_usd += usd;
		} else if (basis && strcmp(basis, "suspect") == 0) {
			m->suspect++;
			m->suspect_usd += usd;
		}
	}
	return qend(q, st, rc, "reading the ledger");
}

/* load_results: the cost on the dearest candidate and the saving, per
 * provider+model that served a done job. A plain scan of the results
 * (one row per job) summed here, like load_groups. A result without
 * provider or model (not written by a run) counts in the totals only. */
static int load_results(struct queue *q, struct report *r)
{
	sqlite3_stmt *st = NULL;
	struct report_row *m = NULL;
	/* CROSS JOIN keeps results outside: the jobs table is the larger,
	 * and each result finds its job by primary key. */
	int rc = qquery(q,
			"SELECT r.provider, r.model, r.cost_usd, "
			"coalesce(r.cost_ref_usd, r.cost_usd) "
			"FROM results r CROSS JOIN jobs j ON j.id = r.job_id "
			"WHERE j.state = ?1",
			&st, "reading the ledger");

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, JOB_DONE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *prov = (const char *)sqlite3_column_text(st, 0);
		const char *model = (const char *)sqlite3_column_text(st, 1);
		double cost = sqlite3_column_double(st, 2);
		double ref = sqlite3_column_double(st, 3);
		struct report_row *row = &r->totals;

		if (prov && model)
			row = m = model_row(r, m, prov, model);
		row->cost_ref_usd += ref;
		row->saving_usd += ref - cost;
	}
	return qend(q, st, rc, "reading the results");
}

/* load_events: circuit trips and disabled providers, from the events
 * table (a row per provider event, not per request: small). */
static int load_events(struct queue *q, struct report *r)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(q,
			"SELECT provider, kind = 'breaker_open', count(*) "
			"FROM events WHERE kind IN ('breaker_open', "
			"'disabled') GROUP BY provider, kind",
			&st, "reading the ledger");

	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *prov = (const char *)sqlite3_column_text(st, 0);
		int64_t n = sqlite3_column_int64(st, 2);
		struct report_row *p;

		if (!prov)
			continue; /* NOT NULL column: cannot happen */
		p = provider_row(r, prov);
		if (sqlite3_column_int(st, 1)) {
			p->circuit_trips += n;
			r->totals.circuit_trips += n;
		} else {
			p->disabled += n;
			r->totals.disabled += n;
		}
	}
	return qend(q, st, rc, "reading the events");
}

/* Where a row last met a job, during load_jobs. */
struct last_job {
	int64_t job;
	int any; /* job is set */
};

/* first_time: whether this request is the first of job on the row at k,
 * and remember job. */
static int first_time(struct last_job *k, int64_t job)
{
	int first = !k->any || k->job != job;

	k->job = job;
	k->any = 1;
	return first;
}

/* load_jobs: retries and failovers in, from one stream in job order (see
 * the top). retries = requests - distinct jobs, at both levels. */
static int load_jobs(struct queue *q, struct report *r)
{
	sqlite3_stmt *st = NULL;
	struct last_job *lp = xcalloc(r->nproviders ? r->nproviders : 1,
				      sizeof(*lp));
	struct last_job *lm = xcalloc(r->nmodels ? r->nmodels : 1,
				      sizeof(*lm));
	/* the previous request: its job, rows, and whether it failed over */
	struct report_row *pp = NULL, *pm = NULL;
	int64_t pjob = 0;
	int pfail = 0;
	int rc = qquery(q,
			"SELECT job_id, provider, model, action IS 'failover' "
			"FROM attempts ORDER BY job_id, id",
			&st, "reading the ledger");

	if (rc)
		goto out;
	/* retries counts distinct jobs until the subtraction at the end */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t job = sqlite3_column_int64(st, 0);
		const char *prov = (const char *)sqlite3_column_text(st, 1);
		const char *model = (const char *)sqlite3_column_text(st, 2);
		struct report_row *p, *m;

		if (!prov || !model)
			continue; /* NOT NULL columns: cannot happen */
		p = pp && same(pp->provider, prov)
			    ? pp
			    : find(r->providers, r->nproviders, prov, NULL);
		m = pm && same(pm->provider, prov) && same(pm->model, model)
			    ? pm
			    : find(r->models, r->nmodels, prov, model);
		if (!p || !m)
			continue; /* every request has its rows */
		if (first_time(&lp[p - r->providers], job))
			p->retries++;
		if (first_time(&lm[m - r->models], job))
			m->retries++;
		if (pfail && job == pjob) {
			if (p != pp)
				p->failovers_in++;
			if (m != pm)
				m->failovers_in++;
		}
		pp = p;
		pm = m;
		pjob = job;
		pfail = sqlite3_column_int(st, 3);
	}
	rc = qend(q, st, rc, "reading the ledger");
	st = NULL;
	for (size_t i = 0; i < r->nmodels; i++)
		r->models[i].retries =
			r->models[i].requests - r->models[i].retries;
	for (size_t i = 0; i < r->nproviders; i++) {
		r->providers[i].retries =
			r->providers[i].requests - r->providers[i].retries;
		r->totals.retries += r->providers[i].retries;
		r->totals.failovers_in += r->providers[i].failovers_in;
	}
out:
	sqlite3_finalize(st);
	free(lm);
	free(lp);
	return rc;
}

/* Rank bookkeeping for one report row during the merge. */
struct ranks {
	int64_t seen;
	int64_t want[3]; /* 1-based ranks of p50, p95, p99 */
	int64_t *out[3];
};

static void ranks_init(struct ranks *k, struct report_row *r)
{
	k->seen = 0;
	for (int i = 0; i < 3; i++)
		k->want[i] = (PCT[i] * r->requests + 99) / 100;
	k->out[0] = &r->p50_ms;
	k->out[1] = &r->p95_ms;
	k->out[2] = &r->p99_ms;
}

static void ranks_take(struct ranks *k, int64_t v)
{
	k->seen++;
	for (int i = 0; i < 3; i++)
		if (k->seen == k->want[i])
			*k->out[i] = v;
}

/* load_latencies: the ledger in latency order, once (see the top). Each
 * row's provider+model is found among the handful of groups, remembering
 * the last one: runs of one model are the common case. */
static int load_latencies(struct queue *q, struct report *r)
{
	size_t n = r->nmodels;
	size_t *prov = xcalloc(n ? n : 1, sizeof(*prov));
	struct ranks *km = xcalloc(n ? n : 1, sizeof(*km));
	struct ranks *kp = xcalloc(r->nproviders ? r->nproviders : 1,
				   sizeof(*kp));
	struct ranks kt;
	sqlite3_stmt *st = NULL;
	struct report_row *last = NULL;
	int rc;

	for (size_t i = 0; i < r->nproviders; i++)
		ranks_init(&kp[i], &r->providers[i]);
	ranks_init(&kt, &r->totals);
	for (size_t i = 0; i < n; i++) {
		ranks_init(&km[i], &r->models[i]);
		prov[i] = (size_t)(find(r->providers, r->nproviders,
					r->models[i].provider, NULL) -
				   r->providers);
	}
	if ((rc = qquery(q,
			 "SELECT provider, model, latency_ms FROM attempts "
			 "ORDER BY latency_ms",
			 &st, "reading the ledger")))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		const char *m = (const char *)sqlite3_column_text(st, 1);
		int64_t v = sqlite3_column_int64(st, 2);
		size_t i;

		if (!last || !same(last->provider, p) || !same(last->model, m))
			last = find(r->models, n, p, m);
		if (!last) /* written after the groups were read: not ours */
			continue;
		i = (size_t)(last - r->models);
		ranks_take(&km[i], v);
		ranks_take(&kp[prov[i]], v);
		ranks_take(&kt, v);
	}
	rc = qend(q, st, rc, "reading the ledger");
	st = NULL;
out:
	sqlite3_finalize(st);
	free(kp);
	free(km);
	free(prov);
	return rc;
}

int report_load(struct queue *q, struct report **out)
{
	struct report *r = xcalloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	row_init(&r->totals, NULL, NULL);
	if ((rc = qexec(q, "BEGIN", "reading the ledger")))
		goto fail;
	if ((rc = load_groups(q, r)) || (rc = load_results(q, r)))
		goto fail;
	if (r->nmodels)
		qsort(r->models, r->nmodels, sizeof(*r->models), cmp_rows);
	/* Models are sorted by provider, so providers come out sorted. */
	for (size_t i = 0; i < r->nmodels; i++) {
		struct report_row *m = &r->models[i];
		struct report_row *p =
			r->nproviders &&
				same(r->providers[r->nproviders - 1].provider,
				     m->provider)
				? &r->providers[r->nproviders - 1]
				: push(&r->providers, &r->nproviders,
				       m->provider, NULL);

		add_row(p, m);
		add_row(&r->totals, m);
	}
	if ((rc = load_events(q, r)) || (rc = load_jobs(q, r)) ||
	    (rc = load_latencies(q, r)))
		goto fail;
	sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	*out = r;
	return QUEUE_OK;
fail:
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	report_free(&r);
	return rc;
}

void report_free(struct report **rp)
{
	struct report *r = *rp;

	if (!r)
		return;
	for (size_t i = 0; i < r->nproviders; i++)
		row_clear(&r->providers[i]);
	for (size_t i = 0; i < r->nmodels; i++)
		row_clear(&r->models[i]);
	row_clear(&r->totals);
	free(r->providers);
	free(r->models);
	free(r);
	*rp = NULL;
}
