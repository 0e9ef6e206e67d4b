/* worker.c — HTTP transfers for claimed jobs.
 *
 * Each worker owns a libcurl multi handle and drives up to its share of
 * --max-inflight transfers at once, so thousands of slow requests cost a
 * socket each, not a thread each; connections are kept and reused by the
 * multi handle. The multi handle is driven by socket events (epoll and
 * curl_multi_socket_action): a reply costs the work for its own socket,
 * where curl_multi_perform would look at every transfer in flight. A task
 * is routed (its model resolved to candidates) and admitted (provider
 * enabled, key set, provider's in-flight cap) before a request is built;
 * when the response is complete it becomes an outcome (dialect), a cost
 * (usage x prices) and an action (policy), and goes back to the store. */
#define _DEFAULT_SOURCE /* strcasecmp, strncasecmp */
#include "runner/worker.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "queue/blob.h"
#include "queue/claim.h"
#include "queue/complete.h"
#include "queue/run.h"
#include "runner/json/jsonidx.h"
#include "runner/json/jsonschema.h"
#include "runner/providers/cost.h"
#include "runner/providers/dialect_anthropic.h"
#include "runner/providers/dialect_openai.h"
#include "runner/runctx.h"
#include "runner/sched/route.h"
#include "runner/sched/sched.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Caps on what the network may make us hold (STYLE: buffers that grow
 * from network data have a hard cap). */
#define BODY_CAP (64u << 20)
#define HEADER_CAP (64u << 10)
/* How often a job waiting on open breakers asks again. */
#define OPEN_RECHECK_MS 200

struct buf {
	char *p;
	size_t len, cap;
	int over; /* the cap was hit: transfer aborted */
};

struct xfer {
	CURL *easy;
	struct task *t;
	/* this request's own header, in front of its provider's list */
	struct curl_slist idnode;
	char idline[240];
	char *req;
	struct buf body, head;
	unsigned resp_flags;
	int64_t t0_ms; /* monotonic start */
	/* Sends of this request (see on_prereq): libcurl sends a request
	 * again, unasked, when a reused connection dies before any reply;
	 * the provider may have read each, so each is counted. */
	int sends;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *next;  /* free list */
	struct xfer *aprev, *anext; /* active list */
};

struct worker {
	struct runctx *rc;
	int index;
	pthread_t th;
	CURLM *multi;
	int epfd;          /* the transfers' sockets, and wakefd */
	int wakefd;        /* eventfd: worker_wake */
	int64_t timer_at;  /* when curl wants a timeout action; -1 none */
	int active;
	struct xfer *act_head; /* transfers in flight */
	struct task *pend_head, *pend_tail; /* admitted later */
	int npend;
	struct xfer *free_xfers;
	uint64_t rng;
	/* per provider, built once: URL, headers, quirks for the dialect.
	 * The URL is also kept parsed: handed a CURLU, libcurl copies it
	 * instead of parsing the string again for every request (11k
	 * instructions a job, 5% of the run loop's). NULL if the parse
	 * failed, and then the string is used, failing as it would. */
	char **urls;
	CURLU **curlu;
	struct curl_slist **hdrs;
	struct dialect_openai_quirks *quirks;
	struct task *done_head, *done_tail;
	struct blob_codec *codec; /* compresses results (see compress) */
	/* The body route() indexed last, for start(): a job is mostly routed
	 * and sent in one pass, so its body is indexed once, not twice. */
	struct jsonidx idx;
	const struct task *idx_task; /* whose body idx holds, or NULL */
	size_t idx_end;
	int proxy_env; /* a proxy variable is set: curl reads them */
};

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t buf_add(struct buf *b, const char *p, size_t n, size_t cap)
{
	if (b->len + n > cap) {
		b->over = 1;
		return 0; /* makes curl fail the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if (b->cap > cap + 1)
			b->cap = cap + 1;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	return buf_add(&x->body, p, size * n, BODY_CAP);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	/* A new status line starts a new block (1xx, redirects): keep only
	 * the final response's headers. */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		x->head.len = 0;
	buf_add(&x->head, p, size * n, HEADER_CAP);
	return size * n; /* never fail a transfer over headers */
}

/* headers_for: a provider's request headers, the same for every request
 * (built once per worker: no allocation per request). */
static struct curl_slist *headers_for(const struct prov *p, const char *key)
{
	struct curl_slist *h = NULL;
	char line[600];

	if (p->dialect == PROV_ANTHROPIC) {
		if (key) {
			snprintf(line, sizeof(line), "x-api-key: %s", key);
			h = curl_slist_append(h, line);
		}
		h = curl_slist_append(h, "anthropic-version: "
					   DIALECT_ANTHROPIC_VERSION);
	} else if (key && *key) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", key);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	explicit_bzero(line, sizeof(line));
	if (!h)
		abort(); /* only fails on OOM; see xalloc.h */
	return h;
}

/* request_headers: x's headers: its provider's, after an
 * X-Client-Request-Id naming the job when custom_id can be one. */
static struct curl_slist *request_headers(struct worker *w, struct xfer *x,
					  int prov, const char *custom_id)
{
	size_t n = strlen(custom_id);
	int printable = n <= 200;

	for (size_t i = 0; i < n && printable; i++)
		printable = custom_id[i] > 0x20 && custom_id[i] < 0x7f;
	if (!printable)
		return w->hdrs[prov];
	snprintf(x->idline, sizeof(x->idline), "X-Client-Request-Id: %s",
		 custom_id);
	x->idnode.data = x->idline;
	x->idnode.next = w->hdrs[prov];
	return &x->idnode;
}

/* on_socket: curl says which events a socket waits for (see
 * CURLMOPT_SOCKETFUNCTION); the epoll set follows. A socket curl has
 * seen before carries a mark (curl_multi_assign), so it is modified, not
 * added twice. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *arg,
		     void *mark)
{
	struct worker *w = arg;
	struct epoll_event ev = {.data.fd = s};

	(void)easy;
	if (what == CURL_POLL_REMOVE) { /* curl forgets the mark with it */
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
		    (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (mark || epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ev) != 0)
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
	if (!mark)
		curl_multi_assign(w->multi, s, w);
	return 0;
}

