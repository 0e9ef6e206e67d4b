/* test_blob.c — zstd frames and trained dictionaries: frames round-trip
 * and name their dictionary, and the dictionary trained by the stable
 * zstd API (the way after a libzstd upgrade) works as well as fastCover's.
 */
#include "queue/blob.h"
#include "qtest.h"

#define NSAMPLES BLOB_TRAIN_ROWS

/* A sample of chat.completion replies laid end to end, as the store's
 * sampler keeps them. */
struct sample {
	char *buf;
	size_t len;
	size_t sizes[NSAMPLES];
};

static void sample_make(struct sample *s)
{
	s->buf = malloc(NSAMPLES * 400);
	s->len = 0;
	for (int k = 0; k < NSAMPLES; k++) {
		s->sizes[k] = reply(s->buf + s->len, 400, k);
		s->len += s->sizes[k];
	}
}

/* frames: the bytes of replies first..first+n-1 compressed with d (NULL:
 * none), each checked to decode back to its reply and to name d. */
static size_t frames(struct blob_codec *c, const struct blob_dict *d,
		     int first, int n)
{
	size_t total = 0;

	for (int k = first; k < first + n; k++) {
		char body[400];
		size_t len = reply(body, sizeof(body), k), zlen, got;
		const void *z, *out;
		void *copy;

		assert_int_equal(blob_compress(c, d, body, len, &z, &zlen), 0);
		assert_int_equal(blob_frame_dict_id(z, zlen),
				 d ? blob_dict_id(d) : 0);
		total += zlen;
		copy = malloc(zlen);
		memcpy(copy, z, zlen);
		assert_int_equal(blob_decompress(c, d, copy, zlen, &out, &got),
				 0);
		assert_int_equal(got, len);
		assert_memory_equal(out, body, len);
		if (d)
			assert_int_equal(blob_decompress(c, NULL, copy, zlen,
							 &out, &got),
					 BLOB_ENODICT);
		free(copy);
	}
	return total;
}

/* The dictionary from the stable trainer (forced, as when the libzstd
 * loaded is not the one built against) is a different one from
 * fastCover's, survives being stored and loaded, decodes what it encodes,
 * and shrinks replies as well (within 5%) as fastCover's does. */
static void stable_trainer_dictionary_works_as_well(void **state)
{
	struct sample s;
	struct blob_codec *c = blob_codec_new();
	struct blob_dict *fast, *stable, *loaded;
	size_t flen, slen, plain, with_fast, with_stable;
	const void *fdata, *sdata;

	(void)state;
	sample_make(&s);
	fast = blob_dict_train(s.buf, s.sizes, NSAMPLES, BLOB_LEVEL_RESULT);
	blob__stable_train(1);
	stable = blob_dict_train(s.buf, s.sizes, NSAMPLES, BLOB_LEVEL_RESULT);
	blob__stable_train(0);
	assert_non_null(fast);
	assert_non_null(stable);
	fdata = blob_dict_data(fast, &flen);
	sdata = blob_dict_data(stable, &slen);
	assert_true(flen != slen || memcmp(fdata, sdata, flen) != 0);

	loaded = blob_dict_load(sdata, slen, BLOB_LEVEL_RESULT);
	assert_non_null(loaded);
	assert_int_equal(blob_dict_id(loaded), blob_dict_id(stable));
	/* replies the sample did not hold */
	plain = frames(c, NULL, NSAMPLES, 500);
	with_fast = frames(c, fast, NSAMPLES, 500);
	with_stable = frames(c, loaded, NSAMPLES, 500);
	assert_true(with_stable * 2 < plain);
	assert_true(with_stable * 100 < with_fast * 105);

	blob_dict_free(&loaded);
	blob_dict_free(&stable);
	blob_dict_free(&fast);
	assert_null(fast);
	blob_codec_free(&c);
	free(s.buf);
}

/* Too few rows, or too few bytes, train nothing: rows are then stored
 * without a dictionary. */
static void too_little_trains_no_dictionary(void **state)
{
	struct sample s;

	(void)state;
	sample_make(&s);
	assert_null(blob_dict_train(s.buf, s.sizes, BLOB_TRAIN_MIN - 1,
				    BLOB_LEVEL));
	blob__stable_train(1);
	assert_null(blob_dict_train(s.buf, s.sizes, BLOB_TRAIN_MIN - 1,
				    BLOB_LEVEL));
	blob__stable_train(0);
	assert_null(blob_dict_load("not a dictionary", 16, BLOB_LEVEL));
	free(s.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stable_trainer_dictionary_works_as_well),
		cmocka_unit_test(too_little_trains_no_dictionary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
