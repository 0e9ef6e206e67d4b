/* jsonidx.c — a strict, non-copying JSON parser.
 *
 * Recursive descent over the text, one token per value appended to an
 * array that starts on the caller's stack and moves to the heap only for
 * texts with more than a few hundred values. It accepts a subset of what
 * cJSON accepts (cJSON also takes "01", "1." and raw control characters
 * in strings; we refuse the first two), so whatever passes here also
 * parses wherever cJSON reads it later. */
#include "runner/json/jsonidx.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

struct parser {
	struct jsonidx *x;
	const char *s;
	size_t n, i;
	int depth;
};

static void skip_ws(struct parser *p)
{
	size_t i = p->i;

	for (; i < p->n && (unsigned char)p->s[i] <= 0x20; i++)
		if (p->s[i] != ' ' && p->s[i] != '\t' && p->s[i] != '\n' &&
		    p->s[i] != '\r')
			p->x->ctl = 1;
	p->x->ws += i - p->i;
	p->i = i;
}

/* token: append a token of type starting at the current byte. */
static size_t token(struct parser *p, int type)
{
	struct jsonidx *x = p->x;

	if (x->n == x->cap) {
		size_t cap = x->cap * 2;

		if (x->t == x->small) {
			x->t = xmalloc(cap * sizeof(*x->t));
			memcpy(x->t, x->small, sizeof(x->small));
		} else {
			x->t = xrealloc(x->t, cap * sizeof(*x->t));
		}
		x->cap = cap;
	}
	x->t[x->n] = (struct jsonidx_tok){.start = p->i, .type = type};
	return x->n++;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* hex4: the code unit of the four hex digits at s[i], or -1. */
static long hex4(const char *s, size_t i, size_t n)
{
	long v = 0;

	if (i + 4 > n)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval((unsigned char)s[i + k]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* plain: how many bytes from i need no attention inside a string: no
 * quote, backslash or control character (NUL, or one jsonidx->ctl
 * notes). A word at a time: in each word, the lowest flagged byte is
 * always a real match (borrows only run upwards). */
static size_t plain(const char *s, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL,
		       highs = 0x8080808080808080ULL;
	size_t from = i;

	while (i + 8 <= n) {
		uint64_t w, q, b, m;

		memcpy(&w, s + i, sizeof(w));
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		m = ((q - ones) & ~q) | ((b - ones) & ~b) |
		    ((w - ones * 0x20) & ~w);
		m &= highs;
		if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t)(__builtin_ctzll(m) >> 3) - from;
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && s[i] != '"' && s[i] != '\\' &&
	       (unsigned char)s[i] >= 0x20)
		i++;
	return i - from;
}

static int parse_string(struct parser *p)
{
	size_t t = token(p, JSONIDX_STRING), len = 0;
	const char *s = p->s;
	size_t i = p->i + 1, n = p->n;
	unsigned char esc = 0;

	for (;;) {
		size_t k = plain(s, i, n);

		len += k;
		i += k;
		if (i >= n || s[i] == '\0')
			goto bad;
		if (s[i] == '"')
			break;
		if ((unsigned char)s[i] < 0x20) { /* cJSON's leniency */
			p->x->ctl = 1;
			len++;
			i++;
			continue;
		}
		/* an escape */
		esc = 1;
		if (i + 1 >= n)
			goto bad;
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			len++;
			i += 2;
			break;
		case 'u': {
			long cp = hex4(s, i + 2, n);

			if (cp < 0)
				goto bad;
			i += 6;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				goto bad; /* a lone low surrogate */
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				long lo;

				if (i + 1 >= n || s[i] != '\\' ||
				    s[i + 1] != 'u' ||
				    (lo = hex4(s, i + 2, n)) < 0xDC00 ||
				    lo > 0xDFFF)
					goto bad;
				i += 6;
				cp = 0x10000;
			}
			if (cp == 0)
				p->x->nul = 1;
			len += utf8_cp_len(cp);
			break;
		}
		default:
			goto bad;
		}
	}
	p->i = i + 1;
	p->x->t[t].end = p->i;
	p->x->t[t].n = len;
	p->x->t[t].esc = esc;
	return 0;
bad:
	p->i = i < n ? i : n;
	return -1;
}

static int digits(struct parser *p)
{
	size_t from = p->i;

	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i > from ? 0 : -1;
}

static int parse_number(struct parser *p)
{
	size_t t = token(p, JSONIDX_NUMBER);
	const char *s = p->s;

	if (s[p->i] == '-')
		p->i++;
	if (p->i < p->n && s[p->i] == '0')
		p->i++;
	else if (digits(p))
		return -1;
	if (p->i < p->n && s[p->i] == '.') {
		p->i++;
		if (digits(p))
			return -1;
	}
	if (p->i < p->n && (s[p->i] == 'e' || s[p->i] == 'E')) {
		p->x->exp = 1;
		p->i++;
		if (p->i < p->n && (s[p->i] == '+' || s[p->i] == '-'))
			p->i++;
		if (digits(p))
			return -1;
	}
	p->x->t[t].end = p->i;
	if (p->i - p->x->t[t].start > p->x->longest_number)
		p->x->longest_number = p->i - p->x->t[t].start;
	return 0;
}