/* on_prereq: curl is about to send x's request on a connection, new or
 * reused: once, or again after a reused connection died unanswered (a
 * retry curl makes by itself, possibly within one call, so socket events
 * cannot be relied on to show it). */
static int on_prereq(void *arg, char *ip, char *local_ip, int port,
		     int local_port)
{
	struct xfer *x = arg;

	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	x->sends++;
	return CURL_PREREQFUNC_OK;
}

/* on_timer: when curl next wants CURL_SOCKET_TIMEOUT (-1: never). */
static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct worker *w = arg;

	(void)multi;
	w->timer_at = timeout_ms < 0 ? -1 : clk_mono_ms() + timeout_ms;
	return 0;
}

/* proxy_env: whether any variable curl takes a proxy from is set. When
 * none is, handles are told "no proxy" outright; curl would otherwise look
 * them all up again for every request (~0.7% of a job's CPU). */
static int proxy_env(void)
{
	static const char *const names[] = {
	    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
	    "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (getenv(names[i]))
			return 1;
	return 0;
}

struct worker *worker_new(struct runctx *rc, int index)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	const struct config *c = rc->cfg;

	w->rc = rc;
	w->proxy_env = proxy_env();
	w->index = index;
	w->multi = curl_multi_init();
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd >= 0 && w->wakefd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.fd = w->wakefd};

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) != 0) {
			close(w->wakefd);
			w->wakefd = -1;
		}
	}
	if (!w->multi || w->epfd < 0 || w->wakefd < 0) {
		if (w->multi)
			curl_multi_cleanup(w->multi);
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->wakefd >= 0)
			close(w->wakefd);
		free(w);
		return NULL;
	}
	w->timer_at = -1;
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
			  (long)(rc->max_inflight / rc->nworkers + 16));
	w->rng = (uint64_t)clk_wall_ms() * 2654435761u ^ (uint64_t)index << 32;
	w->codec = blob_codec_new();
	w->urls = xcalloc(c->nprovs, sizeof(*w->urls));
	w->curlu = xcalloc(c->nprovs, sizeof(*w->curlu));
	w->quirks = xcalloc(c->nprovs, sizeof(*w->quirks));
	w->hdrs = xcalloc(c->nprovs, sizeof(*w->hdrs));
	for (size_t i = 0; i < c->nprovs; i++) {
		const struct prov *p = &c->provs[i];
		const char *path = p->dialect == PROV_ANTHROPIC
					   ? "/v1/messages"
					   : "/chat/completions";
		size_t n = strlen(p->base_url) + strlen(path) + 1;

		w->urls[i] = xmalloc(n);
		snprintf(w->urls[i], n, "%s%s", p->base_url, path);
		if (!(w->curlu[i] = curl_url()))
			abort(); /* only fails on OOM; see xalloc.h */
		if (curl_url_set(w->curlu[i], CURLUPART_URL, w->urls[i], 0)) {
			curl_url_cleanup(w->curlu[i]);
			w->curlu[i] = NULL;
		}
		w->hdrs[i] = headers_for(p, rc->keys[i]);
		w->quirks[i].drop_params = p->quirks.drop_params;
		w->quirks[i].ndrop = p->quirks.ndrop;
		w->quirks[i].thinking_off = p->quirks.disable_thinking;
		w->quirks[i].json_mode =
			p->quirks.json_mode_prompt ? DIALECT_JSON_PROMPT
			: p->quirks.needs_json_word ? DIALECT_JSON_ENSURE_WORD
						    : DIALECT_JSON_NATIVE;
	}
	return w;
}

static void xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	free(x->req);
	free(x->body.p);
	free(x->head.p);
	free(x);
}

