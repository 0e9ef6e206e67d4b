/* mock_batch_http.c — routing, bodies and replies of the batch APIs.
 * Uploads go straight to a file in the batch temp directory as they
 * arrive (MHD's post processor splits the multipart form), so a file of
 * hundreds of megabytes never sits in memory; small JSON bodies (an
 * OpenAI create) are kept in memory under a cap. The key is checked when
 * the headers arrive, so a refused upload is read and dropped, never
 * written. */
#include "tests/mock/mock_batch_http.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/mock/mock_batch_obj.h"
#include "tests/mock/mock_util.h"

/* OpenAI takes 200 MB files, DashScope 500 MB; Anthropic's batch body is
 * capped at 256 MB. Small bodies: an OpenAI create is a few hundred
 * bytes. */
#define FILE_CAP (512u << 20)
#define ANTHROPIC_CAP (256u << 20)
#define SMALL_CAP (1u << 20)

enum route {
	R_FILE_UPLOAD,
	R_FILE_GET,
	R_FILE_DELETE,
	R_FILE_CONTENT,
	R_CREATE,
	R_LIST,
	R_GET,
	R_CANCEL,
	R_RESULTS,
	R_METHOD, /* a batch path, the wrong method */
};

static const char *const kinds[] = {
    [R_FILE_UPLOAD] = "file_upload", [R_FILE_GET] = "file_get",
    [R_FILE_DELETE] = "file_delete", [R_FILE_CONTENT] = "file_content",
    [R_CREATE] = "batch_create",     [R_LIST] = "batch_list",
    [R_GET] = "batch_get",	     [R_CANCEL] = "batch_cancel",
    [R_RESULTS] = "batch_results",   [R_METHOD] = "method",
};

struct mock_batch_req {
	struct mock_batch *s;
	const struct mock_opts *o;
	struct mock_log *log;
	enum route route;
	enum mock_dialect dialect;
	char *path, *id, *base;
	int64_t t_ms;
	bool auth_ok, has_key, has_version;
	size_t total; /* body bytes received */
	size_t cap;
	struct mock_sb small;
	struct MHD_PostProcessor *pp;
	FILE *up; /* the upload being streamed to disk */
	char *up_path;
	size_t up_bytes;
	bool up_failed;
	char purpose[32], filename[256];
	bool answered;
	int status; /* sent; 0 until then */
	cJSON *logrec;
};

static atomic_uint_fast64_t req_ids;

/* last_seg finds the last occurrence of seg in path. */
static const char *last_seg(const char *path, const char *seg)
{
	const char *p = NULL, *q = path;

	while ((q = strstr(q, seg))) {
		p = q;
		q++;
	}
	return p;
}

/* tail splits what follows a collection path: "" (the collection),
 * "/ID" or "/ID/VERB". Returns false for anything else. */
static bool tail(const char *t, char **id, const char **verb)
{
	const char *slash;

	*id = NULL;
	*verb = "";
	if (!*t)
		return true;
	if (*t != '/' || !t[1] || t[1] == '/')
		return false;
	t++;
	slash = strchr(t, '/');
	if (!slash) {
		*id = mock_xstrdup(t);
		return true;
	}
	if (!slash[1] || strchr(slash + 1, '/'))
		return false;
	*id = mock_xstrndup(t, (size_t)(slash - t));
	*verb = slash + 1;
	return true;
}

/* route_of: the route of method on path, with the id and the base (the
 * path before the collection); false when path is no batch path. */
