/* test_ingest.c — queue/ingest: idempotent ingest, conflicts decided on
 * content, atomic (--strict) batches, the body dictionary, jobs prepared
 * on other threads, and multi-row batches. */
#include "queue/jobs.h"
#include "runner/ingest/jobline.h"
#include "qtest.h"

static void reingest_is_idempotent_and_conflicts_keep_queued_job(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct ingest_job a = job("a", "{\"m\":1}"), b = job("b", "{\"m\":2}");
	struct ingest_job a2 = job("a", "{\"m\":999}");
	struct ingest_job a3 = a;
	char *body;
	size_t len;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_ADDED);
	assert_int_equal(ingest_add(in, &b, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_ADDED);
	/* the same line again in the same file */
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);

	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &a2, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	/* a changed option is a different job too */
	a3.priority = 5;
	assert_int_equal(ingest_add(in, &a3, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);

	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 2);
	assert_int_equal(queue_job_body(q, "a", &body, &len), QUEUE_OK);
	assert_string_equal(body, "{\"m\":1}");
	free(body);
	assert_int_equal(queue_job_body(q, "zz", &body, &len), QUEUE_ENOENT);
	queue_close(&q);
}

static void atomic_ingest_abort_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	char id[32];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 1, &in), QUEUE_OK);
	for (int i = 0; i < 3000; i++) {
		struct ingest_job j = job(id, "{\"messages\":[1,2,3]}");

		snprintf(id, sizeof(id), "job-%d", i);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
	}
	ingest_abort(&in);
	assert_null(in);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 0);
}

/* The first rows train a dictionary; rows before and after it decode, and
 * a later ingest reuses it instead of training another. */
static void dictionary_is_trained_once_and_every_row_decodes(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	char id[32], body[400], *got;
	size_t len;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
		for (int i = 0; i < BLOB_TRAIN_ROWS + 500; i++) {
			struct ingest_job j;

			snprintf(id, sizeof(id), "r%d-%d", round, i);
			snprintf(body, sizeof(body),
				 "{\"model\":\"cheap\",\"messages\":[{\"role\":"
				 "\"user\",\"content\":\"Summarize report %d "
				 "of region %d, quarter %d, about %s.\"}]}",
				 i * 7919 % 10007, i % 13, i % 4,
				 i % 3 ? "sales" : "hiring");
			j = job(id, body);
			assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
			assert_int_equal(v, INGEST_ADDED);
		}
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
	}
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 1);
	/* every frame names the dictionary: the first rows were rewritten */
	assert_int_equal(frames_without_dict(f->path), 0);
	for (int i = 0; i < BLOB_TRAIN_ROWS + 500; i += 97) {
		snprintf(id, sizeof(id), "r0-%d", i);
		snprintf(body, sizeof(body),
			 "{\"model\":\"cheap\",\"messages\":[{\"role\":"
			 "\"user\",\"content\":\"Summarize report %d "
			 "of region %d, quarter %d, about %s.\"}]}",
			 i * 7919 % 10007, i % 13, i % 4,
			 i % 3 ? "sales" : "hiring");
		assert_int_equal(queue_job_body(q, id, &got, &len), QUEUE_OK);
		assert_string_equal(got, body);
		free(got);
	}
	queue_close(&q);
	/* a fresh connection finds the dictionary in the file */
	assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
	assert_int_equal(queue_job_body(q, "r1-7", &got, &len), QUEUE_OK);
	free(got);
	queue_close(&q);
}

/* ingest_job from a parsed line; j stays owned by the caller. */
static struct ingest_job from_line(const struct jobline *j)
{
	return (struct ingest_job){.custom_id = j->custom_id,
				   .body = j->body,
				   .body_len = j->body_len,
				   .priority = j->priority,
				   .providers = j->providers,
				   .max_cost_usd = j->max_cost_usd,
				   .est_input_tokens = j->est_input_tokens,
				   .max_output_tokens = j->max_output_tokens};
}

/* The same job pretty-printed is already queued, not a conflict: the
 * identity is the body without the spacing outside its strings. */
