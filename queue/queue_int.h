/* queue_int.h — what the queue/ files share and nobody else sees: the
 * connection struct, SQLite error translation and the generated DDL.
 * Not thread-safe: a connection is used by one thread at a time. */
#ifndef NIGHTSHIFT_QUEUE_INT_H
#define NIGHTSHIFT_QUEUE_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "queue/blob.h"
#include "queue/queue.h"

extern const char *const schema_sql[];
extern const size_t schema_sql_count;

#define QUEUE_STR_(x) #x
#define QUEUE_STR(x) QUEUE_STR_(x)

struct queue {
	sqlite3 *db;
	char *path;
	char err[512];
	struct blob_dict **dicts; /* every dictionary in the file */
	size_t ndicts;
	struct blob_dict *body_dict;   /* newest of kind 'body', borrowed */
	struct blob_dict *result_dict; /* newest of kind 'result', borrowed */
	/* NIGHTSHIFT_TRACE=states: the transition trace (jobstate.c, which
	 * reads the flag once: trace_read), or NULL; the connection owns it */
	struct jobstate_trace *trace;
	int trace_read;
	/* NIGHTSHIFT_TRACE=commits: the WAL size at which SQLite's
	 * autocheckpoint, which the trace's WAL hook replaces, checkpoints */
	long long checkpoint_frames;
};

/* qtrace_has: whether NIGHTSHIFT_TRACE (a comma-separated list of debug
 * flags) holds flag. */
int qtrace_has(const char *flag);

/* qfail: record "what: sqlite's message" on q and return the QUEUE_* code
 * for SQLite result rc. */
int qfail(struct queue *q, int rc, const char *what);
/* qexec: run SQL without results; QUEUE_* code. */
int qexec(struct queue *q, const char *sql, const char *what);
/* qprepare: prepare once; QUEUE_* code. */
int qprepare(struct queue *q, const char *sql, sqlite3_stmt **st);
/* Statements for one use. qquery: prepare sql. qone_row: prepare it and
 * step to its first row, which the caller reads before finalizing *st (no
 * row is a failure). qone_int: the first column of that row. qend:
 * finalize st, whose last sqlite3_step returned rc: QUEUE_OK if that was
 * its end (SQLITE_DONE). QUEUE_* codes with q's message for what; on
 * failure *st is finalized and NULL. */
int qquery(struct queue *q, const char *sql, sqlite3_stmt **st,
	   const char *what);
int qone_row(struct queue *q, const char *sql, sqlite3_stmt **st,
	     const char *what);
int qone_int(struct queue *q, const char *sql, long long *v,
	     const char *what);
int qend(struct queue *q, sqlite3_stmt *st, int rc, const char *what);
/* qstep: run st to its end and reset it (its bindings stay); QUEUE_OK,
 * or the failure's code with q's message for what. Inline: the run loop
 * steps its statements through it. */
static inline int qstep(struct queue *q, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? QUEUE_OK : qfail(q, rc, what);
}
/* Write transactions, for a writer that keeps whether one is open in *open.
 * qbegin: BEGIN IMMEDIATE unless one is open. IMMEDIATE takes the write
 * lock at once, so a writer in another process makes us wait here (busy
 * timeout) rather than fail at COMMIT. qcommit: COMMIT if one is open;
 * *open stays set when it fails. qrollback: ROLLBACK if one is open.
 * QUEUE_* codes, q's message for what. */
int qbegin(struct queue *q, int *open, const char *what);
int qcommit(struct queue *q, int *open, const char *what);
void qrollback(struct queue *q, int *open);
/* qbind_text: bind s, or NULL when s is NULL, as parameter i of st;
 * borrowed until the statement is reset. */
static inline void qbind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}
/* qdict_add: store a new dictionary of kind ("body"/"result"), take
 * ownership of d and make it the current one of its kind. */
int qdict_add(struct queue *q, const char *kind, struct blob_dict *d);
/* qdict_find: the dictionary with zstd id, or NULL (borrowed). One that
 * another process stored after q was opened is read from the file then. */
struct blob_dict *qdict_find(struct queue *q, unsigned id);
/* qframe_dict: the dictionary a stored frame names (*d NULL: none);
 * QUEUE_EINVAL with q's message if the frame names one the file lacks. */
int qframe_dict(struct queue *q, const void *z, size_t zlen,
		const struct blob_dict **d);
/* qdecode: decode a stored frame with the dictionary it names; *out new
 * (free()), NUL-terminated. QUEUE_EINVAL with q's message if it cannot. */
int qdecode(struct queue *q, struct blob_codec *c, const void *z, size_t zlen,
	    char **out, size_t *len);

#endif
