/* quote.c — values in error messages (see quote.h). */
#include "util/quote.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

/* How keys begin: OpenAI, DeepSeek, DashScope, Anthropic and most
 * OpenAI-compatible services ("sk-"), Google (AIza), xAI, Groq, Hugging
 * Face, GitHub, Perplexity, NVIDIA, AWS, and an Authorization value. */
static const char *const key_starts[] = {
    "sk-",  "sk_",	   "AIza",  "xai-",   "gsk_", "hf_",
    "ghp_", "github_pat_", "pplx-", "nvapi-", "AKIA", "Bearer ",
};

static int alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

int quote_secret(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t nstarts = sizeof(key_starts) / sizeof(*key_starts);
	size_t i, j, run = 0;
	int digit = 0, letter = 0;

	for (i = 0; i < len; i++) {
		/* a key's start, at the start of a word */
		if (i == 0 || !alnum(u[i - 1]))
			for (j = 0; j < nstarts; j++) {
				size_t k = strlen(key_starts[j]);

				if (len - i >= k &&
				    memcmp(s + i, key_starts[j], k) == 0)
					return 1;
			}
		if (!alnum(u[i])) {
			run = 0;
			digit = letter = 0;
			continue;
		}
		run++;
		if (u[i] <= '9')
			digit = 1;
		else
			letter = 1;
		if (run >= 24 && digit && letter)
			return 1;
	}
	return 0;
}

const char *quote_str(char *buf, size_t n, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char out[QUOTE_LEN];
	size_t i = 0, w = 0, k;

	if (quote_secret(s, len)) {
		snprintf(buf, n,
			 "a string that looks like an API key (not shown)");
		return buf;
	}
	out[w++] = '"';
	while (i < len && i < QUOTE_SHOWN) {
		unsigned char c = u[i];
		const char *e = c == '"'    ? "\\\""
				: c == '\\' ? "\\\\"
				: c == '\n' ? "\\n"
				: c == '\r' ? "\\r"
				: c == '\t' ? "\\t"
					    : NULL;

		k = c < 0x80 ? 1 : utf8_seq(u + i, len - i);
		/* C1 controls (U+0080-U+009F, two bytes; U+009B is a CSI on
		 * some terminals) are escaped as C0's are */
		if (k == 2 && c == 0xc2 && u[i + 1] < 0xa0)
			c = u[i + 1];
		if (e) {
			memcpy(out + w, e, 2);
			w += 2;
		} else if (c < 0x20 || c == 0x7f || (k == 2 && c < 0xa0)) {
			memcpy(out + w, "\\u00", 4);
			out[w + 4] = hex[c >> 4];
			out[w + 5] = hex[c & 0xf];
			w += 6;
		} else if (k == 3 && c == 0xe2 && u[i + 1] == 0x80 &&
			   (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
			/* U+2028, U+2029: line breaks to many viewers */
			memcpy(out + w,
			       u[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			w += 6;
		} else if (k == 0) {
			memcpy(out + w, "\\ufffd", 6);
			w += 6;
			k = 1;
		} else {
			/* a sequence begun before the cut is kept whole */
			memcpy(out + w, s + i, k);
			w += k;
		}
		i += k;
	}
	out[w++] = '"';
	out[w] = '\0';
	if (i < len)
		snprintf(buf, n, "%s... (%zu bytes)", out, len);
	else
		snprintf(buf, n, "%s", out);
	return buf;
}
