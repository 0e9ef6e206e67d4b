/* config.h — the providers config: which providers exist, how to reach them,
 * what their models cost (per million tokens, with time-of-day windows), and
 * named routes over them. The same parser reads a user's file and the
 * built-in catalogue (runner/providers/catalogue.c), so both obey the same
 * rules. A job's candidates are resolved over c->provs and c->routes by
 * runner/sched/route.h; keys are read by runner/keys.h.
 *
 * Not thread-safe while loading (config_load/config_parse/config_free);
 * a loaded config is read-only and may then be read from any thread. */
#ifndef NIGHTSHIFT_CONFIG_H
#define NIGHTSHIFT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "runner/providers/prov.h"
#include "runner/sched/route.h"

/* Return codes (0 is success). */
#define CONFIG_EINVAL (-1) /* the config is wrong: bad JSON or a bad field */
#define CONFIG_EIO (-2)	   /* the file could not be read */

/* The environment variable naming a config file that replaces the
 * built-in catalogue (an explicit --providers FILE wins over it). */
#define CONFIG_ENV "NIGHTSHIFT_PROVIDERS"
/* Largest config file read; a providers file is a few KiB. */
#define CONFIG_MAX_FILE (4 * 1024 * 1024)

/* Providers and routes keep the order of the file. source is the file path,
 * or "built-in". */
struct config {
	struct prov *provs;
	size_t nprovs;
	struct route *routes;
	size_t nroutes;
	char *source;
};

/* Loading */

/* config_load: read the config. path NULL -> $NIGHTSHIFT_PROVIDERS if set
 * and non-empty, else the built-in catalogue. Returns 0 and sets *out (new,
 * free with config_free), or CONFIG_EINVAL / CONFIG_EIO with a one-line
 * message in err ("FILE: providers.qwen.max_inflight: must be a positive
 * integer"). path is borrowed. Messages quote no value from the file but
 * provider and model names, so a key pasted into the wrong field is never
 * echoed. */
int config_load(const char *path, struct config **out, char *err,
		size_t errlen);

/* config_parse: as config_load, from text[0..len) (need not be
 * NUL-terminated). source names the text in messages and becomes
 * config->source (borrowed; NULL -> "config"). */
int config_parse(const char *text, size_t len, const char *source,
		 struct config **out, char *err, size_t errlen);

/* config_free: free *c and set it to NULL; NULL or *c NULL does nothing. */
void config_free(struct config **c);

#endif