void worker_free(struct worker **wp)
{
	struct worker *w = *wp;
	const struct config *c;

	if (!w)
		return;
	c = w->rc->cfg;
	while (w->free_xfers) {
		struct xfer *x = w->free_xfers;

		w->free_xfers = x->next;
		xfer_free(x);
	}
	for (size_t i = 0; i < c->nprovs; i++) {
		free(w->urls[i]);
		curl_url_cleanup(w->curlu[i]);
		/* the list holds the key: wipe it before it goes */
		for (struct curl_slist *h = w->hdrs[i]; h; h = h->next)
			explicit_bzero(h->data, strlen(h->data));
		curl_slist_free_all(w->hdrs[i]);
	}
	free(w->urls);
	free(w->curlu);
	free(w->hdrs);
	blob_codec_free(&w->codec);
	jsonidx_free(&w->idx);
	free(w->quirks);
	/* after the handle: its cleanup still reports sockets removed */
	curl_multi_cleanup(w->multi);
	close(w->epfd);
	close(w->wakefd);
	free(w);
	*wp = NULL;
}

void worker_wake(struct worker *w)
{
	uint64_t one = 1;

	/* Cannot fail but by overflow (2^64 wakes): nothing to do then. */
	if (write(w->wakefd, &one, sizeof(one)) < 0)
		return;
}

/* finish: the task is done with here; queue it for the store. */
static void finish(struct worker *w, struct task *t, enum task_kind kind)
{
	if (w->idx_task == t)
		w->idx_task = NULL; /* t's memory may hold another task next */
	t->kind = kind;
	t->next = NULL;
	if (w->done_tail)
		w->done_tail->next = t;
	else
		w->done_head = t;
	w->done_tail = t;
}

static void flush_done(struct worker *w)
{
	if (!w->done_head)
		return;
	runctx_push_dones(w->rc, w->done_head, w->done_tail);
	w->done_head = w->done_tail = NULL;
}

/* schema_of: the json_schema a job's reply must follow, or NULL. Most
 * jobs have none, so the body is parsed into a tree only when it asks
 * for one. */
static cJSON *schema_of(const char *body, size_t len,
			const struct jsonidx *x, size_t rf)
{
	size_t type = rf ? jsonidx_get(x, body, rf, "type") : 0;
	cJSON *root, *schema = NULL;

	if (!type || !jsonidx_equals(x, body, type, "json_schema"))
		return NULL;
	root = cJSON_ParseWithLength(body, len);
	if (jsonschema_of_request(root))
		schema = cJSON_Duplicate(jsonschema_of_request(root), 1);
	cJSON_Delete(root);
	return schema;
}

/* route: resolve the job's model to candidates, honouring its providers
 * allow-list. Indexes the body in place (no tree): this runs for every
 * job. */
static void route(struct worker *w, struct task *t)
{
	const struct config *c = w->rc->cfg;
	struct route_cand all[TASK_MAX_CANDS];
	struct jsonidx *x = &w->idx;
	cJSON *allow = t->job.providers ? cJSON_Parse(t->job.providers)
					: NULL;
	char model[512] = "";
	size_t end, m = 0, n = 0;

	t->ncands = 0;
	jsonidx_free(x); /* the last job's */
	w->idx_task = NULL;
	if (jsonidx_parse(x, t->job.body, t->job.body_len, &end) == 0) {
		w->idx_task = t;
		w->idx_end = end;
		m = jsonidx_get(x, t->job.body, 0, "model");
		if (m && x->t[m].type == JSONIDX_STRING &&
		    jsonidx_decode(x, t->job.body, m, model,
				   sizeof(model)) < sizeof(model))
			n = config_candidates(c, model, all, TASK_MAX_CANDS);
		t->schema = schema_of(t->job.body, t->job.body_len, x,
				      jsonidx_get(x, t->job.body, 0,
						  "response_format"));
	}
	for (size_t i = 0; i < n; i++) {
		const cJSON *a;
		int ok = allow == NULL;

		cJSON_ArrayForEach(a, allow)
		{
			if (cJSON_IsString(a) &&
			    strcmp(a->valuestring,
				   c->provs[all[i].prov].name) == 0)
				ok = 1;
		}
		if (ok)
			t->cands[t->ncands++] = all[i];
	}
	if (t->ncands == 0) {
		char msg[300];

		snprintf(msg, sizeof(msg),
			 n ? "body.model \"%.80s\": no candidate is in the "
			     "job's providers list"
			   : "body.model \"%.80s\": no route, provider:model "
			     "or provider in the config serves it",
			 model[0] ? model : "?");
		t->detail = xstrdup(msg);
	}
	cJSON_Delete(allow);
}

/* check_schema: a structured-output job's reply must carry the schema's
 * required keys with their types; else it is invalid output (billed, and
 * retried or failed over like any other). */
