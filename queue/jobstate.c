/* jobstate.c — the transition table, the UPDATEs built from it and the
 * trace (see jobstate.h).
 *
 * With the trace on, a move's statement sets the state through
 * nightshift_move(move, id, state, to): SET expressions see the row as it
 * was, so the function gets the job, the state it leaves and the one it
 * takes, checks them against the move's row, notes the move and returns
 * the new state. A TEMP trigger after each UPDATE OF state (and INSERT)
 * on jobs then calls nightshift_state(id, old, new), which prints the line
 * with the move noted for that row, or, for a change no move announced
 * (SQL written by hand), prints it as such if some move may make it and
 * fails the statement if none may. SQLite runs a row's SET, then its AFTER
 * triggers, before the next row, so one noted move is all there is to
 * keep. */
#include "queue/jobstate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "queue/queue_int.h"
#include "util/xalloc.h"

#define S(x) (1u << JOBSTATE_##x)

const struct jobstate_row jobstate_table[JOBSTATE_NMOVES] = {
	[JOBSTATE_INGEST] = {"ingest", 0, S(QUEUED)},
	[JOBSTATE_LEASE] = {"lease", S(QUEUED), S(RUNNING)},
	[JOBSTATE_RETRY] = {"retry", S(RUNNING), S(QUEUED)},
	[JOBSTATE_FINISH] = {"finish", S(RUNNING), S(DONE) | S(DEAD)},
	/* Our lease lapsed: another run may have taken the job and sent it
	 * back to the queue since; it is finished all the same (the work was
	 * paid for), and results.job_id keeps it to one result. */
	[JOBSTATE_FINISH_LAPSED] = {"finish_lapsed", S(QUEUED) | S(RUNNING),
				    S(DONE) | S(DEAD)},
	[JOBSTATE_RELEASE] = {"release", S(RUNNING), S(QUEUED)},
	[JOBSTATE_RELEASE_ALL] = {"release_all", S(RUNNING), S(QUEUED)},
	[JOBSTATE_RECOVER_OWNER] = {"recover_owner", S(RUNNING), S(QUEUED)},
	[JOBSTATE_RECOVER_EXPIRED] = {"recover_expired", S(RUNNING),
				      S(QUEUED)},
	[JOBSTATE_REQUEUE] = {"requeue", S(DEAD), S(QUEUED)},
	[JOBSTATE_BATCH] = {"batch", S(QUEUED), S(RUNNING)},
	[JOBSTATE_UNBATCH] = {"unbatch", S(RUNNING), S(QUEUED)},
};

struct jobstate_trace {
	FILE *out; /* NULL: stderr */
	/* the move a statement's SET announced for the row it changes,
	 * until the trigger reports the change */
	int noted;
	sqlite3_int64 id;
	int move, to;
};

const char *jobstate_name(enum jobstate_move m)
{
	return (unsigned)m < JOBSTATE_NMOVES ? jobstate_table[m].name : "?";
}

static int is_state(int s)
{
	return s >= 0 && s < JOB_NSTATES;
}

int jobstate_allowed(enum jobstate_move m, int from, int to)
{
	const struct jobstate_row *mv;

	if ((unsigned)m >= JOBSTATE_NMOVES || !is_state(to) ||
	    (from != -1 && !is_state(from)))
		return 0;
	mv = &jobstate_table[m];
	if (!(mv->to & 1u << to))
		return 0;
	return from == -1 ? mv->from == 0 : (mv->from & 1u << from) != 0;
}

/* some_move: whether any move may take a job from from to to. */
static int some_move(int from, int to)
{
	for (int m = 0; m < JOBSTATE_NMOVES; m++)
		if (jobstate_allowed(m, from, to))
			return 1;
	return 0;
}

/* names_state: whether SQL text s mentions the state column. No other
 * column's name holds "state", so a plain search is exact enough. */