static bool route_of(struct mock_batch_req *q, const char *path,
		     const char *method)
{
	const char *p, *verb;
	bool get = strcmp(method, "GET") == 0;
	bool post = strcmp(method, "POST") == 0;
	int r = -1;

	if ((p = last_seg(path, "/messages/batches")) &&
	    tail(p + strlen("/messages/batches"), &q->id, &verb)) {
		q->dialect = MOCK_ANTHROPIC;
		if (!q->id)
			r = post ? R_CREATE : get ? R_LIST : R_METHOD;
		else if (!*verb)
			r = get ? R_GET : R_METHOD;
		else if (strcmp(verb, "cancel") == 0)
			r = post ? R_CANCEL : R_METHOD;
		else if (strcmp(verb, "results") == 0)
			r = get ? R_RESULTS : R_METHOD;
	} else if ((p = last_seg(path, "/batches")) &&
		   tail(p + strlen("/batches"), &q->id, &verb)) {
		q->dialect = MOCK_OPENAI;
		if (!q->id)
			r = post ? R_CREATE : get ? R_LIST : R_METHOD;
		else if (!*verb)
			r = get ? R_GET : R_METHOD;
		else if (strcmp(verb, "cancel") == 0)
			r = post ? R_CANCEL : R_METHOD;
	} else if ((p = last_seg(path, "/files")) &&
		   tail(p + strlen("/files"), &q->id, &verb)) {
		q->dialect = MOCK_OPENAI;
		if (!q->id)
			r = post ? R_FILE_UPLOAD : R_METHOD;
		else if (!*verb)
			r = get				      ? R_FILE_GET
			    : strcmp(method, "DELETE") == 0 ? R_FILE_DELETE
							    : R_METHOD;
		else if (strcmp(verb, "content") == 0)
			r = get ? R_FILE_CONTENT : R_METHOD;
	}
	if (r < 0) {
		free(q->id);
		q->id = NULL;
		return false;
	}
	q->route = (enum route)r;
	q->base = mock_xstrndup(path, (size_t)(p - path));
	return true;
}

static bool header_eq(struct MHD_Connection *conn, const char *name,
		      const char *prefix, const char *want)
{
	const char *v =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	size_t pl = strlen(prefix);

	return v && strncmp(v, prefix, pl) == 0 && strcmp(v + pl, want) == 0;
}

/* on_field takes a piece of a multipart field: the file goes to disk,
 * the purpose to a small buffer, anything else is dropped. */
static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *filename,
				const char *content_type,
				const char *transfer_encoding,
				const char *data, uint64_t off, size_t size)
{
	struct mock_batch_req *q = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	(void)off;
	if (strcmp(key, "purpose") == 0) {
		size_t have = strlen(q->purpose);
		size_t n = size < sizeof(q->purpose) - 1 - have
			       ? size
			       : sizeof(q->purpose) - 1 - have;

		memcpy(q->purpose + have, data, n);
		q->purpose[have + n] = '\0';
		return MHD_YES;
	}
	if (strcmp(key, "file") != 0 || q->up_failed)
		return MHD_YES;
	if (!q->up) {
		q->up_path = mock_batch_tmp_path(q->s);
		q->up = fopen(q->up_path, "w");
		if (!q->up) {
			q->up_failed = true;
			return MHD_YES;
		}
		setvbuf(q->up, NULL, _IOFBF, 1u << 20);
		snprintf(q->filename, sizeof(q->filename), "%s",
			 filename ? filename : "upload.jsonl");
		mock_utf8_clean(q->filename, strlen(q->filename));
	}
	if (size > 0 && fwrite(data, 1, size, q->up) != size)
		q->up_failed = true;
	q->up_bytes += size;
	return MHD_YES;
}

