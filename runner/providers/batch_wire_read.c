/* batch_wire_read.c — what the batch APIs send back, read (see
 * batch_wire.h): batch objects and list pages normalised to one struct
 * for both APIs, the uploaded file's id, and result lines. What is sent
 * is written in batch_wire.c.
 *
 * Everything is read through an index of the text (jsonidx) rather than
 * a cJSON tree: a lane reads 50k result lines a second and more, and a
 * line's body, by far its largest part, is only pointed at, never copied
 * or decoded here. jsonidx_parse is used rather than jsonidx_parse_exact
 * because a line is a carrier, not the reply itself: a \u0000 or a long
 * number in a model's output is the reply reader's to judge, as it would
 * be over HTTP, not a reason to lose the line. */
#include "runner/providers/batch_wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonidx.h"
#include "runner/providers/outcome.h"
#include "runner/providers/reqid.h"
#include "util/buf.h"
#include "util/timeparse.h"
#include "util/xalloc.h"

/* ---- reading tokens --------------------------------------------------- */

/* index_object: s[0..n) into x (freed first, so x may be reused; free it
 * after the last use) as one JSON object followed by nothing but
 * whitespace. 0 or -1. */
static int index_object(struct jsonidx *x, const char *s, size_t n)
{
	size_t end;

	jsonidx_free(x);
	if (s == NULL || jsonidx_parse(x, s, n, &end) != 0)
		return -1;
	while (end < n && (s[end] == ' ' || s[end] == '\t' || s[end] == '\r' ||
			   s[end] == '\n'))
		end++;
	return end == n && x->t[0].type == JSONIDX_OBJECT ? 0 : -1;
}

static int is_type(const struct jsonidx *x, size_t tok, enum jsonidx_type t)
{
	return tok && x->t[tok].type == t;
}

/* dup_tok: string token tok decoded (new), or NULL when tok is none, not
 * a string, empty (an empty id is no id) or holding a \u0000 (which C
 * strings cut at: "\u0000x" would be an empty id, "a\u0000b" another
 * one's). */
static char *dup_tok(const struct jsonidx *x, const char *s, size_t tok)
{
	char *out;

	if (!is_type(x, tok, JSONIDX_STRING) || x->t[tok].n == 0 ||
	    jsonidx_holds_nul(x, s, tok))
		return NULL;
	out = xmalloc(x->t[tok].n + 1);
	jsonidx_decode(x, s, tok, out, x->t[tok].n + 1);
	return out;
}

/* A number token as a whole count, or -1 when it is none: negative,
 * fractional, or past any real count (1e15). */
static double whole(const struct jsonidx *x, const char *s, size_t tok)
{
	double v;

	if (!is_type(x, tok, JSONIDX_NUMBER))
		return -1;
	v = jsonidx_number(x, s, tok);
	return isfinite(v) && v >= 0 && v <= 1e15 && v == floor(v) ? v : -1;
}

static int64_t count_tok(const struct jsonidx *x, const char *s, size_t tok)
{
	double v = whole(x, s, tok);

	return v < 0 ? 0 : (int64_t)v;
}

/* Unix seconds (OpenAI) as epoch ms; 0 when absent, null or absurd. */
static int64_t secs_ms(const struct jsonidx *x, const char *s, size_t tok)
{
	double v = whole(x, s, tok);

	return v > 0 && v < 1e11 ? (int64_t)v * 1000 : 0;
}

/* An RFC 3339 string (Anthropic) as epoch ms; 0 when absent or bad. */
static int64_t rfc_ms(const struct jsonidx *x, const char *s, size_t tok)
{
	char t[64];
	size_t n;
	int64_t ms;

	if (!is_type(x, tok, JSONIDX_STRING))
		return 0;
	n = jsonidx_decode(x, s, tok, t, sizeof(t));
	return n < sizeof(t) && tp_rfc3339(t, n, &ms) == 0 ? ms : 0;
}

/* copy_cut: src (valid UTF-8, NUL-terminated, may be NULL) into
 * dst[0..cap), cut on a character boundary. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- batch objects ---------------------------------------------------- */

struct status_name {
	const char *name;
	enum batch_status st;
	int ended;
};