static int names_state(const char *s)
{
	for (; s && *s; s++)
		if (strncasecmp(s, "state", 5) == 0)
			return 1;
	return 0;
}

static int first_state(unsigned set)
{
	int s = 0;

	while (s < JOB_NSTATES && !(set & 1u << s))
		s++;
	return s;
}

/* spell_states: the states of set as "state = N" or "state IN (N, M)". */
static void spell_states(char *buf, size_t cap, unsigned set)
{
	int n = 0;
	size_t len = 0;

	for (int s = 0; s < JOB_NSTATES; s++)
		n += (set >> s) & 1;
	len = (size_t)snprintf(buf, cap, n == 1 ? "state = " : "state IN (");
	for (int s = 0, k = 0; s < JOB_NSTATES && len < cap; s++)
		if (set & 1u << s)
			len += (size_t)snprintf(buf + len, cap - len, "%s%d",
						k++ ? ", " : "", s);
	if (n > 1 && len < cap)
		snprintf(buf + len, cap - len, ")");
}

int jobstate_prepare(struct queue *q, enum jobstate_move m, const char *set,
		     const char *where, int to_param, sqlite3_stmt **st)
{
	const struct jobstate_row *mv =
		(unsigned)m < JOBSTATE_NMOVES ? &jobstate_table[m] : NULL;
	char to[16], expr[64], from[48], *sql;
	size_t cap;
	int rc;

	*st = NULL;
	/* every statement that changes a state is built here: the trace, if
	 * asked for, is armed before the first */
	if ((rc = jobstate_arm(q)))
		return rc;
	if (!mv || mv->from == 0 || names_state(set) || names_state(where) ||
	    (to_param > 0) != ((mv->to & (mv->to - 1)) != 0)) {
		snprintf(q->err, sizeof(q->err),
			 "preparing move %s: not as the transition table "
			 "has it",
			 jobstate_name(m));
		return QUEUE_EINVAL;
	}
	if (to_param > 0)
		snprintf(to, sizeof(to), "?%d", to_param);
	else
		snprintf(to, sizeof(to), "%d", first_state(mv->to));
	if (q->trace)
		snprintf(expr, sizeof(expr),
			 "nightshift_move(%d, id, state, %s)", (int)m, to);
	else
		snprintf(expr, sizeof(expr), "%s", to);
	spell_states(from, sizeof(from), mv->from);
	cap = strlen(set ? set : "") + strlen(where ? where : "") + 256;
	sql = xmalloc(cap);
	snprintf(sql, cap, "UPDATE jobs SET state = %s%s%s WHERE %s%s%s",
		 expr, set ? ", " : "", set ? set : "",
		 where ? where : "", where ? " AND " : "", from);
	rc = qprepare(q, sql, st);
	free(sql);
	return rc;
}

int jobstate_refuse_to(struct queue *q, enum jobstate_move m, int to)
{
	snprintf(q->err, sizeof(q->err), "move %s cannot lead to state %s",
		 jobstate_name(m), job_state_name(to));
	return QUEUE_EINVAL;
}

/* The trace */

static const char *from_name(int from)
{
	return from == -1 ? "new" : job_state_name(from);
}

/* say: one trace line; how is the move's name or what else happened. */
static void say(struct jobstate_trace *t, sqlite3_int64 id, int from, int to,
		const char *how)
{
	fprintf(t->out ? t->out : stderr,
		"nightshift: trace: job %lld %s -> %s (%s)\n", (long long)id,
		from_name(from), job_state_name(to), how);
}

/* refuse: fail the statement changing job id from from to to, and say so
 * in the trace. */
static void refuse(sqlite3_context *ctx, struct jobstate_trace *t,
		   sqlite3_int64 id, int from, int to, const char *how)
{
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "job %lld: %s -> %s is not a transition the table allows "
		 "(%s)",
		 (long long)id, from_name(from), job_state_name(to), how);
	say(t, id, from, to, "refused");
	sqlite3_result_error(ctx, msg, -1);
}