struct mock_batch_req *mock_batch_req_new(struct mock_batch *s,
					  const struct mock_opts *o,
					  struct mock_log *log,
					  struct MHD_Connection *conn,
					  const char *path, const char *method)
{
	struct mock_batch_req *q = mock_xcalloc(1, sizeof(*q));
	const char *host;

	if (!route_of(q, path, method)) {
		free(q);
		return NULL;
	}
	q->s = s;
	q->o = o;
	q->log = log;
	q->t_ms = mock_wall_ms();
	q->path = mock_xstrdup(path);
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (q->dialect == MOCK_ANTHROPIC) {
		/* results_url: this mock, at the base the client used. */
		size_t n = strlen(q->base) + (host ? strlen(host) : 9) + 16;
		char *b = mock_xmalloc(n);

		snprintf(b, n, "http://%s%s", host ? host : "127.0.0.1",
			 q->base);
		free(q->base);
		q->base = b;
		q->has_key = MHD_lookup_connection_value(
				 conn, MHD_HEADER_KIND, "x-api-key") != NULL;
		q->has_version = MHD_lookup_connection_value(
				     conn, MHD_HEADER_KIND,
				     "anthropic-version") != NULL;
		q->auth_ok = q->has_key &&
			     (!o->key || header_eq(conn, "x-api-key", "", o->key));
	} else {
		q->auth_ok = !o->key ||
			     header_eq(conn, "Authorization", "Bearer ", o->key);
	}
	q->cap = q->route == R_FILE_UPLOAD ? FILE_CAP
		 : q->route == R_CREATE && q->dialect == MOCK_ANTHROPIC
		     ? ANTHROPIC_CAP
		     : SMALL_CAP;
	if (q->auth_ok && q->route == R_FILE_UPLOAD)
		/* NULL when the body is not multipart/form-data. */
		q->pp = MHD_create_post_processor(conn, 4096, on_field, q);
	if (q->auth_ok && q->has_version && q->route == R_CREATE &&
	    q->dialect == MOCK_ANTHROPIC) {
		q->up_path = mock_batch_tmp_path(s);
		q->up = fopen(q->up_path, "w");
		if (q->up)
			setvbuf(q->up, NULL, _IOFBF, 1u << 20);
		else
			q->up_failed = true;
	}
	q->logrec = cJSON_CreateObject();
	if (!q->logrec)
		abort();
	return q;
}

/* take consumes a chunk of body. */
static void take(struct mock_batch_req *q, const char *data, size_t n)
{
	q->total += n;
	if (q->total > q->cap || !q->auth_ok)
		return;
	if (q->route == R_FILE_UPLOAD) {
		if (q->pp && MHD_post_process(q->pp, data, n) != MHD_YES)
			q->up_failed = true;
	} else if (q->up) {
		if (fwrite(data, 1, n, q->up) != n)
			q->up_failed = true;
	} else if (q->cap == SMALL_CAP) {
		mock_sb_put(&q->small, data, n);
	}
}

/* --- replies ------------------------------------------------------------ */

static enum MHD_Result queue(struct mock_batch_req *q,
			     struct MHD_Connection *conn, int status,
			     struct MHD_Response *resp, const char *type)
{
	char rid[40];
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	snprintf(rid, sizeof(rid), "req_batch%016llx",
		 (unsigned long long)mock_mix64(
		     atomic_fetch_add(&req_ids, 1) ^ (uint64_t)q->t_ms));
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, q->dialect == MOCK_ANTHROPIC
					  ? "request-id"
					  : "x-request-id",
				rid);
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		q->status = status;
	return ret;
}

/* reply_json sends obj (taken) as the body. */
static enum MHD_Result reply_json(struct mock_batch_req *q,
				  struct MHD_Connection *conn, int status,
				  cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);

	cJSON_Delete(obj);
	if (!text)
		abort();
	return queue(q, conn, status,
		     MHD_create_response_from_buffer(strlen(text), text,
						     MHD_RESPMEM_MUST_FREE),
		     "application/json");
}

static const char *anthropic_type(int status)
{
	switch (status) {
	case 401:
		return "authentication_error";
	case 404:
		return "not_found_error";
	case 413:
		return "request_too_large";
	case 500:
		return "api_error";
	default:
		return "invalid_request_error";
	}
}

/* reply_error sends e in the dialect's error shape. */
static enum MHD_Result reply_error(struct mock_batch_req *q,
				   struct MHD_Connection *conn,
				   const struct mock_batch_err *e)
{
	cJSON *root = cJSON_CreateObject(), *err = cJSON_CreateObject();

	if (!root || !err)
		abort();
	if (q->dialect == MOCK_ANTHROPIC) {
		cJSON_AddStringToObject(root, "type", "error");
		cJSON_AddStringToObject(err, "type", anthropic_type(e->status));
		cJSON_AddStringToObject(err, "message", e->message);
	} else {
		cJSON_AddStringToObject(err, "message", e->message);
		cJSON_AddStringToObject(err, "type",
					e->status >= 500
					    ? "server_error"
					    : "invalid_request_error");
		mock_batch_obj_str(err, "param", e->param);
		mock_batch_obj_str(err, "code", e->code);
	}
	cJSON_AddItemToObject(root, "error", err);
	return reply_json(q, conn, e->status, root);
}

