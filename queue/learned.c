/* learned.c — providers' learned state and models' calibration in the
 * queue (see learned.h). A few rows a run: read at its start, replaced at
 * its end. */
#include "queue/learned.h"

#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"
#include "util/xalloc.h"

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

static int save_provs(struct queue *q, const struct learned_prov *p, size_t np, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = qquery(q,
			 "INSERT OR REPLACE INTO provider_learned (provider, "
			 "updated_at, cwnd, p429, floor429, srtt_ms, "
			 "ok_per_min, shared, ok) VALUES (?, ?, ?, ?, ?, ?, "
			 "?, ?, ?)",
			 &st, "keeping what the run learned")))
		return rc;
	for (size_t i = 0; i < np && rc == QUEUE_OK; i++) {
		qbind_text(st, 1, p[i].provider);
		sqlite3_bind_int64(st, 2, now_ms);
		sqlite3_bind_double(st, 3, p[i].cwnd);
		sqlite3_bind_double(st, 4, p[i].p429);
		sqlite3_bind_double(st, 5, p[i].floor429);
		sqlite3_bind_double(st, 6, p[i].srtt_ms);
		sqlite3_bind_double(st, 7, p[i].ok_per_min);
		sqlite3_bind_int64(st, 8, p[i].shared);
		sqlite3_bind_int64(st, 9, p[i].ok);
		rc = qstep(q, st, "keeping what the run learned");
	}
	sqlite3_finalize(st);
	return rc;
}

static int save_calib(struct queue *q, const struct learned_calib *c,
		      size_t nc, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = qquery(q,
			 "INSERT OR REPLACE INTO model_calib (provider, model, "
			 "updated_at, est_in, rep_in, out_tokens, replies) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?)",
			 &st, "keeping the token calibration")))
		return rc;
	for (size_t i = 0; i < nc && rc == QUEUE_OK; i++) {
		qbind_text(st, 1, c[i].provider);
		qbind_text(st, 2, c[i].model);
		sqlite3_bind_int64(st, 3, now_ms);
		sqlite3_bind_int64(st, 4, c[i].est_in);
		sqlite3_bind_int64(st, 5, c[i].rep_in);
		sqlite3_bind_int64(st, 6, c[i].out_tokens);
		sqlite3_bind_int64(st, 7, c[i].replies);
		rc = qstep(q, st, "keeping the token calibration");
	}
	sqlite3_finalize(st);
	return rc;
}

int learned_save(struct queue *q, const struct learned_prov *p, size_t np,
		 const struct learned_calib *c, size_t nc, int64_t now_ms)
{
	int rc, open = 0;

	if ((rc = qbegin(q, &open, "keeping what the run learned")))
		return rc;
	if ((rc = save_provs(q, p, np, now_ms)) ||
	    (rc = save_calib(q, c, nc, now_ms))) {
		qrollback(q, &open);
		return rc;
	}
	return qcommit(q, &open, "keeping what the run learned");
}

int learned_load(struct queue *q, struct learned_prov **pp, size_t *np,
		 struct learned_calib **cp, size_t *nc)
{
	sqlite3_stmt *st = NULL;
	struct learned_prov *p = NULL;
	struct learned_calib *c = NULL;
	size_t n = 0, m = 0;
	int rc;

	*pp = NULL;
	*cp = NULL;
	*np = *nc = 0;
	if ((rc = qquery(q,
			 "SELECT provider, updated_at, cwnd, p429, "
			 "floor429, srtt_ms, ok_per_min, shared, ok FROM "
			 "provider_learned ORDER BY provider",
			 &st, "reading what runs learned")))
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = xrealloc(p, (n + 1) * sizeof(*p));
		p[n] = (struct learned_prov){
		    .provider = col_dup(st, 0),
		    .updated_at = sqlite3_column_int64(st, 1),
		    .cwnd = sqlite3_column_double(st, 2),
		    .p429 = sqlite3_column_double(st, 3),
		    .floor429 = sqlite3_column_double(st, 4),
		    .srtt_ms = sqlite3_column_double(st, 5),
		    .ok_per_min = sqlite3_column_double(st, 6),
		    .shared = sqlite3_column_int64(st, 7),
		    .ok = sqlite3_column_int64(st, 8)};
		n++;
	}
	if ((rc = qend(q, st, rc, "reading what runs learned")))
		goto fail;
	if ((rc = qquery(q,
			 "SELECT provider, model, updated_at, est_in, rep_in, "
			 "out_tokens, replies FROM model_calib ORDER BY "
			 "provider, model",
			 &st, "reading the token calibration")))
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c = xrealloc(c, (m + 1) * sizeof(*c));
		c[m] = (struct learned_calib){
		    .provider = col_dup(st, 0),
		    .model = col_dup(st, 1),
		    .updated_at = sqlite3_column_int64(st, 2),
		    .est_in = sqlite3_column_int64(st, 3),
		    .rep_in = sqlite3_column_int64(st, 4),
		    .out_tokens = sqlite3_column_int64(st, 5),
		    .replies = sqlite3_column_int64(st, 6)};
		m++;
	}
	if ((rc = qend(q, st, rc, "reading the token calibration")))
		goto fail;
	*pp = p;
	*np = n;
	*cp = c;
	*nc = m;
	return QUEUE_OK;
fail:
	learned_free(p, n, c, m);
	return rc;
}

void learned_free(struct learned_prov *p, size_t np, struct learned_calib *c,
		  size_t nc)
{
	for (size_t i = 0; i < np; i++) {
		free(p[i].provider);
	}
	for (size_t i = 0; i < nc; i++) {
		free(c[i].provider);
		free(c[i].model);
	}
	free(p);
	free(c);
}
