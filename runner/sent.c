/* sent.c — the requests sent and not yet recorded (see sent.h). */
#include "runner/sent.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "runner/task.h"

void sent_init(struct sent *s)
{
	pthread_mutex_init(&s->mu, NULL);
	s->head = NULL;
	s->version = s->written = 0;
}

void sent_destroy(struct sent *s)
{
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
	pthread_mutex_unlock(&s->mu);
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

int sent_snapshot(struct sent *s, const struct prov *provs, char **json)
{
	cJSON *arr;

	*json = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->version == s->written) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->written = s->version;
	if (!s->head) {
		pthread_mutex_unlock(&s->mu);
		return 1;
	}
	arr = cJSON_CreateArray();
	for (struct task *t = s->head; t && arr; t = t->snext) {
		const struct prov *p = &provs[t->prov];
		cJSON *e = cJSON_CreateArray();

		cJSON_AddItemToArray(e, cJSON_CreateNumber((double)t->job.id));
		cJSON_AddItemToArray(e, cJSON_CreateString(p->name));
		cJSON_AddItemToArray(e,
				     cJSON_CreateString(p->models[t->model].name));
		cJSON_AddItemToArray(e, cJSON_CreateNumber(t->adm.worst_usd));
		cJSON_AddItemToArray(arr, e);
	}
	pthread_mutex_unlock(&s->mu);
	if (arr)
		*json = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return 1;
}
