/* mock_results.c — writing an ended batch's results. This is the hot path
 * of a batch benchmark (a million lines), so the input is walked where it
 * is mapped, only each line's body is parsed, every line is printed
 * straight into a reused buffer, and the log's batch_line records go out
 * in large whole-line writes. */
#include "tests/mock/mock_results.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/mock/mock_input.h"
#include "tests/mock/mock_util.h"

#define BLOCK 16
#define LOG_FLUSH (1u << 20)

/* One result line waiting for its block to be written. */
struct slot {
	struct mock_sb text;
	bool to_err; /* OpenAI: goes to the error file */
};

struct run {
	const struct mock_results_cfg *cfg;
	struct mock_results *out;
	FILE *out_f, *err_f;
	struct slot slot[BLOCK];
	size_t nslot, block;
	struct mock_sb log;
	bool failed;
};

/* line_kind: the kinds that make sense only on a connection (a reset, a
 * hang, a cut or broken body) become a server error line. */
static enum mock_kind line_kind(enum mock_kind k)
{
	switch (k) {
	case MOCK_K_TRUNCATED:
	case MOCK_K_BADJSON:
	case MOCK_K_RESET:
	case MOCK_K_HANG:
		return MOCK_K_500;
	default:
		return k;
	}
}

static const char *request_id(const struct mock_reply *rep)
{
	for (int i = 0; i < rep->nhdr; i++) {
		if (strcmp(rep->hdr[i].name, "x-request-id") == 0 ||
		    strcmp(rep->hdr[i].name, "request-id") == 0)
			return rep->hdr[i].value;
	}
	return "";
}

static const char *anthropic_type(int status)
{
	switch (status) {
	case 400:
		return "invalid_request_error";
	case 401:
		return "authentication_error";
	case 403:
		return "permission_error";
	case 404:
		return "not_found_error";
	case 413:
		return "request_too_large";
	case 429:
		return "rate_limit_error";
	case 529:
		return "overloaded_error";
	default:
		return "api_error";
	}
}

/* put_anthropic_error appends the error of rep in Anthropic's shape; the
 * faults whose sync reply is in OpenAI's shape (moderation, the DashScope
 * 429s) keep their message under the type their status has. */
static void put_anthropic_error(struct mock_sb *b, const struct mock_reply *rep)
{
	static const char shape[] = "{\"type\":\"error\"";
	cJSON *e;
	const cJSON *msg;

	if (rep->len >= sizeof(shape) - 1 &&
	    memcmp(rep->body, shape, sizeof(shape) - 1) == 0) {
		mock_sb_put(b, rep->body, rep->len);
		return;
	}
	e = cJSON_ParseWithLength(rep->body, rep->len);
	msg = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(e, "error"), "message");
	mock_sb_raw(b, "{\"type\":\"error\",\"error\":{\"type\":\"");
	mock_sb_raw(b, anthropic_type(rep->status));
	mock_sb_raw(b, "\",\"message\":");
	mock_sb_json(b, cJSON_IsString(msg) ? msg->valuestring : "error");
	mock_sb_raw(b, "}}");
	cJSON_Delete(e);
}

static void put_hex(struct mock_sb *b, uint64_t v)
{
	char h[16];

	mock_hex(h, v, 16);
	mock_sb_put(b, h, 16);
}

/* put_line appends the result line of request i: rep is its reply, or
 * NULL when it did not run. */