static int parse_literal(struct parser *p, const char *word, int type)
{
	size_t len = strlen(word), t;

	if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0)
		return -1;
	t = token(p, type);
	p->i += len;
	p->x->t[t].end = p->i;
	return 0;
}

static int parse_value(struct parser *p);

/* parse_container: an object (members "key": value) or an array. */
static int parse_container(struct parser *p, int object)
{
	size_t t = token(p, object ? JSONIDX_OBJECT : JSONIDX_ARRAY);
	size_t prev = 0, count = 0, ws = p->x->ws;
	char close = object ? '}' : ']';

	if (++p->depth > JSONIDX_MAX_DEPTH)
		return -1;
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == close)
		goto done;
	for (;;) {
		size_t child = p->x->n;

		if (object) {
			skip_ws(p);
			if (p->i >= p->n || p->s[p->i] != '"' ||
			    parse_string(p))
				return -1;
			skip_ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return -1;
			p->i++;
		}
		if (parse_value(p))
			return -1;
		if (prev)
			p->x->t[prev].next = child;
		prev = child;
		count++;
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close)
			break;
		return -1;
	}
done:
	p->i++;
	p->depth--;
	p->x->t[t].end = p->i;
	p->x->t[t].n = count;
	p->x->t[t].ws = p->x->ws - ws;
	return 0;
}

static int parse_value(struct parser *p)
{
	skip_ws(p);
	if (p->i >= p->n)
		return -1;
	switch (p->s[p->i]) {
	case '{':
		return parse_container(p, 1);
	case '[':
		return parse_container(p, 0);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true", JSONIDX_TRUE);
	case 'f':
		return parse_literal(p, "false", JSONIDX_FALSE);
	case 'n':
		return parse_literal(p, "null", JSONIDX_NULL);
	default:
		if (p->s[p->i] == '-' ||
		    (p->s[p->i] >= '0' && p->s[p->i] <= '9'))
			return parse_number(p);
		return -1;
	}
}

int jsonidx_parse(struct jsonidx *x, const char *s, size_t n, size_t *end)
{
	struct parser p = {.x = x, .s = s, .n = n};
	int rc;

	x->t = x->small;
	x->cap = sizeof(x->small) / sizeof(x->small[0]);
	x->n = 0;
	x->ws = 0;
	x->nul = x->exp = x->ctl = 0;
	x->longest_number = 0;
	rc = parse_value(&p);
	*end = p.i;
	return rc;
}

void jsonidx_free(struct jsonidx *x)
{
	if (x->t != x->small)
		free(x->t);
	x->t = x->small;
	x->n = 0;
}

size_t jsonidx_first(const struct jsonidx *x, size_t tok)
{
	const struct jsonidx_tok *t = &x->t[tok];

	return (t->type == JSONIDX_OBJECT || t->type == JSONIDX_ARRAY) && t->n
		       ? tok + 1
		       : 0;
}

/* next_char: decode the string character at s[*i] (inside the quotes of
 * a validated string) into u (up to 4 bytes); returns its length. */
static size_t next_char(const char *s, size_t *i, char *u)
{
	long cp;

	if (s[*i] != '\\') {
		u[0] = s[(*i)++];
		return 1;
	}
	switch (s[*i + 1]) {
	case 'b':
		u[0] = '\b';
		break;
	case 'f':
		u[0] = '\f';
		break;
	case 'n':
		u[0] = '\n';
		break;
	case 'r':
		u[0] = '\r';
		break;
	case 't':
		u[0] = '\t';
		break;
	case 'u':
		cp = hex4(s, *i + 2, *i + 6);
		*i += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = hex4(s, *i + 2, *i + 6);

			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			*i += 6;
		}
		if (cp < 0x80) {
			u[0] = (char)cp;
			return 1;
		}
		if (cp < 0x800) {
			u[0] = (char)(0xC0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3F));
			return 2;
		}
		if (cp < 0x10000) {
			u[0] = (char)(0xE0 | cp >> 12);
			u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
			u[2] = (char)(0x80 | (cp & 0x3F));
			return 3;
		}
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		return 4;
	default: /* '"', '\\', '/' stand for themselves */
		u[0] = s[*i + 1];
		break;
	}
	*i += 2;
	return 1;
}

size_t jsonidx_decode(const struct jsonidx *x, const char *s, size_t tok,
		      char *out, size_t cap)
{
	const struct jsonidx_tok *t = &x->t[tok];
	size_t i = t->start + 1, w = 0;

	if (!t->esc) {
		size_t len = t->end - t->start - 2;

		if (cap) {
			size_t k = len < cap - 1 ? len : cap - 1;

			memcpy(out, s + i, k);
			out[k] = '\0';
		}
		return len;
	}
	while (i < t->end - 1) {
		char u[4];
		size_t k = next_char(s, &i, u);

		for (size_t c = 0; c < k; c++, w++)
			if (w + 1 < cap)
				out[w] = u[c];
	}
	if (cap)
		out[w < cap ? w : cap - 1] = '\0';
	return w;
}

