/* dialect_json.c — JSON mode asked for and checked (see dialect_json.h).
 *
 * The instruction is plain and names the schema when there is one; the
 * check is cJSON's reading of the text (json_parse_exact), so that a
 * reply accepted here is one the exporter and the schema check read the
 * same way. */
#define _GNU_SOURCE /* strcasestr */
#include "runner/providers/dialect_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonutil.h"
#include "util/xalloc.h"

const cJSON *dialect_json_format(const cJSON *root)
{
	const cJSON *rf =
	    cJSON_GetObjectItemCaseSensitive(root, "response_format");
	const char *type = json_str(rf, "type");

	if (type == NULL || (strcmp(type, "json_object") != 0 &&
			     strcmp(type, "json_schema") != 0))
		return NULL;
	return rf;
}

char *dialect_json_instruction(const cJSON *format)
{
	static const char plain[] =
	    "Respond with a single valid JSON object and nothing else: "
	    "no prose, no code fences.";
	const cJSON *js =
	    cJSON_GetObjectItemCaseSensitive(format, "json_schema");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
	char *text, *out;
	size_t n;

	if (!cJSON_IsObject(schema) ||
	    (text = cJSON_PrintUnformatted(schema)) == NULL)
		return xstrdup(plain);
	n = sizeof(plain) + strlen(text) + 64;
	out = xmalloc(n);
	snprintf(out, n, "%s It must conform to this JSON Schema: %s", plain,
		 text);
	free(text);
	return out;
}

/* mentions_json: whether any message's text says "json", in any case (the
 * C locale's, which nightshift never changes). */
static int mentions_json(const cJSON *messages)
{
	const cJSON *m, *part;

	cJSON_ArrayForEach(m, messages)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
		const char *text;

		if (cJSON_IsString(c) && strcasestr(c->valuestring, "json"))
			return 1;
		if (!cJSON_IsArray(c))
			continue;
		cJSON_ArrayForEach(part, c)
		{
			if ((text = json_str(part, "text")) &&
			    strcasestr(text, "json"))
				return 1;
		}
	}
	return 0;
}

/* add_instruction: text joins the leading system (or developer) message,
 * or a new system message is put first. */
static void add_instruction(cJSON *messages, const char *text)
{
	cJSON *first = cJSON_GetArrayItem(messages, 0);
	const char *role = json_str(first, "role");
	cJSON *content = cJSON_GetObjectItemCaseSensitive(first, "content");
	cJSON *sys;

	if (role &&
	    (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)) {
		if (cJSON_IsString(content)) {
			size_t n =
			    strlen(content->valuestring) + strlen(text) + 3;
			char *joined = xmalloc(n);

			snprintf(joined, n, "%s\n\n%s", content->valuestring,
				 text);
			cJSON_ReplaceItemInObjectCaseSensitive(
			    first, "content", cJSON_CreateString(joined));
			free(joined);
			return;
		}
		if (cJSON_IsArray(content)) {
			cJSON *part = cJSON_CreateObject();

			cJSON_AddStringToObject(part, "type", "text");
			cJSON_AddStringToObject(part, "text", text);
			cJSON_AddItemToArray(content, part);
			return;
		}
	}
	sys = cJSON_CreateObject();
	cJSON_AddStringToObject(sys, "role", "system");
	cJSON_AddStringToObject(sys, "content", text);
	cJSON_InsertItemInArray(messages, 0, sys);
}

unsigned dialect_json_apply(cJSON *root, enum dialect_json_mode mode)
{
	const cJSON *rf = dialect_json_format(root);
	cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
	char *instr;

	if (rf == NULL)
		return 0;
	if (!cJSON_IsArray(messages) || mode == DIALECT_JSON_NATIVE)
		return DIALECT_EXPECT_JSON;
	if (mode == DIALECT_JSON_ENSURE_WORD && mentions_json(messages))
		return DIALECT_EXPECT_JSON;
	instr = dialect_json_instruction(rf);
	add_instruction(messages, instr);
	free(instr);
	if (mode == DIALECT_JSON_PROMPT)
		cJSON_DeleteItemFromObjectCaseSensitive(root,
							"response_format");
	return DIALECT_EXPECT_JSON;
}

/* unfence: if s is a ``` fenced block, sets [*b, *e) to its inside. */
static int unfence(const char *s, const char **b, const char **e)
{
	const char *start = s, *end = s + strlen(s), *nl;

	while (*start == ' ' || *start == '\t' || *start == '\r' ||
	       *start == '\n')
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
			       end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end - start < 6 || strncmp(start, "```", 3) != 0 ||
	    strncmp(end - 3, "```", 3) != 0)
		return 0;
	nl = memchr(start, '\n', (size_t)(end - start));
	if (nl == NULL || nl >= end - 3)
		return 0;
	*b = nl + 1;
	*e = end - 3;
	return 1;
}

/* is_object: whether s[0..n) is exactly one JSON object to cJSON. */
static int is_object(const char *s, size_t n)
{
	cJSON *doc = json_parse_exact(s, n);
	int ok = cJSON_IsObject(doc);

	cJSON_Delete(doc);
	return ok;
}

int dialect_json_text_ok(const char *text, char **unwrapped)
{
	const char *b, *e;

	*unwrapped = NULL;
	if (text == NULL)
		return 0;
	if (is_object(text, strlen(text)))
		return 1;
	if (!unfence(text, &b, &e) || !is_object(b, (size_t)(e - b)))
		return 0;
	*unwrapped = xstrndup(b, (size_t)(e - b));
	return 1;
}

int dialect_json_check_content(cJSON *message, int *changed)
{
	cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
	char *inner;

	*changed = 0;
	if (!cJSON_IsString(content) ||
	    !dialect_json_text_ok(content->valuestring, &inner))
		return 0;
	if (inner) {
		cJSON_ReplaceItemInObjectCaseSensitive(
		    message, "content", cJSON_CreateString(inner));
		free(inner);
		*changed = 1;
	}
	return 1;
}
