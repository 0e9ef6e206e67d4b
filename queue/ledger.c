/* ledger.c — ledger and event rows (see ledger.h). */
#include "queue/ledger.h"

#include "queue/run_int.h"
#include "util/clock.h"

int ledger_add(struct qrun *r, const struct ledger_attempt *a)
{
	sqlite3_stmt *st = r->st[QRUN_S_ATTEMPT];

	sqlite3_bind_int64(st, 1, a->job_id);
	sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->sent_at_ms);
	if (a->http_status)
		sqlite3_bind_int(st, 6, a->http_status);
	sqlite3_bind_text(st, 7, a->error_class, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, a->latency_ms);
	sqlite3_bind_int64(st, 9, a->tok_in);
	sqlite3_bind_int64(st, 10, a->tok_cached);
	sqlite3_bind_int64(st, 11, a->tok_cache_write);
	sqlite3_bind_int64(st, 12, a->tok_out);
	sqlite3_bind_int64(st, 13, a->tok_reasoning);
	sqlite3_bind_double(st, 14, a->cost_usd);
	qbind_text(st, 15, a->action);
	sqlite3_bind_text(st, 16, a->cost_basis ? a->cost_basis : "reported",
			  -1, SQLITE_STATIC);
	return qrun_step(r, QRUN_S_ATTEMPT, "recording a request");
}

int ledger_event(struct qrun *r, const char *provider, const char *kind,
		 const char *detail)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"INSERT INTO events (run_id, at, provider, kind, "
			"detail) VALUES (?1, ?2, ?3, ?4, ?5)",
			&st, "recording an event");

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, clk_wall_ms());
	sqlite3_bind_text(st, 3, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	qbind_text(st, 5, detail);
	return qend(r->q, st, sqlite3_step(st), "recording an event");
}

int ledger_spend(struct qrun *r, double *usd)
{
	sqlite3_stmt *st = NULL;
	int rc = qone_row(r->q, "SELECT total(cost_usd) FROM attempts", &st,
			  "reading the queue");

	if (rc)
		return rc;
	*usd = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return QUEUE_OK;
}