static void check_schema(struct task *t)
{
	cJSON *root, *content;
	char why[200];

	if (!t->schema || t->out.cls != OUTCOME_OK)
		return;
	root = cJSON_ParseWithLength(t->out.body, t->out.body_len);
	content = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(
				cJSON_GetObjectItemCaseSensitive(root,
								 "choices"),
				0),
			"message"),
		"content");
	if (!cJSON_IsString(content) ||
	    jsonschema_check(content->valuestring,
			     strlen(content->valuestring), t->schema, why,
			     sizeof(why)) != 0) {
		if (!cJSON_IsString(content))
			snprintf(why, sizeof(why), "reply has no text content");
		t->out.cls = OUTCOME_INVALID_OUTPUT;
		free(t->out.error_code);
		free(t->out.error_message);
		t->out.error_code = xstrdup("schema_mismatch");
		t->out.error_message = xstrdup(why);
	}
	cJSON_Delete(root);
}

static int usable(struct worker *w, int prov)
{
	return w->rc->keys[prov] != NULL &&
	       !atomic_load(&w->rc->prov_disabled[prov]);
}

static struct calib *calib_of(struct runctx *rc, const struct route_cand *c)
{
	return &rc->calib[rc->calib_off[c->prov] + (size_t)c->model];
}

/* est_in: the job's input tokens on a candidate: its own estimate (bytes
 * / 4), scaled by what that model has reported so far in this run. */
static int64_t est_in(struct runctx *rc, const struct task *t,
		      const struct route_cand *c)
{
	struct calib *k = calib_of(rc, c);
	long long e = atomic_load(&k->est_in), r = atomic_load(&k->rep_in);

	if (e < 1000) /* too little seen to correct anything */
		return t->job.est_input_tokens;
	return (int64_t)((double)t->job.est_input_tokens * (double)r /
			 (double)e + 0.5);
}

/* est_out: expected output tokens: what the model has produced on average
 * in this run, within the job's max_tokens; else max_tokens, else 256. */
static int64_t est_out(struct runctx *rc, const struct task *t,
		       const struct route_cand *c)
{
	struct calib *k = calib_of(rc, c);
	long long n = atomic_load(&k->n), max = t->job.max_output_tokens;

	if (n >= 10) {
		long long avg = atomic_load(&k->out) / n;

		return max && avg > max ? max : avg;
	}
	return max ? max : 256;
}

/* worst_out: output tokens a request may cost at most, for the budget. */
static int64_t worst_out(const struct task *t, const struct prov_model *m)
{
	if (t->job.max_output_tokens)
		return t->job.max_output_tokens;
	return m->max_output_tokens ? m->max_output_tokens : 4096;
}

static const struct prov_model *model_of(struct worker *w,
					 const struct route_cand *c)
{
	return &w->rc->cfg->provs[c->prov].models[c->model];
}

/* choose: the candidate to send the job to (see route_pick): measures
 * each candidate (usable, fits, estimated cost at today's prices) and lets
 * the routing order decide. */
static int choose(struct worker *w, struct task *t, int64_t now_s,
		  unsigned skip, enum route_none *why)
{
	struct route_option opt[TASK_MAX_CANDS];

	for (int i = 0; i < t->ncands; i++) {
		const struct route_cand *c = &t->cands[i];
		const struct prov_model *m = model_of(w, c);
		int64_t in = est_in(w->rc, t, c);

		opt[i].usable = usable(w, c->prov);
		opt[i].fits = !m->context_window || in <= m->context_window;
		opt[i].cost = cost_estimate(m, in, est_out(w->rc, t, c), now_s);
	}
	return route_pick(opt, t->ncands, t->job.candidate,
			  t->job.cand_exhausted, skip, t->job.max_cost_usd, why);
}

/* others_left: another candidate the job could fail over to. */
static int others_left(struct worker *w, const struct task *t)
{
	for (int i = 0; i < t->ncands; i++)
		if (i != t->job.candidate &&
		    !(t->job.cand_exhausted & (1u << i)) &&
		    usable(w, t->cands[i].prov))
			return 1;
	return 0;
}

/* park: no candidate of the job can be used this run; the job waits, and
 * its last error says why: the keys to set, the providers shut off. */
static void park(struct worker *w, struct task *t)
{
	const struct config *c = w->rc->cfg;
	char keys[300] = "", off[300] = "", msg[700];
	size_t nk = 0, no = 0;

	for (int i = 0; i < t->ncands; i++) {
		int prov = t->cands[i].prov;
		const struct prov *p = &c->provs[prov];

		if (!w->rc->keys[prov] && p->api_key_env &&
		    nk < sizeof(keys))
			nk += (size_t)snprintf(keys + nk, sizeof(keys) - nk,
					       "%s%s", nk ? ", " : "",
					       p->api_key_env);
		else if (atomic_load(&w->rc->prov_disabled[prov]) &&
			 no < sizeof(off))
			no += (size_t)snprintf(off + no, sizeof(off) - no,
					       "%s%s", no ? ", " : "", p->name);
	}
	snprintf(msg, sizeof(msg), "no usable provider this run%s%s%s%s",
		 keys[0] ? "; set " : "", keys,
		 off[0] ? "; shut off after refusing the account (key or "
			  "credit): "
			: "",
		 off);
	t->detail = xstrdup(msg);
	finish(w, t, TASK_PARK);
}