static enum MHD_Result fail(struct mock_batch_req *q,
			    struct MHD_Connection *conn, int status,
			    const char *code, const char *message)
{
	struct mock_batch_err e = {.status = status, .code = code};

	snprintf(e.message, sizeof(e.message), "%s", message);
	return reply_error(q, conn, &e);
}

static enum MHD_Result reply_fd(struct mock_batch_req *q,
				struct MHD_Connection *conn, int fd, size_t len,
				const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_fd(len, fd);

	if (!resp)
		close(fd);
	return queue(q, conn, 200, resp, type);
}

/* limit_arg reads ?limit= (1..max, default 20); -1 when bad. */
static long limit_arg(struct MHD_Connection *conn, long max)
{
	const char *v =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	char *end;
	long n;

	if (!v)
		return 20;
	n = strtol(v, &end, 10);
	return end == v || *end || n < 1 || n > max ? -1 : n;
}

/* finish_upload closes the streamed file and registers it. */
static enum MHD_Result finish_upload(struct mock_batch_req *q,
				     struct MHD_Connection *conn)
{
	char *path;

	if (q->up && fclose(q->up) != 0)
		q->up_failed = true;
	q->up = NULL;
	if (!q->pp)
		return fail(q, conn, 400, "invalid_request",
			    "The body must be multipart/form-data with the "
			    "fields purpose and file.");
	if (q->up_failed)
		return fail(q, conn, 500, NULL, "The upload could not be "
						"stored.");
	if (strcmp(q->purpose, "batch") != 0)
		return fail(q, conn, 400, "invalid_value",
			    "purpose must be 'batch'.");
	if (!q->up_path)
		return fail(q, conn, 400, "missing_required_parameter",
			    "Missing required parameter: 'file'.");
	path = q->up_path;
	q->up_path = NULL;
	return reply_json(q, conn, 200,
			  mock_batch_file_add(q->s, path, q->filename,
					      q->purpose, q->up_bytes,
					      q->logrec));
}

/* create answers a batch create. */
static enum MHD_Result create(struct mock_batch_req *q,
			      struct MHD_Connection *conn)
{
	struct mock_batch_err e = {0};
	cJSON *obj = NULL, *req;
	char *path;
	int rc;

	if (q->dialect == MOCK_ANTHROPIC) {
		if (q->up && fclose(q->up) != 0)
			q->up_failed = true;
		q->up = NULL;
		if (q->up_failed)
			return fail(q, conn, 500, NULL,
				    "The request could not be stored.");
		path = q->up_path;
		q->up_path = NULL;
		rc = mock_batch_create_anthropic(q->s, path, q->base, &obj,
						 q->logrec, &e);
	} else {
		req = cJSON_ParseWithLength(q->small.p ? q->small.p : "",
					    q->small.len);
		if (!cJSON_IsObject(req)) {
			cJSON_Delete(req);
			return fail(q, conn, 400, NULL,
				    "We could not parse the JSON body of "
				    "your request.");
		}
		rc = mock_batch_create_openai(q->s, req, &obj, q->logrec, &e);
		cJSON_Delete(req);
	}
	return rc < 0 ? reply_error(q, conn, &e) : reply_json(q, conn, 200, obj);
}

/* answer builds and queues the reply of a fully received request. */
static enum MHD_Result answer(struct mock_batch_req *q,
			      struct MHD_Connection *conn)
{
	struct mock_batch_err e = {0};
	cJSON *obj = NULL;
	const char *after;
	size_t len = 0;
	long limit;
	int fd = -1, rc = 0;

