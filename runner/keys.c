/* keys.c — API keys from the environment (see keys.h). */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "runner/keys.h"

#include <stdlib.h>
#include <string.h>

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

char **key_get_all(const struct prov *provs, size_t n, int *bad)
{
	char **keys = xcalloc(n ? n : 1, sizeof(*keys));

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
