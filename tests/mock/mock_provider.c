/* mock_provider.c — a local LLM provider for nightshift's tests, benchmarks
 * and dry runs: libmicrohttpd on 127.0.0.1 answering OpenAI-style
 * /chat/completions and Anthropic-style /messages with deterministic
 * content and scripted faults (see tests/mock/README.md).
 *
 * DESIGN. MHD runs its own epoll polling thread(s); no thread is ever held
 * per connection. A delayed reply suspends its connection and hands it to
 * the one timer thread (mock_sched), which resumes it when due; MHD then
 * calls the handler again and the reply, prepared before suspending, is
 * queued. Each request's state lives in its con_cls and is logged and
 * freed in the request-completed callback, the one place every request
 * passes through, whatever its end (reply, reset, truncation, shutdown).
 * Main blocks SIGINT/SIGTERM in every thread and waits for them with
 * sigwait, so there is no signal handler at all. The batch APIs' paths
 * are handed to mock_batch_http whole (routing, bodies, replies, log);
 * their state and worker live in mock_batch. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "tests/mock/mock_batch.h"
#include "tests/mock/mock_batch_http.h"
#include "tests/mock/mock_content.h"
#include "tests/mock/mock_fault.h"
#include "tests/mock/mock_log.h"
#include "tests/mock/mock_opts.h"
#include "tests/mock/mock_reply.h"
#include "tests/mock/mock_sched.h"
#include "tests/mock/mock_util.h"

#define MAX_CONNECTIONS 16000
#define PATH_CAP 1024
#define CRID_CAP 256
/* MHD zeroes each connection's memory pool per request; its 32 KiB
 * default was the top user-space cost in a keep-alive profile. Headers
 * and read buffering fit well in 16 KiB; bodies stream to the handler. */
#define CONN_MEMORY (16 * 1024)

struct server {
	const struct mock_opts *opts;
	struct mock_fault *fault;
	struct mock_sched *sched;
	struct mock_log *log; /* NULL: no log */
	struct mock_batch *batch;
	atomic_uint_fast64_t ids;
};

/* One request; owned by its connection's con_cls, touched only by the
 * MHD thread that serves the connection. */
struct req {
	int64_t t_ms;
	char *path;
	char *crid; /* X-Client-Request-Id, or NULL */
	bool is_post;
	int dialect; /* enum mock_dialect, or -1 for an unknown path */
	char *body;  /* always NUL-terminated once allocated */
	size_t len, cap, total;
	cJSON *json;
	uint64_t hash;
	enum mock_kind kind;
	bool auth_ok, prepared, sent;
	struct mock_reply reply;
	struct mock_batch_req *batch; /* a batch API request, or NULL */
};

/* A truncated reply's body, owned by its MHD response. */
struct trunc {
	char *body;
	size_t len;
};

static void req_free(struct req *r)
{
	if (!r)
		return;
	mock_batch_req_free(r->batch);
	free(r->path);
	free(r->crid);
	free(r->body);
	cJSON_Delete(r->json);
	mock_reply_clear(&r->reply);
	free(r);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int dialect_of(const char *path)
{
	if (ends_with(path, "/chat/completions"))
		return MOCK_OPENAI;
	if (ends_with(path, "/messages"))
		return MOCK_ANTHROPIC;
	return -1;
}

static struct req *req_new(struct MHD_Connection *conn, const char *url,
			   const char *method)
{
	struct req *r = mock_xcalloc(1, sizeof(*r));
	const char *crid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       "X-Client-Request-Id");

	r->t_ms = mock_wall_ms();
	r->path = mock_xstrndup(url, PATH_CAP);
	mock_utf8_clean(r->path, strlen(r->path));
	if (crid) {
		r->crid = mock_xstrndup(crid, CRID_CAP);
		mock_utf8_clean(r->crid, strlen(r->crid));
	}
	r->is_post = strcmp(method, "POST") == 0;
	r->dialect = dialect_of(r->path);
	return r;
}

/* append keeps up to max bytes of the upload; the rest is only counted,
 * and the request is answered 413 once it is all in. */
