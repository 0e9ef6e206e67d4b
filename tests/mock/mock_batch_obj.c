/* mock_batch_obj.c — a batch's timeline and the objects the two batch
 * APIs return. Field sets follow openai-python's types/batch.py and
 * file_object.py and anthropic-sdk-python's message_batch.py: OpenAI
 * times are Unix seconds, Anthropic's RFC 3339; a time not reached yet is
 * null. */
#include "tests/mock/mock_batch_obj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t mock_batch_end_of(const struct mock_bat *b, enum mock_end *how)
{
	int64_t t = INT64_MAX;
	enum mock_end h = MOCK_END_NONE;

	if (b->cancel_at) {
		t = b->cancel_at + MOCK_CANCEL_MS;
		h = MOCK_END_CANCELLED;
	} else if (!b->stuck && !b->forced_expiry) {
		t = b->c_mono + b->lat;
		h = MOCK_END_COMPLETED;
	}
	if (b->expire_at < t) {
		t = b->expire_at;
		h = MOCK_END_EXPIRED;
	}
	if (how)
		*how = h;
	return t;
}

/* share: the part of b's latency elapsed at t, in [0, 1]. */
static double share(const struct mock_bat *b, int64_t t)
{
	if (b->lat <= 0 || t - b->c_mono >= b->lat)
		return 1;
	if (t <= b->c_mono)
		return 0;
	return (double)(t - b->c_mono) / (double)b->lat;
}

static size_t part(const struct mock_bat *b, double f)
{
	return (size_t)(f * (double)b->nreq + 1e-9);
}

size_t mock_batch_nrun(const struct mock_bat *b,
		       const struct mock_batch_opts *bo, enum mock_end how)
{
	switch (how) {
	case MOCK_END_COMPLETED:
		return b->nreq;
	case MOCK_END_CANCELLED:
		return b->stuck ? 0 : part(b, share(b, b->cancel_at));
	case MOCK_END_EXPIRED:
		if (bo->partial >= 0)
			return part(b, bo->partial);
		return b->stuck ? 0 : part(b, share(b, b->expire_at));
	default:
		return 0;
	}
}

/* progress: requests shown done while b runs (--batch-progress). */
static size_t progress(const struct mock_bat *b, int64_t now)
{
	if (!b->progress || b->stuck)
		return 0;
	if (b->cancel_at && b->cancel_at < now)
		now = b->cancel_at;
	return part(b, share(b, now));
}

void mock_batch_obj_str(cJSON *o, const char *name, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *object(void)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		abort();
	return o;
}

cJSON *mock_batch_obj_file(const struct mock_file *f)
{
	cJSON *o = object();

	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "object", "file");
	cJSON_AddNumberToObject(o, "bytes", (double)f->bytes);
	cJSON_AddNumberToObject(o, "created_at", (double)f->created_s);
	cJSON_AddStringToObject(o, "filename", f->filename);
	cJSON_AddStringToObject(o, "purpose", f->purpose);
	cJSON_AddStringToObject(o, "status", "processed");
	return o;
}

/* wall: the wall-clock ms of b's monotonic time t. */
static int64_t wall(const struct mock_bat *b, int64_t t)
{
	return b->c_wall + (t - b->c_mono);
}

/* unix_s adds name: the Unix seconds of wall ms w when set, else null. */
static void unix_s(cJSON *o, const char *name, bool set, int64_t w)
{
	if (set)
		cJSON_AddNumberToObject(o, name, (double)(w / 1000));
	else
		cJSON_AddNullToObject(o, name);
}

static const char *openai_status(const struct mock_bat *b, int64_t now,
				 enum mock_end how, int64_t end)
{
	if (b->fail)
		return now < b->c_mono + b->validate ? "validating" : "failed";
	if (b->done)
		return b->end == MOCK_END_COMPLETED ? "completed"
		       : b->end == MOCK_END_EXPIRED ? "expired"
						    : "cancelled";
	if (b->cancel_at)
		return "cancelling";
	if (now < b->c_mono + b->validate)
		return "validating";
	if (now < end || how == MOCK_END_EXPIRED)
		return "in_progress";
	return "finalizing";
}

