/* result_bytes.c — how much smaller results are stored than their JSON.
 *
 *   usage: result_bytes DB [EXPORT.jsonl|-]
 *
 * Reads a nightshift database after a run and prints, on stdout:
 *   "db results N stored_bytes S json_bytes J dict_bytes D undecodable U"
 * where S is the sum of the stored result frames (what
 * `SELECT sum(length(body)) FROM results` says), J the sum of the same
 * bodies decoded (the provider's reply as received), D the size of the
 * result dictionaries kept in the database, and U the frames that did not
 * decode (they count toward S only). The frames are decoded with
 * nightshift's own blob API and the dictionaries the database holds, so a
 * body that does not round-trip shows up here rather than as a good ratio.
 *
 * With EXPORT (the output of `nightshift export`, one result line each),
 * it also prints
 *   "export lines L bodies B json_bytes J"
 * where J sums each line's response.body printed as compact JSON: the
 * user-visible size of the same results, independent of the database.
 * Exits 0, 1 if a file could not be read, 2 on bad usage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "queue/blob.h"
#include "util/xalloc.h"

/* An export line is one result; anything longer than this is not ours. */
#define LINE_CAP (64u << 20)

struct dicts {
	struct blob_dict **d;
	unsigned *id;
	size_t n;
	int64_t bytes; /* of the result dictionaries */
};

static void dicts_free(struct dicts *ds)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		blob_dict_free(&ds->d[i]);
	free(ds->d);
	free(ds->id);
}

static const struct blob_dict *dict_find(const struct dicts *ds, unsigned id)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		if (ds->id[i] == id)
			return ds->d[i];
	return NULL;
}

/* load_dicts: every dictionary in the database (a frame names its own, so
 * the kind does not matter for decoding; only result ones are counted). */
static int load_dicts(sqlite3 *db, struct dicts *ds)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db, "SELECT kind, data FROM dicts", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const void *data = sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		struct blob_dict *d;

		if (kind && strcmp(kind, "result") == 0)
			ds->bytes += len;
		d = data ? blob_dict_load(data, (size_t)len, BLOB_LEVEL_RESULT)
			 : NULL;
		if (!d)
			continue;
		ds->d = xrealloc(ds->d, (ds->n + 1) * sizeof(*ds->d));
		ds->id = xrealloc(ds->id, (ds->n + 1) * sizeof(*ds->id));
		ds->d[ds->n] = d;
		ds->id[ds->n] = blob_dict_id(d);
		ds->n++;
	}
	rc = step == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	return rc;
}

static int scan_db(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct blob_codec *codec = blob_codec_new();
	struct dicts ds = {0};
	int64_t rows = 0, stored = 0, json = 0, bad = 0;
	int rc = 1, step;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		SQLITE_OK ||
	    load_dicts(db, &ds) != 0 ||
	    sqlite3_prepare_v2(
		db, "SELECT body FROM results WHERE body IS NOT NULL", -1, &st,
		NULL) != SQLITE_OK) {
		fprintf(stderr, "result_bytes: %s: %s\n", path,
			db ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const void *z = sqlite3_column_blob(st, 0);
		size_t zlen = (size_t)sqlite3_column_bytes(st, 0);
		const struct blob_dict *d = NULL;
		const void *raw;
		size_t rawlen;
		unsigned id;

		rows++;
		stored += (int64_t)zlen;
		id = z ? blob_frame_dict_id(z, zlen) : 0;
		if (id != 0)
			d = dict_find(&ds, id);
		if (!z || (id != 0 && !d) ||
		    blob_decompress(codec, d, z, zlen, &raw, &rawlen) != 0) {
			bad++;
			continue;
		}
		json += (int64_t)rawlen;
	}
	if (step != SQLITE_DONE) {
		fprintf(stderr, "result_bytes: %s: %s\n", path,
			sqlite3_errmsg(db));
		goto out;
	}
	printf("db results %lld stored_bytes %lld json_bytes %lld dict_bytes "
	       "%lld undecodable %lld\n",
	       (long long)rows, (long long)stored, (long long)json,
	       (long long)ds.bytes, (long long)bad);
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	dicts_free(&ds);
	blob_codec_free(&codec);
	return rc;
}

static int scan_export(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t lines = 0, bodies = 0, json = 0;
	int rc = 1;

	if (!f) {
		perror(path);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		cJSON *root, *resp, *body;
		char *s;

		if ((size_t)len > LINE_CAP)
			continue;
		lines++;
		root = cJSON_ParseWithLength(line, (size_t)len);
		resp = cJSON_GetObjectItemCaseSensitive(root, "response");
		body = cJSON_GetObjectItemCaseSensitive(resp, "body");
		if (cJSON_IsString(body)) {
			/* A reply that was not JSON is exported as text. */
			bodies++;
			json += (int64_t)strlen(body->valuestring);
		} else if (body && !cJSON_IsNull(body)) {
			s = cJSON_PrintUnformatted(body);
			if (s) {
				bodies++;
				json += (int64_t)strlen(s);
				cJSON_free(s);
			}
		}
		cJSON_Delete(root);
	}
	if (ferror(f)) {
		perror(path);
		goto out;
	}
	printf("export lines %lld bodies %lld json_bytes %lld\n",
	       (long long)lines, (long long)bodies, (long long)json);
	rc = 0;
out:
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: result_bytes DB [EXPORT.jsonl|-]\n");
		return 2;
	}
	rc = scan_db(argv[1]);
	if (argc == 3 && scan_export(argv[2]) != 0)
		rc = 1;
	return rc;
}
