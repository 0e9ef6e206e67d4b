/* mock_opts.h — command-line options of the mock provider.
 * Not thread-safe (parse once in main, read-only afterwards). */
#ifndef MOCK_OPTS_H
#define MOCK_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tests/mock/mock_fault.h"

/* How the batch APIs behave (README, "Batch APIs"). */
struct mock_batch_opts {
	long lat_min, lat_max; /* ms from create to end, uniform */
	bool stuck;	       /* never end by themselves */
	long expire_after_ms;  /* 0: expire only at the window's end */
	double partial;	       /* share done at expiry; < 0: elapsed share */
	bool fail_validation;
	bool progress; /* request counts grow while in progress */
	long window_ms; /* how long "24h" lasts */
};

struct mock_opts {
	unsigned port;	 /* 0: any free port */
	const char *key; /* borrowed from argv; NULL: no key check */
	bool content_json;
	long lat_min, lat_max; /* ms, uniform in [min, max] */
	long lat_per_ktok;     /* ms more per 1,000 prompt tokens */
	long drip_ms, drip_bytes; /* drip: this many bytes every drip_ms */
	double cached, cache_write, reasoning; /* usage details (mock_call) */
	double scale_min, scale_max; /* prompt_tokens times, uniform */
	unsigned threads;
	long hang_ms;
	const char *log_path; /* borrowed from argv; NULL: no log */
	size_t max_body;
	unsigned idle_timeout_s;
	bool verbose;
	struct mock_fault_cfg fault;
	struct mock_batch_opts batch;
};

/* mock_opts_parse fills *o from argv. Returns 0 to serve, 1 when --help
 * was printed, or -1 after printing why the options are bad to stderr.
 * Release with mock_opts_free in every case. */
int mock_opts_parse(int argc, char **argv, struct mock_opts *o);

/* mock_opts_free frees what parsing allocated inside *o. */
void mock_opts_free(struct mock_opts *o);

/* mock_opts_usage prints the option list to out. */
void mock_opts_usage(FILE *out);

#endif
