/* mock_batch.c — files and batches of the mock's batch APIs.
 *
 * DESIGN. A batch's life is a function of time: from its creation, the
 * latency drawn for it, its expiry and a cancel time it may get, anyone
 * can tell where it stands at any instant (validating, in progress,
 * cancelling...) without a thread moving it along. Only its end does
 * work: the worker thread sleeps until the earliest end, claims that
 * batch, writes its results outside the lock (mock_results), then marks
 * it ended with its counts and output files. Between the end and that
 * mark an OpenAI batch shows "finalizing" (or "cancelling"), as the real
 * one does. Objects are never freed before exit, so an id stays valid;
 * the id's last 8 hex digits are its index, so a lookup is O(1). */
#include "tests/mock/mock_batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/mock/mock_batch_obj.h"
#include "tests/mock/mock_input.h"
#include "tests/mock/mock_results.h"
#include "tests/mock/mock_util.h"

struct mock_batch {
	const struct mock_opts *o;
	struct mock_fault *fault;
	struct mock_log *log;
	char *dir;
	uint64_t salt; /* per process: ids never repeat across restarts */
	atomic_uint_fast64_t tmp_seq;
	atomic_bool stop;
	pthread_t worker;
	bool started;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* a batch was created or cancelled; stop */
	struct mock_file **files;
	size_t nfiles, capfiles;
	struct mock_bat **bats;
	size_t nbats, capbats;
};

/* --- ids ------------------------------------------------------------- */

static void make_id(const struct mock_batch *s, const char *prefix,
		    size_t index, char *out, size_t cap)
{
	snprintf(out, cap, "%s%016llx%08zx", prefix,
		 (unsigned long long)mock_mix64(s->salt ^ (uint64_t)index ^
						(uint64_t)prefix[0] << 56),
		 index);
}

/* index_of returns the index an id of that prefix names, or -1. */
static long index_of(const char *id, const char *prefix, size_t n)
{
	size_t pl = strlen(prefix), len = strlen(id);
	char *end;
	unsigned long v;

	if (len != pl + 24 || strncmp(id, prefix, pl) != 0)
		return -1;
	v = strtoul(id + pl + 16, &end, 16);
	if (*end || v >= n)
		return -1;
	return (long)v;
}

static struct mock_file *find_file(struct mock_batch *s, const char *id)
{
	long i = index_of(id, "file-", s->nfiles);

	if (i < 0 || strcmp(s->files[i]->id, id) != 0 || s->files[i]->deleted)
		return NULL;
	return s->files[i];
}

static struct mock_bat *find_bat(struct mock_batch *s, enum mock_dialect d,
				 const char *id)
{
	long i = index_of(id, d == MOCK_ANTHROPIC ? "msgbatch_" : "batch_",
			  s->nbats);

	if (i < 0 || strcmp(s->bats[i]->id, id) != 0)
		return NULL;
	return s->bats[i];
}