/* reserve: hold the request's worst case against --max-cost; 0 when the
 * budget cannot take it (the run then stops sending). */
static int reserve(struct worker *w, struct task *t, int64_t now_s)
{
	struct runctx *rc = w->rc;
	const struct route_cand *c = &t->cands[t->job.candidate];
	const struct prov_model *m = model_of(w, c);
	long long need, held;

	t->reserved_nusd = 0;
	if (!rc->budget_nusd)
		return 1;
	need = (long long)(cost_estimate(m, est_in(rc, t, c),
					 worst_out(t, m), now_s) *
			   1e9) +
	       1;
	held = atomic_fetch_add(&rc->reserved_nusd, need) + need;
	if (atomic_load(&rc->ledger_nusd) + held > rc->budget_nusd) {
		long long none = 0;

		atomic_fetch_sub(&rc->reserved_nusd, need);
		atomic_compare_exchange_strong(&rc->refused_nusd, &none, need);
		atomic_store(&rc->budget_hit, 1);
		atomic_store(&rc->stopping, 1);
		return 0;
	}
	t->reserved_nusd = need;
	return 1;
}

static void unreserve(struct runctx *rc, struct task *t)
{
	if (t->reserved_nusd)
		atomic_fetch_sub(&rc->reserved_nusd, t->reserved_nusd);
	t->reserved_nusd = 0;
}

static struct xfer *xfer_get(struct worker *w)
{
	struct xfer *x = w->free_xfers;

	if (x) {
		w->free_xfers = x->next;
	} else {
		/* Options that never change are set once per handle; a
		 * reused handle keeps them (and its connection cache). No
		 * Accept-Encoding: replies are a few KB, and asking for
		 * gzip cost curl about 4% of a job's CPU (callgrind), reply
		 * compressed or not. */
		x = xcalloc(1, sizeof(*x));
		x->easy = curl_easy_init();
		if (!x->easy)
			abort(); /* only fails on OOM; see xalloc.h */
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
		curl_easy_setopt(x->easy, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
		curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
		if (!w->proxy_env) {
			curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
			curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "");
		}
	}
	x->body.len = x->head.len = 0;
	x->body.over = x->head.over = 0;
	x->sends = 0;
	return x;
}

static void unlink_active(struct worker *w, struct xfer *x)
{
	if (x->aprev)
		x->aprev->anext = x->anext;
	else
		w->act_head = x->anext;
	if (x->anext)
		x->anext->aprev = x->aprev;
	x->aprev = x->anext = NULL;
	curl_multi_remove_handle(w->multi, x->easy);
	w->active--;
}

static void xfer_put(struct worker *w, struct xfer *x)
{
	free(x->req);
	x->req = NULL;
	x->t = NULL;
	/* Big buffers are not kept: memory stays flat. */
	if (x->body.cap > (1u << 20)) {
		free(x->body.p);
		x->body.p = NULL;
		x->body.cap = 0;
	}
	x->next = w->free_xfers;
	w->free_xfers = x;
}

/* start: build the request for the task's candidate and add it to the
 * multi handle. */
static void start(struct worker *w, struct task *t)
{
	const struct config *c = w->rc->cfg;
	const struct route_cand *rc_ = &t->cands[t->job.candidate];
	const struct prov *p = &c->provs[rc_->prov];
	const struct prov_model *m = &p->models[rc_->model];
	struct xfer *x;
	long timeout_ms;

	t->prov = rc_->prov;
	t->model = rc_->model;
	x = xfer_get(w);
	x->t = t;
	if (p->dialect == PROV_ANTHROPIC)
		x->req = dialect_anthropic_request(
			t->job.body, t->job.body_len, m->name,
			m->max_output_tokens ? m->max_output_tokens
					     : DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS,
			&x->resp_flags);
	else
		x->req = dialect_openai_request_indexed(
			t->job.body, t->job.body_len,
			w->idx_task == t ? &w->idx : NULL, w->idx_end, m->name,
			&w->quirks[rc_->prov], &x->resp_flags);
	if (!x->req) {
		/* admitted but never sent: give back its slot (and probe) and
		 * its budget, or the provider stays full for the whole run */
		sched_cancel(w->rc->sched, rc_->prov, t->probe);
		unreserve(w->rc, t);
		xfer_put(w, x);
		t->detail = xstrdup(p->dialect == PROV_ANTHROPIC
					    ? "the job cannot be expressed in "
					      "the Messages API (tools, n > 1 "
					      "or audio)"
					    : "body is not a JSON object");
		finish(w, t, TASK_UNROUTABLE);
		return;
	}
	/* Long prompts are the ones that time out: the total time allowed
	 * grows with the request, 1 s per 1,000 estimated input tokens and
	 * 1 s per 100 requested output tokens, up to 4x the base. */
	timeout_ms = (long)p->timeout_s * 1000 +
		     (long)(t->job.est_input_tokens +
			    t->job.max_output_tokens * 10);
	if (timeout_ms > (long)p->timeout_s * 4000)
		timeout_ms = (long)p->timeout_s * 4000;
	curl_easy_setopt(x->easy, CURLOPT_CURLU, w->curlu[rc_->prov]);
	if (!w->curlu[rc_->prov])
		curl_easy_setopt(x->easy, CURLOPT_URL, w->urls[rc_->prov]);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->req);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(x->req));
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER,
			 request_headers(w, x, rc_->prov, t->job.custom_id));
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)p->connect_timeout_s * 1000);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	x->errbuf[0] = '\0';
	t->sent_at_ms = clk_wall_ms();
	x->t0_ms = clk_mono_ms();
	curl_multi_add_handle(w->multi, x->easy);
	x->aprev = NULL;
	x->anext = w->act_head;
	if (w->act_head)
		w->act_head->aprev = x;
	w->act_head = x;
	w->active++;
}

