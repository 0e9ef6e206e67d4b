/* baseline_insert.c — baseline (a) of the ingest benchmark.
 *
 *   usage: baseline_insert JSONL DB
 *
 * The least a C program must do to store the same rows nightshift stores:
 * parse each line with cJSON, take custom_id and the body re-serialized with
 * cJSON_PrintUnformatted, compress the body with nightshift's own blob API
 * and a dictionary trained on the first BLOB_TRAIN_ROWS bodies, and insert
 * (custom_id TEXT UNIQUE, body BLOB) into a fresh SQLite file in ONE
 * transaction through one prepared statement (WAL, synchronous=FULL, as
 * nightshift).
 * No validation beyond what parsing needs, no hashing, no idempotence, no
 * batching: it is the floor nightshift's ingest is measured against. The
 * dictionary is stored too, as nightshift does, so sizes compare.
 * Prints "rows N seconds S" on stdout (wall time, open to close). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "queue/blob.h"
#include "util/xalloc.h"

/* The same cap on sampled bytes as nightshift's ingest: long lines must not
 * make the training sample grow without bound. */
#define SAMPLE_CAP (4u << 20)

struct row {
	char *id;
	char *body;
	size_t len;
};

/* The first rows, held until the dictionary is trained from them. */
struct sample {
	struct row *rows;
	unsigned n;
	size_t bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* parse_line: custom_id and unformatted body of one line, both new
 * (free / cJSON_free). Returns 0, or -1 for a line without them. */
static int parse_line(const char *line, size_t len, struct row *r)
{
	cJSON *root = cJSON_ParseWithLength(line, len);
	const cJSON *id, *body;
	int rc = -1;

	if (!root)
		goto out;
	id = cJSON_GetObjectItemCaseSensitive(root, "custom_id");
	body = cJSON_GetObjectItemCaseSensitive(root, "body");
	if (!cJSON_IsString(id) || !cJSON_IsObject(body))
		goto out;
	r->body = cJSON_PrintUnformatted(body);
	if (!r->body)
		goto out;
	r->id = xstrdup(id->valuestring);
	r->len = strlen(r->body);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static int insert(sqlite3 *db, sqlite3_stmt *ins, struct blob_codec *codec,
		  const struct blob_dict *dict, const struct row *r)
{
	const void *z;
	size_t zlen;
	int rc;

	if (blob_compress(codec, dict, r->body, r->len, &z, &zlen)) {
		fprintf(stderr, "baseline_insert: %s: cannot compress\n",
			r->id);
		return -1;
	}
	sqlite3_bind_text(ins, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 2, z, (int)zlen, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "baseline_insert: %s: %s\n", r->id,
			sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* train_and_flush: train the dictionary from the sample, store it, insert
 * the sampled rows with it and free them. *dict is new (NULL when there
 * was too little to train on: rows then go in without one). */
static int train_and_flush(sqlite3 *db, sqlite3_stmt *ins,
			   struct blob_codec *codec, struct sample *s,
			   struct blob_dict **dict)
{
	size_t *sizes = xmalloc((s->n + 1) * sizeof(*sizes));
	char *buf = xmalloc(s->bytes + 1), *p = buf;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	for (unsigned i = 0; i < s->n; i++) {
		memcpy(p, s->rows[i].body, s->rows[i].len);
		p += s->rows[i].len;
		sizes[i] = s->rows[i].len;
	}
	/* As nightshift: a sample under BLOB_TRAIN_MIN rows is not worth a
	 * dictionary. */
	*dict =
	    s->n >= BLOB_TRAIN_MIN
		? blob_dict_train(buf, sizes, s->n, BLOB_LEVEL)
		: NULL;
	if (*dict) {
		size_t dlen;
		const void *data = blob_dict_data(*dict, &dlen);

		if (sqlite3_prepare_v2(db, "INSERT INTO dicts VALUES (?1, ?2)",
				       -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(st, 1, blob_dict_id(*dict));
		sqlite3_bind_blob(st, 2, data, (int)dlen, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (insert(db, ins, codec, *dict, &s->rows[i]))
			goto out;
	rc = 0;
out:
	if (rc && sqlite3_errcode(db) != SQLITE_OK)
		fprintf(stderr, "baseline_insert: dictionary: %s\n",
			sqlite3_errmsg(db));
	sqlite3_finalize(st);
	for (unsigned i = 0; i < s->n; i++) {
		free(s->rows[i].id);
		cJSON_free(s->rows[i].body);
	}
	s->n = 0;
	s->bytes = 0;
	free(sizes);
	free(buf);
	return rc;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "baseline_insert: %s: %s\n", sql, msg ? msg : "failed");
	sqlite3_free(msg);
	return -1;
}

int main(int argc, char **argv)
{
	struct sample s = {0};
	struct blob_dict *dict = NULL;
	struct blob_codec *codec = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	FILE *in = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long long rows = 0, lineno = 0;
	int sampling = 1, rc = 1;
	double t0 = now_s();

	if (argc != 3) {
		fprintf(stderr, "usage: baseline_insert JSONL DB\n");
		return 2;
	}
	if (!(in = fopen(argv[1], "r"))) {
		perror(argv[1]);
		goto out;
	}
	if (sqlite3_open(argv[2], &db) != SQLITE_OK) {
		fprintf(stderr, "baseline_insert: %s: %s\n", argv[2],
			db ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	if (exec(db, "PRAGMA journal_mode=WAL") ||
	    exec(db, "PRAGMA synchronous=FULL") ||
	    exec(db, "CREATE TABLE jobs (custom_id TEXT UNIQUE, body BLOB)") ||
	    exec(db,
		 "CREATE TABLE dicts (id INTEGER PRIMARY KEY, data BLOB)") ||
	    exec(db, "BEGIN"))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO jobs VALUES (?1, ?2)", -1, &ins,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline_insert: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	codec = blob_codec_new();
	s.rows = xmalloc(BLOB_TRAIN_ROWS * sizeof(*s.rows));

	while ((got = getline(&line, &cap, in)) > 0) {
		struct row r;

		lineno++;
		while (got > 0 &&
		       (line[got - 1] == '\n' || line[got - 1] == '\r'))
			got--;
		if (got == 0)
			continue;
		if (parse_line(line, (size_t)got, &r)) {
			fprintf(stderr, "%s:%llu: not a job line\n", argv[1],
				lineno);
			goto out;
		}
		rows++;
		if (sampling) {
			s.rows[s.n++] = r;
			s.bytes += r.len;
			if (s.n < BLOB_TRAIN_ROWS && s.bytes < SAMPLE_CAP)
				continue;
			sampling = 0;
			if (train_and_flush(db, ins, codec, &s, &dict))
				goto out;
			continue;
		}
		if (insert(db, ins, codec, dict, &r)) {
			free(r.id);
			cJSON_free(r.body);
			goto out;
		}
		free(r.id);
		cJSON_free(r.body);
	}
	if (ferror(in)) {
		perror(argv[1]);
		goto out;
	}
	/* Fewer lines than a full sample: train on what there is, as
	 * nightshift does at commit. */
	if (sampling && train_and_flush(db, ins, codec, &s, &dict))
		goto out;
	sqlite3_finalize(ins);
	ins = NULL;
	if (exec(db, "COMMIT"))
		goto out;
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "baseline_insert: close: %s\n",
			sqlite3_errmsg(db));
		goto out;
	}
	db = NULL;
	printf("rows %llu seconds %.3f\n", rows, now_s() - t0);
	rc = 0;
out:
	for (unsigned i = 0; i < s.n; i++) {
		free(s.rows[i].id);
		cJSON_free(s.rows[i].body);
	}
	free(s.rows);
	free(line);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	blob_codec_free(&codec);
	blob_dict_free(&dict);
	if (in)
		fclose(in);
	return rc;
}
