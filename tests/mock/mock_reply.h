/* mock_reply.h — what the mock provider answers: fault kinds, request
 * checks and the reply bodies and headers of the OpenAI and Anthropic
 * dialects, built as data (no I/O) for mock_provider.c to send.
 * Thread-safe (pure functions; no globals). */
#ifndef MOCK_REPLY_H
#define MOCK_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum mock_dialect {
	MOCK_OPENAI,
	MOCK_ANTHROPIC,
};

/* Fault kinds that can be scripted, then the outcomes the mock picks on
 * its own (not selectable by options): they show in the log's "kind". */
enum mock_kind {
	MOCK_K_OK,
	MOCK_K_429,
	MOCK_K_429OPENAI,
	MOCK_K_429QUOTA,
	MOCK_K_429ANTHROPIC,
	MOCK_K_529,
	MOCK_K_500,
	MOCK_K_502,
	MOCK_K_503,
	MOCK_K_RESET,
	MOCK_K_HANG,
	MOCK_K_TRUNCATED,
	MOCK_K_BADJSON,
	MOCK_K_ERROR200,
	MOCK_K_MODERATION,
	MOCK_K_401,
	MOCK_K_EMPTYCHOICES,
	MOCK_K_BADCONTENT, /* 200, well-formed, content not JSON */
	MOCK_K_NOSCHEMA,   /* 200, JSON content ignoring the json_schema */
	MOCK_K_NOUSAGE,	   /* 200, a normal reply without usage */
	MOCK_K_NEGUSAGE,   /* 200, usage counts negative */
	MOCK_K_HUGEUSAGE,  /* 200, usage of 1e15 tokens in and out */
	/* Real providers' error shapes, exact bodies and headers
	 * (mock_shape.c). */
	MOCK_K_ALLOCQUOTA,   /* DashScope 429 insufficient_quota trap */
	MOCK_K_ARREARAGE,    /* DashScope 400 Arrearage */
	MOCK_K_402DEEPSEEK,  /* DeepSeek 402 Insufficient Balance */
	MOCK_K_503DEEPSEEK,  /* DeepSeek 503 Server overloaded */
	MOCK_K_422MISTRAL,   /* Mistral 422 extra_forbidden, flat */
	MOCK_K_429GEMINI,    /* Gemini [{"error":...}] "Please retry in" */
	MOCK_K_503GEMINI,    /* Gemini [{"error":...}] UNAVAILABLE */
	MOCK_K_CONTEXT,	     /* 400 context overflow, per dialect */
	MOCK_K_429DATE,	     /* Retry-After as an HTTP-date */
	MOCK_K_429MS,	     /* retry-after-ms only */
	MOCK_K_429RESET,     /* OpenAI x-ratelimit-reset-* only */
	MOCK_K_429RFC3339,   /* Anthropic RFC 3339 resets only */
	/* Slow replies (mock_provider.c sends them). */
	MOCK_K_DRIP,  /* 200: headers, then the body a few bytes a time */
	MOCK_K_STALL, /* 200: headers, then nothing for --hang-ms */
	/* Not scriptable: what the mock answers on its own. */
	MOCK_K_RPM,	 /* over the --rpm limit: 429 */
	MOCK_K_AUTH,	 /* --key given and not matched: 401 */
	MOCK_K_INVALID,	 /* failed the dialect's checks: 400 */
	MOCK_K_NOTFOUND, /* unknown path: 404 */
	MOCK_K_METHOD,	 /* not POST: 405 */
	MOCK_K_TOOLARGE, /* body over --max-body: 413 */
	MOCK_K_COUNT,
	MOCK_K_SCRIPTABLE = MOCK_K_RPM,
};

#define MOCK_REPLY_MAX_HEADERS 6

/* The usage a reply reported, split as nightshift's ledger keeps it, for
 * the request log: a test sums what the mock served from it. */
struct mock_usage {
	bool set; /* the reply carried real counts */
	long long in, cached, cache_write, out, reasoning;
};

/* One reply to send. status 0 means: close the connection, send nothing. */
struct mock_reply {
	int status;
	bool truncate; /* announce the full length, send half, close */
	bool drip;     /* send the body a few bytes at a time */
	bool stall;    /* send the headers, then nothing */
	struct mock_usage usage;
	char *body;    /* new, freed by mock_reply_clear; may be NULL */
	size_t len;
	int nhdr;
	struct {
		char name[48];
		char value[64];
	} hdr[MOCK_REPLY_MAX_HEADERS];
};

/* What a reply is built from. */
struct mock_call {
	enum mock_dialect dialect;
	const cJSON *req;  /* parsed request body, borrowed; NULL if none */
	uint64_t hash;	   /* FNV-1a of the request body */
	uint64_t seq;	   /* request number, for ids */
	int64_t now_ms;	   /* wall clock (epoch ms) */
	int retry_after_s; /* for 429 kinds */
	bool content_json; /* content is a small JSON object */
	double scale_min, scale_max; /* prompt_tokens times, per body */
	/* Shares reported as cached (cache-read) and cache-write input, and
	 * extra reasoning output per output token; 0: none reported. */
	double cached, cache_write, reasoning;
};

/* Kind names, as in options and the log ("ok", "429", "reset", ...). */
const char *mock_kind_name(enum mock_kind k);

/* mock_kind_parse sets *out to the scriptable kind named s and returns 0,
 * or returns -1 when s names none. */
int mock_kind_parse(const char *s, enum mock_kind *out);

/* mock_reply_check checks a request the way the dialect's provider does
 * (has_version: the anthropic-version header was sent; has_key: the
 * x-api-key header was sent). Returns MOCK_K_OK, or MOCK_K_AUTH or
 * MOCK_K_INVALID with the error reply filled into *out. */
enum mock_kind mock_reply_check(const struct mock_call *c, bool has_version,
				bool has_key, struct mock_reply *out);

/* mock_reply_build fills *out with the reply for kind k (any kind). For
 * MOCK_K_HANG and MOCK_K_RESET that is status 0 and no body. */
void mock_reply_build(const struct mock_call *c, enum mock_kind k,
		      struct mock_reply *out);

/* mock_reply_add_header adds a header to r (cut to the caps; dropped past
 * MOCK_REPLY_MAX_HEADERS). */
void mock_reply_add_header(struct mock_reply *r, const char *name,
			   const char *value);

/* mock_reply_set_text makes a copy of text r's body. */
void mock_reply_set_text(struct mock_reply *r, const char *text);

/* mock_reply_request_id adds the dialect's request-id header to r. */
void mock_reply_request_id(const struct mock_call *c, struct mock_reply *r);

/* mock_shape_build fills r (zeroed) with the error reply of one of the
 * real providers' shapes (MOCK_K_ALLOCQUOTA .. MOCK_K_429RFC3339), request
 * id header included. Returns false for any other kind. */
bool mock_shape_build(const struct mock_call *c, enum mock_kind k,
		      struct mock_reply *r);

/* mock_reply_clear frees the body of *r and empties it. */
void mock_reply_clear(struct mock_reply *r);

/* mock_uuid formats a DashScope-style request_id (a UUID) from the call;
 * salt tells apart ids a reply builder draws for different uses. */
void mock_uuid(const struct mock_call *c, uint64_t salt, char *buf, size_t n);

#endif
