/* ledger.c — ledger and event rows (see ledger.h). */
#include "queue/ledger.h"

#include "queue/jobstate.h"
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
	sqlite3_bind_text(st, 17, a->lane ? a->lane : "sync", -1,
			  SQLITE_STATIC);
	if (a->cost_sync_usd > 0)
		sqlite3_bind_double(st, 18, a->cost_sync_usd);
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

int ledger_inflight(struct qrun *r, const char *json)
{
	enum qrun_stmt k = json ? QRUN_S_INFLIGHT : QRUN_S_INFLIGHT_CLEAR;
	sqlite3_stmt *st = r->st[k];

	sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
	if (json) {
		sqlite3_bind_int64(st, 2, clk_wall_ms());
		sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
	}
	return qrun_step(r, k, "recording requests in flight");
}

/* The dead owner's list, one row per request, with the job it names; a
 * list that is not valid JSON (a damaged file) reads as empty rather
 * than blocking recovery. */
#define LOST_ROWS                                                              \
	"FROM inflight AS f, json_each(CASE WHEN json_valid(f.requests) "     \
	"THEN f.requests ELSE '[]' END) AS e, jobs AS j WHERE f.owner = ?1"

int ledger_lost(struct qrun *r, const char *owner, long long *n)
{
	static const char *const sql[] = {
	    "INSERT INTO attempts (job_id, run_id, provider, model, sent_at, "
	    "error_class, action, latency_ms, cost_usd, cost_basis) SELECT "
	    "j.id, ?1, json_extract(e.value, '$[1]'), json_extract(e.value, "
	    "'$[2]'), f.at, 'lost', 'retry', 0, max(0, "
	    "json_extract(e.value, '$[3]') / 1e9), 'estimated' " LOST_ROWS
	    " AND typeof(json_extract(e.value, '$[1]')) = 'text' AND "
	    "typeof(json_extract(e.value, '$[2]')) = 'text' AND "
	    "typeof(json_extract(e.value, '$[3]')) IN ('integer', 'real') "
	    "AND j.id = json_extract(e.value, '$[0]') AND j.state = "
	    JOBSTATE_SQL(RUNNING) " AND j.lease_owner = ?1",
	    "UPDATE jobs SET attempts = attempts + x.n, spent_usd = spent_usd "
	    "+ x.usd FROM (SELECT a.job_id AS id, count(*) AS n, "
	    "total(a.cost_usd) AS usd FROM attempts AS a WHERE a.run_id = ?1 "
	    "AND a.error_class = 'lost' AND a.id > ?2 GROUP BY a.job_id) AS x "
	    "WHERE jobs.id = x.id",
	    "DELETE FROM inflight WHERE owner = ?1",
	};
	sqlite3_stmt *st = NULL;
	long long before = 0;
	int rc;

	/* the rows added are those past the ledger's last id */
	if ((rc = qone_int(r->q, "SELECT ifnull(max(id), 0) FROM attempts",
			   &before, "recording lost requests")))
		return rc;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((rc = qquery(r->q, sql[i], &st, "recording lost requests")))
			return rc;
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		if (i == 1)
			sqlite3_bind_int64(st, 2, before);
		rc = sqlite3_step(st);
		if (i == 0 && rc == SQLITE_DONE)
			*n += sqlite3_changes(r->q->db);
		if ((rc = qend(r->q, st, rc, "recording lost requests")))
			return rc;
	}
	return QUEUE_OK;
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
