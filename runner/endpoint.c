/* endpoint.c — per-provider URLs, headers and request building (see
 * endpoint.h). */
#include "runner/endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/claim.h"
#include "runner/providers/auth.h"
#include "runner/providers/cost.h"
#include "runner/providers/dialect_anthropic.h"
#include "runner/providers/dialect_json.h"
#include "runner/providers/dialect_openai_request.h"
#include "util/xalloc.h"

struct endpoints {
	const struct prov *provs;
	size_t n;
	char **urls;
	/* Handed a CURLU, libcurl copies it instead of parsing the string
	 * again for every request (11k instructions a job, 5% of the run
	 * loop's). */
	CURLU **curlu;
	struct curl_slist **hdrs;
	struct dialect_openai_quirks *quirks;
};

struct endpoints *endpoints_new(const struct prov *provs, size_t n,
				char *const *keys)
{
	struct endpoints *e = xcalloc(1, sizeof(*e));

	e->provs = provs;
	e->n = n;
	e->urls = xcalloc(n ? n : 1, sizeof(*e->urls));
	e->curlu = xcalloc(n ? n : 1, sizeof(*e->curlu));
	e->hdrs = xcalloc(n ? n : 1, sizeof(*e->hdrs));
	e->quirks = xcalloc(n ? n : 1, sizeof(*e->quirks));
	for (size_t i = 0; i < n; i++) {
		const struct prov *p = &provs[i];
		const char *path = p->dialect == PROV_ANTHROPIC
					   ? "/v1/messages"
					   : "/chat/completions";
		size_t len = strlen(p->base_url) + strlen(path) + 1;

		e->urls[i] = xmalloc(len);
		snprintf(e->urls[i], len, "%s%s", p->base_url, path);
		if (!(e->curlu[i] = curl_url()))
			abort(); /* only fails on OOM; see xalloc.h */
		if (curl_url_set(e->curlu[i], CURLUPART_URL, e->urls[i], 0)) {
			curl_url_cleanup(e->curlu[i]);
			e->curlu[i] = NULL;
		}
		e->hdrs[i] = auth_headers(p, keys[i], 1);
		e->quirks[i].drop_params = p->quirks.drop_params;
		e->quirks[i].ndrop = p->quirks.ndrop;
		e->quirks[i].thinking_off = p->quirks.disable_thinking;
		e->quirks[i].json_mode = p->quirks.json_mode_prompt
						 ? DIALECT_JSON_PROMPT
					 : p->quirks.needs_json_word
						 ? DIALECT_JSON_ENSURE_WORD
						 : DIALECT_JSON_NATIVE;
	}
	return e;
}

void endpoints_free(struct endpoints **ep)
{
	struct endpoints *e;

	if (!ep || !*ep)
		return;
	e = *ep;
	for (size_t i = 0; i < e->n; i++) {
		free(e->urls[i]);
		curl_url_cleanup(e->curlu[i]);
		auth_headers_free(e->hdrs[i]); /* the list holds the key */
	}
	free(e->urls);
	free(e->curlu);
	free(e->hdrs);
	free(e->quirks);
	free(e);
	*ep = NULL;
}

const char *endpoint_url(const struct endpoints *e, int prov,
			 CURLU **parsed)
{
	*parsed = e->curlu[prov];
	return e->urls[prov];
}

struct curl_slist *endpoint_headers(const struct endpoints *e, int prov,
				    const char *custom_id,
				    struct curl_slist *node, char *line,
				    size_t cap)
{
	size_t n = strlen(custom_id);
	int printable = n <= 200 && n + 25 < cap;

	for (size_t i = 0; i < n && printable; i++)
		printable = custom_id[i] > 0x20 && custom_id[i] < 0x7f;
	if (!printable)
		return e->hdrs[prov];
	snprintf(line, cap, "X-Client-Request-Id: %s", custom_id);
	node->data = line;
	node->next = e->hdrs[prov];
	return node;
}

char *endpoint_request(const struct endpoints *e, struct route_cand c,
		       const struct claim_job *j, const struct jsonidx *x,
		       size_t end, unsigned *flags, const char **why)
{
	const struct prov *p = &e->provs[c.prov];
	const struct prov_model *m = &p->models[c.model];
	char *req;

	if (p->dialect == PROV_ANTHROPIC) {
		req = dialect_anthropic_request(
			j->body, j->body_len, m->name,
			cost_output_bound(PROV_ANTHROPIC, m, 0),
			flags);
		*why = "the job cannot be expressed in the Messages API "
		       "(tools, n > 1 or audio)";
	} else {
		req = dialect_openai_request_indexed(j->body, j->body_len, x,
						     end, m->name,
						     &e->quirks[c.prov], flags);
		*why = "body is not a JSON object";
	}
	return req;
}

long endpoint_timeout_ms(const struct prov *p, const struct claim_job *j)
{
	/* Long prompts are the ones that time out: the total time allowed
	 * grows with the request, 1 s per 1,000 estimated input tokens and
	 * 1 s per 100 requested output tokens, up to 4x the base. */
	long ms = (long)p->timeout_s * 1000 +
		  (long)(j->est_input_tokens + j->max_output_tokens * 10);

	return ms > (long)p->timeout_s * 4000 ? (long)p->timeout_s * 4000 : ms;
}