static void pretty_and_compact_spellings_are_one_job(void **state)
{
	static const char *const lines[] = {
		"{\"custom_id\":\"p\",\"providers\":[\"qwen\"],\"body\":{"
		"\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"Summarize:  a, b\"}],\"max_tokens\":50}}",
		"{ \"custom_id\": \"p\",  \"providers\": [ \"qwen\" ],"
		"\t\"body\": { \"model\": \"cheap\", \"messages\": [ "
		"{ \"role\": \"user\", \"content\": \"Summarize:  a, b\" }"
		" ], \"max_tokens\": 50 }\r\n}",
		/* spacing inside a string is content */
		"{\"custom_id\":\"p\",\"providers\":[\"qwen\"],\"body\":{"
		"\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"Summarize: a, b\"}],\"max_tokens\":50}}",
	};
	static const enum ingest_verdict want[] = {
		INGEST_ADDED, INGEST_DUPLICATE, INGEST_CONFLICT};
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	char err[200];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	for (size_t i = 0; i < 3; i++) {
		struct jobline j;
		struct ingest_job ij;
		enum ingest_verdict v;

		assert_int_equal(jobline_parse(lines[i], strlen(lines[i]), &j,
					       err, sizeof(err)),
				 0);
		ij = from_line(&j);
		assert_int_equal(ingest_add(in, &ij, &v), QUEUE_OK);
		assert_int_equal(v, want[i]);
		jobline_clear(&j);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 1);
}

/* A stored hash that does not match (rows from a build that hashed
 * differently) is not taken for a conflict: the stored job is compared. */
