/* jsonschema.c — required keys and their types, nothing more: enough to
 * catch a model that ignored the schema (missing fields, a number sent as
 * a string) without a full validator. */
#include "runner/json/jsonschema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runner/json/jsonutil.h"

static int has_type(const cJSON *v, const char *type)
{
	if (strcmp(type, "string") == 0)
		return cJSON_IsString(v);
	if (strcmp(type, "number") == 0)
		return cJSON_IsNumber(v);
	if (strcmp(type, "integer") == 0)
		return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
		       floor(v->valuedouble) == v->valuedouble;
	if (strcmp(type, "boolean") == 0)
		return cJSON_IsBool(v);
	if (strcmp(type, "object") == 0)
		return cJSON_IsObject(v);
	if (strcmp(type, "array") == 0)
		return cJSON_IsArray(v);
	if (strcmp(type, "null") == 0)
		return cJSON_IsNull(v);
	return 1; /* a type we do not know: not ours to reject */
}

/* type_ok: v matches the "type" of its property schema (a string or a
 * list of strings); no type means anything goes. */
static int type_ok(const cJSON *v, const cJSON *prop)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(prop, "type");
	const cJSON *t;

	if (cJSON_IsString(type))
		return has_type(v, type->valuestring);
	if (!cJSON_IsArray(type))
		return 1;
	cJSON_ArrayForEach(t, type)
	{
		if (cJSON_IsString(t) && has_type(v, t->valuestring))
			return 1;
	}
	return 0;
}

int jsonschema_check(const char *doc, size_t len, const cJSON *schema,
		     char *why, size_t whylen)
{
	cJSON *root = json_parse_exact(doc, len);
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
	const cJSON *props =
		cJSON_GetObjectItemCaseSensitive(schema, "properties");
	const cJSON *k;
	int rc = 0;

	if (!cJSON_IsObject(root)) {
		snprintf(why, whylen, "content is not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(k, req)
	{
		const cJSON *v;

		if (!cJSON_IsString(k))
			continue;
		v = cJSON_GetObjectItemCaseSensitive(root, k->valuestring);
		if (!v) {
			snprintf(why, whylen,
				 "content lacks the required key \"%.60s\"",
				 k->valuestring);
			rc = -1;
			break;
		}
		if (!type_ok(v, cJSON_GetObjectItemCaseSensitive(
					props, k->valuestring))) {
			snprintf(why, whylen,
				 "content key \"%.60s\" has the wrong type",
				 k->valuestring);
			rc = -1;
			break;
		}
	}
	cJSON_Delete(root);
	return rc;
}

const cJSON *jsonschema_of_request(const cJSON *body)
{
	const cJSON *rf =
		cJSON_GetObjectItemCaseSensitive(body, "response_format");
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");

	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rf, "type")) ||
	    strcmp(json_str(rf, "type"), "json_schema") != 0)
		return NULL;
	return cJSON_IsObject(schema) ? schema : NULL;
}