static const struct status_name openai_status[] = {
    {"validating", BATCH_ST_VALIDATING, 0},
    {"in_progress", BATCH_ST_IN_PROGRESS, 0},
    {"finalizing", BATCH_ST_FINALIZING, 0},
    {"completed", BATCH_ST_COMPLETED, 1},
    {"failed", BATCH_ST_FAILED, 1},
    {"expired", BATCH_ST_EXPIRED, 1},
    {"cancelling", BATCH_ST_CANCELLING, 0},
    {"cancelled", BATCH_ST_CANCELLED, 1},
};

static const struct status_name anthropic_status[] = {
    {"in_progress", BATCH_ST_IN_PROGRESS, 0},
    {"canceling", BATCH_ST_CANCELLING, 0},
    {"ended", BATCH_ST_ENDED, 1},
};

/* head: what makes an object a batch of either API: its object type
 * token (none, or the string want), its status token (one of
 * names[0..n)) and its id token (a string), read into out. 0 or -1. */
static int head(const struct jsonidx *x, const char *s, size_t type,
		const char *want, size_t status,
		const struct status_name *names, size_t n, size_t id,
		struct batch_info *out)
{
	size_t i;

	if (type && !jsonidx_equals(x, s, type, want))
		return -1;
	for (i = 0; i < n; i++)
		if (jsonidx_equals(x, s, status, names[i].name))
			break;
	if (i == n || (out->id = dup_tok(x, s, id)) == NULL)
		return -1;
	out->status = names[i].st;
	out->ended = names[i].ended;
	return 0;
}

/* Member key of object obj (0: none) as a count. */
static int64_t count_of(const struct jsonidx *x, const char *s, size_t obj,
			const char *key)
{
	return obj ? count_tok(x, s, jsonidx_get(x, s, obj, key)) : 0;
}

/* The first of errors.data[] as "code: message (line N)", scrubbed; NULL
 * when it says nothing. */
static char *openai_error(const struct jsonidx *x, const char *s, size_t errs)
{
	size_t data = is_type(x, errs, JSONIDX_OBJECT)
			  ? jsonidx_get(x, s, errs, "data")
			  : 0;
	size_t e = is_type(x, data, JSONIDX_ARRAY) ? jsonidx_first(x, data) : 0;
	struct buf b = BUF_INIT(4 * OUTCOME_MESSAGE_MAX);
	char *code, *msg, *out, num[32];
	double line;

	if (!is_type(x, e, JSONIDX_OBJECT))
		return NULL;
	code = dup_tok(x, s, jsonidx_get(x, s, e, "code"));
	msg = dup_tok(x, s, jsonidx_get(x, s, e, "message"));
	line = whole(x, s, jsonidx_get(x, s, e, "line"));
	/* a cut is fine: the text is cut shorter still when scrubbed */
	if (code)
		buf_addstr(&b, code);
	if (code && msg)
		buf_addstr(&b, ": ");
	if (msg)
		buf_addstr(&b, msg);
	if (line >= 0 && (code || msg)) {
		snprintf(num, sizeof(num), " (line %.0f)", line);
		buf_addstr(&b, num);
	}
	out = outcome_message_dup(b.p, b.len);
	buf_free(&b);
	free(code);
	free(msg);
	return out;
}

static int info_openai(const struct jsonidx *x, const char *s, size_t obj,
		       struct batch_info *out)
{
	/* clang-format off */
	enum { ID, OBJECT, STATUS, CREATED, COMPLETED, FAILED, EXPIRED,
	       CANCELLED, EXPIRES, COUNTS, OUTPUT, ERRFILE, METADATA, MODEL,
	       ERRORS, NMEMB };
	/* clang-format on */
	static const char *const names[NMEMB] = {
	    "id",	    "object",	      "status",		"created_at",
	    "completed_at", "failed_at",      "expired_at",	"cancelled_at",
	    "expires_at",   "request_counts", "output_file_id", "error_file_id",
	    "metadata",	    "model",	      "errors"};
	static const int ended_at[] = {[BATCH_ST_COMPLETED] = COMPLETED,
				       [BATCH_ST_FAILED] = FAILED,
				       [BATCH_ST_EXPIRED] = EXPIRED,
				       [BATCH_ST_CANCELLED] = CANCELLED};
	size_t v[NMEMB], c;
	int64_t rest;

