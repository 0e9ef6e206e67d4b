/* mock_input.c — walking and checking batch inputs. A file may hold
 * millions of lines, so nothing is kept per line: the walk finds spans in
 * the mapped text, each line is parsed on its own and dropped, and
 * custom_ids are told apart by their 64-bit hash alone (a false duplicate
 * needs two ids colliding in 2^64). */
#include "tests/mock/mock_input.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/mock/mock_util.h"

#define MAX_ERRORS 100
#define ANTHROPIC_MAX_REQUESTS 100000

/* A set of custom_id hashes, open addressing; 0 marks an empty slot. */
struct idset {
	uint64_t *slot;
	size_t n, used;
};

/* idset_add adds h and reports whether it was new. */
static bool idset_add(struct idset *s, uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	if ((s->used + 1) * 2 > s->n) {
		size_t nn = s->n ? s->n * 2 : 4096;
		uint64_t *ns = mock_xcalloc(nn, sizeof(*ns));

		for (size_t j = 0; j < s->n; j++) {
			if (!s->slot[j])
				continue;
			i = (size_t)mock_mix64(s->slot[j]) & (nn - 1);
			while (ns[i])
				i = (i + 1) & (nn - 1);
			ns[i] = s->slot[j];
		}
		free(s->slot);
		s->slot = ns;
		s->n = nn;
	}
	i = (size_t)mock_mix64(h) & (s->n - 1);
	while (s->slot[i]) {
		if (s->slot[i] == h)
			return false;
		i = (i + 1) & (s->n - 1);
	}
	s->slot[i] = h;
	s->used++;
	return true;
}

int mock_input_start(struct mock_input *in, enum mock_dialect d,
		     const char *data, size_t len)
{
	const char *v;
	size_t vlen;

	memset(in, 0, sizeof(*in));
	in->dialect = d;
	in->p = data;
	in->end = data + len;
	if (d == MOCK_OPENAI)
		return 0;
	if (mock_json_member(data, data + len, "requests", &v, &vlen) != 0)
		return -1;
	return mock_json_arr_start(&in->arr, v, v + vlen);
}

/* spans finds the custom_id and body (or params) spans of an item. */
static void spans(enum mock_dialect d, struct mock_item *it)
{
	const char *end = it->text + it->text_len;

	if (mock_json_member(it->text, end, "custom_id", &it->custom_id,
			     &it->custom_id_len) != 0)
		it->custom_id_len = 0;
	if (mock_json_member(it->text, end,
			     d == MOCK_OPENAI ? "body" : "params", &it->body,
			     &it->body_len) != 0)
		it->body_len = 0;
}

int mock_input_next(struct mock_input *in, struct mock_item *it)
{
	int rc;

	memset(it, 0, sizeof(*it));
	if (in->dialect == MOCK_ANTHROPIC) {
		rc = mock_json_arr_next(&in->arr, &it->text, &it->text_len);
		if (rc <= 0)
			return rc;
		it->line = ++in->line;
		spans(in->dialect, it);
		return 1;
	}
	while (in->p < in->end) {
		const char *nl = memchr(in->p, '\n', (size_t)(in->end - in->p));
		const char *eol = nl ? nl : in->end;
		const char *s = mock_json_ws(in->p, eol);

		in->line++;
		in->p = nl ? nl + 1 : in->end;
		if (s == eol)
			continue; /* a blank line */
		it->line = in->line;
		it->text = s;
		it->text_len = (size_t)(eol - s);
		spans(in->dialect, it);
		return 1;
	}
	return 0;
}

