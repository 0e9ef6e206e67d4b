/* blob.h — zstd frames for request and result bodies, with trained dictionaries.
 *
 * Per-row zstd shrinks a 600-byte JSON body only ~1.4x because each frame
 * starts from nothing; a dictionary trained on a sample of the first rows
 * and kept in the database gives ~2.6x at the same speed. Frames carry the
 * zstd dictionary id, so rows written before and after a dictionary existed
 * (or with different dictionaries) all decode.
 *
 * A blob_dict is immutable after creation and may be shared by threads; a
 * blob_codec is per thread. */
#ifndef NIGHTSHIFT_BLOB_H
#define NIGHTSHIFT_BLOB_H

#include <stddef.h>

/* How many first rows are sampled to train a dictionary, and the fewest
 * worth training on (below it, rows are stored without a dictionary). */
#define BLOB_TRAIN_ROWS 2000
#define BLOB_TRAIN_MIN 200
/* Compression level of job bodies. Compressing is two fifths of ingest's
 * CPU; with the trained dictionary, level 1 takes 11% less CPU than zstd's
 * default 3 for 3% more bytes (300,000 generated lines: the database is
 * 0.432 of the JSONL instead of 0.418), and higher levels cost more still
 * for a few percent of size on rows this small. */
#define BLOB_LEVEL 1
/* Results are compressed on the run's hot path, by workers whose caches
 * libcurl and SQLite keep cold: level 3's dictionary tables (430 KB) miss
 * on every lookup there, level 1's (80 KB) far less, for 2 us less per
 * reply and 5% more bytes (4.46x -> 4.25x on chat.completion replies). */
#define BLOB_LEVEL_RESULT 1
/* Hard cap on a decompressed blob: a corrupt size field must not make us
 * allocate gigabytes. */
#define BLOB_MAX_SIZE (256u << 20)

enum {
	BLOB_EINVAL = -1,  /* not a zstd frame, or corrupt */
	BLOB_ENODICT = -2, /* frame needs a dictionary we do not have */
	BLOB_ETOOBIG = -3, /* over BLOB_MAX_SIZE */
};

struct blob_dict;
struct blob_codec;

/* Dictionaries */
/* blob_dict_train: train from n samples laid end to end in buf (sizes[i]
 * bytes each), for compressing at level. Returns a new dictionary, or
 * NULL when there is too little to train on. Free with blob_dict_free.
 * Trains with zstd's fastCover when the libzstd loaded is the version
 * nightshift was built with, else (after a library upgrade) with the
 * stable, slower ZDICT_trainFromBuffer: same ratios within about 1%. */
struct blob_dict *blob_dict_train(const void *buf, const size_t *sizes,
				  unsigned n, int level);
/* blob_dict_load: a dictionary from its stored bytes (copied), compressing
 * at level. NULL if the bytes are not a zstd dictionary. */
struct blob_dict *blob_dict_load(const void *data, size_t len, int level);
/* blob_level_of: the level for a kind of blob ("body" or "result"). */
int blob_level_of(const char *kind);
/* blob_dict_id: the zstd dictionary id carried by frames made with it. */
unsigned blob_dict_id(const struct blob_dict *d);
/* blob_dict_data: the bytes to store (borrowed from d). */
const void *blob_dict_data(const struct blob_dict *d, size_t *len);
void blob_dict_free(struct blob_dict **d);

/* Codecs */
struct blob_codec *blob_codec_new(void);
void blob_codec_free(struct blob_codec **c);
/* blob_compress: compress src with dictionary d (NULL = none). *out points
 * into the codec's buffer, valid until the codec's next call. */
int blob_compress(struct blob_codec *c, const struct blob_dict *d,
		  const void *src, size_t n, const void **out,
		  size_t *out_len);
/* blob_frame_dict_id: the dictionary id a frame needs (0 = none). */
unsigned blob_frame_dict_id(const void *src, size_t n);
/* blob_decompress: decode a frame; d must be the dictionary whose id the
 * frame names (NULL when it names none). *out is NUL-terminated and points
 * into the codec's buffer, valid until the codec's next call. */
int blob_decompress(struct blob_codec *c, const struct blob_dict *d,
		    const void *src, size_t n, const void **out,
		    size_t *out_len);

#ifdef NIGHTSHIFT_TEST
/* blob__stable_train: with on set, train as if the libzstd loaded were
 * not the one built against (the stable API only). Not thread-safe. */
void blob__stable_train(int on);
#endif

#endif