static void differing_hash_falls_back_to_content(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct ingest_job a = job("a", "{\"m\":1}"), b = job("b", "{\"m\":2}");
	struct ingest_job a_body = job("a", "{\"m\":3}"), a_opt = a, b_cost = b;

	a.providers = "[\"qwen\"]";
	a_body.providers = a.providers;
	a_opt.providers = "[\"mistral\"]";
	b.max_cost_usd = 0.5;
	b_cost.max_cost_usd = 0.25;
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(ingest_add(in, &b, &v), QUEUE_OK);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	raw_exec(f->path, "UPDATE jobs SET body_hash = body_hash + 1");

	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &b, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &a_body, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_add(in, &a_opt, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_add(in, &b_cost, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 2);
}

/* Older builds stored the body as cJSON re-printed it: "0" for 0.0. With
 * a JSON comparison the line as written is the same job; without, only
 * the bytes count. */
static void legacy_spelling_is_the_same_job_given_a_comparison(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct ingest_job old = job("t", "{\"model\":\"m\",\"temperature\":0}");
	struct ingest_job now =
		job("t", "{\"model\":\"m\",\"temperature\":0.0}");
	struct ingest_job changed =
		job("t", "{\"model\":\"m\",\"temperature\":0.5}");

	old.providers = "[\"qwen\"]";
	now.providers = "[ \"qw\\u0065n\" ]";
	changed.providers = old.providers;
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &old, &v), QUEUE_OK);
	assert_int_equal(ingest_add(in, &now, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	ingest_set_same_json(in, jobline_same_json);
	assert_int_equal(ingest_add(in, &now, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &changed, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	queue_close(&q);
}

static void varied_body(char *buf, size_t cap, int i)
{
	snprintf(buf, cap,
		 "{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"Summarize report %d of region %d, quarter %d, "
		 "about %s.\"}]}",
		 i * 7919 % 10007, i % 13, i % 4, i % 3 ? "sales" : "hiring");
}

/* Jobs hashed and compressed ahead (on other threads) are stored as
 * prepared when made with the dictionary the queue wants, and compressed
 * again when not; the hash is the same either way. */
static void prepared_jobs_follow_the_current_dictionary(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	struct blob_codec *c = blob_codec_new();
	enum ingest_verdict v;
	const struct blob_dict *d;
	char id[32], body[400], sql[128];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	/* no dictionary yet: rows are sampled, encoders must use none */
	assert_null(ingest_body_dict(in));
	for (int i = 0; i < BLOB_TRAIN_ROWS + 10; i++) {
		struct ingest_job j;

		snprintf(id, sizeof(id), "t-%d", i);
		varied_body(body, sizeof(body), i);
		j = job(id, body);
		assert_int_equal(ingest_encode(c, NULL, &j), QUEUE_OK);
		assert_null(j.blob_dict);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		assert_int_equal(v, INGEST_ADDED);
	}
	/* the sample trained one: the last rows, prepared without it, were
	 * compressed again */
	d = ingest_body_dict(in);
	assert_non_null(d);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	assert_int_equal(frames_without_dict(f->path), 0);

	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_ptr_equal(ingest_body_dict(in), d);
	for (int i = 0; i < 2; i++) {
		struct ingest_job j;
		size_t zlen;

		snprintf(id, sizeof(id), "u-%d", i);
		varied_body(body, sizeof(body), 5000 + i);
		j = job(id, body);
		assert_int_equal(ingest_encode(c, i ? d : NULL, &j), QUEUE_OK);
		zlen = j.blob_len;
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		assert_int_equal(v, INGEST_ADDED);
		snprintf(sql, sizeof(sql),
			 "SELECT body_hash = %lld AND (length(request) = %zu) "
			 "= %d FROM jobs WHERE custom_id = '%s'",
			 (long long)j.hash, zlen, i, id);
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
		assert_int_equal(raw_int(f->path, sql), 1);
		assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
		/* the same job unprepared: same hash, so a duplicate */
		j = job(id, body);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		assert_int_equal(v, INGEST_DUPLICATE);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	assert_int_equal(frames_without_dict(f->path), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 1);
	blob_codec_free(&c);
	queue_close(&q);
}

/* A list of jobs with every kind of verdict, some within reach of one
 * statement: new, already queued, changed, and the same custom_id twice
 * in a row with the same or another body. */
#define MIXED (BLOB_TRAIN_ROWS + 400)

static void mixed_job(int i, char *id, size_t idcap, char *body,
		      size_t bodycap)
{
	int k = i, b = i;

	if (i >= BLOB_TRAIN_ROWS + 100) {
		switch (i % 7) {
		case 0: /* an early job again */
			k = b = i - 2000;
			break;
		case 2: /* the line before again */
			k = b = i - 1;
			break;
		case 3: /* the line two before, changed */
			k = i - 2;
			b = i + 100000;
			break;
		case 5: /* the line before, changed */
			k = i - 1;
			b = i + 100000;
			break;
		case 6: /* an early job, changed */
			k = i - 200;
			b = i + 100000;
			break;
		}
	}
	snprintf(id, idcap, "m-%d", k);
	varied_body(body, bodycap, b);
}

/* ingest_add_batch gives each job the verdict ingest_add would, and leaves
 * the same rows, the first time and on a re-ingest. */
static void batch_verdicts_match_one_at_a_time(void **state)
{
	struct fx *f = *state;
	static char ids[MIXED][32], bodies[MIXED][400];
	static struct ingest_job jobs[MIXED];
	static const struct ingest_job *ptrs[MIXED];
	static enum ingest_verdict one[MIXED], many[MIXED];
	static const size_t cuts[] = {1, 300, 33, 31, 32, 64, 1000, 7, 256};
	char other[128], sql[64];
	int counts[3] = {0};

	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	for (int i = 0; i < MIXED; i++) {
		mixed_job(i, ids[i], sizeof(ids[i]), bodies[i],
			  sizeof(bodies[i]));
		jobs[i] = job(ids[i], bodies[i]);
		ptrs[i] = &jobs[i];
	}
	for (int round = 0; round < 2; round++) {
		struct queue *q1, *q2;
		struct ingest *in;
		size_t at = 0, failed;

		assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q1,
					    NULL, 0),
				 QUEUE_OK);
		assert_int_equal(queue_open(other, QUEUE_OPEN_CREATE, &q2,
					    NULL, 0),
				 QUEUE_OK);
		assert_int_equal(ingest_begin(q1, 0, &in), QUEUE_OK);
		for (int i = 0; i < MIXED; i++)
			assert_int_equal(ingest_add(in, &jobs[i], &one[i]),
					 QUEUE_OK);
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
		assert_int_equal(ingest_begin(q2, 0, &in), QUEUE_OK);
		for (size_t c = 0; at < MIXED; c++) {
			size_t n = cuts[c % 9] < MIXED - at ? cuts[c % 9]
							    : MIXED - at;

			assert_int_equal(ingest_add_batch(in, ptrs + at, n,
							  many + at, &failed),
					 QUEUE_OK);
			assert_int_equal(failed, n);
			at += n;
		}
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
		for (int i = 0; i < MIXED; i++) {
			if (one[i] != many[i])
				fail_msg("round %d, job %d (%s): %d one at a "
					 "time, %d in a batch",
					 round, i, ids[i], one[i], many[i]);
			counts[one[i]]++;
		}
		queue_close(&q1);
		queue_close(&q2);
	}
	/* every kind of verdict was exercised */
	assert_true(counts[INGEST_ADDED] > BLOB_TRAIN_ROWS);
	assert_true(counts[INGEST_DUPLICATE] > 100);
	assert_true(counts[INGEST_CONFLICT] > 50);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs");
	assert_int_equal(raw_int(f->path, sql), raw_int(other, sql));
	snprintf(sql, sizeof(sql),
		 "SELECT sum(body_hash %% 1000003 + id) FROM jobs");
	assert_int_equal(raw_int(f->path, sql), raw_int(other, sql));
	assert_int_equal(frames_without_dict(other), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(reingest_is_idempotent_and_conflicts_keep_queued_job),
		T(atomic_ingest_abort_leaves_nothing),
		T(dictionary_is_trained_once_and_every_row_decodes),
		T(pretty_and_compact_spellings_are_one_job),
		T(differing_hash_falls_back_to_content),
		T(legacy_spelling_is_the_same_job_given_a_comparison),
		T(prepared_jobs_follow_the_current_dictionary),
		T(batch_verdicts_match_one_at_a_time),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