	jsonidx_members(x, s, obj, names, NMEMB, v);
	if (head(x, s, v[OBJECT], "batch", v[STATUS], openai_status,
		 sizeof(openai_status) / sizeof(openai_status[0]), v[ID],
		 out) != 0)
		return -1;
	out->created_ms = secs_ms(x, s, v[CREATED]);
	if (out->ended)
		out->ended_ms = secs_ms(x, s, v[ended_at[out->status]]);
	out->expires_ms = secs_ms(x, s, v[EXPIRES]);
	c = is_type(x, v[COUNTS], JSONIDX_OBJECT) ? v[COUNTS] : 0;
	out->total = count_of(x, s, c, "total");
	out->done_ok = count_of(x, s, c, "completed");
	out->errored = count_of(x, s, c, "failed");
	rest = out->total - out->done_ok - out->errored;
	if (rest > 0 && out->status == BATCH_ST_EXPIRED)
		out->expired = rest;
	else if (rest > 0 && out->status == BATCH_ST_CANCELLED)
		out->cancelled = rest;
	else if (rest > 0 && !out->ended)
		out->processing = rest;
	out->output_file_id = dup_tok(x, s, v[OUTPUT]);
	out->error_file_id = dup_tok(x, s, v[ERRFILE]);
	if (is_type(x, v[METADATA], JSONIDX_OBJECT))
		out->tag = dup_tok(
		    x, s, jsonidx_get(x, s, v[METADATA], "nightshift_batch"));
	out->model = dup_tok(x, s, v[MODEL]);
	out->error = openai_error(x, s, v[ERRORS]);
	return 0;
}

static int info_anthropic(const struct jsonidx *x, const char *s, size_t obj,
			  struct batch_info *out)
{
	enum { ID, TYPE, STATUS, CREATED, ENDED, EXPIRES, COUNTS, URL, NMEMB };
	static const char *const names[NMEMB] = {
	    "id",	"type",	      "processing_status", "created_at",
	    "ended_at", "expires_at", "request_counts",	   "results_url"};
	size_t v[NMEMB], c;

	jsonidx_members(x, s, obj, names, NMEMB, v);
	if (head(x, s, v[TYPE], "message_batch", v[STATUS], anthropic_status,
		 sizeof(anthropic_status) / sizeof(anthropic_status[0]), v[ID],
		 out) != 0)
		return -1;
	out->created_ms = rfc_ms(x, s, v[CREATED]);
	out->ended_ms = rfc_ms(x, s, v[ENDED]);
	out->expires_ms = rfc_ms(x, s, v[EXPIRES]);
	c = is_type(x, v[COUNTS], JSONIDX_OBJECT) ? v[COUNTS] : 0;
	out->processing = count_of(x, s, c, "processing");
	out->done_ok = count_of(x, s, c, "succeeded");
	out->errored = count_of(x, s, c, "errored");
	out->cancelled = count_of(x, s, c, "canceled");
	out->expired = count_of(x, s, c, "expired");
	out->total = out->processing + out->done_ok + out->errored +
		     out->cancelled + out->expired;
	out->results_url = dup_tok(x, s, v[URL]);
	return 0;
}

/* info_from: object token obj of s as a batch of api into out (zeroed
 * first; left empty on -1). */
static int info_from(enum batch_api api, const struct jsonidx *x, const char *s,
		     size_t obj, struct batch_info *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (x->t[obj].type != JSONIDX_OBJECT)
		return -1;
	rc = api == BATCH_API_ANTHROPIC ? info_anthropic(x, s, obj, out)
					: info_openai(x, s, obj, out);
	if (rc != 0)
		batch_info_clear(out);
	return rc;
}

int batch_info_parse(enum batch_api api, const char *json, size_t len,
		     struct batch_info *out)
{
	struct jsonidx x = {0};
	int rc = index_object(&x, json, len);

	if (rc == 0)
		rc = info_from(api, &x, json, 0, out);
	else
		memset(out, 0, sizeof(*out));
	jsonidx_free(&x);
	return rc;
}

void batch_info_clear(struct batch_info *b)
{
	free(b->id);
	free(b->output_file_id);
	free(b->error_file_id);
	free(b->results_url);
	free(b->tag);
	free(b->model);
	free(b->error);
	memset(b, 0, sizeof(*b));
}

