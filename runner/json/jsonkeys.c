/* jsonkeys.c — questions about an indexed JSON text that its parse does
 * not answer: whether an object holds a key twice, and whether a text the
 * parse stopped in was simply nested too deep. Ingest asks them of every
 * job line, so that a refusal names the key or the nesting rather than
 * only "not valid JSON". */
#include "runner/json/jsonkeys.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* A key as text to compare: the raw slice between the quotes when it has
 * no escapes, else its decoded copy (owned). */
struct key {
	const char *p;
	size_t n;
	char *owned;
	size_t tok;
};

static void key_of(const struct jsonidx *x, const char *s, size_t tok,
		   struct key *k)
{
	const struct jsonidx_tok *t = &x->t[tok];

	k->tok = tok;
	k->owned = NULL;
	if (!t->esc) {
		k->p = s + t->start + 1;
		k->n = t->end - t->start - 2;
		return;
	}
	k->owned = xmalloc(t->n + 1);
	jsonidx_decode(x, s, tok, k->owned, t->n + 1);
	k->p = k->owned;
	k->n = t->n;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

size_t jsonkeys_dup(const struct jsonidx *x, const char *s, size_t obj)
{
	struct key small[16], *k = small;
	size_t m = x->t[obj].n, i = 0, dup = 0;

	if (m < 2)
		return 0;
	if (m > sizeof(small) / sizeof(small[0]))
		k = xmalloc(m * sizeof(*k));
	for (size_t t = jsonidx_first(x, obj); t && i < m; t = x->t[t].next)
		key_of(x, s, t, &k[i++]);
	m = i;
	if (m <= sizeof(small) / sizeof(small[0])) {
		for (i = 1; i < m && !dup; i++)
			for (size_t j = 0; j < i && !dup; j++)
				if (key_cmp(&k[i], &k[j]) == 0)
					dup = k[i].tok;
	} else {
		qsort(k, m, sizeof(*k), key_cmp);
		for (i = 1; i < m && !dup; i++)
			if (key_cmp(&k[i], &k[i - 1]) == 0)
				dup = k[i].tok > k[i - 1].tok ? k[i].tok
							      : k[i - 1].tok;
	}
	for (i = 0; i < m; i++)
		free(k[i].owned);
	if (k != small)
		free(k);
	return dup;
}

int jsonkeys_too_deep(const char *s, size_t end)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < end; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == '[' || s[i] == '{') {
			depth++;
		} else if (s[i] == ']' || s[i] == '}') {
			depth--;
		}
	}
	return depth >= JSONIDX_MAX_DEPTH;
}
