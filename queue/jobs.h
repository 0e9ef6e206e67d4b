/* jobs.h — reading queued jobs back. Not thread-safe (uses the
 * connection). */
#ifndef NIGHTSHIFT_JOBS_H
#define NIGHTSHIFT_JOBS_H

#include <stddef.h>

struct queue;

/* queue_job_body: the stored body JSON of the job custom_id; *body is new
 * (free()), NUL-terminated. QUEUE_ENOENT if there is no such job,
 * QUEUE_EINVAL if its blob cannot be decoded. */
int queue_job_body(struct queue *q, const char *custom_id, char **body,
		   size_t *len);

#endif
