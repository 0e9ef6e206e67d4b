/* plain_client.c — the overhead benchmark's baseline: a bare libcurl client.
 *
 *   usage: plain_client URL N CONCURRENCY BODYFILE
 *
 * POSTs the JSON body in BODYFILE to URL N times, CONCURRENCY transfers at
 * a time, from one thread and one multi handle: what a hand-written batch
 * loop in C would do with nothing stored. Each easy handle is reused for
 * its next request, so connections are kept alive and requests pipeline
 * no deeper than the concurrency. Replies are counted and thrown away.
 * That is the ceiling the run loop is measured against: whatever nightshift
 * adds (queue, leases, parsing, policy, ledger, compression, commits) shows
 * as the gap between its rate and this one.
 *
 * Prints one line on stdout:
 *   "requests N ok M failed F seconds S rps R cpu_s C"
 * where ok counts HTTP 200 replies, seconds is the wall time from the first
 * request to the last reply, and cpu_s is this process's user+sys time.
 * Exits 0 when every request got a 200, 1 otherwise, 2 on bad usage. */
#define _DEFAULT_SOURCE /* getrusage's struct timeval fields */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "util/xalloc.h"

/* A request body bigger than this is not "typical": refuse it. */
#define BODY_MAX (1u << 20)
#define CONC_MAX 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The reply is counted, not kept: storing nothing is the point. */
static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	*(size_t *)ud += size * n;
	return size * n;
}

static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* read_body: the whole file, new (free). NULL if unreadable or too big. */
static char *read_body(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	buf = xmalloc(BODY_MAX + 1);
	n = fread(buf, 1, BODY_MAX + 1, f);
	if (ferror(f) || n == 0 || n > BODY_MAX) {
		free(buf);
		buf = NULL;
	} else {
		/* A trailing newline from the shell is not part of the JSON. */
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		buf[n] = '\0';
		*len = n;
	}
	fclose(f);
	return buf;
}

/* setup: point e at the request, once; curl keeps the options across
 * reuses, so a re-added handle sends the same request again. */
static int setup(CURL *e, const char *url, const char *body, size_t len,
		 struct curl_slist *hdrs, size_t *sink)
{
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				(curl_off_t)len) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, sink) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)e) != CURLE_OK;
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	CURLM *multi = NULL;
	CURL **easy = NULL;
	struct curl_slist *hdrs = NULL;
	char *body = NULL;
	size_t len = 0, sink = 0;
	long n, conc, started = 0, done = 0, ok = 0, failed = 0, i;
	double t0, t1;
	int running = 0, rc = 1;

	if (argc != 5 || parse_count(argv[2], 100000000L, &n) != 0 ||
	    parse_count(argv[3], CONC_MAX, &conc) != 0) {
		fprintf(stderr,
			"usage: plain_client URL N CONCURRENCY BODYFILE\n");
		return 2;
	}
	body = read_body(argv[4], &len);
	if (!body) {
		fprintf(stderr,
			"plain_client: %s: unreadable, empty or over "
			"%u bytes\n",
			argv[4], BODY_MAX);
		return 2;
	}
	if (conc > n)
		conc = n;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "plain_client: curl_global_init failed\n");
		goto out;
	}
	multi = curl_multi_init();
	if (!multi)
		goto out;
	/* Keep every connection in the cache between reuses. */
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, conc);
	/* The key is the mock's placeholder; nightshift sends one too. */
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Authorization: Bearer bench");
	/* curl's default "Expect: 100-continue" only applies above 1 MiB,
	 * but say so: a stall here would be a baseline artefact. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (!hdrs)
		goto out;
	easy = xcalloc((size_t)conc, sizeof(*easy));
	for (i = 0; i < conc; i++) {
		easy[i] = curl_easy_init();
		if (!easy[i] ||
		    setup(easy[i], argv[1], body, len, hdrs, &sink) != 0) {
			fprintf(stderr, "plain_client: curl setup failed\n");
			goto out;
		}
	}
	t0 = now_s();
	for (i = 0; i < conc; i++) {
		if (curl_multi_add_handle(multi, easy[i]) != CURLM_OK)
			goto out;
		started++;
	}
	while (done < n) {
		CURLMsg *m;
		int left;

		if (curl_multi_perform(multi, &running) != CURLM_OK)
			goto out;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			CURL *e = m->easy_handle;
			long code = 0;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			if (m->data.result == CURLE_OK && code == 200)
				ok++;
			else
				failed++;
			done++;
			curl_multi_remove_handle(multi, e);
			if (started < n) {
				if (curl_multi_add_handle(multi, e) != CURLM_OK)
					goto out;
				started++;
			}
		}
		if (done < n &&
		    curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
			goto out;
	}
	t1 = now_s();
	printf("requests %ld ok %ld failed %ld seconds %.3f rps %.0f "
	       "cpu_s %.3f\n",
	       done, ok, failed, t1 - t0,
	       t1 > t0 ? (double)done / (t1 - t0) : 0.0, cpu_s());
	rc = failed == 0 ? 0 : 1;
out:
	for (i = 0; easy && i < conc; i++) {
		if (easy[i]) {
			curl_multi_remove_handle(multi, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
	}
	free(easy);
	if (multi)
		curl_multi_cleanup(multi);
	curl_slist_free_all(hdrs);
	free(body);
	curl_global_cleanup();
	return rc;
}
