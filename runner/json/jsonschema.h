/* jsonschema.h — the part of JSON Schema a structured-output job relies
 * on: the reply is an object carrying the schema's required top-level keys
 * with the declared JSON types. Pure; thread-safe. */
#ifndef NIGHTSHIFT_JSONSCHEMA_H
#define NIGHTSHIFT_JSONSCHEMA_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* jsonschema_check: 0 if the JSON text doc is an object that has every
 * key in schema.required, each of the type schema.properties[key].type
 * names (a string or an array of them) when it names one; -1 with the
 * reason in why otherwise. A NULL schema only asks for an object. */
int jsonschema_check(const char *doc, size_t len, const cJSON *schema,
		     char *why, size_t whylen);
/* jsonschema_of_request: the schema a chat-completions body asks for
 * (response_format.json_schema.schema), borrowed from body, or NULL. */
const cJSON *jsonschema_of_request(const cJSON *body);

#endif
