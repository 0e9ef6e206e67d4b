/* jsonutil.c — cJSON readers shared by the dialects. */
#include "runner/json/jsonutil.h"

cJSON *json_parse_exact(const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	if (buf == NULL || len == 0)
		return NULL;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL)
		return NULL;
	while (end != NULL && end < buf + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != buf + len) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

int64_t json_count(const cJSON *obj, const char *key, int64_t dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
	    it->valuedouble > 1e15)
		return dflt;
	return (int64_t)it->valuedouble;
}