/* gate: pick the job's candidate and ask its provider's gate. A provider
 * whose breaker is open is passed over for the job's next candidate, so
 * work flows around a sick provider instead of waiting for it. Returns
 * SCHED_GO with *i set, SCHED_WAIT (t->wait_until_ms set), or -1 when no
 * candidate is left (*why says why). */
static int gate(struct worker *w, struct task *t, int64_t now_s,
		int64_t now_ms, int *i, enum route_none *why)
{
	unsigned skip = 0;
	int64_t soonest = 0;

	for (;;) {
		const struct route_cand *c;
		int64_t at = 0;
		int v;

		*i = choose(w, t, now_s, skip, why);
		if (*i < 0)
			break;
		c = &t->cands[*i];
		v = sched_admit(w->rc->sched, c->prov,
				est_in(w->rc, t, c) + est_out(w->rc, t, c),
				now_ms, &at, &t->probe);
		if (v == SCHED_GO)
			return SCHED_GO;
		if (v == SCHED_OFF) {
			atomic_store(&w->rc->prov_disabled[c->prov], 1);
			continue;
		}
		if (v == SCHED_WAIT) {
			t->wait_until_ms = at;
			return SCHED_WAIT;
		}
		/* SCHED_OPEN. While a half-open probe is out the gate cannot
		 * say when it will close (the probe may answer in a ms), so
		 * ask again soon rather than at the probe's timeout. */
		skip |= 1u << *i;
		if (at > now_ms + OPEN_RECHECK_MS)
			at = now_ms + OPEN_RECHECK_MS;
		if (!soonest || at < soonest)
			soonest = at;
	}
	if (skip) { /* every candidate left is resting: wait for a probe */
		t->wait_until_ms = soonest;
		return SCHED_WAIT;
	}
	return -1;
}

/* admit: start what the caps allow, in arrival order; a task whose
 * provider is at its cap waits without blocking the others. */
static void admit(struct worker *w)
{
	struct task **pp = &w->pend_head, *t;
	int64_t now_ms = clk_wall_ms(), now_s = now_ms / 1000;

	w->pend_tail = NULL;
	while ((t = *pp) != NULL) {
		enum route_none why = ROUTE_EXHAUSTED;
		int i = -1, v;

		if (t->ncands < 0)
			route(w, t);
		if (t->ncands == 0) {
			*pp = t->next;
			w->npend--;
			finish(w, t, TASK_UNROUTABLE);
			continue;
		}
		if (t->wait_until_ms > now_ms) {
			w->pend_tail = t;
			pp = &t->next;
			continue;
		}
		v = gate(w, t, now_s, now_ms, &i, &why);
		if (v == SCHED_WAIT) {
			w->pend_tail = t;
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		w->npend--;
		if (v != SCHED_GO) {
			if (why == ROUTE_PARK) {
				park(w, t);
				continue;
			}
			t->detail = xstrdup(
				why == ROUTE_OVER_COST
					? "every candidate left is estimated "
					  "above the job's max_cost_usd"
				: why == ROUTE_TOO_LONG
					? "the prompt is longer than the "
					  "context window of every candidate "
					  "left"
					: "no candidate left to try");
			finish(w, t, TASK_UNROUTABLE);
			continue;
		}
		if (i != t->job.candidate) {
			t->job.candidate = i;
			t->job.cand_attempts = 0;
		}
		if (!reserve(w, t, now_s)) {
			/* over budget: this and every later job wait for
			 * the next run */
			sched_cancel(w->rc->sched, t->cands[i].prov,
				     t->probe);
			finish(w, t, TASK_RELEASE);
			continue;
		}
		start(w, t);
	}
}

static void classify_transport(CURLcode cc, const struct xfer *x,
			       struct outcome *o)
{
	const char *msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);

	outcome_clear(o);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		o->cls = OUTCOME_TIMEOUT;
		break;
	case CURLE_WRITE_ERROR:
		o->cls = OUTCOME_INVALID_OUTPUT;
		msg = "response larger than the 64 MiB cap";
		break;
	default:
		/* refused, reset, nothing received, cut off mid-body, TLS and
		 * DNS trouble: a connection problem, worth retrying */
		o->cls = OUTCOME_CONNECTION;
		break;
	}
	o->error_code = xstrdup(cc == CURLE_OPERATION_TIMEDOUT ? "timeout"
							       : "transport");
	o->error_message = outcome_message_dup(msg, strlen(msg));
}