static void put_line(struct run *r, struct slot *s, const struct mock_item *it,
		     size_t i, const struct mock_reply *rep)
{
	const struct mock_results_cfg *cfg = r->cfg;
	struct mock_sb *b = &s->text;
	const char *why = cfg->cancelled ? "cancelled" : "expired";

	s->to_err = !rep || rep->status != 200;
	if (cfg->dialect == MOCK_ANTHROPIC) {
		mock_sb_raw(b, "{\"custom_id\":");
		mock_sb_put(b, it->custom_id, it->custom_id_len);
		if (!rep) {
			mock_sb_raw(b, cfg->cancelled
					   ? ",\"result\":{\"type\":\"canceled\"}}"
					   : ",\"result\":{\"type\":\"expired\"}}");
		} else if (rep->status == 200) {
			mock_sb_raw(b, ",\"result\":{\"type\":\"succeeded\","
				       "\"message\":");
			mock_sb_put(b, rep->body, rep->len);
			mock_sb_raw(b, "}}");
		} else {
			mock_sb_raw(b, ",\"result\":{\"type\":\"errored\","
				       "\"error\":");
			put_anthropic_error(b, rep);
			mock_sb_raw(b, "}}");
		}
		mock_sb_put(b, "\n", 1);
		return;
	}
	mock_sb_raw(b, "{\"id\":\"batch_req_");
	put_hex(b, mock_mix64(cfg->salt ^ i));
	mock_sb_raw(b, "\",\"custom_id\":");
	mock_sb_put(b, it->custom_id, it->custom_id_len);
	if (!rep) {
		mock_sb_raw(b, ",\"response\":null,\"error\":{\"code\":\"batch_");
		mock_sb_raw(b, why);
		mock_sb_raw(b, cfg->cancelled
				   ? "\",\"message\":\"This request was not "
				     "executed because the batch was "
				     "cancelled.\"}}\n"
				   : "\",\"message\":\"This request could not "
				     "be executed before the completion window "
				     "expired.\"}}\n");
		return;
	}
	mock_sb_raw(b, ",\"response\":{\"status_code\":");
	mock_sb_long(b, rep->status);
	mock_sb_raw(b, ",\"request_id\":");
	mock_sb_json(b, request_id(rep));
	mock_sb_raw(b, ",\"body\":");
	mock_sb_put(b, rep->body, rep->len);
	mock_sb_raw(b, "},\"error\":null}\n");
}

/* put_log appends request i's batch_line record. */
static void put_log(struct run *r, const struct mock_item *it, uint64_t hash,
		    const struct mock_reply *rep, enum mock_kind kind,
		    const char *model)
{
	struct mock_sb *b = &r->log;

	mock_sb_raw(b, "{\"kind\":\"batch_line\",\"batch\":");
	mock_sb_json(b, r->cfg->batch_id);
	mock_sb_raw(b, ",\"custom_id\":");
	mock_sb_put(b, it->custom_id, it->custom_id_len);
	mock_sb_raw(b, ",\"status\":");
	mock_sb_long(b, rep ? rep->status : 0);
	mock_sb_raw(b, ",\"result\":\"");
	mock_sb_raw(b, !rep			 ? (r->cfg->cancelled ? "cancelled"
								      : "expired")
		       : rep->status == 200 ? "succeeded"
					    : "errored");
	mock_sb_raw(b, "\",\"fault\":");
	if (rep)
		mock_sb_json(b, mock_kind_name(kind));
	else
		mock_sb_raw(b, "null");
	mock_sb_raw(b, r->cfg->dialect == MOCK_ANTHROPIC
			   ? ",\"dialect\":\"anthropic\",\"model\":"
			   : ",\"dialect\":\"openai\",\"model\":");
	if (model)
		mock_sb_json(b, model);
	else
		mock_sb_raw(b, "null");
	mock_sb_raw(b, ",\"hash\":\"");
	put_hex(b, hash);
	mock_sb_raw(b, "\",\"t_ms\":");
	mock_sb_long(b, r->cfg->now_ms);
	mock_sb_raw(b, "}\n");
	if (r->cfg->log && b->len >= LOG_FLUSH) {
		mock_log_raw(r->cfg->log, b->p, b->len);
		b->len = 0;
	}
}

/* run_one fills *rep with what the synchronous endpoint answers body,
 * and returns the kind picked for it. */
static enum mock_kind run_one(struct run *r, const struct mock_item *it,
			      uint64_t hash, size_t i, cJSON *req,
			      struct mock_reply *rep)
{
	const struct mock_results_cfg *cfg = r->cfg;
	const struct mock_opts *o = cfg->opts;
	struct mock_call c = {
	    .dialect = cfg->dialect,
	    .req = req,
	    .hash = hash,
	    .seq = (cfg->salt << 24) + i,
	    .now_ms = cfg->now_ms,
	    .retry_after_s = o->fault.retry_after_s,
	    .content_json = o->content_json,
	    .scale_min = o->scale_min,
	    .scale_max = o->scale_max,
	};
	enum mock_kind k;

