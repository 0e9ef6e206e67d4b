/* batch_wire.c — what nightshift sends to the batch APIs: the custom_ids
 * that tie a result back to its job, input file lines (OpenAI), request
 * elements (Anthropic) and the create body (see batch_wire.h). What comes
 * back is read in batch_wire_read.c.
 *
 * A lane builds 100k lines a second and more, so a line is written by
 * appending text to a buffer: the job body is copied as it is, scanned
 * once for the control characters that would break a JSONL line, and
 * indexed only in the rare case that it may hold a member to drop. */
#include "runner/providers/batch_wire.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runner/json/jsonidx.h"
#include "util/buf.h"

int batch_api_parse(const char *name, enum batch_api *api)
{
	if (name && strcmp(name, "openai") == 0)
		*api = BATCH_API_OPENAI;
	else if (name && strcmp(name, "anthropic") == 0)
		*api = BATCH_API_ANTHROPIC;
	else
		return -1;
	return 0;
}

const char *batch_api_name(enum batch_api api)
{
	switch (api) {
	case BATCH_API_OPENAI:
		return "openai";
	case BATCH_API_ANTHROPIC:
		return "anthropic";
	}
	return "?";
}

/* ---- custom_id -------------------------------------------------------- */

static int id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int tag_ok(const char *tag, size_t *len)
{
	size_t n;

	if (tag == NULL)
		return 0;
	for (n = 0; tag[n]; n++)
		if (n >= BATCH_TAG_MAX || !id_char((unsigned char)tag[n]))
			return 0;
	*len = n;
	return n > 0;
}

int batch_custom_id(char *out, size_t n, const char *tag, int64_t batch,
		    int64_t job)
{
	size_t tlen;
	int w;

	if (n > 0)
		out[0] = '\0';
	if (!tag_ok(tag, &tlen) || batch < 0 || job < 0 || n == 0)
		return -1;
	w = snprintf(out, n, "%s-%" PRId64 "-%" PRId64, tag, batch, job);
	if (w < 0 || (size_t)w >= n) {
		out[0] = '\0';
		return -1;
	}
	return w;
}

/* A row id as batch_custom_id wrote it: digits, no sign, no leading
 * zero, no overflow. Returns where it ends, or NULL. */
static const char *row_id(const char *p, const char *end, int64_t *v)
{
	int64_t n = 0;
	const char *s = p;

	if (p == end ||
	    (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (n > (INT64_MAX - (*p - '0')) / 10)
			return NULL;
		n = n * 10 + (*p - '0');
	}
	if (p == s)
		return NULL;
	*v = n;
	return p;
}

int batch_custom_id_parse(const char *s, size_t len, const char *tag,
			  int64_t *batch, int64_t *job)
{
	const char *p, *end = s + len;
	size_t tlen;
	int64_t b, j;

	if (s == NULL || !tag_ok(tag, &tlen) || len < tlen + 4 ||
	    memcmp(s, tag, tlen) != 0 || s[tlen] != '-')
		return -1;
	p = row_id(s + tlen + 1, end, &b);
	if (p == NULL || p == end || *p != '-')
		return -1;
	p = row_id(p + 1, end, &j);
	if (p != end)
		return -1;
	*batch = b;
	*job = j;
	return 0;
}

/* ---- writing JSON text ------------------------------------------------ */

/* Undo a builder's partial appends: b back to its first old bytes. */
static int undo(struct buf *b, size_t old)
{
	b->len = old;
	if (b->p)
		b->p[old] = '\0';
	return BUF_ETOOBIG;
}

/* ctl_escape: control character c as a JSON escape into e; its length. */
static size_t ctl_escape(unsigned char c, char e[6])
{
	static const char hex[] = "0123456789abcdef";
	const char *shortc = c == '\n'	 ? "n"
			     : c == '\r' ? "r"
			     : c == '\t' ? "t"
			     : c == '\b' ? "b"
			     : c == '\f' ? "f"
					 : NULL;

	e[0] = '\\';
	if (shortc) {
		e[1] = shortc[0];
		return 2;
	}
	memcpy(e + 1, "u00", 3);
	e[4] = hex[c >> 4];
	e[5] = hex[c & 0xf];
	return 6;
}

/* add_jstr: s as a JSON string, quotes included. Safe runs go in one
 * piece: the strings written here (ids, endpoints) rarely need an
 * escape at all. */
static int add_jstr(struct buf *b, const char *s)
{
	const char *run = s;
	int rc = buf_add(b, "\"", 1);

	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6];
		size_t n;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = buf_add(b, run, (size_t)(s - run));
		if (c < 0x20) {
			n = ctl_escape(c, e);
		} else {
			e[0] = '\\';
			e[1] = (char)c;
			n = 2;
		}
		if (rc == 0)
			rc = buf_add(b, e, n);
		run = s + 1;
	}
	if (rc == 0)
		rc = buf_add(b, run, (size_t)(s - run));
	return rc ? rc : buf_add(b, "\"", 1);
}

/* add_body: the valid JSON text t[0..n) on one line: a raw control
 * character becomes a space between tokens and an escape inside a
 * string (where it is cJSON's leniency, and strict readers, as the
 * providers' are, refuse it). Almost every body has none and is copied
 * whole after one scan. */