int batch_list_parse(enum batch_api api, const char *json, size_t len,
		     struct batch_info **items, size_t *n, int *has_more,
		     char **last_id)
{
	struct jsonidx x = {0};
	size_t data = 0, e;
	int rc = -1;

	*items = NULL;
	*n = 0;
	*has_more = 0;
	*last_id = NULL;
	if (index_object(&x, json, len) == 0)
		data = jsonidx_get(&x, json, 0, "data");
	if (!is_type(&x, data, JSONIDX_ARRAY))
		goto out;
	if (x.t[data].n)
		*items = xcalloc(x.t[data].n, sizeof(**items));
	for (e = jsonidx_first(&x, data); e; e = x.t[e].next)
		if (info_from(api, &x, json, e, &(*items)[*n]) == 0)
			(*n)++;
	*has_more =
	    is_type(&x, jsonidx_get(&x, json, 0, "has_more"), JSONIDX_TRUE);
	*last_id = dup_tok(&x, json, jsonidx_get(&x, json, 0, "last_id"));
	if (*last_id == NULL && *n > 0)
		*last_id = xstrdup((*items)[*n - 1].id);
	rc = 0;
out:
	jsonidx_free(&x);
	return rc;
}

void batch_list_free(struct batch_info *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		batch_info_clear(&items[i]);
	free(items);
}

char *batch_file_id_parse(const char *json, size_t len)
{
	struct jsonidx x = {0};
	char *id = NULL;
	size_t obj;

	if (index_object(&x, json, len) == 0) {
		obj = jsonidx_get(&x, json, 0, "object");
		if (obj == 0 || jsonidx_equals(&x, json, obj, "file"))
			id = dup_tok(&x, json, jsonidx_get(&x, json, 0, "id"));
	}
	jsonidx_free(&x);
	return id;
}

/* ---- result lines ----------------------------------------------------- */

/* A token's text, quotes and all, as a body slice. */
static void set_body(const struct jsonidx *x, const char *s, size_t tok,
		     struct batch_line *out)
{
	if (tok && x->t[tok].type != JSONIDX_NULL) {
		out->body = s + x->t[tok].start;
		out->body_len = x->t[tok].end - x->t[tok].start;
	}
}

/* The error message of a line that has no response, scrubbed. */
static void set_message(const struct jsonidx *x, const char *s, size_t tok,
			struct batch_line *out)
{
	char raw[4 * OUTCOME_MESSAGE_MAX];
	size_t n;
	char *m;

	if (!is_type(x, tok, JSONIDX_STRING))
		return;
	n = jsonidx_decode(x, s, tok, raw, sizeof(raw));
	m = outcome_message_dup(raw, n < sizeof(raw) ? n : sizeof(raw) - 1);
	copy_cut(out->message, sizeof(out->message), m);
	free(m);
}

static int line_openai(const struct jsonidx *x, const char *s,
		       struct batch_line *out, const char **why)
{
	static const char *const names[] = {"response", "error"};
	size_t v[2], resp, err, code;
	double st;

	jsonidx_members(x, s, 0, names, 2, v);
	resp = is_type(x, v[0], JSONIDX_OBJECT) ? v[0] : 0;
	err = is_type(x, v[1], JSONIDX_OBJECT) ? v[1] : 0;
	if (resp) {
		static const char *const rn[] = {"status_code", "request_id",
						 "body"};
		size_t r[3];

		jsonidx_members(x, s, resp, rn, 3, r);
		st = whole(x, s, r[0]);
		if (st < 100 || st > 599) {
			*why = "response without an HTTP status_code";
			return -1;
		}
		out->kind = BATCH_LINE_REPLY;
		out->status = (int)st;
		set_body(x, s, r[2], out);
		if (is_type(x, r[1], JSONIDX_STRING)) {
			char *id =
			    reqid_dup(s + x->t[r[1]].start + 1,
				      x->t[r[1]].end - x->t[r[1]].start - 2);

			copy_cut(out->request_id, sizeof(out->request_id), id);
			free(id);
		}
		return 0;
	}
	if (!err) {
		*why = "neither a response nor an error";
		return -1;
	}
	code = jsonidx_get(x, s, err, "code");
	if (is_type(x, code, JSONIDX_STRING))
		jsonidx_decode(x, s, code, out->code, sizeof(out->code));
	if (strcmp(out->code, "batch_expired") == 0)
		out->kind = BATCH_LINE_EXPIRED;
	else if (strcmp(out->code, "batch_cancelled") == 0)
		out->kind = BATCH_LINE_CANCELLED;
	else
		out->kind = BATCH_LINE_ERROR;
	set_message(x, s, jsonidx_get(x, s, err, "message"), out);
	return 0;
}