static void append(struct req *r, const char *data, size_t n, size_t max)
{
	r->total += n;
	if (r->len >= max)
		return;
	if (n > max - r->len)
		n = max - r->len;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;

		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		r->body = mock_xrealloc(r->body, cap);
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

static bool header_is(struct MHD_Connection *conn, const char *name,
		      const char *prefix, const char *want)
{
	const char *v =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	size_t pl = strlen(prefix);

	return v && strncmp(v, prefix, pl) == 0 && strcmp(v + pl, want) == 0;
}

/* prepare decides the reply of a fully received request and returns how
 * long to hold it (ms). */
static long prepare(struct server *srv, struct MHD_Connection *conn,
		    struct req *r)
{
	const struct mock_opts *o = srv->opts;
	struct mock_call c = {
	    .dialect =
		r->dialect < 0 ? MOCK_OPENAI : (enum mock_dialect)r->dialect,
	    .seq = atomic_fetch_add(&srv->ids, 1),
	    .now_ms = mock_wall_ms(),
	    .retry_after_s = o->fault.retry_after_s,
	    .content_json = o->content_json,
	    .scale_min = o->scale_min,
	    .scale_max = o->scale_max,
	    .cached = o->cached,
	    .cache_write = o->cache_write,
	    .reasoning = o->reasoning,
	};
	const char *body = r->body ? r->body : "";
	uint64_t pick;
	long delay;

	r->hash = c.hash = mock_fnv1a64(body, r->len);
	/* The NUL after the body is counted so that cJSON's
	 * require_null_terminated check accepts a body that ends exactly. */
	if (r->total <= o->max_body)
		r->json = cJSON_ParseWithLengthOpts(body, r->len + 1, NULL, 1);
	c.req = r->json;
	if (o->key)
		r->auth_ok =
		    c.dialect == MOCK_ANTHROPIC
			? header_is(conn, "x-api-key", "", o->key)
			: header_is(conn, "Authorization", "Bearer ", o->key);
	else
		r->auth_ok = c.dialect == MOCK_OPENAI ||
			     MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 "x-api-key") != NULL;
	if (!r->is_post)
		r->kind = MOCK_K_METHOD;
	else if (r->dialect < 0)
		r->kind = MOCK_K_NOTFOUND;
	else if (r->total > o->max_body)
		r->kind = MOCK_K_TOOLARGE;
	else if (o->key && !r->auth_ok)
		r->kind = MOCK_K_AUTH;
	if (r->kind != MOCK_K_OK) {
		mock_reply_build(&c, r->kind, &r->reply);
		return 0;
	}
	r->kind = mock_reply_check(
	    &c,
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					"anthropic-version") != NULL,
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-api-key") !=
		NULL,
	    &r->reply);
	if (r->kind != MOCK_K_OK)
		return 0;
	r->kind = mock_fault_pick(srv->fault, body, r->len, r->hash, &pick,
				  &c.retry_after_s);
	mock_reply_build(&c, r->kind, &r->reply);
	if (r->kind == MOCK_K_HANG)
		return o->hang_ms;
	delay = o->lat_min;
	if (o->lat_max > o->lat_min)
		delay += (long)(mock_fault_rand(srv->fault, pick, 2) %
				(uint64_t)(o->lat_max - o->lat_min + 1));
	/* A long prompt takes longer, as it does at a real provider (its
	 * prefill): what makes a fixed client timeout fail big jobs. */
	if (o->lat_per_ktok > 0)
		delay += (long)((double)o->lat_per_ktok *
				(double)mock_content_prompt_tokens(r->json) /
				1000.0);
	return delay;
}

static ssize_t trunc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trunc *t = cls;
	size_t half = t->len / 2, n;

	if (pos >= half)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = half - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, t->body + pos, n);
	return (ssize_t)n;
}

static void trunc_free(void *cls)
{
	struct trunc *t = cls;

	free(t->body);
	free(t);
}

/* A slow reply's body, owned by its MHD response. Between chunks the
 * reader suspends its connection and the timer resumes it, so a drip
 * holds no thread either. */
struct drip {
	char *body;
	size_t len, step;
	long gap_ms; /* between chunks; a stall waits this once, then closes */
	bool stall, due;
	struct MHD_Connection *conn;
	struct mock_sched *sched;
};

static void drip_free(void *cls)
{
	struct drip *d = cls;

	free(d->body);
	free(d);
}