static void add_error(struct mock_input_check *c, size_t *nerr,
		      const char *code, const char *param, size_t line,
		      const char *message)
{
	cJSON *e;

	if ((*nerr)++ >= MAX_ERRORS)
		return;
	if (!c->errors && !(c->errors = cJSON_CreateArray()))
		abort();
	e = cJSON_CreateObject();
	if (!e)
		abort();
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	if (param)
		cJSON_AddStringToObject(e, "param", param);
	else
		cJSON_AddNullToObject(e, "param");
	cJSON_AddNumberToObject(e, "line", (double)line);
	cJSON_AddItemToArray(c->errors, e);
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* plain_str sets *s and *n to the contents of the JSON string at v
 * (vlen long) when it holds no escape, so that its bytes are its value;
 * returns false for any other value. */
static bool plain_str(const char *v, size_t vlen, const char **s, size_t *n)
{
	if (vlen < 2 || v[0] != '"' || v[vlen - 1] != '"' ||
	    memchr(v + 1, '\\', vlen - 2))
		return false;
	*s = v + 1;
	*n = vlen - 2;
	return true;
}

static bool span_is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* quick_line is check_line for a line that passes, read from its text
 * without a parse tree (which costs 5 us a line, more than the client
 * spends writing it): the line walks as one object and its custom_id,
 * method, url and body.model are plain strings with the values wanted.
 * The body is parsed with cJSON when its request runs, as at the
 * synchronous endpoints. Returns 1 when the line passes (its custom_id
 * added to ids), 0 for a duplicate custom_id (every other check passed),
 * or -1 when check_line must judge it. */
static int quick_line(const struct mock_item *it,
		      const struct mock_input_check *c, struct idset *ids,
		      const char **cid, size_t *cidn)
{
	const char *end = it->text + it->text_len, *v, *s;
	size_t vlen, n;

	if (mock_json_skip(it->text, end) != end || !it->body_len ||
	    !plain_str(it->custom_id, it->custom_id_len, cid, cidn) ||
	    !*cidn || mock_json_member(it->text, end, "method", &v, &vlen) ||
	    !plain_str(v, vlen, &s, &n) || !span_is(s, n, "POST") ||
	    mock_json_member(it->text, end, "url", &v, &vlen) ||
	    !plain_str(v, vlen, &s, &n) ||
	    !span_is(s, n, "/v1/chat/completions") ||
	    mock_json_member(it->body, it->body + it->body_len, "model", &v,
			     &vlen) ||
	    !plain_str(v, vlen, &s, &n) ||
	    (c->model && !(strlen(c->model) == n &&
			   memcmp(c->model, s, n) == 0)))
		return -1;
	return idset_add(ids, mock_fnv1a64(*cid, *cidn)) ? 1 : 0;
}

/* check_line checks one OpenAI line; returns its fault's code or NULL,
 * with param and message set. */
static const char *check_line(const struct mock_item *it,
			      const struct mock_input_check *c,
			      struct idset *ids, const char **param,
			      char *msg, size_t cap)
{
	cJSON *line = cJSON_ParseWithLength(it->text, it->text_len);
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(line, "body");
	const char *cid = str_of(line, "custom_id"), *method, *url, *model;
	const char *code = NULL;

	*param = NULL;
	method = str_of(line, "method");
	url = str_of(line, "url");
	model = str_of(body, "model");
	if (!cJSON_IsObject(line)) {
		code = "invalid_json_line";
		snprintf(msg, cap, "This line is not parseable as a JSON "
				   "object.");
	} else if (!cid || !*cid) {
		code = "missing_required_parameter";
		*param = "custom_id";
		snprintf(msg, cap, "custom_id must be a non-empty string.");
	} else if (!idset_add(ids, mock_fnv1a64(cid, strlen(cid)))) {
		code = "duplicate_custom_id";
		*param = "custom_id";
		snprintf(msg, cap, "The custom_id '%.64s' is not unique in "
				   "this file.", cid);
	} else if (!method || strcmp(method, "POST") != 0) {
		code = "invalid_method";
		*param = "method";
		snprintf(msg, cap, "method must be POST.");
	} else if (!url || strcmp(url, "/v1/chat/completions") != 0) {
		code = "invalid_url";
		*param = "url";
		snprintf(msg, cap, "url must be /v1/chat/completions, the "
				   "batch's endpoint.");
	} else if (!cJSON_IsObject(body) || !model) {
		code = "missing_required_parameter";
		*param = "body.model";
		snprintf(msg, cap, "body must be an object with a model.");
	} else if (c->model && strcmp(model, c->model) != 0) {
		code = "mismatched_model";
		*param = "body.model";
		snprintf(msg, cap, "Every line must use the same model: this "
				   "line has '%.64s', the first '%.64s'.",
			 model, c->model);
	}
	cJSON_Delete(line);
	return code;
}

void mock_input_check_openai(const char *data, size_t len,
			     struct mock_input_check *out)
{
	struct mock_input in;
	struct mock_item it;
	struct idset ids = {0};
	size_t nerr = 0;

	memset(out, 0, sizeof(*out));
	mock_input_start(&in, MOCK_OPENAI, data, len);
	while (mock_input_next(&in, &it) > 0) {
		const char *param, *code, *cid;
		size_t cidn;
		char msg[200];

		out->n++;
		switch (quick_line(&it, out, &ids, &cid, &cidn)) {
		case 1:
			code = NULL;
			break;
		case 0:
			code = "duplicate_custom_id";
			param = "custom_id";
			snprintf(msg, sizeof(msg), "The custom_id '%.*s' is "
				 "not unique in this file.",
				 (int)(cidn < 64 ? cidn : 64), cid);
			break;
		default:
			code = check_line(&it, out, &ids, &param, msg,
					  sizeof(msg));
		}
		if (code) {
			add_error(out, &nerr, code, param, it.line, msg);
			continue;
		}
		if (!out->model) {
			cJSON *body =
			    cJSON_ParseWithLength(it.body, it.body_len);

			out->model = mock_xstrdup(str_of(body, "model"));
			cJSON_Delete(body);
		}
	}
	if (out->n == 0)
		add_error(out, &nerr, "empty_file", NULL, 0,
			  "The input file has no requests.");
	free(ids.slot);
}

static bool custom_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* check_request checks one Anthropic request (index i, 0-based); returns
 * false with c->error set. */
static bool check_request(const struct mock_item *it, size_t i,
			  struct idset *ids, struct mock_input_check *c)
{
	cJSON *req = cJSON_ParseWithLength(it->text, it->text_len);
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
	const char *cid = str_of(req, "custom_id");
	struct mock_call call = {.dialect = MOCK_ANTHROPIC, .req = params};
	struct mock_reply rep = {0};
	bool ok = false;

	if (!cJSON_IsObject(req)) {
		snprintf(c->error, sizeof(c->error),
			 "requests.%zu: Input should be an object", i);
	} else if (!cid || !custom_id_ok(cid)) {
		snprintf(c->error, sizeof(c->error),
			 "requests.%zu.custom_id: String should match pattern "
			 "'^[a-zA-Z0-9_-]{1,64}$'",
			 i);
	} else if (!idset_add(ids, mock_fnv1a64(cid, strlen(cid)))) {
		snprintf(c->error, sizeof(c->error),
			 "requests.%zu.custom_id: Duplicate custom_id '%s'; "
			 "each request in a batch needs a unique custom_id",
			 i, cid);
	} else if (!cJSON_IsObject(params)) {
		snprintf(c->error, sizeof(c->error),
			 "requests.%zu.params: Field required", i);
	} else if (mock_reply_check(&call, true, true, &rep) != MOCK_K_OK) {
		/* The message is inside the 400 the sync check built. */
		cJSON *e = cJSON_ParseWithLength(rep.body, rep.len);
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");

		snprintf(c->error, sizeof(c->error), "requests.%zu.params.%s",
			 i, str_of(err, "message") ? str_of(err, "message")
						   : "invalid");
		cJSON_Delete(e);
	} else {
		ok = true;
		if (!c->model)
			c->model = mock_xstrdup(str_of(params, "model"));
	}
	mock_reply_clear(&rep);
	cJSON_Delete(req);
	return ok;
}

void mock_input_check_anthropic(const char *data, size_t len,
				struct mock_input_check *out)
{
	struct mock_input in;
	struct mock_item it;
	struct idset ids = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (mock_input_start(&in, MOCK_ANTHROPIC, data, len) < 0) {
		snprintf(out->error, sizeof(out->error),
			 "requests: Field required (an array of requests)");
		return;
	}
	while ((rc = mock_input_next(&in, &it)) > 0) {
		if (!check_request(&it, out->n, &ids, out))
			goto out;
		if (++out->n > ANTHROPIC_MAX_REQUESTS) {
			snprintf(out->error, sizeof(out->error),
				 "requests: a batch holds at most %d "
				 "requests",
				 ANTHROPIC_MAX_REQUESTS);
			goto out;
		}
	}
	if (rc < 0)
		snprintf(out->error, sizeof(out->error),
			 "There was an issue with your request body: not "
			 "valid JSON");
	else if (mock_json_ws(in.arr.p, in.arr.end) != in.arr.end)
		snprintf(out->error, sizeof(out->error),
			 "There was an issue with your request body: not "
			 "valid JSON");
	else if (out->n == 0)
		snprintf(out->error, sizeof(out->error),
			 "requests: List should have at least 1 item");
out:
	free(ids.slot);
}

void mock_input_check_clear(struct mock_input_check *c)
{
	free(c->model);
	cJSON_Delete(c->errors);
	memset(c, 0, sizeof(*c));
}

int mock_input_map(const char *path, const char **data, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	*data = NULL;
	*len = (size_t)st.st_size;
	if (*len > 0) {
		p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			close(fd);
			return -1;
		}
		/* Read front to back, once. */
		posix_madvise(p, *len, POSIX_MADV_SEQUENTIAL);
		*data = p;
	}
	close(fd);
	return 0;
}

void mock_input_unmap(const char *data, size_t len)
{
	if (data)
		munmap((void *)data, len);
}
