/* blob.c — zstd compression of bodies with trained dictionaries.
 *
 * Dictionaries are created once per database (per kind) and referenced by
 * their id from every frame, so the cost of a CDict/DDict is paid once per
 * process; per-call work is one ZSTD_compress_usingCDict. */
#include "queue/blob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* ZDICT_trainFromBuffer_fastCover: exported by the shared library, but
 * declared only under this, with no promise that its parameters' layout
 * holds from one zstd version to the next (see fastcover_usable). */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#include "util/xalloc.h"

/* Roughly 1/40 of the sample: large enough to hold the recurring JSON
 * scaffolding and common words, small enough to train in well under a
 * second on 2,000 rows. */
#define DICT_CAP (32u << 10)

struct blob_dict {
	unsigned id;
	void *data;
	size_t len;
	ZSTD_CDict *cdict;
	ZSTD_DDict *ddict;
};

struct blob_codec {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	unsigned char *buf;
	size_t cap;
};

struct blob_dict *blob_dict_load(const void *data, size_t len, int level)
{
	struct blob_dict *d;
	unsigned id = (unsigned)ZDICT_getDictID(data, len);

	if (id == 0)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->id = id;
	d->data = xmalloc(len);
	memcpy(d->data, data, len);
	d->len = len;
	d->cdict = ZSTD_createCDict(d->data, len, level);
	d->ddict = ZSTD_createDDict(d->data, len);
	if (!d->cdict || !d->ddict)
		blob_dict_free(&d);
	return d;
}

#ifdef NIGHTSHIFT_TEST
static int stable_only;

void blob__stable_train(int on)
{
	stable_only = on;
}
#endif

/* fastcover_usable: whether the library we run with is the one whose
 * header we were built with. ZDICT_fastCover_params_t is a struct of
 * zstd's static-linking-only API: a distribution's libzstd upgrade could
 * change its layout under a binary built against the old header and
 * train with garbage parameters, or fail, without a word. With any other
 * version only the stable API is used. */
static int fastcover_usable(void)
{
#ifdef NIGHTSHIFT_TEST
	if (stable_only)
		return 0;
#endif
	return ZSTD_versionNumber() == ZSTD_VERSION_NUMBER;
}

/* train: fastCover with fixed segment sizes. ZDICT_trainFromBuffer
 * searches several k for the best, which takes ~4x as long for the same
 * ratio on JSON bodies (measured on job bodies and chat.completion
 * replies: within 1% either way); the run loop trains on its store
 * thread, where those 100 ms stall every commit. Acceleration 4 halves
 * the rest (2,000 rows: 130M instructions to 68M on replies, 122M to 59M
 * on job bodies) for ratios within 0.5% (4.29 to 4.27 on the replies,
 * 3.60 to 3.64 on the bodies). The stable search is the way when the
 * library is not the one built against, and when fastCover fails (e.g.
 * samples too small for k). */
static size_t train(void *dict, size_t cap, const void *buf,
		    const size_t *sizes, unsigned n, int level)
{
	if (fastcover_usable()) {
		ZDICT_fastCover_params_t p;
		size_t got;

		memset(&p, 0, sizeof(p));
		p.k = 1024;
		p.d = 8;
		p.f = 20;
		p.accel = 4;
		p.splitPoint = 1.0;
		p.zParams.compressionLevel = level;
		got = ZDICT_trainFromBuffer_fastCover(dict, cap, buf, sizes, n,
						      p);
		if (!ZDICT_isError(got))
			return got;
	}
	return ZDICT_trainFromBuffer(dict, cap, buf, sizes, n);
}

struct blob_dict *blob_dict_train(const void *buf, const size_t *sizes,
				  unsigned n, int level)
{
	size_t total = 0, cap, got;
	void *dict;
	struct blob_dict *d;

	if (n < BLOB_TRAIN_MIN)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		total += sizes[i];
	cap = total / 8 < DICT_CAP ? total / 8 : DICT_CAP;
	if (cap < 1024)
		return NULL;
	dict = xmalloc(cap);
	got = train(dict, cap, buf, sizes, n, level);
	if (ZDICT_isError(got)) {
		free(dict);
		return NULL;
	}
	d = blob_dict_load(dict, got, level);
	free(dict);
	return d;
}

int blob_level_of(const char *kind)
{
	return strcmp(kind, "result") == 0 ? BLOB_LEVEL_RESULT : BLOB_LEVEL;
}

unsigned blob_dict_id(const struct blob_dict *d)
{
	return d->id;
}

const void *blob_dict_data(const struct blob_dict *d, size_t *len)
{
	*len = d->len;
	return d->data;
}

void blob_dict_free(struct blob_dict **dp)
{
	struct blob_dict *d = *dp;

	if (!d)
		return;
	ZSTD_freeCDict(d->cdict);
	ZSTD_freeDDict(d->ddict);
	free(d->data);
	free(d);
	*dp = NULL;
}

struct blob_codec *blob_codec_new(void)
{
	struct blob_codec *c = xcalloc(1, sizeof(*c));

	c->cctx = ZSTD_createCCtx();
	c->dctx = ZSTD_createDCtx();
	if (!c->cctx || !c->dctx)
		abort(); /* only fails on OOM; see xalloc.h */
	return c;
}

void blob_codec_free(struct blob_codec **cp)
{
	struct blob_codec *c = *cp;

	if (!c)
		return;
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c->buf);
	free(c);
	*cp = NULL;
}

static void reserve(struct blob_codec *c, size_t n)
{
	if (n <= c->cap)
		return;
	c->cap = n < 4096 ? 4096 : n + n / 4;
	free(c->buf);
	c->buf = xmalloc(c->cap);
}

int blob_compress(struct blob_codec *c, const struct blob_dict *d,
		  const void *src, size_t n, const void **out,
		  size_t *out_len)
{
	size_t bound, got;

	if (n > BLOB_MAX_SIZE)
		return BLOB_ETOOBIG;
	bound = ZSTD_compressBound(n);
	reserve(c, bound);
	if (d)
		got = ZSTD_compress_usingCDict(c->cctx, c->buf, c->cap, src, n,
					       d->cdict);
	else
		got = ZSTD_compressCCtx(c->cctx, c->buf, c->cap, src, n,
					BLOB_LEVEL);
	if (ZSTD_isError(got))
		return BLOB_EINVAL;
	*out = c->buf;
	*out_len = got;
	return 0;
}

unsigned blob_frame_dict_id(const void *src, size_t n)
{
	return ZSTD_getDictID_fromFrame(src, n);
}

int blob_decompress(struct blob_codec *c, const struct blob_dict *d,
		    const void *src, size_t n, const void **out,
		    size_t *out_len)
{
	unsigned long long size = ZSTD_getFrameContentSize(src, n);
	unsigned want = ZSTD_getDictID_fromFrame(src, n);
	size_t got;

	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
		return BLOB_EINVAL;
	if (size > BLOB_MAX_SIZE)
		return BLOB_ETOOBIG;
	if (want != 0 && (!d || d->id != want))
		return BLOB_ENODICT;
	reserve(c, (size_t)size + 1);
	if (want)
		got = ZSTD_decompress_usingDDict(c->dctx, c->buf, c->cap, src,
						 n, d->ddict);
	else
		got = ZSTD_decompressDCtx(c->dctx, c->buf, c->cap, src, n);
	if (ZSTD_isError(got) || got != size)
		return BLOB_EINVAL;
	c->buf[got] = '\0';
	*out = c->buf;
	*out_len = got;
	return 0;
}
