/* catalogue.h — the built-in providers catalogue: the config used when no
 * --providers FILE or $NIGHTSHIFT_PROVIDERS is given. It is JSON in the
 * providers-config format, parsed by config_parse like any file, so there
 * is one code path and one set of rules. Thread-safe (constant data). */
#ifndef NIGHTSHIFT_CATALOGUE_H
#define NIGHTSHIFT_CATALOGUE_H

/* catalogue_json: the built-in config as a NUL-terminated JSON text
 * (static, never freed). */
const char *catalogue_json(void);

#endif
