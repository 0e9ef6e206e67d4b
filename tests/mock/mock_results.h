/* mock_results.h — the results of an ended batch: each request that ran
 * gets the reply the synchronous endpoint gives its body (same content,
 * usage and per-body faults), and the rest a not-run line; written to the
 * OpenAI output and error files or the Anthropic results file, with one
 * batch_line per request in the request log.
 * Thread-safe (each call owns its files; the fault state and the log
 * lock their own). */
#ifndef MOCK_RESULTS_H
#define MOCK_RESULTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/mock/mock_fault.h"
#include "tests/mock/mock_log.h"
#include "tests/mock/mock_opts.h"
#include "tests/mock/mock_reply.h"

/* What to write; every pointer is borrowed for the call. */
struct mock_results_cfg {
	enum mock_dialect dialect;
	const char *batch_id;
	uint64_t salt;	     /* keys the line ids and the output order */
	const char *in_path; /* OpenAI input file / Anthropic create body */
	size_t nrun;	     /* the first nrun requests ran, the rest not */
	bool cancelled;	     /* the rest: cancelled (else expired) */
	const char *out_path; /* OpenAI output file / Anthropic results */
	const char *err_path; /* OpenAI error file; unused for Anthropic */
	int64_t now_ms;	      /* wall clock (epoch ms) of the end */
	const struct mock_opts *opts;
	struct mock_fault *fault;
	struct mock_log *log; /* NULL: no log */
	const atomic_bool *stop; /* set: give up early (shutting down) */
};

/* What was written. */
struct mock_results {
	size_t ok, errored, not_run; /* requests by outcome */
	size_t out_lines, err_lines; /* Anthropic: all in out_lines */
	size_t out_bytes, err_bytes;
};

/* mock_results_write writes the results for cfg into *out. Lines come
 * out in input order shuffled within blocks of 16, so a client that
 * assumes order fails. Returns 0, or -1 when a file could not be read or
 * written (reported on stderr) or *cfg->stop was set. */
int mock_results_write(const struct mock_results_cfg *cfg,
		       struct mock_results *out);

#endif