/* dearest: what this reply's usage would have cost on the job's most
 * expensive candidate: the report's measure of what routing saved. */
static double dearest(struct worker *w, const struct task *t)
{
	double max = 0;

	for (int i = 0; i < t->ncands; i++) {
		double c = cost_usd(model_of(w, &t->cands[i]), &t->out.usage,
				    t->sent_at_ms / 1000);

		if (c > max)
			max = c;
	}
	return max;
}

/* learn: what this reply says about estimates for its model. */
static void learn(struct runctx *rc, const struct task *t)
{
	const struct outcome_usage *u = &t->out.usage;
	struct route_cand c = {.prov = t->prov, .model = t->model};
	struct calib *k = calib_of(rc, &c);
	long long in = u->in + u->in_cached + u->cache_write;

	atomic_fetch_add(&rc->lat_sum_ms, t->latency_ms);
	atomic_fetch_add(&rc->lat_n, 1);
	if (t->out.cls != OUTCOME_OK || in <= 0)
		return;
	atomic_fetch_add(&k->est_in, t->job.est_input_tokens);
	atomic_fetch_add(&k->rep_in, in);
	atomic_fetch_add(&k->out, u->out + u->out_reasoning);
	atomic_fetch_add(&k->n, 1);
}

/* sent: what the transfer says of t's request once it is over, answered
 * or given up: how long it took, how often curl sent it again. */
static void sent(const struct xfer *x, struct task *t)
{
	t->latency_ms = clk_mono_ms() - x->t0_ms;
	t->resent = x->sends > 1 ? x->sends - 1 : 0;
}

/* compress: the reply as the store will keep it, made here so that the
 * one store thread does not spend its time in zstd. Until the results'
 * dictionary exists the frame has none, and the plain body goes along:
 * the store samples it, or compresses it again once the dictionary is
 * there. (Those first frames were the store's work, 64k instructions
 * each, while the run starts and the store is what holds it back.) */
static void compress(struct worker *w, struct task *t)
{
	const struct blob_dict *d = complete_result_dict(w->rc->qr);
	const void *z;
	size_t n;

	if (!t->out.body ||
	    blob_compress(w->codec, d, t->out.body, t->out.body_len, &z, &n))
		return; /* the store compresses it, or reports it too big */
	t->zbody = xmalloc(n);
	memcpy(t->zbody, z, n);
	t->zbody_len = n;
	if (!d)
		return;
	free(t->out.body);
	t->out.body = NULL;
	t->out.body_len = 0;
}

static void completed(struct worker *w, CURLMsg *msg)
{
	struct xfer *x = NULL;
	struct task *t;
	const struct config *c = w->rc->cfg;
	const struct prov *p;
	struct policy_cfg pc = w->rc->policy;
	struct policy_job pj;
	long status = 0;
	int64_t now = clk_wall_ms();

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	t = x->t;
	p = &c->provs[t->prov];
	unlink_active(w, x);
	sent(x, t);
	outcome_init(&t->out);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (msg->data.result == CURLE_OK && p->dialect == PROV_ANTHROPIC)
		dialect_anthropic_response((int)status, x->head.p, x->head.len,
					   x->body.p, x->body.len,
					   x->resp_flags, now, &t->out);
	else if (msg->data.result == CURLE_OK)
		dialect_openai_response(
			(int)status, x->head.p, x->head.len, x->body.p,
			x->body.len, p->flavor,
			x->resp_flags, now, &t->out);
	else
		classify_transport(msg->data.result, x, &t->out);
	t->out.http_status = (int)status;
	outcome_scrub(&t->out, w->rc->keys[t->prov]);
	check_schema(t);
	sched_done(w->rc->sched, t->prov, t->out.cls, t->out.retry_after_ms,
		   now, t->probe);
	t->cost_usd = cost_usd(&p->models[t->model], &t->out.usage,
			       t->sent_at_ms / 1000);
	xfer_put(w, x);

	learn(w->rc, t);
	unreserve(w->rc, t);
	t->cost_ref_usd = dearest(w, t);
	atomic_fetch_add(&w->rc->ledger_nusd,
			 (long long)(t->cost_usd * 1e9 + 0.5));
	pc.max_attempts = p->max_retries + 1;
	/* The policy sees the choice as "this one, and one more if any":
	 * which one comes next is chosen cheapest-first on the next claim. */
	pj = (struct policy_job){
		.attempts = t->job.cand_attempts + 1,
		.invalid_outputs = t->out.cls == OUTCOME_INVALID_OUTPUT
					   ? t->job.cand_attempts + 1
					   : 0,
		.candidate = 0,
		.ncandidates = others_left(w, t) ? 2 : 1,
		.now_ms = now,
	};
	t->act = policy_next(&pc, &pj, &t->out, next_rand(&w->rng));
	if (t->act.disable_provider)
		atomic_store(&w->rc->prov_disabled[t->prov], 1);
	if (t->act.verb == POLICY_DONE)
		compress(w, t);
	finish(w, t, TASK_SENT);
}