/* refuse fills *e and returns -1. */
__attribute__((format(printf, 5, 6))) static int
refuse(struct mock_batch_err *e, int status, const char *code,
       const char *param, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	e->param = param;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* --- files ------------------------------------------------------------ */

char *mock_batch_tmp_path(struct mock_batch *s)
{
	char buf[64];
	size_t n = strlen(s->dir) + sizeof(buf);
	char *p = mock_xmalloc(n);

	snprintf(buf, sizeof(buf), "upload-%llu",
		 (unsigned long long)atomic_fetch_add(&s->tmp_seq, 1));
	snprintf(p, n, "%s/%s", s->dir, buf);
	return p;
}

/* add_file registers a file. Called with s->mu held. */
static struct mock_file *add_file(struct mock_batch *s, char *path,
				  const char *filename, const char *purpose,
				  size_t bytes)
{
	struct mock_file *f = mock_xcalloc(1, sizeof(*f));

	if (s->nfiles == s->capfiles) {
		s->capfiles = s->capfiles ? s->capfiles * 2 : 64;
		s->files = mock_xrealloc(s->files,
					 s->capfiles * sizeof(*s->files));
	}
	make_id(s, "file-", s->nfiles, f->id, sizeof(f->id));
	f->path = path;
	f->filename = mock_xstrdup(filename);
	snprintf(f->purpose, sizeof(f->purpose), "%s", purpose);
	f->bytes = bytes;
	f->created_s = mock_wall_ms() / 1000;
	s->files[s->nfiles++] = f;
	return f;
}

/* release_file drops the disk copy of a deleted file nobody reads. */
static void release_file(struct mock_file *f)
{
	if (f->deleted && f->users == 0 && f->path) {
		unlink(f->path);
		free(f->path);
		f->path = NULL;
	}
}

cJSON *mock_batch_file_add(struct mock_batch *s, char *path,
			   const char *filename, const char *purpose,
			   size_t bytes, cJSON *logrec)
{
	struct mock_input_check chk = {0};
	struct mock_file *f;
	const char *data;
	size_t len;
	cJSON *obj;

	/* Checked now, outside the lock: a batch created from the file
	 * then knows its fate at once. */
	if (strcmp(purpose, "batch") == 0 &&
	    mock_input_map(path, &data, &len) == 0) {
		mock_input_check_openai(data, len, &chk);
		mock_input_unmap(data, len);
	}
	pthread_mutex_lock(&s->mu);
	f = add_file(s, path, filename, purpose, bytes);
	f->nreq = chk.n;
	f->model = chk.model;
	f->errors = chk.errors;
	obj = mock_batch_obj_file(f);
	pthread_mutex_unlock(&s->mu);
	cJSON_AddStringToObject(logrec, "file", f->id);
	cJSON_AddNumberToObject(logrec, "requests", (double)chk.n);
	return obj;
}

int mock_batch_file_get(struct mock_batch *s, const char *id, cJSON **obj,
			struct mock_batch_err *e)
{
	struct mock_file *f;

	pthread_mutex_lock(&s->mu);
	f = find_file(s, id);
	if (f)
		*obj = mock_batch_obj_file(f);
	pthread_mutex_unlock(&s->mu);
	if (!f)
		return refuse(e, 404, NULL, "file_id",
			      "No such File object: %s", id);
	return 0;
}

int mock_batch_file_open(struct mock_batch *s, const char *id, int *fd,
			 size_t *len, struct mock_batch_err *e)
{
	struct mock_file *f;

	pthread_mutex_lock(&s->mu);
	f = find_file(s, id);
	/* Opened under the lock so a delete cannot unlink it first. */
	*fd = f ? open(f->path, O_RDONLY | O_CLOEXEC) : -1;
	if (f)
		*len = f->bytes;
	pthread_mutex_unlock(&s->mu);
	if (!f)
		return refuse(e, 404, NULL, "file_id",
			      "No such File object: %s", id);
	if (*fd < 0)
		return refuse(e, 500, NULL, NULL, "cannot read file %s", id);
	return 0;
}

int mock_batch_file_delete(struct mock_batch *s, const char *id,
			   cJSON **obj, struct mock_batch_err *e)
{
	struct mock_file *f;

	pthread_mutex_lock(&s->mu);
	f = find_file(s, id);
	if (f) {
		f->deleted = true;
		release_file(f);
	}
	pthread_mutex_unlock(&s->mu);
	if (!f)
		return refuse(e, 404, NULL, "file_id",
			      "No such File object: %s", id);
	*obj = cJSON_CreateObject();
	if (!*obj)
		abort();
	cJSON_AddStringToObject(*obj, "id", id);
	cJSON_AddStringToObject(*obj, "object", "file");
	cJSON_AddTrueToObject(*obj, "deleted");
	return 0;
}

/* --- batches ---------------------------------------------------------- */

static struct mock_bat *add_bat(struct mock_batch *s, enum mock_dialect d)
{
	const struct mock_batch_opts *bo = &s->o->batch;
	struct mock_bat *b = mock_xcalloc(1, sizeof(*b));
	uint64_t span = (uint64_t)(bo->lat_max - bo->lat_min) + 1;

	if (s->nbats == s->capbats) {
		s->capbats = s->capbats ? s->capbats * 2 : 64;
		s->bats = mock_xrealloc(s->bats, s->capbats * sizeof(*s->bats));
	}
	b->dialect = d;
	make_id(s, d == MOCK_ANTHROPIC ? "msgbatch_" : "batch_", s->nbats,
		b->id, sizeof(b->id));
	b->salt = mock_mix64(s->salt + s->nbats);
	b->c_mono = mock_mono_ms();
	b->c_wall = mock_wall_ms();
	b->lat = bo->lat_min + (long)(mock_fault_rand(s->fault, s->nbats, 7) %
				      span);
	/* OpenAI validates the file first: a tenth of the latency. */
	b->validate = d == MOCK_OPENAI ? (b->lat / 10 < 1000 ? b->lat / 10
							     : 1000)
				       : 0;
	b->stuck = bo->stuck;
	b->progress = bo->progress;
	b->forced_expiry = bo->expire_after_ms > 0;
	b->expire_at = b->c_mono + (bo->expire_after_ms > 0
					? bo->expire_after_ms
					: bo->window_ms);
	s->bats[s->nbats++] = b;
	return b;
}

/* window_ms parses an OpenAI completion window ("24h" .. "336h", what
 * DashScope takes) into how long it lasts here, or returns -1. */
static long window_ms(const struct mock_batch *s, const char *w)
{
	char *end;
	long h = strtol(w, &end, 10);

	if (end == w || strcmp(end, "h") != 0 || h < 24 || h > 336)
		return -1;
	return s->o->batch.window_ms / 24 * h;
}

static bool metadata_ok(const cJSON *m)
{
	const cJSON *kv;
	int n = 0;

	if (!m || cJSON_IsNull(m))
		return true;
	if (!cJSON_IsObject(m))
		return false;
	cJSON_ArrayForEach(kv, m)
	{
		if (++n > 16 || strlen(kv->string) > 64 || !cJSON_IsString(kv) ||
		    strlen(kv->valuestring) > 512)
			return false;
	}
	return true;
}

static int check_create(struct mock_batch *s, const cJSON *req,
			struct mock_file **f, long *win,
			struct mock_batch_err *e)
{
	const cJSON *fid = cJSON_GetObjectItemCaseSensitive(req, "input_file_id");
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(req, "endpoint");
	const cJSON *cw =
	    cJSON_GetObjectItemCaseSensitive(req, "completion_window");

	if (!cJSON_IsString(fid))
		return refuse(e, 400, "missing_required_parameter",
			      "input_file_id", "%s",
			      "Missing required parameter: 'input_file_id'.");
	if (!cJSON_IsString(ep) ||
	    strcmp(ep->valuestring, "/v1/chat/completions") != 0)
		return refuse(e, 400, "invalid_value", "endpoint", "%s",
			      "endpoint must be /v1/chat/completions, the "
			      "url of the input file's lines.");
	if (!cJSON_IsString(cw) || (*win = window_ms(s, cw->valuestring)) < 0)
		return refuse(e, 400, "invalid_value", "completion_window",
			      "%s", "completion_window must be '24h'.");
	if (!metadata_ok(cJSON_GetObjectItemCaseSensitive(req, "metadata")))
		return refuse(e, 400, "invalid_value", "metadata", "%s",
			      "metadata: at most 16 string values, keys up to "
			      "64 and values up to 512 characters.");
	*f = find_file(s, fid->valuestring);
	if (!*f)
		return refuse(e, 404, NULL, "input_file_id",
			      "No such File object: %s", fid->valuestring);
	if (strcmp((*f)->purpose, "batch") != 0)
		return refuse(e, 400, "invalid_value", "input_file_id",
			      "File %s was not uploaded for purpose 'batch'.",
			      fid->valuestring);
	return 0;
}

static cJSON *copy_json(const cJSON *v)
{
	cJSON *d = cJSON_Duplicate(v, 1);

	if (!d)
		abort();
	return d;
}

/* fail_errors: the errors.data of a batch that --batch-fail-validation
 * fails. */
static cJSON *fail_errors(void)
{
	cJSON *a = cJSON_CreateArray(), *e = cJSON_CreateObject();

	if (!a || !e)
		abort();
	cJSON_AddStringToObject(e, "code", "invalid_request");
	cJSON_AddStringToObject(e, "message",
				"The input file could not be validated "
				"(--batch-fail-validation).");
	cJSON_AddNullToObject(e, "param");
	cJSON_AddNumberToObject(e, "line", 1);
	cJSON_AddItemToArray(a, e);
	return a;
}

int mock_batch_create_openai(struct mock_batch *s, const cJSON *req,
			     cJSON **obj, cJSON *logrec,
			     struct mock_batch_err *e)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(req, "metadata");
	struct mock_file *f = NULL;
	struct mock_bat *b;
	long win = 0;

	pthread_mutex_lock(&s->mu);
	if (check_create(s, req, &f, &win, e) < 0) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	b = add_bat(s, MOCK_OPENAI);
	if (!b->forced_expiry)
		b->expire_at = b->c_mono + win;
	b->input = f;
	b->nreq = f->nreq;
	b->model = f->model ? mock_xstrdup(f->model) : NULL;
	b->window = mock_xstrdup(
	    cJSON_GetObjectItemCaseSensitive(req, "completion_window")
		->valuestring);
	b->metadata = cJSON_IsObject(md) ? copy_json(md) : NULL;
	if (s->o->batch.fail_validation)
		b->errors = fail_errors();
	else if (f->errors)
		b->errors = copy_json(f->errors);
	b->fail = b->errors != NULL;
	if (!b->fail)
		f->users++;
	*obj = mock_batch_obj_openai(b, mock_mono_ms());
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	cJSON_AddStringToObject(logrec, "batch", b->id);
	cJSON_AddStringToObject(logrec, "file", f->id);
	cJSON_AddNumberToObject(logrec, "requests", (double)b->nreq);
	if (b->model)
		cJSON_AddStringToObject(logrec, "model", b->model);
	else
		cJSON_AddNullToObject(logrec, "model");
	cJSON_AddItemToObject(logrec, "metadata",
			      b->metadata ? copy_json(b->metadata)
					  : cJSON_CreateNull());
	return 0;
}

