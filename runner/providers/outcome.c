/* outcome.c — the one error taxonomy shared by dialects, workers, policy
 * and the ledger, plus the scrubbing every provider message goes through
 * before it may be stored or logged.
 *
 * Provider error text is untrusted: it can carry control characters that
 * would corrupt a log line or a terminal, it can be kilobytes long, and
 * some providers echo part of the API key back ("Incorrect API key
 * provided: sk-proj-****abcd"). outcome_message_dup() makes it short,
 * printable and free of anything that looks like a credential. */
#include "runner/providers/outcome.h"

#include <stdlib.h>
#include <string.h>

#include "util/quote.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const char *const class_names[OUTCOME__COUNT] = {
    [OUTCOME_OK] = "ok",
    [OUTCOME_RATE_LIMITED] = "rate_limited",
    [OUTCOME_OVERLOADED] = "overloaded",
    [OUTCOME_SERVER_ERROR] = "server_error",
    [OUTCOME_TIMEOUT] = "timeout",
    [OUTCOME_CONNECTION] = "connection",
    [OUTCOME_INVALID_OUTPUT] = "invalid_output",
    [OUTCOME_CONTENT_FILTER] = "content_filter",
    [OUTCOME_AUTH] = "auth",
    [OUTCOME_BILLING] = "billing",
    [OUTCOME_BAD_REQUEST] = "bad_request",
    [OUTCOME_NOT_FOUND] = "not_found",
    [OUTCOME_CONTEXT_OVERFLOW] = "context_overflow",
    [OUTCOME_TOO_LARGE] = "too_large",
};

void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->cls = OUTCOME_OK;
	o->retry_after_ms = -1;
}

void outcome_clear(struct outcome *o)
{
	free(o->request_id);
	free(o->error_code);
	free(o->error_message);
	free(o->body);
	outcome_init(o);
}

const char *outcome_class_name(enum outcome_class c)
{
	if ((int)c < 0 || c >= OUTCOME__COUNT)
		return "unknown";
	return class_names[c];
}

int outcome_class_from_name(const char *name, enum outcome_class *c)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < OUTCOME__COUNT; i++) {
		if (strcmp(name, class_names[i]) == 0) {
			*c = (enum outcome_class)i;
			return 0;
		}
	}
	return -1;
}

int outcome_is_transient(enum outcome_class c)
{
	switch (c) {
	case OUTCOME_RATE_LIMITED:
	case OUTCOME_OVERLOADED:
	case OUTCOME_SERVER_ERROR:
	case OUTCOME_TIMEOUT:
	case OUTCOME_CONNECTION:
		return 1;
	default:
		return 0;
	}
}

static int is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*';
}

/* Words that look like credentials are those quote_secret finds (the
 * one test of it: key prefixes, long runs mixing letters and digits);
 * request ids are hyphenated UUIDs whose runs stay short, so they
 * survive. */

static int word_is_bearer(const char *w, size_t n)
{
	static const char b[] = "bearer";
	size_t i;

	if (n != 6)
		return 0;
	for (i = 0; i < 6; i++)
		if ((w[i] | 0x20) != b[i])
			return 0;
	return 1;
}

