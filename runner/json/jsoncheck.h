/* jsoncheck.h — the validation kit for nightshift's hand-written JSON
 * files (the providers config) and the files laid over them (LiteLLM's
 * price map): read a file with a cap, parse it as exactly one JSON value,
 * and check members one by one, each failure written once as
 * "SOURCE: PATH: why" into the caller's buffer.
 *
 * A refusal names the value it refused ("must be \"openai\" or
 * \"anthropic\", got \"grpc\""; see jc_got): strings quoted and cut,
 * and never one that looks like a key (util/quote.h), for a key pasted
 * into the wrong field must not reach a terminal or a log. Member names
 * are cleaned of anything but printable ASCII and cut short. A context
 * without an error buffer checks silently, for files whose odd entries
 * are skipped rather than refused.
 *
 * Thread-safe (no shared state; a context belongs to one caller). */
#ifndef NIGHTSHIFT_JSONCHECK_H
#define NIGHTSHIFT_JSONCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/quote.h"

/* Return codes (0 is success). */
#define JC_EINVAL (-1) /* bad JSON, a bad member, or a file too large */
#define JC_EIO (-2)    /* the file could not be opened or read */

/* Room for a member path such as "providers.qwen.models.m.offpeak[0]". */
#define JC_PATH_LEN 512
/* A member name is shown in messages up to this many bytes, then "...". */
#define JC_NAME_SHOWN 128
/* Room for what jc_got writes. */
#define JC_GOT_LEN QUOTE_LEN
/* Bounds that keep a typo from turning into an absurd setting: a price in
 * USD per million tokens, and a token count (context window, tpm). */
#define JC_PRICE_MAX 1000000.0
#define JC_COUNT_MAX ((int64_t)1 << 40)

/* Where messages go. source names the file ("providers.json", "built-in");
 * err may be NULL (then nothing is written: a silent check). All borrowed. */
struct jc_ctx {
	const char *source;
	char *err;
	size_t errlen;
};

/* Reporting */

/* jc_fail: write "SOURCE: PATH: why" (or "SOURCE: why" when path is NULL
 * or empty) into x->err, if any, and return JC_EINVAL. */
int jc_fail(const struct jc_ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* jc_fail_key: jc_fail at member key of the object at path
 * ("PATH.KEY: why"); the path is built only when a message is written. */
int jc_fail_key(const struct jc_ctx *x, const char *path, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* jc_got: value v as a refusal names it, into buf[0..n) (JC_GOT_LEN
 * holds any): a string JSON-quoted and cut (quote_str: one that looks
 * like a key is not shown), a number as the shortest text that reads back
 * as it ("0.4", "1000000", "1e+300"), anything else by its type ("an
 * array", "an empty object", "a boolean", "null"; "nothing" for a NULL v,
 * a member that is not there). Returns buf. */
const char *jc_got(const cJSON *v, char *buf, size_t n);

/* jc_refuse: jc_fail_key at key (jc_fail at path when key is NULL) with
 * the refused value after the reason: "PATH.KEY: why, got VALUE", VALUE
 * being jc_got's of got. Returns JC_EINVAL. */
int jc_refuse(const struct jc_ctx *x, const char *path, const char *key,
	      const cJSON *got, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* jc_subpath: "PATH.KEY" into buf[0..n), or "PATH[index]" when key is
 * NULL, or "KEY" when path is empty. The key is cleaned for messages
 * (see above); a path cut by n ends in "...". */
void jc_subpath(char *buf, size_t n, const char *path, const char *key,
		size_t index);

/* Reading */

/* jc_read_file: the file at x->source, at most max bytes, into *buf (new,
 * free(); NUL-terminated) and *len, its modification time into *mtime
 * (may be NULL). JC_EIO ("cannot open: ...", "cannot read: ...") or
 * JC_EINVAL ("larger than MAX bytes; not WHAT?", what being e.g. "a
 * providers config") with *buf NULL. */
int jc_read_file(const struct jc_ctx *x, size_t max, const char *what,
		 char **buf, size_t *len, time_t *mtime);

/* jc_parse: text[0..len) (need not be NUL-terminated) as one JSON value;
 * anything but white space after it is refused too (a truncated or
 * concatenated file). New tree (cJSON_Delete), or NULL after
 * "invalid JSON near byte N (line L, column C)". */
cJSON *jc_parse(const struct jc_ctx *x, const char *text, size_t len);

/* Objects */

/* jc_in_list: index of s in the NULL-terminated list, or -1. */
int jc_in_list(const char *const *list, const char *s);

/* jc_check_keys: every member of obj is named in allowed (NULL-terminated)
 * and appears once: "unknown field", "duplicate field". A member called
 * api_key is refused with a pointer to api_key_env. */
int jc_check_keys(const struct jc_ctx *x, const cJSON *obj, const char *path,
		  const char *const *allowed);

/* jc_check_object: obj is an object ("must be an object" followed by hint,
 * e.g. " with input_per_mtok and output_per_mtok"; "" for none) whose
 * members pass jc_check_keys. */
int jc_check_object(const struct jc_ctx *x, const cJSON *obj, const char *path,
		    const char *const *allowed, const char *hint);

/* jc_check_members: obj is an object whose member names the user chooses
 * (providers, models, routes: "must be an object of WHAT"), none twice
 * ("duplicate name"). */
int jc_check_members(const struct jc_ctx *x, const cJSON *obj, const char *path,
		     const char *what);

/* jc_get_array: member key of obj, when present, is an array of at most
 * max elements ("must be an array of WHAT", "must have at most MAX
 * NOUN"). *arr is the array or NULL when absent; apath[0..n) its path. */
int jc_get_array(const struct jc_ctx *x, const cJSON *obj, const char *path,
		 const char *key, size_t max, const char *what,
		 const char *noun, const cJSON **arr, char *apath, size_t n);

/* Members. Each getter reads member key of obj (path is obj's path) and,
 * when it is absent, leaves *out as the comment says; a refusal names
 * the value (jc_refuse). */

/* jc_get_int: an integer in [min, max]; dflt when absent. */
int jc_get_int(const struct jc_ctx *x, const cJSON *obj, const char *path,
	       const char *key, int64_t min, int64_t max, int64_t dflt,
	       int64_t *out);
/* jc_get_int32: jc_get_int for an int. */
int jc_get_int32(const struct jc_ctx *x, const cJSON *obj, const char *path,
		 const char *key, int min, int max, int dflt, int *out);
/* jc_get_number: a finite number in [0, max]; *has (may be NULL) says
 * whether it was there, *out is untouched when not. unit follows the
 * reason in messages (" (USD per million tokens)"; "" for none). */
int jc_get_number(const struct jc_ctx *x, const cJSON *obj, const char *path,
		  const char *key, double max, const char *unit, int *has,
		  double *out);
/* jc_get_price: a price in USD per million tokens, at most JC_PRICE_MAX;
 * dflt when absent, or "required" when dflt < 0. */
int jc_get_price(const struct jc_ctx *x, const cJSON *obj, const char *path,
		 const char *key, double dflt, double *out);
/* jc_get_text: a non-empty string of at most max bytes without control
 * characters; *out new (free()), or untouched when absent. */
int jc_get_text(const struct jc_ctx *x, const cJSON *obj, const char *path,
		const char *key, size_t max, char **out);
/* jc_get_bool: true or false as 1 or 0; *out untouched when absent. */
int jc_get_bool(const struct jc_ctx *x, const cJSON *obj, const char *path,
		const char *key, int *out);

#endif
