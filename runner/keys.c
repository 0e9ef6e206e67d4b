/* keys.c — API keys from the environment (see keys.h). */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "runner/keys.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "util/xalloc.h"

char *key_get(const struct prov *p, int *bad)
{
	const char *k = p->api_key_env ? getenv(p->api_key_env) : "";
	size_t n;

	if (bad)
		*bad = 0;
	if (!k)
		return NULL;
	/* Spaces around a key would be sent as part of it. */
	while (*k == ' ' || *k == '\t')
		k++;
	n = strlen(k);
	while (n > 0 && (k[n - 1] == ' ' || k[n - 1] == '\t'))
		n--;
	if (n == 0 && p->api_key_env)
		return NULL;
	for (size_t i = 0; bad && i < n; i++)
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			*bad = 1;
	return xstrndup(k, n);
}

int key_state(const struct prov *p)
{
	int bad;
	char *k = key_get(p, &bad);

	if (!k)
		return 0;
	explicit_bzero(k, strlen(k));
	free(k);
	return bad ? -1 : 1;
}

/* no_core_dumps: a core dump of a run held its API key 57 times (issue
 * 17: request headers, curl's copies, the environment), and a dump lands
 * in a file, or in a crash collector, for anyone who can read it. So a
 * process that holds keys writes none: RLIMIT_CORE 0 (hard limit too,
 * so nothing in the process raises it again), and on Linux not dumpable,
 * which also covers a core_pattern pipe (systemd-coredump, apport) that
 * ignores the rlimit. A side effect, wanted here: another process of the
 * same user can no longer ptrace it or read its /proc/PID/environ or
 * mem. Failures are ignored: a limit already lower is fine, and the
 * calls cannot fail otherwise. */
static void no_core_dumps(void)
{
	struct rlimit rl = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &rl);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

char **key_get_all(const struct prov *provs, size_t n, int *bad)
{
	char **keys = xcalloc(n ? n : 1, sizeof(*keys));

	no_core_dumps();
	*bad = -1;
	for (size_t i = 0; i < n; i++) {
		int b;

		keys[i] = key_get(&provs[i], &b);
		if (b && *bad < 0)
			*bad = (int)i;
	}
	return keys;
}

void key_free_all(char **keys, size_t n)
{
	for (size_t i = 0; keys && i < n; i++)
		if (keys[i]) {
			explicit_bzero(keys[i], strlen(keys[i]));
			free(keys[i]);
		}
	free(keys);
}
