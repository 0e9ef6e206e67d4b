/* task.c — a claimed job's task: made by the store's claim, freed by
 * the store once recorded. */
#include "runner/task.h"

#include <stdlib.h>

#include "queue/claim.h"
#include "util/xalloc.h"

struct task *task_new(const struct claim_job *j)
{
	struct task *t = xcalloc(1, sizeof(*t));

	t->job = *j;
	admit_state_init(&t->adm);
	outcome_init(&t->out);
	return t;
}

void task_free(struct task *t)
{
	if (!t)
		return;
	claim_job_clear(&t->job);
	outcome_clear(&t->out);
	free(t->zbody);
	free(t->detail);
	cJSON_Delete(t->schema);
	free(t);
}

void task_free_chain(struct task *t)
{
	while (t) {
		struct task *next = t->next;

		task_free(t);
		t = next;
	}
}
