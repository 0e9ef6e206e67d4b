/* mock_util.c — helpers for the mock provider: OOM-aborting allocation,
 * clocks, FNV-1a, the splitmix64 finaliser used as a counter-based RNG,
 * UTF-8 boundary and validity fixes for text copied into replies and the
 * request log, and the growing text buffer. */
#include "tests/mock/mock_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t n)
{
	fprintf(stderr, "mock-provider: out of memory (%zu bytes)\n", n);
	abort();
}

void *mock_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *mock_xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);

	if (!p)
		oom(count * n);
	return p;
}

void *mock_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *mock_xstrdup(const char *s)
{
	return mock_xstrndup(s, strlen(s));
}

char *mock_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = mock_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mock_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t mock_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t mock_fnv1a64(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t mock_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

double mock_unit(uint64_t x)
{
	return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

void mock_hex(char *out, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits-- > 0) {
		out[digits] = hex[v & 0xf];
		v >>= 4;
	}
}

/* seq_len returns the length of the well-formed UTF-8 sequence at s (at
 * most n bytes available), or 0 when it is malformed or cut short. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t mock_utf8_cut(const char *s, size_t n)
{
	const unsigned char *b = (const unsigned char *)s;
	size_t i = n;

	/* Step back over at most three continuation bytes to the lead. */
	while (i > 0 && n - i < 4 && (b[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || b[i - 1] < 0x80)
		return n;
	if (seq_len(b + i - 1, n - (i - 1)) == n - (i - 1))
		return n;
	return i - 1;
}

void mock_utf8_clean(char *s, size_t n)
{
	unsigned char *b = (unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t len;

		if (b[i] - 1u < 0x7f) { /* ASCII but NUL: most of any text */
			i++;
			continue;
		}
		len = seq_len(b + i, n - i);

		if (len == 0) {
			b[i++] = '?';
			continue;
		}
		i += len;
	}
}

void mock_sb_grow(struct mock_sb *b, size_t n)
{
	while (b->len + n + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 1024;
	b->p = mock_xrealloc(b->p, b->cap);
}

void mock_sb_long(struct mock_sb *b, long long v)
{
	char num[24];
	size_t i = sizeof(num);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
				     : (unsigned long long)v;

	do {
		num[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		num[--i] = '-';
	mock_sb_put(b, num + i, sizeof(num) - i);
}

/* special8: whether any of the 8 bytes in x needs escaping in a JSON
 * string (below 0x20, '"' or '\\'); exact for "any" (the classic
 * has-less-than bit trick). */
static uint64_t special8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
		((bs - ones) & ~bs)) &
	       high;
}

void mock_sb_json(struct mock_sb *b, const char *s)
{
	size_t n = strlen(s), i = 0, run = 0;

	mock_sb_put(b, "\"", 1);
	/* Content is hundreds of bytes with rarely anything to escape:
	 * skip eight at a time to the next byte that needs it. */
	while (i < n) {
		unsigned char ch;
		char esc[8];
		uint64_t x;

		while (i + 8 <= n) {
			memcpy(&x, s + i, 8);
			if (special8(x))
				break;
			i += 8;
		}
		if (i == n)
			break;
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			i++;
			continue;
		}
		mock_sb_put(b, s + run, i - run);
		run = ++i;
		switch (ch) {
		case '"':
			mock_sb_put(b, "\\\"", 2);
			break;
		case '\\':
			mock_sb_put(b, "\\\\", 2);
			break;
		case '\n':
			mock_sb_put(b, "\\n", 2);
			break;
		case '\r':
			mock_sb_put(b, "\\r", 2);
			break;
		case '\t':
			mock_sb_put(b, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			mock_sb_put(b, esc, 6);
		}
	}
	mock_sb_put(b, s + run, n - run);
	mock_sb_put(b, "\"", 1);
}