int mock_batch_create_anthropic(struct mock_batch *s, char *path,
				const char *base, cJSON **obj, cJSON *logrec,
				struct mock_batch_err *e)
{
	struct mock_input_check chk = {0};
	struct mock_bat *b;
	const char *data;
	size_t len;

	if (mock_input_map(path, &data, &len) < 0) {
		refuse(e, 500, NULL, NULL, "cannot read the upload%s", "");
		goto fail;
	}
	mock_input_check_anthropic(data, len, &chk);
	mock_input_unmap(data, len);
	if (s->o->batch.fail_validation)
		snprintf(chk.error, sizeof(chk.error),
			 "requests: the batch failed validation "
			 "(--batch-fail-validation)");
	if (chk.error[0]) {
		refuse(e, 400, NULL, NULL, "%s", chk.error);
		goto fail;
	}
	pthread_mutex_lock(&s->mu);
	b = add_bat(s, MOCK_ANTHROPIC);
	b->req_path = path;
	b->nreq = chk.n;
	b->model = chk.model;
	chk.model = NULL;
	*obj = mock_batch_obj_anthropic(b, mock_mono_ms(), base);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	cJSON_AddStringToObject(logrec, "batch", b->id);
	cJSON_AddNumberToObject(logrec, "requests", (double)b->nreq);
	cJSON_AddStringToObject(logrec, "model", b->model);
	cJSON_AddNullToObject(logrec, "metadata");
	mock_input_check_clear(&chk);
	return 0;
fail:
	mock_input_check_clear(&chk);
	unlink(path);
	free(path);
	return -1;
}

