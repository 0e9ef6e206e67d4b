/* mock_batch_obj.h — the records behind the mock's batch APIs (a file, a
 * batch), the timeline a batch follows, and their JSON objects as OpenAI
 * and Anthropic show them. Pure: callers hold the lock that guards the
 * records (mock_batch.c); nothing here locks, sleeps or does I/O. */
#ifndef MOCK_BATCH_OBJ_H
#define MOCK_BATCH_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tests/mock/mock_opts.h"
#include "tests/mock/mock_reply.h"

/* How long a cancel takes to end a batch (ms): "cancelling", then
 * "cancelled" shortly after. */
#define MOCK_CANCEL_MS 50

/* An OpenAI file: an upload or a batch's output or error file. */
struct mock_file {
	char id[32];
	char *path; /* on disk; NULL once deleted and released */
	char *filename;
	char purpose[16];
	size_t bytes;
	int64_t created_s;
	bool deleted;
	int users; /* batches not yet ended that read it */
	/* What checking it as a batch input found (mock_input). */
	size_t nreq;
	char *model;
	cJSON *errors;
};

enum mock_end {
	MOCK_END_NONE,
	MOCK_END_COMPLETED,
	MOCK_END_EXPIRED,
	MOCK_END_CANCELLED,
};

/* A batch of either dialect. Times are monotonic ms unless _wall. */
struct mock_bat {
	char id[40];
	enum mock_dialect dialect;
	uint64_t salt;
	int64_t c_mono, c_wall; /* created */
	long lat;		/* from creation to its own end */
	long validate;		/* OpenAI: "validating" this long first */
	bool stuck, forced_expiry, progress;
	int64_t expire_at;
	int64_t cancel_at; /* 0: not cancelled */
	bool fail;	   /* OpenAI: fails validation (errors set) */
	cJSON *errors;	   /* errors.data */
	struct mock_file *input; /* OpenAI */
	char *req_path;		 /* Anthropic: the create body on disk */
	size_t nreq;
	char *model, *window;
	cJSON *metadata;
	/* The end: running while the worker writes results, then done. */
	bool running, done;
	enum mock_end end;
	int64_t end_at, done_wall;
	size_t n_ok, n_err, n_not_run, out_bytes;
	struct mock_file *output, *error; /* OpenAI; NULL when empty */
	char *results_path;		  /* Anthropic */
};

/* mock_batch_end_of returns when b ends as things stand (INT64_MAX:
 * never, a stuck batch nobody cancels before a far expiry) and, when how
 * is not NULL, how: its latency, its expiry or a cancel, whichever comes
 * first (a cancel overrides the latency). */
int64_t mock_batch_end_of(const struct mock_bat *b, enum mock_end *how);

/* mock_batch_nrun returns how many requests (the first ones, in input
 * order) ran before b ended the way how says: all when it completed;
 * the elapsed share of the latency when cancelled (none when stuck); when
 * it expired, --batch-partial's share or else the elapsed share. */
size_t mock_batch_nrun(const struct mock_bat *b,
		       const struct mock_batch_opts *bo, enum mock_end how);

/* Objects; each is new (cJSON_Delete). now is the monotonic time to show
 * b at; base is the results_url prefix ("http://HOST/v1"). */
cJSON *mock_batch_obj_file(const struct mock_file *f);
cJSON *mock_batch_obj_openai(const struct mock_bat *b, int64_t now);
cJSON *mock_batch_obj_anthropic(const struct mock_bat *b, int64_t now,
				const char *base);

/* mock_batch_obj_str adds member name to o: the string v, or null. */
void mock_batch_obj_str(cJSON *o, const char *name, const char *v);

/* Destructors of the records; NULL does nothing. */
void mock_batch_obj_file_free(struct mock_file *f);
void mock_batch_obj_bat_free(struct mock_bat *b);

#endif