char *outcome_message_dup(const char *s, size_t n)
{
	/* Normalize at most this much: enough that redaction sees whole
	 * words around the final cut, bounded so a huge body costs little. */
	const size_t norm_max = 4 * OUTCOME_MESSAGE_MAX;
	static const char red[] = "[redacted]";
	char *norm, *out = NULL;
	size_t i = 0, nn = 0, on = 0, cap;
	int prev_bearer = 0;

	if (s == NULL)
		return NULL;
	norm = xmalloc(norm_max + 1);
	while (i < n && nn < norm_max) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t len = utf8_seq(p, n - i);
		int space = 0;

		if (len == 1 && (p[0] < 0x20 || p[0] == 0x7f))
			space = 1;
		else if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			space = 1; /* C1 controls */
		if (space || len == 0) {
			if (space) {
				if (nn > 0 && norm[nn - 1] != ' ')
					norm[nn++] = ' ';
			} else {
				norm[nn++] = '?';
			}
			i += space ? len : 1;
			continue;
		}
		if (p[0] == ' ' && (nn == 0 || norm[nn - 1] == ' ')) {
			i++;
			continue;
		}
		if (nn + len > norm_max)
			break;
		memcpy(norm + nn, p, len);
		nn += len;
		i += len;
	}
	while (nn > 0 && norm[nn - 1] == ' ')
		nn--;
	if (nn == 0)
		goto out;

	/* Redaction can only grow a word to sizeof(red) - 1 bytes. */
	cap = nn + (nn / 2 + 1) * (sizeof(red) - 1) + 1;
	out = xmalloc(cap);
	for (i = 0; i < nn;) {
		size_t j = i;

		if (!is_word((unsigned char)norm[i])) {
			out[on++] = norm[i++];
			continue;
		}
		while (j < nn && is_word((unsigned char)norm[j]))
			j++;
		if (prev_bearer) {
			/* A bearer token may hold dots (JWT): take all of
			 * it, up to the next space. */
			while (j < nn && norm[j] != ' ')
				j++;
		}
		if (prev_bearer || quote_secret(norm + i, j - i)) {
			memcpy(out + on, red, sizeof(red) - 1);
			on += sizeof(red) - 1;
		} else {
			memcpy(out + on, norm + i, j - i);
			on += j - i;
		}
		prev_bearer = word_is_bearer(norm + i, j - i);
		i = j;
	}
	if (on > OUTCOME_MESSAGE_MAX) {
		on = OUTCOME_MESSAGE_MAX;
		/* Back off to the start of a UTF-8 sequence. */
		while (on > 0 && ((unsigned char)out[on] & 0xc0) == 0x80)
			on--;
		while (on > 0 && out[on - 1] == ' ')
			on--;
	}
	out[on] = '\0';
out:
	free(norm);
	return out;
}

void outcome_set_error(struct outcome *o, enum outcome_class cls,
		       const char *code, const char *msg)
{
	o->cls = cls;
	free(o->error_code);
	o->error_code = code ? outcome_message_dup(code, strlen(code)) : NULL;
	free(o->error_message);
	o->error_message = msg ? outcome_message_dup(msg, strlen(msg)) : NULL;
}

/* find: the first copy of secret (sl bytes) in s[0..n), or NULL. */
static const char *find(const char *s, size_t n, const char *secret,
			size_t sl)
{
	for (const char *p = s, *end = s + n;
	     (size_t)(end - p) >= sl &&
	     (p = memchr(p, secret[0], (size_t)(end - p) - sl + 1));
	     p++)
		if (memcmp(p, secret, sl) == 0)
			return p;
	return NULL;
}

/* scrub: *s (*n bytes, NUL-terminated) with every copy of secret
 * replaced by "[redacted]"; *s is reallocated when there was one. A key's
 * characters need no JSON escaping, so a JSON text stays valid. */
static void scrub(char **s, size_t *n, const char *secret)
{
	static const char red[] = "[redacted]";
	size_t sl = strlen(secret), count = 0, len;
	const char *p, *hit, *end;
	char *out, *w;

	if (*s == NULL)
		return;
	end = *s + *n;
	for (p = *s; (hit = find(p, (size_t)(end - p), secret, sl));
	     p = hit + sl)
		count++;
	if (count == 0)
		return;
	len = *n - count * sl + count * (sizeof(red) - 1);
	out = w = xmalloc(len + 1);
	for (p = *s; (hit = find(p, (size_t)(end - p), secret, sl));
	     p = hit + sl) {
		memcpy(w, p, (size_t)(hit - p));
		w += hit - p;
		memcpy(w, red, sizeof(red) - 1);
		w += sizeof(red) - 1;
	}
	memcpy(w, p, (size_t)(end - p));
	out[len] = '\0';
	free(*s);
	*s = out;
	*n = len;
}

void outcome_scrub(struct outcome *o, const char *secret)
{
	char **fields[3] = {&o->error_message, &o->error_code,
			    &o->request_id};

	if (secret == NULL || strlen(secret) < 8)
		return;
	/* the error text, and what a 200 reply may echo (a proxy's debug
	 * echo, a model repeating its headers): the body to store, and its
	 * request id */
	for (size_t i = 0; i < 3; i++) {
		size_t n = *fields[i] ? strlen(*fields[i]) : 0;

		scrub(fields[i], &n, secret);
	}
	scrub(&o->body, &o->body_len, secret);
}
