/* sent.c — the requests sent and not yet recorded (see sent.h).
 *
 * The snapshot is written by hand into a reused buffer, with the names
 * quoted once at the start: it is taken at every group commit, and
 * building it with cJSON (a tree, then %1.15g and a scanf round trip per
 * number) cost 9,000 instructions a request, 16% of a run's. */
#include "runner/sent.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "runner/task.h"
#include "util/xalloc.h"

/* quoted: name as a JSON string (new). */
static char *quoted(const char *name)
{
	cJSON *s = cJSON_CreateString(name);
	char *q = s ? cJSON_PrintUnformatted(s) : NULL;
	char *out = xstrdup(q ? q : "\"\"");

	cJSON_free(q);
	cJSON_Delete(s);
	return out;
}

void sent_init(struct sent *s, const struct prov *provs, size_t nprovs)
{
	pthread_mutex_init(&s->mu, NULL);
	s->head = NULL;
	s->version = s->written = 0;
	s->added = 0;
	s->nprovs = nprovs;
	s->qprov = xcalloc(nprovs ? nprovs : 1, sizeof(*s->qprov));
	s->qmodel = xcalloc(nprovs ? nprovs : 1, sizeof(*s->qmodel));
	for (size_t i = 0; i < nprovs; i++) {
		s->qprov[i] = quoted(provs[i].name);
		s->qmodel[i] = xcalloc(provs[i].nmodels ? provs[i].nmodels : 1,
				       sizeof(**s->qmodel));
		for (size_t m = 0; m < provs[i].nmodels; m++)
			s->qmodel[i][m] = quoted(provs[i].models[m].name);
	}
	s->nmodels = xcalloc(nprovs ? nprovs : 1, sizeof(*s->nmodels));
	for (size_t i = 0; i < nprovs; i++)
		s->nmodels[i] = provs[i].nmodels;
	s->out = (struct buf)BUF_INIT(SIZE_MAX);
}

void sent_destroy(struct sent *s)
{
	for (size_t i = 0; i < s->nprovs; i++) {
		for (size_t m = 0; m < s->nmodels[i]; m++)
			free(s->qmodel[i][m]);
		free(s->qmodel[i]);
		free(s->qprov[i]);
	}
	free(s->qmodel);
	free(s->qprov);
	free(s->nmodels);
	buf_free(&s->out);
	pthread_mutex_destroy(&s->mu);
}

void sent_add(struct sent *s, struct task *t)
{
	pthread_mutex_lock(&s->mu);
	t->sprev = NULL;
	t->snext = s->head;
	if (s->head)
		s->head->sprev = t;
	s->head = t;
	t->in_sent = 1;
	s->version++;
	s->added++;
	pthread_mutex_unlock(&s->mu);
}

unsigned long long sent_added(struct sent *s)
{
	unsigned long long n;

	pthread_mutex_lock(&s->mu);
	n = s->added;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void sent_remove(struct sent *s, struct task *t)
{
	pthread_mutex_lock(&s->mu);
	if (t->in_sent) {
		if (t->sprev)
			t->sprev->snext = t->snext;
		else
			s->head = t->snext;
		if (t->snext)
			t->snext->sprev = t->sprev;
		t->sprev = t->snext = NULL;
		t->in_sent = 0;
		s->version++;
	}
	pthread_mutex_unlock(&s->mu);
}

/* add_int: v in decimal. */
static void add_int(struct buf *b, long long v)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v
				     : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(d + sizeof(d) - p));
}

/* nano: usd in nano-dollars, saturating (a worst case is finite, >= 0). */
static long long nano(double usd)
{
	if (!(usd > 0))
		return 0;
	if (usd >= 9e9)
		return INT64_MAX;
	return (long long)(usd * 1e9 + 0.5);
}

int sent_snapshot(struct sent *s, const char **json)
{
	*json = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->version == s->written) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->written = s->version;
	buf_reset(&s->out, 1u << 20);
	for (struct task *t = s->head; t; t = t->snext) {
		if ((size_t)t->prov >= s->nprovs ||
		    (size_t)t->model >= s->nmodels[t->prov])
			continue;
		buf_addstr(&s->out, s->out.len ? ",[" : "[[");
		add_int(&s->out, t->job.id);
		buf_add(&s->out, ",", 1);
		buf_addstr(&s->out, s->qprov[t->prov]);
		buf_add(&s->out, ",", 1);
		buf_addstr(&s->out, s->qmodel[t->prov][t->model]);
		buf_add(&s->out, ",", 1);
		add_int(&s->out, nano(t->adm.worst_usd));
		buf_add(&s->out, "]", 1);
	}
	pthread_mutex_unlock(&s->mu);
	if (s->out.len) {
		buf_add(&s->out, "]", 1);
		*json = s->out.p;
	}
	return 1;
}