/* The HTTP status the Messages API gives an error of this type. */
static int anthropic_error_status(const struct jsonidx *x, const char *s,
				  size_t type)
{
	static const struct {
		const char *type;
		int status;
	} map[] = {
	    {"invalid_request_error", 400}, {"authentication_error", 401},
	    {"billing_error", 402},	    {"permission_error", 403},
	    {"not_found_error", 404},	    {"request_too_large", 413},
	    {"rate_limit_error", 429},	    {"api_error", 500},
	    {"overloaded_error", 529},
	};

	for (size_t i = 0; is_type(x, type, JSONIDX_STRING) &&
			   i < sizeof(map) / sizeof(map[0]);
	     i++)
		if (jsonidx_equals(x, s, type, map[i].type))
			return map[i].status;
	return 500;
}

static int line_anthropic(const struct jsonidx *x, const char *s,
			  struct batch_line *out, const char **why)
{
	static const char *const names[] = {"type", "message", "error"};
	size_t res = jsonidx_get(x, s, 0, "result"), v[3];

	if (!is_type(x, res, JSONIDX_OBJECT)) {
		*why = "no result";
		return -1;
	}
	jsonidx_members(x, s, res, names, 3, v);
	if (jsonidx_equals(x, s, v[0], "succeeded") &&
	    is_type(x, v[1], JSONIDX_OBJECT)) {
		out->kind = BATCH_LINE_REPLY;
		out->status = 200;
		set_body(x, s, v[1], out);
	} else if (jsonidx_equals(x, s, v[0], "errored")) {
		size_t e = is_type(x, v[2], JSONIDX_OBJECT) ? v[2] : 0;
		size_t in = e ? jsonidx_get(x, s, e, "error") : 0;

		/* {"type":"error","error":{"type":...}}, the Messages API's
		 * error body; the inner object alone is read too */
		out->kind = BATCH_LINE_REPLY;
		out->status = anthropic_error_status(
		    x, s,
		    e ? jsonidx_get(x, s,
				    is_type(x, in, JSONIDX_OBJECT) ? in : e,
				    "type")
		      : 0);
		set_body(x, s, e, out);
	} else if (jsonidx_equals(x, s, v[0], "expired")) {
		out->kind = BATCH_LINE_EXPIRED;
		strcpy(out->code, "expired");
	} else if (jsonidx_equals(x, s, v[0], "canceled")) {
		out->kind = BATCH_LINE_CANCELLED;
		strcpy(out->code, "canceled");
	} else {
		*why = v[0] && jsonidx_equals(x, s, v[0], "succeeded")
			   ? "succeeded without a message"
			   : "unknown result type";
		return -1;
	}
	return 0;
}

int batch_line_parse(enum batch_api api, struct jsonidx *x, const char *line,
		     size_t len, struct batch_line *out, const char **why)
{
	const char *dummy;
	size_t id;

	if (why == NULL)
		why = &dummy;
	out->kind = BATCH_LINE_ERROR;
	out->custom_id = out->body = NULL;
	out->custom_id_len = out->body_len = 0;
	out->status = 0;
	out->request_id[0] = out->code[0] = out->message[0] = '\0';
	if (index_object(x, line, len) != 0) {
		*why = "not a JSON object (a truncated line?)";
		return -1;
	}
	id = jsonidx_get(x, line, 0, "custom_id");
	if (!is_type(x, id, JSONIDX_STRING) || x->t[id].n == 0) {
		*why = "no custom_id";
		return -1;
	}
	out->custom_id = line + x->t[id].start + 1;
	out->custom_id_len = x->t[id].end - x->t[id].start - 2;
	return api == BATCH_API_ANTHROPIC ? line_anthropic(x, line, out, why)
					  : line_openai(x, line, out, why);
}
