/* quote.h — a value from the user's input as an error message shows it,
 * so that a refusal names what it refused ("got \"grpc\""): a string as a
 * JSON string literal (control characters escaped, so that nothing in it
 * moves the terminal's cursor or splits a log line; bytes that are not
 * UTF-8 as \ufffd), cut after QUOTE_SHOWN bytes. A string that looks like
 * an API key is never shown: a key pasted into the wrong field must not
 * reach a terminal or a log.
 * Thread-safe (pure functions). */
#ifndef NIGHTSHIFT_QUOTE_H
#define NIGHTSHIFT_QUOTE_H

#include <stddef.h>

/* Bytes of a string shown before the cut. */
#define QUOTE_SHOWN 40
/* Room for the longest quote_str answer (every byte shown escaped as
 * \u00XX, the cut mark and the length). */
#define QUOTE_LEN (QUOTE_SHOWN * 6 + 64)

/* quote_str: s[0..len) (may hold NULs) as a message shows it, into
 * buf[0..n) (n >= QUOTE_LEN shows it all): "\"text\"", or, when cut,
 * "\"first bytes\"... (N bytes)"; or "a string that looks like an API
 * key (not shown)". Returns buf. */
const char *quote_str(char *buf, size_t n, const char *s, size_t len);

/* quote_secret: 1 when s[0..len) looks like a credential: it holds a word
 * starting the way providers' keys start ("sk-", "AIza", "Bearer "...),
 * or a run of 24 or more letters and digits with both in it (the bare
 * hex or base62 keys some providers issue), else 0. */
int quote_secret(const char *s, size_t len);

#endif
