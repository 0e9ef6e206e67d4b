/* flavor.h — which provider speaks a dialect. Providers that share a wire
 * format still differ in what their errors mean (a DashScope 429
 * "insufficient_quota" is a throttle, an OpenAI one an empty account) and
 * in what LiteLLM's price map calls them; the config names a flavor per
 * provider, parsed once into this enum.
 * Thread-safe (constant tables). */
#ifndef NIGHTSHIFT_FLAVOR_H
#define NIGHTSHIFT_FLAVOR_H

enum prov_flavor {
	FLAVOR_GENERIC, /* any OpenAI-compatible server: vLLM, llama.cpp */
	FLAVOR_OPENAI,
	FLAVOR_DASHSCOPE, /* Qwen */
	FLAVOR_DEEPSEEK,
	FLAVOR_MISTRAL,
	FLAVOR_GEMINI,
	FLAVOR_ANTHROPIC,
	FLAVOR__COUNT
};

/* flavor_parse: a flavor's config name ("generic", "openai", "dashscope",
 * "deepseek", "mistral", "gemini", "anthropic"; exact case) -> 0 and *f,
 * or -1 when it names none. */
int flavor_parse(const char *name, enum prov_flavor *f);
/* flavor_name: the config name of f (static; "generic" out of range). */
const char *flavor_name(enum prov_flavor f);
/* flavor_litellm: LiteLLM's provider name (also its key prefix) for f,
 * or NULL for a flavor its price map cannot price (generic). Static. */
const char *flavor_litellm(enum prov_flavor f);
/* flavor_names: the config names, comma-separated and quoted, for
 * messages (static). */
const char *flavor_names(void);

#endif
