/* queue.c — opening, migrating and closing the queue database.
 *
 * DESIGN: one SQLite file in WAL mode holds jobs, results, the attempts
 * ledger and the zstd dictionaries. WAL lets `status` and `export` read
 * while a run writes. synchronous=FULL syncs the WAL at every commit
 * (one fdatasync; checkpoints add theirs), so a commit survives a power
 * loss: with NORMAL the last commits before one could roll back, and
 * replies already paid for would be sent and paid again, their ledger rows
 * gone (issue 15). Writers commit in groups (the run's store a turn of
 * many jobs, ingest large transactions), so that is one fsync per group,
 * never per job. A crash never corrupts the file either way, and the run
 * loop's lease recovery makes what was not committed "sent again", never
 * "lost". */
#include "queue/queue_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* 'NSFT': marks a file as ours, so we refuse to migrate someone else's. */
#define APPLICATION_ID 0x4E534654

/* Page cache per connection. RSS must stay flat on huge ingests, so this
 * is a cap, not a hint: 16 MiB. */
#define CACHE_KIB 16384

/* The switch to WAL on a file another process is switching: tried every
 * 20 ms for as long as the busy timeout (15 s) would have waited. */
#define OPEN_BUSY_NAP_MS 20
#define OPEN_BUSY_TRIES 750

static int translate(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return QUEUE_OK;
	case SQLITE_FULL:
		return QUEUE_EFULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return QUEUE_EBUSY;
	case SQLITE_CORRUPT:
		return QUEUE_ECORRUPT;
	case SQLITE_NOTADB:
		return QUEUE_ENOTDB;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return QUEUE_EPERM;
	case SQLITE_CANTOPEN:
		return QUEUE_ENOENT;
	default:
		return QUEUE_EIO;
	}
}

int qfail(struct queue *q, int rc, const char *what)
{
	int code = translate(rc);

	if (code == QUEUE_OK)
		code = QUEUE_EIO;
	if (code == QUEUE_EFULL)
		snprintf(q->err, sizeof(q->err), "%s: disk full (%s)", what,
			 q->path);
	else
		snprintf(q->err, sizeof(q->err), "%s: %s (%s)", what,
			 sqlite3_errmsg(q->db), q->path);
	return code;
}

int qexec(struct queue *q, const char *sql, const char *what)
{
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? QUEUE_OK : qfail(q, rc, what);
}

int qprepare(struct queue *q, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    st, NULL);

	return rc == SQLITE_OK ? QUEUE_OK : qfail(q, rc, "preparing a query");
}

int qquery(struct queue *q, const char *sql, sqlite3_stmt **st,
	   const char *what)
{
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? QUEUE_OK : qfail(q, rc, what);
}

int qone_row(struct queue *q, const char *sql, sqlite3_stmt **st,
	     const char *what)
{
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(*st)) == SQLITE_ROW)
		return QUEUE_OK;
	rc = qfail(q, rc, what);
	sqlite3_finalize(*st);
	*st = NULL;
	return rc;
}

int qone_int(struct queue *q, const char *sql, long long *v,
	     const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = qone_row(q, sql, &st, what);

	if (rc == QUEUE_OK)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}

int qend(struct queue *q, sqlite3_stmt *st, int rc, const char *what)
{
	rc = rc == SQLITE_DONE ? QUEUE_OK : qfail(q, rc, what);
	sqlite3_finalize(st);
	return rc;
}

int qbegin(struct queue *q, int *open, const char *what)
{
	int rc;

	if (*open)
		return QUEUE_OK;
	if ((rc = qexec(q, "BEGIN IMMEDIATE", what)))
		return rc;
	*open = 1;
	return QUEUE_OK;
}

int qcommit(struct queue *q, int *open, const char *what)
{
	int rc;

	if (!*open)
		return QUEUE_OK;
	if ((rc = qexec(q, "COMMIT", what)))
		return rc;
	*open = 0;
	return QUEUE_OK;
}

void qrollback(struct queue *q, int *open)
{
	if (*open)
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	*open = 0;
}

const char *queue_errmsg(const struct queue *q)
{
	return q->err;
}