	/* OpenAI checks a body only when its line runs; Anthropic checked
	 * every params at create. */
	if (cfg->dialect == MOCK_OPENAI &&
	    mock_reply_check(&c, true, true, rep) != MOCK_K_OK)
		return MOCK_K_INVALID;
	k = mock_fault_pick_line(cfg->fault, it->body, it->body_len, hash);
	mock_reply_build(&c, line_kind(k), rep);
	return k;
}

static void flush_block(struct run *r)
{
	size_t perm[BLOCK];
	uint64_t x = mock_mix64(r->cfg->salt ^ (r->block++ * 0x9e37ULL));

	for (size_t i = 0; i < r->nslot; i++)
		perm[i] = i;
	for (size_t i = r->nslot; i > 1; i--) {
		size_t j = (size_t)(x % i), t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
		x = mock_mix64(x);
	}
	for (size_t i = 0; i < r->nslot; i++) {
		struct slot *s = &r->slot[perm[i]];
		bool err = s->to_err && r->cfg->dialect == MOCK_OPENAI;
		FILE *f = err ? r->err_f : r->out_f;

		if (fwrite(s->text.p, 1, s->text.len, f) != s->text.len)
			r->failed = true;
		if (err) {
			r->out->err_lines++;
			r->out->err_bytes += s->text.len;
		} else {
			r->out->out_lines++;
			r->out->out_bytes += s->text.len;
		}
		s->text.len = 0;
	}
	r->nslot = 0;
}

/* one writes request i's result and log record. */
static void one(struct run *r, const struct mock_item *it, size_t i)
{
	struct slot *s = &r->slot[r->nslot++];
	uint64_t hash = mock_fnv1a64(it->body, it->body_len);
	struct mock_reply rep = {0};

	if (i < r->cfg->nrun) {
		cJSON *req = cJSON_ParseWithLength(it->body, it->body_len);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "model");
		enum mock_kind k = run_one(r, it, hash, i, req, &rep);

		put_line(r, s, it, i, &rep);
		put_log(r, it, hash, &rep, k,
			cJSON_IsString(m) ? m->valuestring : NULL);
		if (rep.status == 200)
			r->out->ok++;
		else
			r->out->errored++;
		mock_reply_clear(&rep);
		cJSON_Delete(req);
	} else {
		put_line(r, s, it, i, NULL);
		put_log(r, it, hash, NULL, MOCK_K_OK, NULL);
		r->out->not_run++;
	}
	if (r->nslot == BLOCK)
		flush_block(r);
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(stderr, "mock-provider: %s: %s\n", path,
			strerror(errno));
	else
		setvbuf(f, NULL, _IOFBF, 1u << 20);
	return f;
}

static int close_out(FILE *f, const char *path)
{
	if (!f)
		return 0;
	if (fclose(f) != 0) {
		fprintf(stderr, "mock-provider: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int mock_results_write(const struct mock_results_cfg *cfg,
		       struct mock_results *out)
{
	struct run r = {.cfg = cfg, .out = out};
	struct mock_input in;
	struct mock_item it;
	const char *data = NULL;
	size_t len = 0, i = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (mock_input_map(cfg->in_path, &data, &len) < 0) {
		fprintf(stderr, "mock-provider: %s: %s\n", cfg->in_path,
			strerror(errno));
		return -1;
	}
	r.out_f = open_out(cfg->out_path);
	if (cfg->dialect == MOCK_OPENAI)
		r.err_f = open_out(cfg->err_path);
	if (!r.out_f || (cfg->dialect == MOCK_OPENAI && !r.err_f))
		goto out;
	if (mock_input_start(&in, cfg->dialect, data, len) < 0)
		goto out;
	while (mock_input_next(&in, &it) > 0) {
		if ((i & 1023) == 0 && atomic_load(cfg->stop))
			goto out;
		one(&r, &it, i++);
	}
	flush_block(&r);
	rc = r.failed ? -1 : 0;
out:
	if (cfg->log && r.log.len > 0)
		mock_log_raw(cfg->log, r.log.p, r.log.len);
	if (close_out(r.out_f, cfg->out_path) < 0 ||
	    close_out(r.err_f, cfg->err_path) < 0)
		rc = -1;
	for (size_t k = 0; k < BLOCK; k++)
		free(r.slot[k].text.p);
	free(r.log.p);
	mock_input_unmap(data, len);
	return rc;
}
