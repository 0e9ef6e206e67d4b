/* utf8.h — UTF-8 as nightshift checks it: job lines must be valid,
 * provider messages and exported strings have invalid bytes replaced.
 * Valid means well-formed per RFC 3629: no overlong forms, no UTF-16
 * surrogates, nothing past U+10FFFF, no sequence cut short.
 * Thread-safe (pure functions). */
#ifndef NIGHTSHIFT_UTF8_H
#define NIGHTSHIFT_UTF8_H

#include <stddef.h>

/* utf8_seq: the length (1-4) of the valid sequence at s, which has n > 0
 * bytes left, or 0 when none starts there. */
size_t utf8_seq(const unsigned char *s, size_t n);
/* utf8_valid: 1 when s[0..n) is valid UTF-8; else 0 with *bad (may be
 * NULL) the offset of the first byte that starts no valid sequence. Fast
 * on ASCII, which job lines mostly are. */
int utf8_valid(const char *s, size_t n, size_t *bad);
/* utf8_cp_len: how many bytes code point cp (0 to 0x10FFFF) takes. */
size_t utf8_cp_len(long cp);

#endif
