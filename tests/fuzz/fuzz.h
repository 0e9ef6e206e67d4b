/* fuzz.h — what the fuzz targets (tests/fuzz/fuzz_*.c) share.
 *
 * Each target is one LLVMFuzzerTestOneInput, linked either with libFuzzer
 * (make fuzz: clang, -fsanitize=fuzzer,address,undefined) or with
 * replay.c (make check: the normal compiler, replaying the seed corpus
 * and every input that once found a bug). A target checks more than "no
 * crash": where the code has a reference (cJSON, a slow path kept for
 * tests) or states a property, FUZZ_CHECK aborts on a disagreement, so
 * libFuzzer keeps the input and the replay fails on it. */
#ifndef NIGHTSHIFT_FUZZ_H
#define NIGHTSHIFT_FUZZ_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CHECK: abort with a message naming the check (its "ERROR" is what
 * tests/run.sh shows of a failed binary). */
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "ERROR: %s:%d: check failed: %s: ",     \
				__FILE__, __LINE__, #cond);                    \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* An input read from the front: a few bytes choose the mode, the rest is
 * the text under test. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* fuzz_byte: the next byte, or 0 when none is left. */
static inline unsigned fuzz_byte(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* fuzz_headers: when the rest starts with "HTTP/", the header block up to
 * and including its blank line (all of the rest when it has none) is
 * taken off the front into *h, *hlen; else *h is NULL. */
static inline void fuzz_headers(struct fuzz_in *in, const char **h,
				size_t *hlen)
{
	size_t i;

	*h = NULL;
	*hlen = 0;
	if (in->n < 5 || memcmp(in->p, "HTTP/", 5) != 0)
		return;
	for (i = 0; i + 4 <= in->n; i++)
		if (memcmp(in->p + i, "\r\n\r\n", 4) == 0)
			break;
	i = i + 4 <= in->n ? i + 4 : in->n;
	*h = (const char *)in->p;
	*hlen = i;
	in->p += i;
	in->n -= i;
}

/* fuzz_copy: data[0..n) in a new buffer of exactly n bytes (one byte when
 * n is 0), so that a read past the end is one AddressSanitizer sees. */
static inline char *fuzz_copy(const void *data, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	if (n)
		memcpy(p, data, n);
	return p;
}

/* fuzz_cstr: data[0..n) NUL-terminated, new. */
static inline char *fuzz_cstr(const void *data, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		abort();
	if (n)
		memcpy(p, data, n);
	p[n] = '\0';
	return p;
}

/* The HTTP statuses a reply target picks from: the ones the dialects
 * treat apart, and a few odd ones. */
static const int FUZZ_STATUSES[] = {200, 201, 400, 401, 402, 403, 404, 408,
				    409, 413, 422, 429, 500, 502, 503, 504,
				    529, 0,   -1,  299, 300, 418, 999, 100};
#define FUZZ_NSTATUS (sizeof(FUZZ_STATUSES) / sizeof(FUZZ_STATUSES[0]))

#ifdef cJSON__h
/* fuzz_tree_same: a and b hold the same values in the same order, under
 * the same member names (their own names aside)
 * (cJSON_Compare looks members up by name, so it calls two texts with a
 * duplicated key different, and an overflowed number, inf, different
 * from itself). Numbers compare to the bit. For targets that include
 * cjson/cJSON.h first. */
static inline int fuzz_tree_same(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (a == NULL || b == NULL)
		return a == b;
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return 0;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsNumber(a))
		return memcmp(&a->valuedouble, &b->valuedouble,
			      sizeof(double)) == 0;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
		if ((x->string == NULL) != (y->string == NULL) ||
		    (x->string && strcmp(x->string, y->string) != 0) ||
		    !fuzz_tree_same(x, y))
			return 0;
	return x == NULL && y == NULL;
}


/* fuzz_nth: the n-th (from 0) member of object o named key, or NULL. */
static inline const cJSON *fuzz_nth(const cJSON *o, const char *key, int n)
{
	for (const cJSON *c = o->child; c; c = c->next)
		if (strcmp(c->string, key) == 0 && n-- == 0)
			return c;
	return NULL;
}

/* fuzz_json_same: a and b hold the same values, members in any order
 * (the k-th member of a name in one matched with the k-th of that name
 * in the other, so duplicated keys compare too), numbers within a unit
 * in the last place: cJSON prints a number with 15 digits when that
 * reads back as close as cJSON_Compare asks, which may be one ulp off. */
static inline int fuzz_json_same(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (a == NULL || b == NULL)
		return a == b;
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return 0;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble ||
		       fabs(a->valuedouble - b->valuedouble) <=
			   fmax(fabs(a->valuedouble), fabs(b->valuedouble)) *
			       DBL_EPSILON;
	if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
		return 0;
	if (cJSON_IsArray(a)) {
		for (x = a->child, y = b->child; x && y;
		     x = x->next, y = y->next)
			if (!fuzz_json_same(x, y))
				return 0;
		return 1;
	}
	for (x = a->child; x; x = x->next) {
		int k = 0;

		for (const cJSON *p = a->child; p != x; p = p->next)
			k += strcmp(p->string, x->string) == 0;
		if (!fuzz_json_same(x, fuzz_nth(b, x->string, k)))
			return 0;
	}
	return 1;
}
#endif