cJSON *mock_batch_obj_openai(const struct mock_bat *b, int64_t now)
{
	cJSON *o = object(), *rc = object(), *errs;
	enum mock_end how;
	int64_t end = mock_batch_end_of(b, &how);
	const char *st = openai_status(b, now, how, end);
	bool validated = !b->fail && now >= b->c_mono + b->validate;
	bool ended = b->done;

	cJSON_AddStringToObject(o, "id", b->id);
	cJSON_AddStringToObject(o, "object", "batch");
	cJSON_AddStringToObject(o, "endpoint", "/v1/chat/completions");
	if (b->fail && strcmp(st, "failed") == 0) {
		errs = object();
		cJSON_AddStringToObject(errs, "object", "list");
		cJSON_AddItemToObject(errs, "data",
				      cJSON_Duplicate(b->errors, 1));
		cJSON_AddItemToObject(o, "errors", errs);
	} else {
		cJSON_AddNullToObject(o, "errors");
	}
	cJSON_AddStringToObject(o, "input_file_id", b->input->id);
	cJSON_AddStringToObject(o, "completion_window", b->window);
	cJSON_AddStringToObject(o, "status", st);
	mock_batch_obj_str(o, "output_file_id", b->output ? b->output->id : NULL);
	mock_batch_obj_str(o, "error_file_id", b->error ? b->error->id : NULL);
	unix_s(o, "created_at", true, b->c_wall);
	unix_s(o, "in_progress_at", validated,
	       wall(b, b->c_mono + b->validate));
	unix_s(o, "expires_at", true, wall(b, b->expire_at));
	unix_s(o, "finalizing_at",
	       strcmp(st, "finalizing") == 0 ||
		   (ended && b->end == MOCK_END_COMPLETED),
	       wall(b, ended ? b->end_at : end));
	unix_s(o, "completed_at", ended && b->end == MOCK_END_COMPLETED,
	       b->done_wall);
	unix_s(o, "failed_at", strcmp(st, "failed") == 0,
	       wall(b, b->c_mono + b->validate));
	unix_s(o, "expired_at", ended && b->end == MOCK_END_EXPIRED,
	       b->done_wall);
	unix_s(o, "cancelling_at", b->cancel_at != 0, wall(b, b->cancel_at));
	unix_s(o, "cancelled_at", ended && b->end == MOCK_END_CANCELLED,
	       b->done_wall);
	/* Requests that never ran count as neither completed nor failed. */
	cJSON_AddNumberToObject(rc, "total", b->fail ? 0 : (double)b->nreq);
	cJSON_AddNumberToObject(rc, "completed",
				ended ? (double)b->n_ok
				      : (double)progress(b, now));
	cJSON_AddNumberToObject(rc, "failed", ended ? (double)b->n_err : 0);
	cJSON_AddItemToObject(o, "request_counts", rc);
	if (b->metadata)
		cJSON_AddItemToObject(o, "metadata",
				      cJSON_Duplicate(b->metadata, 1));
	else
		cJSON_AddNullToObject(o, "metadata");
	mock_batch_obj_str(o, "model", b->model);
	return o;
}

/* rfc3339 adds name: wall ms w as RFC 3339 with milliseconds when set,
 * else null. */
static void rfc3339(cJSON *o, const char *name, bool set, int64_t w)
{
	time_t t = (time_t)(w / 1000);
	struct tm tm;
	char buf[40];
	size_t n;

	if (!set) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	gmtime_r(&t, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(w % 1000));
	cJSON_AddStringToObject(o, name, buf);
}

cJSON *mock_batch_obj_anthropic(const struct mock_bat *b, int64_t now,
				const char *base)
{
	cJSON *o = object(), *rc = object();
	bool ended = b->done;
	size_t done = ended ? 0 : progress(b, now);

	cJSON_AddStringToObject(o, "id", b->id);
	cJSON_AddStringToObject(o, "type", "message_batch");
	cJSON_AddStringToObject(o, "processing_status",
				ended		? "ended"
				: b->cancel_at ? "canceling"
					       : "in_progress");
	cJSON_AddNumberToObject(rc, "processing",
				ended ? 0 : (double)(b->nreq - done));
	cJSON_AddNumberToObject(rc, "succeeded",
				ended ? (double)b->n_ok : (double)done);
	cJSON_AddNumberToObject(rc, "errored", ended ? (double)b->n_err : 0);
	cJSON_AddNumberToObject(rc, "canceled",
				ended && b->end == MOCK_END_CANCELLED
				    ? (double)b->n_not_run
				    : 0);
	cJSON_AddNumberToObject(rc, "expired",
				ended && b->end == MOCK_END_EXPIRED
				    ? (double)b->n_not_run
				    : 0);
	cJSON_AddItemToObject(o, "request_counts", rc);
	rfc3339(o, "ended_at", ended, b->done_wall);
	rfc3339(o, "created_at", true, b->c_wall);
	rfc3339(o, "expires_at", true, wall(b, b->expire_at));
	rfc3339(o, "cancel_initiated_at", b->cancel_at != 0,
		wall(b, b->cancel_at));
	cJSON_AddNullToObject(o, "archived_at");
	if (ended) {
		size_t n = strlen(base) + strlen(b->id) + 40;
		char *url = malloc(n);

		if (!url)
			abort();
		snprintf(url, n, "%s/messages/batches/%s/results", base,
			 b->id);
		cJSON_AddStringToObject(o, "results_url", url);
		free(url);
	} else {
		cJSON_AddNullToObject(o, "results_url");
	}
	return o;
}

void mock_batch_obj_file_free(struct mock_file *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->filename);
	free(f->model);
	cJSON_Delete(f->errors);
	free(f);
}

void mock_batch_obj_bat_free(struct mock_bat *b)
{
	if (!b)
		return;
	cJSON_Delete(b->errors);
	free(b->req_path);
	free(b->model);
	free(b->window);
	cJSON_Delete(b->metadata);
	free(b->results_path);
	free(b);
}
