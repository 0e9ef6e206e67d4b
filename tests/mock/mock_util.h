/* mock_util.h — small helpers shared by the mock provider's files: allocation
 * that aborts on OOM, clocks, hashing, a counter-based RNG, UTF-8 care and
 * a growing text buffer. The mock links none of nightshift's library, so
 * it carries its own.
 * Thread-safe (no shared state). */
#ifndef MOCK_UTIL_H
#define MOCK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Allocation; each returns new memory freed with free(). */
void *mock_xmalloc(size_t n);
void *mock_xcalloc(size_t count, size_t n);
void *mock_xrealloc(void *p, size_t n);
char *mock_xstrdup(const char *s);
char *mock_xstrndup(const char *s, size_t n);

/* Clocks, in milliseconds: wall (epoch) and monotonic. */
int64_t mock_wall_ms(void);
int64_t mock_mono_ms(void);

/* mock_fnv1a64 returns the 64-bit FNV-1a hash of n bytes at p. */
uint64_t mock_fnv1a64(const void *p, size_t n);

/* mock_mix64 returns the splitmix64 finaliser of x: a well-mixed,
 * stateless pseudo-random value, so each request can draw its numbers
 * from (seed, request index) without a shared, locked generator. */
uint64_t mock_mix64(uint64_t x);

/* mock_unit returns a uniform double in [0, 1) from the top bits of x. */
double mock_unit(uint64_t x);

/* mock_hex writes the low 4 * digits bits of v as that many lowercase hex
 * digits at out (no NUL). snprintf's format parsing was a fifth of a
 * batch's result time. */
void mock_hex(char *out, uint64_t v, int digits);

/* mock_utf8_cut returns the largest length <= n that does not split a
 * UTF-8 sequence of s (s holds at least n bytes). */
size_t mock_utf8_cut(const char *s, size_t n);

/* mock_utf8_clean replaces, in place, every byte of s[0..n) that is not
 * part of a well-formed UTF-8 sequence, and every NUL, with '?', so the
 * text can go into a JSON string. */
void mock_utf8_clean(char *s, size_t n);

/* A growing text buffer. Replies and batch result lines are the hot path
 * of a benchmark, so they are written directly rather than through a
 * cJSON tree, whose number printing (sprintf then sscanf) dominated the
 * profile. Zero-initialise; p is NUL-terminated once anything was put;
 * free(p) releases it. */
struct mock_sb {
	char *p;
	size_t len, cap;
};

/* mock_sb_grow makes room for n more bytes and the NUL. */
void mock_sb_grow(struct mock_sb *b, size_t n);

/* mock_sb_put appends n bytes of s; mock_sb_raw appends the string s.
 * Inline: with a literal, strlen folds to a constant (the result lines
 * of a batch are some thirty pieces each). */
static inline void mock_sb_put(struct mock_sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		mock_sb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void mock_sb_raw(struct mock_sb *b, const char *s)
{
	mock_sb_put(b, s, strlen(s));
}

/* mock_sb_long appends v in decimal. */
void mock_sb_long(struct mock_sb *b, long long v);

/* mock_sb_json appends s as a quoted JSON string. */
void mock_sb_json(struct mock_sb *b, const char *s);

#endif