	if (q->route == R_METHOD)
		return fail(q, conn, 405, NULL, "Method not allowed.");
	if (q->dialect == MOCK_ANTHROPIC && !q->has_key)
		return fail(q, conn, 401, NULL, "x-api-key header is required");
	if (!q->auth_ok)
		return q->dialect == MOCK_ANTHROPIC
			   ? fail(q, conn, 401, NULL, "invalid x-api-key")
			   : fail(q, conn, 401, "invalid_api_key",
				  "Incorrect API key provided");
	if (q->dialect == MOCK_ANTHROPIC && !q->has_version)
		return fail(q, conn, 400, NULL,
			    "anthropic-version: header is required");
	if (q->total > q->cap)
		return fail(q, conn, 413, "request_too_large",
			    "Request exceeds the maximum allowed number of "
			    "bytes.");
	switch (q->route) {
	case R_FILE_UPLOAD:
		return finish_upload(q, conn);
	case R_CREATE:
		return create(q, conn);
	case R_FILE_GET:
		rc = mock_batch_file_get(q->s, q->id, &obj, &e);
		break;
	case R_FILE_DELETE:
		rc = mock_batch_file_delete(q->s, q->id, &obj, &e);
		break;
	case R_FILE_CONTENT:
		if (mock_batch_file_open(q->s, q->id, &fd, &len, &e) < 0)
			return reply_error(q, conn, &e);
		return reply_fd(q, conn, fd, len, "application/octet-stream");
	case R_RESULTS:
		if (mock_batch_results_open(q->s, q->id, &fd, &len, &e) < 0)
			return reply_error(q, conn, &e);
		return reply_fd(q, conn, fd, len, "application/x-jsonl");
	case R_LIST:
		limit = limit_arg(conn, q->dialect == MOCK_ANTHROPIC ? 1000
								     : 100);
		if (limit < 0)
			return fail(q, conn, 400, "invalid_value",
				    "limit: out of range");
		after = MHD_lookup_connection_value(
		    conn, MHD_GET_ARGUMENT_KIND,
		    q->dialect == MOCK_ANTHROPIC ? "after_id" : "after");
		rc = mock_batch_list(q->s, q->dialect, limit, after, q->base,
				     &obj, &e);
		break;
	case R_GET:
		rc = mock_batch_get(q->s, q->dialect, q->id, q->base, &obj,
				    &e);
		break;
	case R_CANCEL:
		rc = mock_batch_cancel(q->s, q->dialect, q->id, q->base, &obj,
				       &e);
		break;
	case R_METHOD:
		break;
	}
	return rc < 0 ? reply_error(q, conn, &e) : reply_json(q, conn, 200, obj);
}

enum MHD_Result mock_batch_req_step(struct mock_batch_req *q,
				    struct MHD_Connection *conn,
				    const char *data, size_t *size)
{
	if (*size > 0) {
		take(q, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (q->answered)
		return MHD_YES;
	q->answered = true;
	return answer(q, conn);
}

void mock_batch_req_free(struct mock_batch_req *q)
{
	if (!q)
		return;
	if (q->log && q->answered) {
		cJSON *o = cJSON_CreateObject(), *extra;

		if (!o)
			abort();
		cJSON_AddNumberToObject(o, "t_ms", (double)q->t_ms);
		cJSON_AddNumberToObject(o, "done_ms", (double)mock_wall_ms());
		cJSON_AddStringToObject(o, "path", q->path);
		cJSON_AddStringToObject(o, "dialect",
					q->dialect == MOCK_ANTHROPIC
					    ? "anthropic"
					    : "openai");
		cJSON_AddStringToObject(o, "kind", kinds[q->route]);
		cJSON_AddNumberToObject(o, "status", q->status);
		cJSON_AddBoolToObject(o, "auth_ok", q->auth_ok);
		cJSON_AddNumberToObject(o, "bytes", (double)q->total);
		if (q->id)
			cJSON_AddStringToObject(o, "id", q->id);
		/* What the call made: batch, file, requests, model... */
		while ((extra = q->logrec->child)) {
			cJSON_DetachItemViaPointer(q->logrec, extra);
			cJSON_AddItemToObject(o, extra->string, extra);
		}
		mock_log_json(q->log, o);
		cJSON_Delete(o);
	}
	if (q->pp)
		MHD_destroy_post_processor(q->pp);
	if (q->up)
		fclose(q->up);
	if (q->up_path) {
		unlink(q->up_path);
		free(q->up_path);
	}
	cJSON_Delete(q->logrec);
	free(q->small.p);
	free(q->path);
	free(q->id);
	free(q->base);
	free(q);
}
