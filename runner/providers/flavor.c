/* flavor.c — the one table of flavors: config name and LiteLLM name. */
#include "runner/providers/flavor.h"

#include <stddef.h>
#include <string.h>

static const struct {
	const char *name, *litellm;
} flavors[FLAVOR__COUNT] = {
	[FLAVOR_GENERIC] = {"generic", NULL},
	[FLAVOR_OPENAI] = {"openai", "openai"},
	[FLAVOR_DASHSCOPE] = {"dashscope", "dashscope"},
	[FLAVOR_DEEPSEEK] = {"deepseek", "deepseek"},
	[FLAVOR_MISTRAL] = {"mistral", "mistral"},
	[FLAVOR_GEMINI] = {"gemini", "gemini"},
	[FLAVOR_ANTHROPIC] = {"anthropic", "anthropic"},
};

int flavor_parse(const char *name, enum prov_flavor *f)
{
	for (int i = 0; name && i < FLAVOR__COUNT; i++)
		if (strcmp(name, flavors[i].name) == 0) {
			*f = (enum prov_flavor)i;
			return 0;
		}
	return -1;
}

const char *flavor_name(enum prov_flavor f)
{
	return (int)f >= 0 && f < FLAVOR__COUNT ? flavors[f].name : "generic";
}

const char *flavor_litellm(enum prov_flavor f)
{
	return (int)f >= 0 && f < FLAVOR__COUNT ? flavors[f].litellm : NULL;
}

const char *flavor_names(void)
{
	return "\"generic\", \"openai\", \"dashscope\", \"deepseek\", "
	       "\"mistral\", \"gemini\", \"anthropic\"";
}