static cJSON *obj_of(const struct mock_bat *b, const char *base)
{
	int64_t now = mock_mono_ms();

	return b->dialect == MOCK_ANTHROPIC
		   ? mock_batch_obj_anthropic(b, now, base)
		   : mock_batch_obj_openai(b, now);
}

int mock_batch_get(struct mock_batch *s, enum mock_dialect d, const char *id,
		   const char *base, cJSON **obj, struct mock_batch_err *e)
{
	struct mock_bat *b;

	pthread_mutex_lock(&s->mu);
	b = find_bat(s, d, id);
	if (b)
		*obj = obj_of(b, base);
	pthread_mutex_unlock(&s->mu);
	if (!b)
		return refuse(e, 404, NULL, NULL, "No batch found with id '%s'.",
			      id);
	return 0;
}

int mock_batch_list(struct mock_batch *s, enum mock_dialect d, long limit,
		    const char *after, const char *base, cJSON **obj,
		    struct mock_batch_err *e)
{
	cJSON *data = cJSON_CreateArray();
	const char *first = NULL, *last = NULL;
	long i, n = 0;
	bool more = false;

	if (!data || !(*obj = cJSON_CreateObject()))
		abort();
	pthread_mutex_lock(&s->mu);
	i = (long)s->nbats - 1;
	if (after) {
		const struct mock_bat *a = find_bat(s, d, after);

		if (!a) {
			pthread_mutex_unlock(&s->mu);
			cJSON_Delete(data);
			cJSON_Delete(*obj);
			return refuse(e, 400, "invalid_value", "after",
				      "No batch found with id '%s'.", after);
		}
		i = index_of(after, d == MOCK_ANTHROPIC ? "msgbatch_" : "batch_",
			     s->nbats) -
		    1;
	}
	for (; i >= 0; i--) {
		const struct mock_bat *b = s->bats[i];

		if (b->dialect != d)
			continue;
		if (n == limit) {
			more = true;
			break;
		}
		cJSON_AddItemToArray(data, obj_of(b, base));
		if (!first)
			first = b->id;
		last = b->id;
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	if (d == MOCK_OPENAI)
		cJSON_AddStringToObject(*obj, "object", "list");
	cJSON_AddItemToObject(*obj, "data", data);
	/* Ids live as long as s: reading them unlocked is safe. */
	mock_batch_obj_str(*obj, "first_id", first);
	mock_batch_obj_str(*obj, "last_id", last);
	cJSON_AddBoolToObject(*obj, "has_more", more);
	return 0;
}

int mock_batch_cancel(struct mock_batch *s, enum mock_dialect d,
		      const char *id, const char *base, cJSON **obj,
		      struct mock_batch_err *e)
{
	struct mock_bat *b;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	b = find_bat(s, d, id);
	if (!b) {
		rc = refuse(e, 404, NULL, NULL, "No batch found with id '%s'.",
			    id);
	} else if (b->done || b->fail ||
		   mock_batch_end_of(b, NULL) <= mock_mono_ms()) {
		rc = refuse(e, 400, NULL, NULL,
			    "Batch %s has ended and cannot be cancelled.", id);
	} else {
		if (!b->cancel_at)
			b->cancel_at = mock_mono_ms();
		*obj = obj_of(b, base);
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int mock_batch_results_open(struct mock_batch *s, const char *id, int *fd,
			    size_t *len, struct mock_batch_err *e)
{
	struct mock_bat *b;

	pthread_mutex_lock(&s->mu);
	b = find_bat(s, MOCK_ANTHROPIC, id);
	*fd = b && b->done && b->results_path
		  ? open(b->results_path, O_RDONLY | O_CLOEXEC)
		  : -1;
	if (*fd >= 0)
		*len = b->out_bytes;
	pthread_mutex_unlock(&s->mu);
	if (*fd < 0)
		return refuse(e, 404, NULL, NULL,
			      "No results for message batch %s (yet).", id);
	return 0;
}

/* --- the worker -------------------------------------------------------- */

/* out_path returns a new path in the temp directory for a batch's file. */
static char *out_path(const struct mock_batch *s, const char *id,
		      const char *what)
{
	size_t n = strlen(s->dir) + strlen(id) + strlen(what) + 4;
	char *p = mock_xmalloc(n);

	snprintf(p, n, "%s/%s.%s", s->dir, id, what);
	return p;
}

/* finish writes b's results (called without the lock; b is claimed by
 * b->running, and its fields set at creation do not change) and
 * records them under the lock. */
static void finish(struct mock_batch *s, struct mock_bat *b, int64_t end_at,
		   enum mock_end how)
{
	struct mock_results res;
	struct mock_results_cfg cfg = {
	    .dialect = b->dialect,
	    .batch_id = b->id,
	    .salt = b->salt,
	    .in_path = b->dialect == MOCK_OPENAI ? b->input->path : b->req_path,
	    .nrun = mock_batch_nrun(b, &s->o->batch, how),
	    .cancelled = how == MOCK_END_CANCELLED,
	    .now_ms = b->c_wall + (end_at - b->c_mono),
	    .opts = s->o,
	    .fault = s->fault,
	    .log = s->log,
	    .stop = &s->stop,
	};
	char *out = out_path(s, b->id, b->dialect == MOCK_OPENAI
					   ? "output.jsonl"
					   : "results.jsonl");
	char *err = b->dialect == MOCK_OPENAI
			? out_path(s, b->id, "errors.jsonl")
			: NULL;
	char name[96];
	int rc;

	cfg.out_path = out;
	cfg.err_path = err;
	rc = mock_results_write(&cfg, &res);
	pthread_mutex_lock(&s->mu);
	b->end = how;
	b->end_at = end_at;
	b->done_wall = mock_wall_ms();
	b->n_ok = res.ok;
	b->n_err = res.errored;
	b->n_not_run = res.not_run;
	b->out_bytes = res.out_bytes;
	if (b->dialect == MOCK_OPENAI) {
		/* An empty file gets no id, as OpenAI leaves output_file_id
		 * null when every request failed. */
		snprintf(name, sizeof(name), "%s_output.jsonl", b->id);
		if (rc == 0 && res.out_lines > 0)
			b->output = add_file(s, out, name, "batch_output",
					     res.out_bytes);
		else
			unlink(out), free(out);
		snprintf(name, sizeof(name), "%s_error.jsonl", b->id);
		if (rc == 0 && res.err_lines > 0)
			b->error = add_file(s, err, name, "batch_output",
					    res.err_bytes);
		else
			unlink(err), free(err);
		b->input->users--;
		release_file(b->input);
	} else {
		b->results_path = out;
		/* The create body has served its turn. */
		unlink(b->req_path);
	}
	b->running = false;
	b->done = true;
	pthread_mutex_unlock(&s->mu);
}

static void *work(void *arg)
{
	struct mock_batch *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->stop)) {
		int64_t now = mock_mono_ms(), next = INT64_MAX, t = 0;
		struct mock_bat *due = NULL;
		enum mock_end how = MOCK_END_NONE;