int jsonidx_equals(const struct jsonidx *x, const char *s, size_t tok,
		   const char *str)
{
	const struct jsonidx_tok *t = &x->t[tok];
	size_t i = t->start + 1, w = 0, len = strlen(str);

	if (t->type != JSONIDX_STRING || t->n != len)
		return 0;
	if (!t->esc)
		return memcmp(s + i, str, len) == 0;
	while (i < t->end - 1) {
		char u[4];
		size_t k = next_char(s, &i, u);

		if (memcmp(u, str + w, k) != 0)
			return 0;
		w += k;
	}
	return 1;
}

int jsonidx_holds_nul(const struct jsonidx *x, const char *s, size_t tok)
{
	const struct jsonidx_tok *t = &x->t[tok];

	if (t->type != JSONIDX_STRING || !t->esc)
		return 0;
	for (size_t i = t->start + 1; i + 1 < t->end - 1; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
			return 1;
		i++; /* the escaped character */
	}
	return 0;
}

size_t jsonidx_get(const struct jsonidx *x, const char *s, size_t obj,
		   const char *key)
{
	if (x->t[obj].type != JSONIDX_OBJECT)
		return 0;
	for (size_t k = jsonidx_first(x, obj); k; k = x->t[k].next)
		if (jsonidx_equals(x, s, k, key))
			return k + 1;
	return 0;
}

size_t jsonidx_members(const struct jsonidx *x, const char *s, size_t obj,
		       const char *const *names, size_t n, size_t *vals)
{
	size_t lens[16], unknown = 0;

	assert(n <= 16);
	for (size_t i = 0; i < n; i++) {
		lens[i] = strlen(names[i]);
		vals[i] = 0;
	}
	if (x->t[obj].type != JSONIDX_OBJECT)
		return 0;
	for (size_t k = jsonidx_first(x, obj); k; k = x->t[k].next) {
		const struct jsonidx_tok *t = &x->t[k];
		size_t i;

		for (i = 0; i < n; i++)
			if (t->n == lens[i] &&
			    (t->esc ? jsonidx_equals(x, s, k, names[i])
				    : memcmp(s + t->start + 1, names[i],
					     lens[i]) == 0))
				break;
		if (i < n && !vals[i])
			vals[i] = k + 1;
		else if (i == n && !unknown)
			unknown = k;
	}
	return unknown;
}

double jsonidx_number(const struct jsonidx *x, const char *s, size_t tok)
{
	const struct jsonidx_tok *t = &x->t[tok];
	size_t len = t->end - t->start, i = s[t->start] == '-';
	char buf[64], *p;
	double v;

	/* Most numbers in job lines are small integers: no strtod. */
	if (len - i <= 15) {
		long long k = 0;

		while (i < len && s[t->start + i] >= '0' &&
		       s[t->start + i] <= '9')
			k = k * 10 + (s[t->start + i++] - '0');
		if (i == len)
			return s[t->start] == '-' ? -(double)k : (double)k;
	}
	p = len < sizeof(buf) ? buf : xmalloc(len + 1);
	memcpy(p, s + t->start, len);
	p[len] = '\0';
	v = strtod(p, NULL);
	if (p != buf)
		free(p);
	return v;
}

int jsonidx_exact(const struct jsonidx *x, const char *s, size_t len,
		  size_t end)
{
	while (end < len && (s[end] == ' ' || s[end] == '\t' ||
			     s[end] == '\r' || s[end] == '\n'))
		end++;
	if (end != len || x->t[0].type != JSONIDX_OBJECT)
		return -1;
	/* a NUL between tokens is white space to both parsers, but
	 * json_parse_exact refuses any NUL byte */
	if (x->ctl && memchr(s, '\0', len))
		return -1;
	if (!x->nul && !x->exp && x->longest_number <= JSONIDX_CJSON_NUMBER_MAX)
		return 0; /* as almost every text: no token to look at */
	for (size_t i = 0; i < x->n; i++) {
		const struct jsonidx_tok *t = &x->t[i];
		size_t n = t->end - t->start;

		if (jsonidx_holds_nul(x, s, i))
			return -1;
		if (t->type == JSONIDX_NUMBER &&
		    (n > JSONIDX_CJSON_NUMBER_MAX ||
		     ((memchr(s + t->start, 'e', n) ||
		       memchr(s + t->start, 'E', n)) &&
		      !isfinite(jsonidx_number(x, s, i)))))
			return -1;
	}
	return 0;
}

int jsonidx_parse_exact(struct jsonidx *x, const char *s, size_t len)
{
	size_t end;

	if (s == NULL || len == 0)
		return -1;
	if (jsonidx_parse(x, s, len, &end) != 0 ||
	    jsonidx_exact(x, s, len, end) != 0) {
		jsonidx_free(x);
		return -1;
	}
	return 0;
}