#ifdef NIGHTSHIFT_OUTCOME_H
/* fuzz_text_ok: a stored message: valid UTF-8 without control bytes. */
static inline int fuzz_text_ok(const char *s)
{
	size_t bad;

	if (!utf8_valid(s, strlen(s), &bad))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* fuzz_outcome_ok: what every reader of a reply must leave in o: a known
 * class; on OK a body that is one JSON value (cJSON reads it: it is
 * stored and exported) of body_len bytes; usage counts >= 0; error code
 * and message scrubbed (valid UTF-8, no control bytes, message within
 * OUTCOME_MESSAGE_MAX; one for every error reply); and no HTTP reply at
 * all is CONNECTION. */
static inline void fuzz_outcome_ok(const struct outcome *o, int status)
{
	FUZZ_CHECK(o->cls >= OUTCOME_OK && o->cls < OUTCOME__COUNT, "class %d",
		   (int)o->cls);
	if (status <= 0)
		FUZZ_CHECK(o->cls == OUTCOME_CONNECTION, "no reply is %s",
			   outcome_class_name(o->cls));
	if (o->cls == OUTCOME_OK) {
		cJSON *b;

		FUZZ_CHECK(o->body != NULL, "OK without a body");
		FUZZ_CHECK(strlen(o->body) == o->body_len,
			   "body_len %zu, strlen %zu", o->body_len,
			   strlen(o->body));
		b = cJSON_ParseWithOpts(o->body, NULL, 1);
		FUZZ_CHECK(b != NULL, "OK body is not JSON: %s", o->body);
		cJSON_Delete(b);
	}
	FUZZ_CHECK(o->usage.in >= 0 && o->usage.in_cached >= 0 &&
		       o->usage.cache_write >= 0 && o->usage.out >= 0 &&
		       o->usage.out_reasoning >= 0,
		   "usage %lld %lld %lld %lld %lld", (long long)o->usage.in,
		   (long long)o->usage.in_cached,
		   (long long)o->usage.cache_write, (long long)o->usage.out,
		   (long long)o->usage.out_reasoning);
	if (o->error_message) {
		FUZZ_CHECK(strlen(o->error_message) <= OUTCOME_MESSAGE_MAX &&
			       o->error_message[0],
			   "message of %zu bytes", strlen(o->error_message));
		FUZZ_CHECK(fuzz_text_ok(o->error_message),
			   "message not scrubbed: %s", o->error_message);
	}
	if (o->error_code)
		FUZZ_CHECK(fuzz_text_ok(o->error_code) && o->error_code[0],
			   "code not scrubbed: %s", o->error_code);
	if (o->request_id)
		FUZZ_CHECK(fuzz_text_ok(o->request_id),
			   "request id not clean: %s", o->request_id);
	/* an error reply says something, "HTTP <status>" at least */
	if (status >= 300 && o->cls != OUTCOME_OK)
		FUZZ_CHECK(o->error_message != NULL, "error %s without a message",
			   outcome_class_name(o->cls));
}

/* fuzz_outcome_same: a and b, filled by two paths that must agree (the
 * fast reader and the tree one kept for tests), are the same. */
static inline void fuzz_outcome_same(const struct outcome *a,
				     const struct outcome *b)
{
#define FUZZ_SAME_STR(f)                                                       \
	FUZZ_CHECK((a->f == NULL) == (b->f == NULL) &&                         \
		       (a->f == NULL || strcmp(a->f, b->f) == 0),              \
		   #f " %s / %s", a->f ? a->f : "NULL", b->f ? b->f : "NULL")
	FUZZ_CHECK(a->cls == b->cls && a->http_status == b->http_status &&
		       a->retry_after_ms == b->retry_after_ms &&
		       a->limit_spent == b->limit_spent &&
		       a->usage_reported == b->usage_reported,
		   "fast %s status %d retry %lld spent %d reported %d, slow %s "
		   "status %d retry %lld spent %d reported %d",
		   outcome_class_name(a->cls), a->http_status,
		   (long long)a->retry_after_ms, a->limit_spent,
		   a->usage_reported, outcome_class_name(b->cls),
		   b->http_status, (long long)b->retry_after_ms,
		   b->limit_spent, b->usage_reported);
	FUZZ_CHECK(memcmp(&a->usage, &b->usage, sizeof(a->usage)) == 0,
		   "usage differs");
	FUZZ_SAME_STR(request_id);
	FUZZ_SAME_STR(error_code);
	FUZZ_SAME_STR(error_message);
	FUZZ_SAME_STR(body);
	FUZZ_CHECK(a->body_len == b->body_len, "body_len %zu / %zu",
		   a->body_len, b->body_len);
#undef FUZZ_SAME_STR
}
#endif

/* A fixed clock for the replies' Retry-After arithmetic. */
#define FUZZ_NOW_MS INT64_C(1700000000000)

#endif
