/* fuzz_jsonidx.c — the hand-written JSON indexer against cJSON, its
 * reference: both read the input as one JSON value from its start, and
 *  - when both take it, they must stop at the same byte and agree on every
 *    value: types, member and element counts, keys and strings decoded
 *    (cut at a \u0000 as cJSON cuts them), numbers to the bit, which of
 *    duplicated keys a lookup finds; compacting the text must drop
 *    exactly the whitespace the index counted and keep the value;
 *  - jsonidx may refuse what cJSON takes only where jsonidx.h says it
 *    does, or where cJSON reads a text against RFC 8259: a number that
 *    is not RFC 8259's ("01", "1.", "-.5": cJSON reads them with
 *    strtod), a raw NUL inside a string, and a \u escape whose four
 *    bytes are not hex digits (cJSON reads "\uZZZZ" as U+0000);
 *  - jsonidx may take what cJSON refuses only for a number longer than
 *    JSONIDX_CJSON_NUMBER_MAX (builds of cJSON differ there);
 *  - jsonidx_parse_exact must take only texts json_parse_exact reads to
 *    the same tree, strings uncut.
 * A text that starts with a UTF-8 BOM is passed over: cJSON skips one,
 * jsonidx does not, and ingest takes it off before either sees the line. */
#include <cjson/cJSON.h>
#include <math.h>

#include "runner/json/jsonidx.h"
#include "runner/json/jsonutil.h"
#include "tests/fuzz/fuzz.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int number_char(char c)
{
	return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' ||
	       c == 'E';
}

/* rfc_number: s[0..n) is a number as RFC 8259 spells it. Written apart
 * from jsonidx's own reader so that the two can disagree. */
static int rfc_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		if (i >= n || s[i] < '1' || s[i] > '9')
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

/* lenient_number_at: offset e lies in or just after a run of number
 * characters that starts a value (a '-' or a digit) and is not an RFC
 * number: one that cJSON's strtod reads and jsonidx refuses. */
static int lenient_number_at(const char *s, size_t n, size_t e)
{
	size_t a = e, b = e;

	while (a > 0 && number_char(s[a - 1]))
		a--;
	while (b < n && number_char(s[b]))
		b++;
	if (a == b || !(s[a] == '-' || is_digit(s[a])))
		return 0;
	return !rfc_number(s + a, b - a);
}

/* bad_u_escape_at: s[e] starts a \u escape whose four bytes are not all
 * hex digits. cJSON's parse_hex4 returns 0 for those, so it reads the
 * escape as U+0000 (and cuts the string there); jsonidx refuses it. */