		for (size_t i = 0; i < s->nbats && !due; i++) {
			struct mock_bat *b = s->bats[i];

			if (b->done || b->running || b->fail)
				continue;
			t = mock_batch_end_of(b, &how);
			if (t <= now)
				due = b;
			else if (t < next)
				next = t;
		}
		if (due) {
			due->running = true;
			pthread_mutex_unlock(&s->mu);
			finish(s, due, t, how);
			pthread_mutex_lock(&s->mu);
		} else if (next == INT64_MAX) {
			pthread_cond_wait(&s->cv, &s->mu);
		} else {
			struct timespec ts = {
			    .tv_sec = (time_t)(next / 1000),
			    .tv_nsec = (long)(next % 1000) * 1000000L,
			};

			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct mock_batch *mock_batch_new(const struct mock_opts *o,
				  struct mock_fault *f, struct mock_log *log)
{
	struct mock_batch *s = mock_xcalloc(1, sizeof(*s));
	const char *tmp = getenv("TMPDIR");
	pthread_condattr_t ca;
	size_t n;

	s->o = o;
	s->fault = f;
	s->log = log;
	s->salt = mock_mix64((uint64_t)mock_wall_ms() * 1000003u ^
			     (uint64_t)getpid() << 32 ^ (uint64_t)mock_mono_ms());
	atomic_init(&s->tmp_seq, 0);
	atomic_init(&s->stop, false);
	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = strlen(tmp) + 32;
	s->dir = mock_xmalloc(n);
	snprintf(s->dir, n, "%s/mock-provider-XXXXXX", tmp);
	if (!mkdtemp(s->dir)) {
		fprintf(stderr, "mock-provider: %s: %s\n", s->dir,
			strerror(errno));
		free(s->dir);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	/* Ends are monotonic times: a wall-clock step must not move them. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->worker, NULL, work, s) != 0) {
		fprintf(stderr, "mock-provider: cannot start batch worker\n");
		mock_batch_free(s);
		return NULL;
	}
	s->started = true;
	return s;
}

/* remove_dir empties and removes the temp directory; it holds only
 * files the mock made. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char p[4096];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

void mock_batch_free(struct mock_batch *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		atomic_store(&s->stop, true);
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->worker, NULL);
	}
	remove_dir(s->dir);
	for (size_t i = 0; i < s->nfiles; i++)
		mock_batch_obj_file_free(s->files[i]);
	for (size_t i = 0; i < s->nbats; i++)
		mock_batch_obj_bat_free(s->bats[i]);
	free(s->files);
	free(s->bats);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s);
}
