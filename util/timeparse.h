/* timeparse.h — every duration and time of day nightshift reads, parsed
 * in one place by one set of rules: command-line durations (--grace 30s,
 * --max-runtime 1h30m), --deadline and price windows (HH:MM), dates in
 * the providers config, and what providers send (Retry-After seconds,
 * retry-after-ms, Go-style x-ratelimit-reset durations, RFC 3339 reset
 * stamps). Parsing is by hand: pure (no TZ, no locale), on buffers that
 * need not be NUL-terminated, and every number saturates instead of
 * overflowing.
 * Thread-safe (pure functions). */
#ifndef NIGHTSHIFT_TIMEPARSE_H
#define NIGHTSHIFT_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#define TP_EINVAL (-1) /* not in the expected form */

/* Spans saturate here (100 days): far past any pause honoured, and far
 * from INT64_MAX, so now + span cannot overflow either. */
#define TP_SPAN_MAX_MS ((int64_t)100 * 86400 * 1000)

/* What tp_duration accepts; at least one. */
#define TP_UNITS 0x1u /* numbers with units, Go-style: "1h30m", "6m0s",
			 "1.5s", "500ms", "250us", "0" */
#define TP_SECS 0x2u  /* a bare number is seconds: "120", "1.5" */
#define TP_MSECS 0x4u /* a bare number is milliseconds: "1500" */

/* tp_duration: s[0..n) as a span in ms, rounded up to a whole ms (a
 * pause is never cut short). Units are h, m, s, ms, us (or µs) and ns.
 * Returns 0 and sets *ms, or TP_EINVAL (negative numbers, exponents,
 * spaces, unknown units and empty text are all refused). */
int tp_duration(const char *s, size_t n, unsigned flags, int64_t *ms);

/* tp_hhmm: "HH:MM" or "H:MM" as minutes after midnight (0-1439); with
 * allow_end, "24:00" too (1440), for the end of a window. Returns 0 and
 * sets *minutes, or TP_EINVAL. s is NUL-terminated. */
int tp_hhmm(const char *s, int allow_end, int *minutes);

/* tp_rfc3339: "2024-05-01T12:00:00Z", "...12:00:00.5+02:00" (also 't' or
 * ' ' between date and time, 'z') as epoch ms, a fraction rounded up.
 * Returns 0 and sets *ms, or TP_EINVAL (fields out of range included). */
int tp_rfc3339(const char *s, size_t n, int64_t *ms);

/* tp_hms: whole seconds secs (>= 0) as "M:SS", or "H:MM:SS" from an
 * hour on, into buf[0..n). */
void tp_hms(char *buf, size_t n, long long secs);

/* tp_date_ok: 1 when s (NUL-terminated) is a plausible calendar date
 * "YYYY-MM-DD" (year 2000 or later), else 0. */
int tp_date_ok(const char *s);

#endif