static void release_pending(struct worker *w)
{
	while (w->pend_head) {
		struct task *t = w->pend_head;

		w->pend_head = t->next;
		finish(w, t, TASK_RELEASE);
	}
	w->pend_tail = NULL;
	w->npend = 0;
}

static void abort_active(struct worker *w)
{
	while (w->act_head) {
		struct xfer *x = w->act_head;
		struct task *t = x->t;

		unlink_active(w, x);
		sched_cancel(w->rc->sched, t->prov, t->probe);
		unreserve(w->rc, t);
		sent(x, t);
		finish(w, t, TASK_ABORTED);
		xfer_put(w, x);
	}
}

/* reap: hand every finished transfer on; returns how many. */
static int reap(struct worker *w)
{
	CURLMsg *msg;
	int left, n = 0;

	while ((msg = curl_multi_info_read(w->multi, &left)))
		if (msg->msg == CURLMSG_DONE) {
			completed(w, msg);
			n++;
		}
	return n;
}

/* wait_events: sleep until a socket is ready, curl's timer is due, the
 * worker is woken or max_ms passed, and let curl act on what happened. */
static void wait_events(struct worker *w, int max_ms)
{
	struct epoll_event ev[64];
	int64_t now = clk_mono_ms();
	int running, n, timeout = max_ms;

	if (w->timer_at >= 0)
		timeout = w->timer_at <= now		  ? 0
			  : w->timer_at - now < max_ms ? (int)(w->timer_at - now)
						       : max_ms;
	n = epoll_wait(w->epfd, ev, 64, timeout);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd, mask = 0;
		uint64_t count;

		if (fd == w->wakefd) { /* drain: the wake is this return */
			if (read(w->wakefd, &count, sizeof(count)) < 0)
				count = 0;
			continue;
		}
		if (ev[i].events & EPOLLIN)
			mask |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(w->multi, fd, mask, &running);
	}
}

/* run_timer: curl's timeout action, when it is due (new transfers start
 * here: adding one asks for a timeout of 0). */
static void run_timer(struct worker *w)
{
	int running;

	if (w->timer_at < 0 || w->timer_at > clk_mono_ms())
		return;
	w->timer_at = -1;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct runctx *rc = w->rc;
	int share = (rc->max_inflight + rc->nworkers - 1) / rc->nworkers;

	while (!atomic_load(&rc->finished)) {
		int ndone;

		if (atomic_load(&rc->abort_now)) {
			abort_active(w);
			release_pending(w);
		} else if (atomic_load(&rc->stopping)) {
			release_pending(w);
		}
		if (!atomic_load(&rc->stopping) &&
		    w->active + w->npend < share) {
			struct task *got = runctx_take_work(
				rc, share - w->active - w->npend);

			while (got) {
				struct task *t = got;

				got = t->next;
				t->next = NULL;
				t->ncands = -1;
				if (claim_job_decode(&t->job, w->codec)) {
					t->detail = xstrdup(
						"its stored body cannot be "
						"decoded (corrupt frame)");
					finish(w, t, TASK_CORRUPT);
					continue;
				}
				if (w->pend_tail)
					w->pend_tail->next = t;
				else
					w->pend_head = t;
				w->pend_tail = t;
				w->npend++;
			}
		}
		if (w->pend_head)
			admit(w);
		run_timer(w);
		ndone = reap(w);
		flush_done(w);
		/* Slots just freed are refilled at once, not after the next
		 * reply wakes us: against a fast server, every request would
		 * otherwise wait a round trip before it is sent. */
		if (ndone)
			continue;
		/* Wake at least every 50 ms: pending tasks may be admitted
		 * once another worker frees a provider slot. */
		wait_events(w, w->npend ? 5 : 50);
	}
	abort_active(w);
	release_pending(w);
	flush_done(w);
	return NULL;
}

int worker_start(struct worker *w)
{
	return pthread_create(&w->th, NULL, worker_main, w) ? -1 : 0;
}

void worker_join(struct worker *w)
{
	pthread_join(w->th, NULL);
}