const char *queue_strerror(int rc)
{
	switch (rc) {
	case QUEUE_OK:
		return "ok";
	case QUEUE_EFULL:
		return "disk full";
	case QUEUE_EBUSY:
		return "database is locked by another process";
	case QUEUE_ECORRUPT:
		return "database file is damaged";
	case QUEUE_ENOTDB:
		return "not a nightshift database";
	case QUEUE_EVERSION:
		return "database was written by a newer nightshift";
	case QUEUE_ENOENT:
		return "no such database";
	case QUEUE_EPERM:
		return "database is read-only";
	case QUEUE_EINVAL:
		return "invalid argument or stored data";
	default:
		return "I/O error";
	}
}

const char *job_state_name(int state)
{
	static const char *const names[JOB_NSTATES] = {"queued", "running",
						       "done", "dead"};

	return state >= 0 && state < JOB_NSTATES ? names[state] : "unknown";
}

int queue_schema_version(void)
{
	return (int)schema_sql_count;
}

/* holds_queue: for a reader, before anything writes (journal_mode = WAL
 * rewrites the header): QUEUE_ENOENT, said in q->err, when the file has
 * no schema at all, so that it is left as it was (issue 17: status wrote
 * a schema into an empty file). A file of other tables, or not SQLite,
 * is migrate's and journal_mode's to refuse. */
static int holds_queue(struct queue *q)
{
	long long ver = 0, tables = 0;
	int rc;

	if ((rc = qone_int(q, "PRAGMA user_version", &ver,
			   "reading the schema")))
		return rc;
	if (ver == 0 && (rc = qone_int(q, "SELECT count(*) FROM sqlite_schema",
				       &tables, "reading the schema")))
		return rc;
	if (ver == 0 && tables == 0) {
		snprintf(q->err, sizeof(q->err),
			 "%s: no nightshift queue in it yet (ingest some jobs "
			 "first, or pass --db)",
			 q->path);
		return QUEUE_ENOENT;
	}
	return QUEUE_OK;
}

/* migrate: bring the file to schema_sql_count. Every step and the version
 * bump happen in one IMMEDIATE transaction, so two processes opening a new
 * file at once cannot both create it and a crash leaves the old version. */
static int migrate(struct queue *q)
{
	long long ver = 0, app = 0, tables = 0;
	long long want = (long long)schema_sql_count;
	char sql[96];
	int rc, open = 0;

	if ((rc = qone_int(q, "PRAGMA application_id", &app,
			   "reading the schema")))
		return rc;
	if (app != 0 && app != APPLICATION_ID) {
		snprintf(q->err, sizeof(q->err),
			 "%s: not a nightshift database", q->path);
		return QUEUE_ENOTDB;
	}
	if ((rc = qone_int(q, "PRAGMA user_version", &ver,
			   "reading the schema")))
		return rc;
	if (ver > want) {
		snprintf(q->err, sizeof(q->err),
			 "%s: schema version %lld is newer than this "
			 "nightshift's (%lld); upgrade nightshift",
			 q->path, ver, want);
		return QUEUE_EVERSION;
	}
	if (ver == want)
		return QUEUE_OK;
	if ((rc = qbegin(q, &open, "migrating the schema")))
		return rc;
	/* Re-read under the write lock: another process may have won. */
	if ((rc = qone_int(q, "PRAGMA user_version", &ver,
			   "reading the schema")))
		goto fail;
	if (ver == 0) {
		rc = qone_int(q, "SELECT count(*) FROM sqlite_schema",
			      &tables, "reading the schema");
		if (rc)
			goto fail;
		if (tables != 0) {
			snprintf(q->err, sizeof(q->err),
				 "%s: not a nightshift database (it has "
				 "tables of its own)",
				 q->path);
			rc = QUEUE_ENOTDB;
			goto fail;
		}
	}
	for (long long v = ver; v < want; v++)
		if ((rc = qexec(q, schema_sql[v], "migrating the schema")))
			goto fail;
	snprintf(sql, sizeof(sql),
		 "PRAGMA user_version = %lld; PRAGMA application_id = %d", want,
		 APPLICATION_ID);
	if ((rc = qexec(q, sql, "migrating the schema")))
		goto fail;
	kill_point("migrate"); /* the crash tests' seam */
	if ((rc = qcommit(q, &open, "migrating the schema")))
		goto fail;
	return QUEUE_OK;
fail:
	qrollback(q, &open);
	return rc;
}

