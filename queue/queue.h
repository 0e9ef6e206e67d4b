/* queue.h — the job queue in SQLite: open, migrate, close, error codes.
 *
 * Everything that touches SQLite lives in queue/; callers see only these
 * functions and QUEUE_* codes, never SQLite's. A struct queue is one
 * connection and is used by one thread at a time (not thread-safe); several
 * processes may open the same file (WAL mode, busy timeout). */
#ifndef NIGHTSHIFT_QUEUE_H
#define NIGHTSHIFT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Job states as stored. */
enum job_state {
	JOB_QUEUED = 0,
	JOB_RUNNING = 1, /* leased by a run */
	JOB_DONE = 2,
	JOB_DEAD = 3,
};
#define JOB_NSTATES 4

enum {
	QUEUE_OK = 0,
	QUEUE_EIO = -1,      /* I/O error, or any failure not listed below */
	QUEUE_EFULL = -2,    /* disk (or quota) full */
	QUEUE_EBUSY = -3,    /* locked by another process past the timeout */
	QUEUE_ECORRUPT = -4, /* database file damaged */
	QUEUE_ENOTDB = -5,   /* not a nightshift database */
	QUEUE_EVERSION = -6, /* written by a newer nightshift */
	QUEUE_ENOENT = -7,   /* no database at that path */
	QUEUE_EPERM = -8,    /* read-only file or directory */
	QUEUE_EINVAL = -9,   /* bad argument or stored data that cannot decode */
};

/* Flags for queue_open. */
#define QUEUE_OPEN_CREATE 1u /* create the file (0600) if missing */
/* A reader (status, report, export, plan): a file that holds no queue yet
 * (empty, or SQLite without tables) is QUEUE_ENOENT and left untouched,
 * never given a schema. A queue of an older schema is still migrated:
 * the readers' queries need the current one. */
#define QUEUE_OPEN_READ 2u

struct queue;

/* Lifecycle */
/* queue_open: open (and with QUEUE_OPEN_CREATE create) the database at
 * path, migrate it to the current schema and load its dictionaries. On
 * failure *out is NULL and, if err is not NULL, a one-line reason naming
 * the file is written there. With NIGHTSHIFT_TRACE=states in the
 * environment (a comma-separated list of debug flags), every change of a
 * job's state on this connection is written to stderr with the move that
 * made it, and any change the transition table does not allow fails (see
 * jobstate.h); with "commits" in it, every commit that wrote is a line on
 * stderr; without them the run loop pays nothing for the trace. */
int queue_open(const char *path, unsigned flags, struct queue **out,
	       char *err, size_t errlen);
void queue_close(struct queue **q);

/* Errors */
/* queue_errmsg: the last failure on q in words (borrowed, valid until the
 * next call on q), e.g. "disk full while committing". */
const char *queue_errmsg(const struct queue *q);
const char *queue_strerror(int rc);
const char *job_state_name(int state);

/* Schema */
/* queue_schema_version: the version this build writes (user_version). */
int queue_schema_version(void);

#endif