static int add_body(struct buf *b, const char *t, size_t n)
{
	size_t i = 0, run = 0;
	int in_str = 0, rc = 0;

	while (i < n && (unsigned char)t[i] >= 0x20)
		i++;
	if (i == n)
		return buf_add(b, t, n);
	for (i = 0; rc == 0 && i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		char e[6];

		/* the byte an escape takes is never a quote that ends the
		 * string (nor, in valid JSON, a control character) */
		if (in_str && c == '\\' && i + 1 < n &&
		    (unsigned char)t[i + 1] >= 0x20) {
			i++;
			continue;
		}
		if (c == '"')
			in_str = !in_str;
		if (c >= 0x20)
			continue;
		rc = buf_add(b, t + run, i - run);
		if (rc == 0)
			rc = in_str ? buf_add(b, e, ctl_escape(c, e))
				    : buf_add(b, " ", 1);
		run = i + 1;
	}
	if (rc == 0 && run < n)
		rc = buf_add(b, t + run, n - run);
	return rc;
}

/* ---- OpenAI ----------------------------------------------------------- */

int batch_line_openai(struct buf *b, const char *custom_id, const char *url,
		      const char *body, size_t len)
{
	static const char method[] = ",\"method\":\"POST\",\"url\":";
	size_t old = b->len;

	if (buf_add(b, "{\"custom_id\":", 13) || add_jstr(b, custom_id) ||
	    buf_add(b, method, sizeof(method) - 1) || add_jstr(b, url) ||
	    buf_add(b, ",\"body\":", 8) || add_body(b, body, len) ||
	    buf_add(b, "}\n", 2))
		return undo(b, old);
	return 0;
}

char *batch_create_openai(const char *file_id, const char *endpoint,
			  const char *window, const char *tag)
{
	struct buf b = BUF_INIT(SIZE_MAX); /* our own short strings */

	buf_addstr(&b, "{\"input_file_id\":");
	add_jstr(&b, file_id);
	buf_addstr(&b, ",\"endpoint\":");
	add_jstr(&b, endpoint);
	buf_addstr(&b, ",\"completion_window\":");
	add_jstr(&b, window ? window : "24h");
	if (tag) {
		buf_addstr(&b, ",\"metadata\":{\"nightshift_batch\":");
		add_jstr(&b, tag);
		buf_addstr(&b, "}");
	}
	buf_addstr(&b, "}");
	return buf_take(&b);
}

/* ---- Anthropic -------------------------------------------------------- */

/* Room a request leaves for batch_anthropic_close's "]}". */
#define CLOSE_LEN 2

int batch_anthropic_open(struct buf *b)
{
	size_t old = b->len;

	if (buf_add(b, "{\"requests\":[", 13) || b->max - b->len < CLOSE_LEN)
		return undo(b, old);
	return 0;
}

int batch_anthropic_close(struct buf *b)
{
	return buf_add(b, "]}", CLOSE_LEN);
}

/* Whether t[0..n) holds the text "stream" quoted, as a top-level
 * "stream" member of a body the dialect printed (cJSON, which escapes no
 * letter) does: when it does not, the body needs no index. */
static int may_stream(const char *t, size_t n)
{
	static const char key[] = "\"stream\"";
	const size_t klen = sizeof(key) - 1;
	const char *p = t, *end = t + n;

	while ((size_t)(end - p) >= klen &&
	       (p = memchr(p, '"', (size_t)(end - p - (ptrdiff_t)klen) + 1))) {
		if (memcmp(p, key, klen) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* add_params: body with its top-level "stream" member left out. A body
 * that does not index is copied as it is (it was taken as valid). */
static int add_params(struct buf *b, const char *body, size_t len)
{
	struct jsonidx x;
	size_t end, k;
	int rc = 0, first = 1;

	if (!may_stream(body, len))
		return add_body(b, body, len);
	if (jsonidx_parse(&x, body, len, &end) != 0 ||
	    x.t[0].type != JSONIDX_OBJECT) {
		jsonidx_free(&x);
		return add_body(b, body, len);
	}
	rc = buf_add(b, "{", 1);
	for (k = jsonidx_first(&x, 0); rc == 0 && k; k = x.t[k].next) {
		if (jsonidx_equals(&x, body, k, "stream"))
			continue;
		if (!first)
			rc = buf_add(b, ",", 1);
		first = 0;
		/* key, colon and value: from the key's quote to the value's
		 * end, the value being the token after the key */
		if (rc == 0)
			rc = add_body(b, body + x.t[k].start,
				      x.t[k + 1].end - x.t[k].start);
	}
	if (rc == 0)
		rc = buf_add(b, "}", 1);
	jsonidx_free(&x);
	return rc;
}

int batch_req_anthropic(struct buf *b, const char *custom_id, const char *body,
			size_t len)
{
	size_t old = b->len;

	if ((old > 0 && b->p[old - 1] != '[' && buf_add(b, ",", 1)) ||
	    buf_add(b, "{\"custom_id\":", 13) || add_jstr(b, custom_id) ||
	    buf_add(b, ",\"params\":", 10) || add_params(b, body, len) ||
	    buf_add(b, "}", 1) || b->max - b->len < CLOSE_LEN)
		return undo(b, old);
	return 0;
}