/* keep: add d to q's dictionaries (q owns it now), the current one of its
 * kind. */
static void keep(struct queue *q, const char *kind, struct blob_dict *d)
{
	q->dicts = xrealloc(q->dicts, (q->ndicts + 1) * sizeof(*q->dicts));
	q->dicts[q->ndicts++] = d;
	if (strcmp(kind, "body") == 0)
		q->body_dict = d;
	else
		q->result_dict = d;
}

static int load_dicts(struct queue *q)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(q, "SELECT kind, data FROM dicts ORDER BY created_at, "
			   "rowid",
			&st, "loading dictionaries");

	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		struct blob_dict *d =
			kind ? blob_dict_load(sqlite3_column_blob(st, 1),
					      (size_t)sqlite3_column_bytes(st, 1),
					      blob_level_of(kind))
			     : NULL;

		if (d) /* else an unreadable dictionary: its rows say so */
			keep(q, kind, d);
	}
	return qend(q, st, rc, "loading dictionaries");
}

struct blob_dict *qdict_find(struct queue *q, unsigned id)
{
	sqlite3_stmt *st = NULL;
	struct blob_dict *d = NULL;

	for (size_t i = 0; i < q->ndicts; i++)
		if (blob_dict_id(q->dicts[i]) == id)
			return q->dicts[i];
	/* Trained by another process since we opened the file: a run that
	 * claims what a concurrent ingest queued (two cron runs of `run
	 * FILE`, an ingest into a running queue), an export while a run
	 * trains its result dictionary. Kept, but not made the current one
	 * of its kind: what we compress with stays ours. */
	if (qquery(q, "SELECT kind, data FROM dicts WHERE id = ?1", &st,
		   "loading a dictionary"))
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		d = blob_dict_load(
			sqlite3_column_blob(st, 1),
			(size_t)sqlite3_column_bytes(st, 1),
			blob_level_of((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	if (d) {
		q->dicts = xrealloc(q->dicts,
				    (q->ndicts + 1) * sizeof(*q->dicts));
		q->dicts[q->ndicts++] = d;
	}
	return d;
}

int qdict_add(struct queue *q, const char *kind, struct blob_dict *d)
{
	sqlite3_stmt *st = NULL;
	size_t len;
	const void *data = blob_dict_data(d, &len);
	int rc = qquery(q,
			"INSERT OR IGNORE INTO dicts (id, kind, data, "
			"created_at) VALUES (?, ?, ?, ?)",
			&st, "storing a dictionary");

	if (rc == QUEUE_OK) {
		sqlite3_bind_int64(st, 1, blob_dict_id(d));
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, data, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, clk_wall_ms());
		rc = qend(q, st, sqlite3_step(st), "storing a dictionary");
	}
	if (rc) {
		blob_dict_free(&d);
		return rc;
	}
	keep(q, kind, d);
	return QUEUE_OK;
}

int qtrace_has(const char *flag)
{
	const char *s = getenv("NIGHTSHIFT_TRACE");
	size_t n = strlen(flag);

	while (s && *s) {
		size_t k = strcspn(s, ",");

		if (k == n && strncmp(s, flag, n) == 0)
			return 1;
		s += k + (s[k] == ',');
	}
	return 0;
}

/* traced_commit: SQLite's WAL hook, called after each commit that wrote
 * to the WAL (now frames long): one trace line, then SQLite's own
 * autocheckpoint, which a WAL hook replaces. */
static int traced_commit(void *arg, sqlite3 *db, const char *name,
			 int frames)
{
	const struct queue *q = arg;

	fprintf(stderr, "nightshift: trace: commit (WAL at %d frames)\n",
		frames);
	if (q->checkpoint_frames > 0 && frames >= q->checkpoint_frames)
		sqlite3_wal_checkpoint(db, name);
	return SQLITE_OK;
}

/* trace_commits: with NIGHTSHIFT_TRACE=commits, a line per commit, so
 * tests can count group commits (and the fsyncs per commit). */
static int trace_commits(struct queue *q)
{
	int rc;

	if (!qtrace_has("commits"))
		return QUEUE_OK;
	rc = qone_int(q, "PRAGMA wal_autocheckpoint", &q->checkpoint_frames,
		      "starting the trace");
	if (rc == QUEUE_OK)
		sqlite3_wal_hook(q->db, traced_commit, q);
	return rc;
}

/* create_private: make the file 0600 before SQLite sees it; SQLite gives
 * the -wal and -shm files the same mode as the database. */
static int create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
			 strerror(errno));
		return errno == ENOSPC ? QUEUE_EFULL
		       : errno == EACCES || errno == EROFS ? QUEUE_EPERM
							   : QUEUE_EIO;
	}
	if (fd >= 0)
		close(fd);
	return QUEUE_OK;
}