/* drip_read: after the headers, each call either waits (suspends, returns
 * 0) or, once resumed, sends the next chunk; a stall sends nothing and
 * closes when its wait is over. */
static ssize_t drip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct drip *d = cls;
	size_t n;

	if (!d->due) {
		d->due = true;
		MHD_suspend_connection(d->conn);
		if (mock_sched_add(d->sched, mock_mono_ms() + d->gap_ms,
				   d->conn) < 0)
			MHD_resume_connection(d->conn); /* shutting down */
		return 0;
	}
	d->due = false;
	if (d->stall || pos >= d->len)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = d->len - (size_t)pos;
	if (n > d->step)
		n = d->step;
	if (n > max)
		n = max;
	memcpy(buf, d->body + pos, n);
	return (ssize_t)n;
}

/* send_reply queues the prepared reply; MHD_NO closes the connection,
 * which is how reset and hang end. */
static enum MHD_Result send_reply(struct server *srv,
				  struct MHD_Connection *conn, struct req *r)
{
	struct mock_reply *rep = &r->reply;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (rep->status == 0)
		return MHD_NO;
	if (rep->truncate) {
		struct trunc *t = mock_xmalloc(sizeof(*t));

		t->body = rep->body;
		t->len = rep->len;
		rep->body = NULL;
		resp = MHD_create_response_from_callback(
		    t->len, 4096, trunc_read, t, trunc_free);
		if (!resp)
			trunc_free(t);
	} else if (rep->drip || rep->stall) {
		struct drip *d = mock_xcalloc(1, sizeof(*d));

		d->body = rep->body;
		d->len = rep->len;
		rep->body = NULL;
		d->step = (size_t)srv->opts->drip_bytes;
		d->gap_ms = rep->stall ? srv->opts->hang_ms
				       : srv->opts->drip_ms;
		d->stall = rep->stall;
		d->conn = conn;
		d->sched = srv->sched;
		resp = MHD_create_response_from_callback(
		    d->len, 4096, drip_read, d, drip_free);
		if (!resp)
			drip_free(d);
	} else {
		resp = MHD_create_response_from_buffer(rep->len, rep->body,
						       MHD_RESPMEM_MUST_FREE);
		if (resp)
			rep->body = NULL; /* MHD frees it now */
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	for (int i = 0; i < rep->nhdr; i++)
		MHD_add_response_header(resp, rep->hdr[i].name,
					rep->hdr[i].value);
	ret = MHD_queue_response(conn, (unsigned)rep->status, resp);
	MHD_destroy_response(resp);
	r->sent = ret == MHD_YES;
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *r = *con_cls;
	long delay;

	(void)version;
	if (!r) {
		*con_cls = r = req_new(conn, url, method);
		r->batch = mock_batch_req_new(srv->batch, srv->opts, srv->log,
					      conn, r->path, method);
		return MHD_YES;
	}
	if (r->batch)
		return mock_batch_req_step(r->batch, conn, upload_data,
					   upload_data_size);
	if (*upload_data_size > 0) {
		append(r, upload_data, *upload_data_size, srv->opts->max_body);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!r->prepared) {
		r->prepared = true;
		delay = prepare(srv, conn, r);
		if (!srv->log) {
			/* Only the log needs the tree after this point. */
			cJSON_Delete(r->json);
			r->json = NULL;
		}
		if (delay > 0) {
			MHD_suspend_connection(conn);
			if (mock_sched_add(srv->sched, mock_mono_ms() + delay,
					   conn) < 0)
				MHD_resume_connection(conn); /* shutting down */
			return MHD_YES;
		}
	}
	return send_reply(srv, conn, r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req *r = *con_cls;

	(void)conn;
	if (!r)
		return;
	if (srv->log && r->prepared && !r->batch) {
		const cJSON *model =
		    cJSON_GetObjectItemCaseSensitive(r->json, "model");
		struct mock_log_rec rec = {
		    .t_ms = r->t_ms,
		    .done_ms = mock_wall_ms(),
		    .path = r->path,
		    .dialect = r->dialect == MOCK_ANTHROPIC ? "anthropic"
			       : r->dialect == MOCK_OPENAI  ? "openai"
							    : NULL,
		    .model = cJSON_IsString(model) ? model->valuestring : NULL,
		    .kind = mock_kind_name(r->kind),
		    .status = r->sent ? r->reply.status : 0,
		    .hash = r->hash,
		    .client_request_id = r->crid,
		    .auth_ok = r->auth_ok,
		    .bytes = r->total,
		    .body = r->body ? r->body : "",
		    .body_len = r->len,
		    .body_json = r->json,
		    /* Usage the client cannot have read (a truncation, a
		     * stall, a drip it gave up on) is not logged as served. */
		    .usage_set = r->sent && r->reply.usage.set &&
				 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK,
		    .u_in = r->reply.usage.in,
		    .u_cached = r->reply.usage.cached,
		    .u_cache_write = r->reply.usage.cache_write,
		    .u_out = r->reply.usage.out,
		    .u_reasoning = r->reply.usage.reasoning,
		};

		mock_log_write(srv->log, &rec);
	}
	req_free(r);
	*con_cls = NULL;
}

static void fire(void *conn)
{
	MHD_resume_connection(conn);
}

/* raise_nofile lifts the soft descriptor limit to the hard one (thousands
 * of held connections) and returns the soft limit now in force. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		/* "unlimited" is not a valid descriptor count. */
		if (want == RLIM_INFINITY || want > 1048576)
			want = 1048576;
		if (want > rl.rlim_cur) {
			rl.rlim_cur = want;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	return rl.rlim_cur;
}

int main(int argc, char **argv)
{
	struct mock_opts o;
	struct server srv = {0};
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa;
	struct MHD_OptionItem pool[2] = {{MHD_OPTION_END, 0, NULL},
					 {MHD_OPTION_END, 0, NULL}};
	const union MHD_DaemonInfo *info;
	sigset_t sigs;
	unsigned limit = MAX_CONNECTIONS, flags;
	rlim_t nofile;
	int rc = 1, sig;

	rc = mock_opts_parse(argc, argv, &o);
	if (rc != 0) {
		mock_opts_free(&o);
		return rc > 0 ? 0 : 2;
	}
	rc = 1;
	nofile = raise_nofile();
	if (nofile < (rlim_t)limit + 64)
		limit = nofile > 128 ? (unsigned)nofile - 64 : 64;
	/* Blocked before any thread starts, so every thread inherits the
	 * mask and only sigwait below ever sees these signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv.opts = &o;
	atomic_init(&srv.ids, 0);
	if (o.log_path) {
		srv.log = mock_log_open(o.log_path);
		if (!srv.log) {
			perror(o.log_path);
			goto out;
		}
	}
	srv.fault = mock_fault_new(&o.fault);
	srv.batch = mock_batch_new(&o, srv.fault, srv.log);
	if (!srv.batch)
		goto out;
	srv.sched = mock_sched_new(fire);
	if (!srv.sched) {
		fprintf(stderr, "mock-provider: cannot start timer thread\n");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (o.threads > 1) {
		pool[0].option = MHD_OPTION_THREAD_POOL_SIZE;
		pool[0].value = (intptr_t)o.threads;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
	if (o.verbose)
		flags |= MHD_USE_ERROR_LOG;
	/* clang-format off */
	d = MHD_start_daemon(flags, (uint16_t)o.port, NULL, NULL, handle, &srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, completed, &srv,
		MHD_OPTION_CONNECTION_LIMIT, limit,
		MHD_OPTION_CONNECTION_TIMEOUT, o.idle_timeout_s,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_ARRAY, pool,
		MHD_OPTION_END);
	/* clang-format on */
	if (!d) {
		fprintf(stderr, "mock-provider: cannot serve on 127.0.0.1:%u\n",
			o.port);
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("port %u\n", info ? (unsigned)info->port : o.port);
	fflush(stdout);
	while (sigwait(&sigs, &sig) != 0)
		;
	rc = 0;
out:
	/* Every suspended connection must be resumed before MHD stops;
	 * closing the timer fires them all and refuses new ones. */
	if (srv.sched)
		mock_sched_close(srv.sched);
	if (d)
		MHD_stop_daemon(d);
	mock_sched_free(srv.sched);
	/* After MHD: no request reads the batch state any more. */
	mock_batch_free(srv.batch);
	mock_fault_free(srv.fault);
	mock_log_close(srv.log);
	mock_opts_free(&o);
	return rc;
}
