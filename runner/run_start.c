/* run_start.c — a run's names, other runs' liveness and the providers'
 * keys (see run_start.h). */
#define _DEFAULT_SOURCE /* gethostname, kill */
#include "runner/run_start.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/cli.h"
#include "runner/keys.h"

void run_names(char *host, char *owner)
{
	if (gethostname(host, HOST_MAX) != 0)
		snprintf(host, HOST_MAX, "localhost");
	host[HOST_MAX - 1] = '\0';
	snprintf(owner, OWNER_MAX, "%s:%ld:%lx", host, (long)getpid(),
		 (unsigned long)time(NULL));
}

/* owner_alive: a lease owner "host:pid:run" still runs? On this host we
 * can ask the kernel; elsewhere we cannot tell and wait for the lease to
 * expire. */
int owner_alive(const char *owner, void *arg)
{
	const char *host = arg, *colon = strchr(owner, ':');
	long pid;
	char *end;

	if (!colon || (size_t)(colon - owner) != strlen(host) ||
	    strncmp(owner, host, strlen(host)) != 0)
		return 1;
	pid = strtol(colon + 1, &end, 10);
	if (pid <= 0 || *end != ':')
		return 1;
	if (pid == (long)getpid())
		return 0; /* an earlier run of ours in this process: gone */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* usable_providers: how many providers have their key (or need none);
 * says once which are skipped for want of a key. */
static int usable_providers(const struct config *cfg, char **keys)
{
	int n = 0, skipped = 0;

	for (size_t i = 0; i < cfg->nprovs; i++) {
		if (keys[i]) {
			n++;
			continue;
		}
		fprintf(stderr, "%s %s (%s)",
			skipped++ ? "," : "nightshift run: skipping providers "
					  "without a key:",
			cfg->provs[i].name, cfg->provs[i].api_key_env);
	}
	if (skipped)
		fputc('\n', stderr);
	return n;
}

/* read_keys: every provider's key from the environment into *out (see
 * key_get_all). EXIT_USAGE, saying why, when a key is unusable or no
 * provider has one; else 0. */
int read_keys(const struct config *cfg, char ***out)
{
	int bad;

	*out = key_get_all(cfg->provs, cfg->nprovs, &bad);
	if (bad >= 0) {
		/* never the key itself: it may be half right */
		fprintf(stderr,
			"nightshift run: %s: the key holds a control "
			"character (a line break or a CR from a Windows "
			"file?); it would break the request's headers. Set it "
			"to the key alone\n",
			cfg->provs[bad].api_key_env);
		return EXIT_USAGE;
	}
	if (usable_providers(cfg, *out) == 0) {
		fprintf(stderr, "nightshift run: no provider has its API key "
				"set; nothing can be sent. Set one of:");
		for (size_t i = 0; i < cfg->nprovs; i++)
			if (cfg->provs[i].api_key_env)
				fprintf(stderr, " %s",
					cfg->provs[i].api_key_env);
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	return 0;
}