/* Before SQLite starts: no memory statistics, which cost a global mutex
 * around every allocation it makes (we never read them). */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int queue_open(const char *path, unsigned flags, struct queue **out,
	       char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct queue *q;
	struct stat sb;
	char scratch[8];
	int rc;

	pthread_once(&once, sqlite_setup);
	*out = NULL;
	if (!err) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	if (stat(path, &sb) != 0) {
		if (!(flags & QUEUE_OPEN_CREATE)) {
			snprintf(err, errlen,
				 "%s: no such database (ingest some jobs "
				 "first, or pass --db)",
				 path);
			return QUEUE_ENOENT;
		}
		if ((rc = create_private(path, err, errlen)))
			return rc;
	} else if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return QUEUE_ENOTDB;
	} else if (sb.st_size == 0 && (flags & QUEUE_OPEN_READ)) {
		/* Not even opened: journal_mode = WAL would write a header. */
		snprintf(err, errlen,
			 "%s: an empty file, no nightshift queue in it yet "
			 "(ingest some jobs first, or pass --db)",
			 path);
		return QUEUE_ENOENT;
	}
	q = xcalloc(1, sizeof(*q));
	q->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &q->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = qfail(q, rc, "opening");
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, 15000);
	if ((flags & QUEUE_OPEN_READ) && (rc = holds_queue(q))) {
		if (rc == QUEUE_ENOTDB)
			snprintf(q->err, sizeof(q->err),
				 "%s: not a nightshift database", path);
		goto fail;
	}
	/* journal_mode is the first statement that reads the file, so a file
	 * that is not SQLite at all fails here with NOTADB. On a new file
	 * that another process is turning to WAL at the same moment (two
	 * cron runs of `run FILE`), SQLite answers BUSY at once rather
	 * than wait, since waiting could deadlock: the busy timeout does
	 * not apply, so the switch is tried again over the same span. */
	for (int tries = 0;; tries++) {
		rc = qexec(q,
			   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
			   "PRAGMA cache_size = -" QUEUE_STR(CACHE_KIB) ";"
			   "PRAGMA foreign_keys = OFF",
			   "opening");
		if (rc != QUEUE_EBUSY || tries >= OPEN_BUSY_TRIES)
			break;
		nanosleep(&(struct timespec){0, OPEN_BUSY_NAP_MS * 1000000L},
			  NULL);
	}
	if (rc == QUEUE_ENOTDB)
		snprintf(q->err, sizeof(q->err),
			 "%s: not a nightshift database", path);
	if (rc || (rc = trace_commits(q)) || (rc = migrate(q)) ||
	    (rc = load_dicts(q)))
		goto fail;
	*out = q;
	return QUEUE_OK;
fail:
	snprintf(err, errlen, "%s", q->err);
	queue_close(&q);
	return rc;
}

void queue_close(struct queue **qp)
{
	struct queue *q = *qp;

	if (!q)
		return;
	for (size_t i = 0; i < q->ndicts; i++)
		blob_dict_free(&q->dicts[i]);
	free(q->dicts);
	sqlite3_close_v2(q->db);
	free(q->path);
	free(q);
	*qp = NULL;
}