static int bad_u_escape_at(const char *s, size_t n, size_t e)
{
	if (e + 1 >= n || s[e] != '\\' || s[e + 1] != 'u')
		return 0;
	for (size_t i = e + 2; i < e + 6; i++)
		if (i >= n || !((s[i] >= '0' && s[i] <= '9') ||
				((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')))
			return 1;
	return 0;
}

static void same_string(const struct jsonidx *x, const char *s, size_t tok,
			const char *want, const char *what)
{
	size_t n = x->t[tok].n, got;
	char *buf = malloc(n + 1), small[3];

	if (buf == NULL)
		abort();
	got = jsonidx_decode(x, s, tok, buf, n + 1);
	FUZZ_CHECK(got == n, "%s: decoded %zu bytes, token says %zu", what,
		   got, n);
	if (jsonidx_holds_nul(x, s, tok)) {
		FUZZ_CHECK(x->nul, "%s: a \\u0000 the parse did not note",
			   what);
		/* cJSON cuts the string at the NUL: so must a C reader */
		FUZZ_CHECK(strcmp(buf, want) == 0, "%s: \"%s\" vs \"%s\"", what,
			   buf, want);
	} else {
		FUZZ_CHECK(strlen(want) == n && memcmp(buf, want, n) == 0,
			   "%s: %zu bytes vs cJSON's %zu", what, n,
			   strlen(want));
		FUZZ_CHECK(jsonidx_equals(x, s, tok, want),
			   "%s: jsonidx_equals disagrees with decode", what);
	}
	/* a short buffer: a NUL-terminated prefix and the whole length */
	FUZZ_CHECK(jsonidx_decode(x, s, tok, small, sizeof(small)) == n,
		   "%s: short decode length", what);
	FUZZ_CHECK(strlen(small) <= 2, "%s: short decode overran", what);
	free(buf);
}

/* same_value: token tok of x against cJSON item c; returns the token
 * after tok's value (its subtree's end). */
static size_t same_value(const struct jsonidx *x, const char *s, size_t tok,
			 const cJSON *c, int depth)
{
	const struct jsonidx_tok *t = &x->t[tok];
	size_t k, i;
	const cJSON *e;

	FUZZ_CHECK(tok < x->n, "token %zu of %zu", tok, x->n);
	FUZZ_CHECK(t->start < t->end, "token %zu is empty", tok);
	switch (t->type) {
	case JSONIDX_NULL:
		FUZZ_CHECK(cJSON_IsNull(c), "token %zu: null", tok);
		return tok + 1;
	case JSONIDX_TRUE:
		FUZZ_CHECK(cJSON_IsTrue(c), "token %zu: true", tok);
		return tok + 1;
	case JSONIDX_FALSE:
		FUZZ_CHECK(cJSON_IsFalse(c), "token %zu: false", tok);
		return tok + 1;
	case JSONIDX_NUMBER: {
		double v = jsonidx_number(x, s, tok);

		FUZZ_CHECK(cJSON_IsNumber(c), "token %zu: number", tok);
		FUZZ_CHECK(memcmp(&v, &c->valuedouble, sizeof(v)) == 0,
			   "token %zu: %.17g vs cJSON's %.17g (%.*s)", tok, v,
			   c->valuedouble, (int)(t->end - t->start),
			   s + t->start);
		FUZZ_CHECK(t->end - t->start <= x->longest_number,
			   "token %zu: longer than the longest number", tok);
		/* strict: what cJSON's strtod also reads ("01") is not
		 * taken */
		FUZZ_CHECK(rfc_number(s + t->start, t->end - t->start),
			   "token %zu: %.*s is no RFC 8259 number", tok,
			   (int)(t->end - t->start), s + t->start);
		return tok + 1;
	}
	case JSONIDX_STRING:
		FUZZ_CHECK(cJSON_IsString(c), "token %zu: string", tok);
		same_string(x, s, tok, c->valuestring, "string");
		return tok + 1;
	case JSONIDX_ARRAY:
	case JSONIDX_OBJECT:
		break;
	default:
		FUZZ_CHECK(0, "token %zu: type %d", tok, t->type);
	}
	FUZZ_CHECK(t->type == JSONIDX_OBJECT ? cJSON_IsObject(c)
					     : cJSON_IsArray(c),
		   "token %zu: container type", tok);
	FUZZ_CHECK(depth <= JSONIDX_MAX_DEPTH, "depth %d", depth);
	k = tok + 1;
	i = 0;
	for (e = c->child; e; e = e->next, i++) {
		size_t key = 0;

		FUZZ_CHECK(i < t->n, "token %zu: more children in cJSON", tok);
		FUZZ_CHECK(i > 0 || jsonidx_first(x, tok) == k,
			   "token %zu: first child", tok);
		if (t->type == JSONIDX_OBJECT) {
			key = k;
			FUZZ_CHECK(x->t[key].type == JSONIDX_STRING,
				   "token %zu: key type", key);
			same_string(x, s, key, e->string, "key");
			k++;
		}
		{
			size_t after = same_value(x, s, k, e, depth + 1);
			size_t first = key ? key : k;
			size_t next = x->t[first].next;

			FUZZ_CHECK(e->next ? next == after : next == 0,
				   "token %zu: next %zu, want %zu", first,
				   next, e->next ? after : 0);
			k = after;
		}
		/* jsonidx_get finds the first member of that name, as
		 * cJSON does (bounded: this is quadratic), unless a key
		 * holds a \u0000: cJSON then knows "a\u0000b" as "a" */
		if (key && t->n <= 64 && !x->nul) {
			size_t v = jsonidx_get(x, s, tok, e->string);
			const cJSON *want =
			    cJSON_GetObjectItemCaseSensitive(c, e->string);

			FUZZ_CHECK(v != 0, "jsonidx_get(%s) found nothing",
				   e->string);
			FUZZ_CHECK((want == e) == (v == key + 1),
				   "jsonidx_get(%s): another duplicate than "
				   "cJSON's",
				   e->string);
		}
	}
	FUZZ_CHECK(i == t->n, "token %zu: %zu children, cJSON %zu", tok, t->n,
		   i);
	FUZZ_CHECK(t->n || jsonidx_first(x, tok) == 0, "empty has a child");
	return k;
}

static void both_read(const struct jsonidx *x, const char *s, size_t n,
		      const cJSON *c)
{
	size_t after = same_value(x, s, 0, c, 0);

	FUZZ_CHECK(after == x->n, "%zu tokens, the walk saw %zu", x->n,
		   after);
	/* compacting drops exactly the whitespace counted, and keeps the
	 * value (ingest stores bodies so) */
	if (x->t[0].type == JSONIDX_OBJECT || x->t[0].type == JSONIDX_ARRAY) {
		char *copy = fuzz_copy(s, n);
		size_t end = json_compact(copy, x->t[0].start, x->t[0].end);
		cJSON *again;

		FUZZ_CHECK(end - x->t[0].start ==
			       x->t[0].end - x->t[0].start - x->t[0].ws,
			   "compacted to %zu bytes, %zu whitespace counted",
			   end - x->t[0].start, x->t[0].ws);
		again = cJSON_ParseWithLength(copy + x->t[0].start,
					      end - x->t[0].start);
		FUZZ_CHECK(again != NULL, "the compacted text is not JSON");
		FUZZ_CHECK(fuzz_tree_same(again, c),
			   "the compacted text means something else");
		cJSON_Delete(again);
		free(copy);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct jsonidx x;
	size_t end;
	const char *cend = NULL;
	cJSON *c, *exact;
	int ri;

	if (size >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		return 0;
	ri = jsonidx_parse(&x, s, size, &end);
	FUZZ_CHECK(end <= size, "end %zu past %zu", end, size);
	c = size ? cJSON_ParseWithLengthOpts(s, size, &cend, 0) : NULL;
	if (ri == 0 && c) {
		size_t ce = (size_t)(cend - s);

		if (ce != end)
			FUZZ_CHECK(lenient_number_at(s, size, end),
				   "jsonidx stops at %zu, cJSON at %zu", end,
				   ce);
		else
			both_read(&x, s, size, c);
	} else if (ri == 0) {
		FUZZ_CHECK(x.longest_number > JSONIDX_CJSON_NUMBER_MAX,
			   "jsonidx takes what cJSON refuses (value ends at "
			   "%zu)",
			   end);
	} else if (c) {
		FUZZ_CHECK(lenient_number_at(s, size, end) ||
			       bad_u_escape_at(s, size, end) ||
			       (end < size && s[end] == '\0'),
			   "jsonidx refuses at byte %zu what cJSON takes", end);
	}
	jsonidx_free(&x);
	cJSON_Delete(c);

	/* the fast paths' gate: only texts the tree reads alike */
	exact = json_parse_exact(s, size);
	if (jsonidx_parse_exact(&x, s, size) == 0) {
		FUZZ_CHECK(exact != NULL,
			   "jsonidx_parse_exact takes what json_parse_exact "
			   "refuses");
		for (size_t i = 0; i < x.n; i++)
			FUZZ_CHECK(!jsonidx_holds_nul(&x, s, i),
				   "an exact text holds \\u0000");
		same_value(&x, s, 0, exact, 0);
		jsonidx_free(&x);
	}
	cJSON_Delete(exact);
	return 0;
}
