/* prov.c — the dialect, lane and batch-API names of the providers
 * config, which lanes a model has, and where a provider may be reached
 * (see prov.h). */
#include "runner/providers/prov.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const dialect_names[] = {
    [PROV_OPENAI] = "openai",
    [PROV_ANTHROPIC] = "anthropic",
};

int prov_dialect_parse(const char *name, enum prov_dialect *d)
{
	size_t i;

	for (i = 0; name && i < sizeof(dialect_names) / sizeof(*dialect_names);
	     i++) {
		if (strcmp(name, dialect_names[i]) == 0) {
			*d = (enum prov_dialect)i;
			return 0;
		}
	}
	return -1;
}

const char *prov_dialect_name(enum prov_dialect d)
{
	return d == PROV_ANTHROPIC ? dialect_names[PROV_ANTHROPIC]
				   : dialect_names[PROV_OPENAI];
}

static const char *const lane_names[] = {
    [LANE_SYNC] = "sync",
    [LANE_BATCH] = "batch",
};

const char *prov_lane_name(enum prov_lane l)
{
	return l == LANE_BATCH ? lane_names[LANE_BATCH] : lane_names[LANE_SYNC];
}

int prov_lane_parse(const char *s, enum prov_lane *l)
{
	size_t i;

	for (i = 0; s && i < sizeof(lane_names) / sizeof(*lane_names); i++) {
		if (strcmp(s, lane_names[i]) == 0) {
			*l = (enum prov_lane)i;
			return 0;
		}
	}
	return -1;
}

/* The batch APIs are named after the dialect whose requests they carry. */
_Static_assert((int)PROV_BATCH_OPENAI == (int)PROV_OPENAI &&
		   (int)PROV_BATCH_ANTHROPIC == (int)PROV_ANTHROPIC,
	       "batch API and dialect values differ");

const char *prov_batch_api_name(enum prov_batch_api a)
{
	return prov_dialect_name((enum prov_dialect)a);
}

int prov_has_lane(const struct prov *p, const struct prov_model *m,
		  enum prov_lane l)
{
	if (l != LANE_BATCH)
		return 1;
	return p->batch.on && !m->batch_off;
}

/* host_is_loopback: h[0..n) is 127.0.0.0/8 in dotted quad, localhost or
 * [::1]. Anything fancier (other IPv6 spellings, decimal IPs) is refused
 * rather than guessed at. */
static int host_is_loopback(const char *h, size_t n)
{
	unsigned a, b, c, d;
	char tail;
	char buf[32];

	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return 1;
	if (n == 5 && memcmp(h, "[::1]", 5) == 0)
		return 1;
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789.") != n)
		return 0;
	if (sscanf(buf, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4)
		return 0;
	return a == 127 && b < 256 && c < 256 && d < 256;
}

/* No credentials (they would end up in logs), query or fragment (the
 * dialects append the endpoint path). */
const char *prov_url_check(const char *url, int *loopback)
{
	const char *rest, *host, *hend, *aend, *s;
	int https;
	long port;

	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		rest = url + 7;
	} else {
		return "must start with https:// (or http:// for a "
		       "loopback host)";
	}
	for (s = url; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return "must not contain spaces or control "
			       "characters";
	if (strpbrk(url, "?#"))
		return "must not contain a query or fragment";
	aend = rest + strcspn(rest, "/");
	if (memchr(rest, '@', (size_t)(aend - rest)))
		return "must not contain credentials; keys come from the "
		       "variable named in api_key_env";
	host = rest;
	if (*host == '[') {
		hend = memchr(host, ']', (size_t)(aend - host));
		if (!hend)
			return "has a malformed IPv6 host";
		hend++;
	} else {
		hend = host + strcspn(host, ":/");
	}
	if (hend == host)
		return "has no host";
	if (hend < aend) {
		char *end;

		if (*hend != ':' || hend + 1 == aend)
			return "has a malformed host or port";
		errno = 0;
		port = strtol(hend + 1, &end, 10);
		if (end != aend || errno || port < 1 || port > 65535 ||
		    !isdigit((unsigned char)hend[1]))
			return "has a malformed port";
	}
	*loopback = host_is_loopback(host, (size_t)(hend - host));
	if (!https && !*loopback)
		return "http:// is only allowed for loopback hosts "
		       "(127.0.0.0/8, localhost, [::1]); use https://";
	return NULL;
}
