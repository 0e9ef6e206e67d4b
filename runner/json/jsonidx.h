/* jsonidx.h — check that a text is JSON and index its values in place.
 *
 * An RFC 8259 parser that copies nothing: each value becomes a token
 * (type, where its text lies, its next sibling), so a caller can walk the
 * document and decode only the strings it needs. Built for job lines,
 * where a tree of allocated nodes cost more than the rest of ingest. Two
 * leniencies are cJSON's, so that both read the same texts: any byte
 * <= 0x20 outside strings is whitespace, and raw control characters other
 * than NUL may appear inside strings.
 * Pure: no I/O, no globals; thread-safe on distinct structs. */
#ifndef NIGHTSHIFT_JSONIDX_H
#define NIGHTSHIFT_JSONIDX_H

#include <stddef.h>

/* Deepest nesting accepted (cJSON's limit too). */
#define JSONIDX_MAX_DEPTH 1000

enum jsonidx_type {
	JSONIDX_OBJECT,
	JSONIDX_ARRAY,
	JSONIDX_STRING,
	JSONIDX_NUMBER,
	JSONIDX_TRUE,
	JSONIDX_FALSE,
	JSONIDX_NULL,
};

struct jsonidx_tok {
	size_t start, end; /* the value's text; a string's quotes included */
	size_t next;       /* next sibling (in an object: next key); 0: none */
	size_t n;          /* object: members; array: elements; string:
			    * bytes once decoded */
	size_t ws;         /* container: whitespace bytes inside it */
	unsigned char type;
	unsigned char esc; /* string: holds escapes */
};

/* Tokens: the root is t[0]; a container's first child is the token after
 * it; an object's children are key, value, key, value... (a key's value
 * is the token after the key). */
struct jsonidx {
	struct jsonidx_tok *t;
	size_t n, cap;
	size_t ws; /* whitespace bytes skipped so far (see jsonidx_parse) */
	/* What the last parse met, so that a caller looking for these rare
	 * texts need not walk every token: a \u0000 escape in a string (see
	 * jsonidx_holds_nul), a number with an exponent, the longest number,
	 * a raw control character (inside a string, or between tokens other
	 * than tab, CR and LF: the leniencies above). */
	unsigned char nul, exp, ctl;
	size_t longest_number;
	struct jsonidx_tok small[256]; /* no allocation for small texts */
};

/* jsonidx_parse: index the JSON value at the start of s (n bytes) into x
 * (initialised by this call; free with jsonidx_free). Whitespace is any
 * byte <= 0x20, as cJSON has it. On success returns 0 and *end is the
 * offset just after the value; else -1 and *end is the offset of the
 * first byte that is not JSON. */
int jsonidx_parse(struct jsonidx *x, const char *s, size_t n, size_t *end);
void jsonidx_free(struct jsonidx *x);
/* jsonidx_get: the value of obj's first member named key, or 0 if none
 * (or obj is not an object). */
size_t jsonidx_get(const struct jsonidx *x, const char *s, size_t obj,
		   const char *key);
/* jsonidx_members: one pass over object obj: vals[i] becomes the value of
 * the first member named names[i] (0 if none; n <= 16). Returns the first
 * key matching none of the names, or 0. */
size_t jsonidx_members(const struct jsonidx *x, const char *s, size_t obj,
		       const char *const *names, size_t n, size_t *vals);
/* jsonidx_first: a container's first child (in an object: first key), or
 * 0 when it is empty. */
size_t jsonidx_first(const struct jsonidx *x, size_t tok);
/* jsonidx_decode: the text of string token tok, escapes decoded, into out
 * (at most cap - 1 bytes, NUL-terminated). Returns the decoded length
 * (which may exceed what fitted). */
size_t jsonidx_decode(const struct jsonidx *x, const char *s, size_t tok,
		      char *out, size_t cap);
/* jsonidx_equals: whether string token tok decodes to exactly str. */
int jsonidx_equals(const struct jsonidx *x, const char *s, size_t tok,
		   const char *str);
/* jsonidx_holds_nul: whether string token tok holds a \u0000 escape (an
 * escaped backslash followed by "u0000" is none), which decodes to a NUL
 * that C strings, and so cJSON's tree, cut the string at. Only worth
 * asking of each token when the parse met one (x->nul). */
int jsonidx_holds_nul(const struct jsonidx *x, const char *s, size_t tok);
/* jsonidx_number: number token tok as a double (strtod in the C locale,
 * which nightshift never changes). */
double jsonidx_number(const struct jsonidx *x, const char *s, size_t tok);

/* Reading a text without a tree where cJSON reads it too. A fast path that
 * reads a text through the index must come to what the tree code
 * (json_parse_exact, runner/json/jsonutil.h) would, so it takes only texts
 * both read alike. cJSON differs on three texts jsonidx takes: a \u0000
 * escape (cJSON cuts the string there, so "model\u0000x" is a key "model"
 * to it), a number longer than JSONIDX_CJSON_NUMBER_MAX (may be refused)
 * and one that overflows a double (inf, printed as null).
 * jsonidx_exact: 0 when s[0..len), which jsonidx_parse indexed into x
 * (returning 0 and *end = end), is one JSON object, followed by nothing
 * but the four whitespace bytes, that holds none of those three and no
 * NUL byte (white space to both parsers; json_parse_exact refuses it);
 * else -1.
 * jsonidx_parse_exact: jsonidx_parse of s[0..len) and jsonidx_exact in
 * one. Returns 0 (free x with jsonidx_free) or -1 (nothing to free; also
 * for a NULL or empty text). */
int jsonidx_exact(const struct jsonidx *x, const char *s, size_t len,
		  size_t end);
int jsonidx_parse_exact(struct jsonidx *x, const char *s, size_t len);

/* Longest number every cJSON build parses: upstream 1.7 copies at most 63
 * characters and then fails on the digits left over (the packaged build
 * may not; longer numbers are too rare to be worth the doubt). */
#define JSONIDX_CJSON_NUMBER_MAX 63

#endif