/* int_arg: argument i as an int state; -1 for NULL. */
static int int_arg(sqlite3_value **argv, int i)
{
	return sqlite3_value_type(argv[i]) == SQLITE_NULL
		       ? -1
		       : sqlite3_value_int(argv[i]);
}

/* nightshift_move(move, id, from, to): check and note a move's change of
 * the row; returns to. */
static void fn_move(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct jobstate_trace *t = sqlite3_user_data(ctx);
	sqlite3_int64 id = sqlite3_value_int64(argv[1]);
	int m = int_arg(argv, 0), from = int_arg(argv, 2);
	int to = int_arg(argv, 3);

	(void)argc;
	if (from == -1 || !jobstate_allowed(m, from, to)) {
		refuse(ctx, t, id, from, to, jobstate_name(m));
		return;
	}
	t->noted = 1;
	t->id = id;
	t->move = m;
	t->to = to;
	sqlite3_result_int(ctx, to);
}

/* nightshift_state(id, old, new): the trigger's report of a change; old
 * NULL for an INSERT. */
static void fn_state(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct jobstate_trace *t = sqlite3_user_data(ctx);
	sqlite3_int64 id = sqlite3_value_int64(argv[0]);
	int from = int_arg(argv, 1), to = int_arg(argv, 2);

	(void)argc;
	if (t->noted && t->id == id && t->to == to) {
		t->noted = 0;
		say(t, id, from, to, jobstate_name(t->move));
	} else if (from == -1 && jobstate_allowed(JOBSTATE_INGEST, -1, to)) {
		say(t, id, from, to, jobstate_name(JOBSTATE_INGEST));
	} else if (from != -1 && some_move(from, to)) {
		say(t, id, from, to, "no move named");
	} else {
		refuse(ctx, t, id, from, to, "no move named");
		return;
	}
	sqlite3_result_null(ctx);
}

/* start: read NIGHTSHIFT_TRACE, once per connection, and with "states"
 * in it give the connection the trace's functions. The connection owns
 * the trace from then on: SQLite frees it when the connection closes, so
 * queue_close need not know of it. */
static int start(struct queue *q)
{
	struct jobstate_trace *t;
	int rc;

	if (q->trace_read)
		return QUEUE_OK;
	q->trace_read = 1;
	if (!qtrace_has("states"))
		return QUEUE_OK;
	t = xcalloc(1, sizeof(*t));
	rc = sqlite3_create_function_v2(q->db, "nightshift_move", 4,
					SQLITE_UTF8, t, fn_move, NULL, NULL,
					free);
	if (rc != SQLITE_OK) {
		free(t); /* SQLite calls the destructor only once it holds t */
		return qfail(q, rc, "starting the trace");
	}
	q->trace = t;
	rc = sqlite3_create_function_v2(q->db, "nightshift_state", 3,
					SQLITE_UTF8, t, fn_state, NULL, NULL,
					NULL);
	return rc == SQLITE_OK ? QUEUE_OK : qfail(q, rc, "starting the trace");
}

int jobstate_arm(struct queue *q)
{
	int rc = start(q);

	if (rc || !q->trace)
		return rc;
	return qexec(q,
		     "CREATE TEMP TRIGGER IF NOT EXISTS "
		     "nightshift_state_update AFTER UPDATE OF state ON "
		     "main.jobs BEGIN SELECT nightshift_state(old.id, "
		     "old.state, new.state); END; CREATE TEMP TRIGGER IF NOT "
		     "EXISTS nightshift_state_insert AFTER INSERT ON main.jobs "
		     "BEGIN SELECT nightshift_state(new.id, NULL, new.state); "
		     "END",
		     "starting the trace");
}

#ifdef NIGHTSHIFT_TEST
void jobstate__trace_to(struct queue *q, FILE *out)
{
	if (jobstate_arm(q) == QUEUE_OK && q->trace)
		q->trace->out = out;
}
#endif
