/* cmd_run.c — `nightshift run`: drain the queue through the providers.
 *
 * The main thread parses options, loads the providers config, recovers
 * leases left by dead runs, starts the store and worker threads, then
 * only watches: signals, the deadline, the progress line, and the end.
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT stop claiming and let in-flight requests
 * finish within a grace period; a second signal (or the end of the grace
 * period) gives them up. Either way every job not finished goes back to
 * the queue and the exit code is 4: run again to resume. SIGUSR1/SIGUSR2
 * print the progress line (see watch.h). */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/queue.h"
#include "queue/claim.h"
#include "queue/ledger.h"
#include "queue/run.h"
#include "queue/stats.h"
#include "runner/cli.h"
#include "runner/cmd.h"
#include "runner/config.h"
#include "runner/ingest_file.h"
#include "runner/keys.h"
#include "runner/lane/lane.h"
#include "runner/progress.h"
#include "runner/recall.h"
#include "runner/run_start.h"
#include "runner/providers/prices.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "runner/store.h"
#include "runner/watch.h"
#include "runner/worker.h"
#include "util/clock.h"
#include "util/timeparse.h"
#include "util/xalloc.h"

static const char USAGE[] =
	"usage: nightshift run [--db FILE] [--providers FILE] [--prices FILE]\n"
	"                      [--workers N] [--max-inflight N]\n"
	"                      [--max-cost USD [--max-cost-run]]\n"
	"                      [--deadline HH:MM | --max-runtime DUR] [--grace DUR]\n"
	"                      [--lane auto|sync|batch] [--submit-only]\n"
	"                      [--strict] [--progress | --no-progress] [FILE.jsonl]\n"
	"\n"
	"Send every queued job to its provider, retrying and backing off as\n"
	"providers throttle or fail, and store each result once. With a\n"
	"FILE, ingest it first. Safe to stop and run again: a run resumes\n"
	"where the last one stopped, even after kill -9.\n"
	"\n"
	"  --db FILE          queue database (default $NIGHTSHIFT_DB, else\n"
	"                     ./nightshift.db)\n"
	"  --providers FILE   providers config (default $NIGHTSHIFT_PROVIDERS,\n"
	"                     else the built-in catalogue)\n"
	"  --prices FILE      model prices and context windows from LiteLLM's\n"
	"                     model_prices_and_context_window.json, over the\n"
	"                     providers config's (default $NIGHTSHIFT_PRICES)\n"
	"  --workers N        worker threads (default: the number of cores)\n"
	"  --max-inflight N   requests in flight at once, all providers\n"
	"                     (default: the sum of the providers' max_inflight,\n"
	"                     at most 1024)\n"
	"  --max-cost USD     spend cap, 0 to 1000000000: a request is sent\n"
	"                     only if its worst case (estimated input +\n"
	"                     max_tokens output) fits what is left; counts\n"
	"                     the database's spend over all runs; when\n"
	"                     reached, in-flight requests finish and the run\n"
	"                     exits 4. A reply without usable usage costs its\n"
	"                     worst case, never $0\n"
	"  --max-cost-run     count only this run's spend against --max-cost\n"
	"  --deadline HH:MM   stop sending so that in-flight work ends by then\n"
	"                     (local time, next occurrence); exit 4\n"
	"  --max-runtime DUR  the same, DUR after the start (e.g. 90m, 2h)\n"
	"  --grace DUR        on SIGINT/SIGTERM/SIGHUP/SIGQUIT, how long\n"
	"                     in-flight requests may finish (default 30s;\n"
	"                     e.g. 90s, 2m); SIGUSR1 prints the progress line\n"
	"  --lane LANE        auto (default): a provider's batch API, at its\n"
	"                     batch price, for each job whose cheapest\n"
	"                     choice it is and whose turnaround fits the\n"
	"                     deadline (no deadline: always); sync: never\n"
	"                     wait on a batch; batch: only batch lanes (a job\n"
	"                     none can take stays queued). A job's own\n"
	"                     \"nightshift\": {\"lane\": ...} wins\n"
	"  --submit-only      put jobs in provider batches and exit 4 without\n"
	"                     waiting; a later run collects them (cron)\n"
	"  --strict           with FILE: queue nothing if any line is bad\n"
	"  --progress / --no-progress\n"
	"                     force the progress line on or off (default: on\n"
	"                     when stderr is a terminal, else a log line every\n"
	"                     10 s)\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit: 0 every job succeeded, 3 some jobs dead (see `nightshift\n"
	"export --failed`), 4 stopped with work left (run again), 2 usage or\n"
	"config error, 1 runtime error (e.g. disk full).\n";

/* USAGE says the bound in words */
_Static_assert((long long)BUDGET_MAX_USD == 1000000000LL,
	       "cmd_run.c: --max-cost's help names BUDGET_MAX_USD");

struct opts {
	const char *db, *providers, *file, *prices;
	int workers, max_inflight, strict, progress, cost_run;
	int lane, submit_only; /* --lane: 0 auto, 1 sync, 2 batch */
	int64_t grace_ms;
	double max_cost;    /* < 0: none */
	int64_t runtime_ms; /* 0: none */
	int deadline_min;   /* minutes after midnight, -1: none */
	/* the run's start, on both clocks, and its deadline as a wall clock
	 * time (0: none): --max-runtime counts from the start, ingest and
	 * the batch lane's first pass included */
	int64_t start_mono, start_wall, end_ms;
};

/* duration: a command-line duration ("30s", "2m", "1h30m", "500ms"; a
 * bare number is seconds) in ms; 0, or -1 if it is not one. */
static int duration(const char *s, int64_t *ms)
{
	return tp_duration(s, strlen(s), TP_UNITS | TP_SECS, ms) == 0 ? 0
								       : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		CLI_OPT_DB,
		{"providers", required_argument, NULL, 'p'},
		{"prices", required_argument, NULL, 'X'},
		{"workers", required_argument, NULL, 'w'},
		{"max-inflight", required_argument, NULL, 'i'},
		{"grace", required_argument, NULL, 'g'},
		{"max-cost", required_argument, NULL, 'c'},
		{"max-cost-run", no_argument, NULL, 'C'},
		{"deadline", required_argument, NULL, 'D'},
		{"max-runtime", required_argument, NULL, 'R'},
		{"strict", no_argument, NULL, 's'},
		{"progress", no_argument, NULL, 'P'},
		{"no-progress", no_argument, NULL, 'N'},
		{"lane", required_argument, NULL, 'L'},
		{"submit-only", no_argument, NULL, 'S'},
		CLI_OPT_END};
	struct cli_args a = {"run", argc, argv, lo, NULL, USAGE, 0};
	int c, rc;
	char *end;
	long v;

	while ((c = cli_opt(&a)) > 0) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'p':
			o->providers = optarg;
			break;
		case 'X':
			o->prices = optarg;
			break;
		case 'w':
		case 'i':
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 ||
			    v > (c == 'w' ? 256 : 100000))
				return cli_bad_value(
					"run",
					c == 'w' ? "--workers"
						 : "--max-inflight",
					optarg, "a whole number from 1 to %d",
					c == 'w' ? 256 : 100000);
			if (c == 'w')
				o->workers = (int)v;
			else
				o->max_inflight = (int)v;
			break;
		case 'g':
			if (duration(optarg, &o->grace_ms) != 0)
				return cli_bad_value("run", "--grace", optarg,
						     "a duration (e.g. 30s, "
						     "2m)");
			break;
		case 's':
			o->strict = 1;
			break;
		case 'c':
			/* not inf, nan or past the budget's bound: the cap
			 * is kept in int64 nano-dollars (budget.h) */
			o->max_cost = strtod(optarg, &end);
			if (end == optarg || *end || !(o->max_cost >= 0) ||
			    !(o->max_cost <= BUDGET_MAX_USD))
				return cli_bad_value(
					"run", "--max-cost", optarg,
					"an amount in USD from 0 to %.0f",
					BUDGET_MAX_USD);
			break;
		case 'C':
			o->cost_run = 1;
			break;
		case 'D':
		case 'R':
			if ((rc = cli_time_limit("run", c, optarg,
						 &o->deadline_min,
						 &o->runtime_ms)))
				return rc;
			break;
		case 'P':
			o->progress = 1;
			break;
		case 'N':
			o->progress = 0;
			break;
		case 'L':
			if ((rc = cli_lane("run", optarg, &o->lane)))
				return rc;
			break;
		case 'S':
			o->submit_only = 1;
			break;
		}
	}
	if (c == CLI_HELP)
		return -1;
	if (c != CLI_END)
		return cli_exit(c);
	if ((rc = cli_time_limits_ok("run", o->deadline_min, o->runtime_ms)))
		return rc;
	if (o->submit_only && o->lane == 1)
		return cli_usage_error("run", "--submit-only submits to batch "
					      "lanes; --lane sync has none");
	if (o->cost_run && o->max_cost < 0)
		return cli_usage_error("run", "--max-cost-run goes with "
					      "--max-cost");
	if (argc - optind > 1)
		return cli_usage_error("run", "one jobs file at a time");
	if (optind < argc)
		o->file = argv[optind];
	return 0;
}

/* why_parked: say what the user must fix for parked jobs to run. */
static void why_parked(const struct runctx *rc)
{
	const struct config *cfg = rc->cfg;
	int unset = 0;

	for (size_t i = 0; i < cfg->nprovs; i++) {
		const struct prov *p = &cfg->provs[i];

		if (atomic_load(&rc->prov_disabled[i]))
			fprintf(stderr,
				"nightshift run: provider %s refused this "
				"account (auth or billing); check %s and "
				"the account, then run again\n",
				p->name,
				p->api_key_env ? p->api_key_env : "its key");
		else if (!rc->keys[i] && p->api_key_env)
			unset++;
	}
	if (!unset)
		return;
	fprintf(stderr, "nightshift run: jobs wait for a provider key; set");
	for (size_t i = 0; i < cfg->nprovs; i++)
		if (!rc->keys[i] && cfg->provs[i].api_key_env)
			fprintf(stderr, " %s", cfg->provs[i].api_key_env);
	fprintf(stderr, " and run again\n");
}

/* prepare: open the queue (ingesting FILE first), take back leases left
 * by dead runs, and fill in what the run starts from. 0, or the exit
 * code to end with (*partial: FILE had rejected lines). */
static int prepare(const struct opts *o, struct queue **q, struct qrun **qr,
		   struct runctx_opts *ro, int *partial, char *host,
		   char *owner)
{
	long long recovered = 0, lost = 0, unparked = 0, parked = 0,
		  others = 0;
	int64_t next_due;
	int code;

	if ((code = cli_open_queue("run", o->db,
				   o->file ? QUEUE_OPEN_CREATE : 0, q)))
		return code;
	if (o->file) {
		struct ingest_opts io = {.max_line = 4u << 20,
					 .max_errors = 100,
					 .strict = o->strict};
		struct ingest_counts n;
		int r = ingest_path(*q, o->file, &io, &n);

		if (r == EXIT_RUNTIME || r == EXIT_USAGE ||
		    (o->strict && r == EXIT_PARTIAL))
			return r;
		*partial = r == EXIT_PARTIAL; /* remembered for the end */
	}
	run_names(host, owner);
	if ((code = qrun_open(*q, owner, qr)) || (code = qrun_begin(*qr)) ||
	    (code = claim_unpark(*qr, &unparked)) ||
	    (code = qrun_commit(*qr)) ||
	    (code = claim_recover(*qr, (int64_t)time(NULL) * 1000, owner_alive,
				  host, &recovered, &lost)) ||
	    (code = stats_backlog(*qr, &ro->queued, &next_due, &parked,
				  &others)) ||
	    (o->max_cost >= 0 && !o->cost_run &&
	     (code = ledger_spend(*qr, &ro->spent_usd))))
		return cli_db_error("run", o->db, code, queue_errmsg(*q));
	if (ro->queued > 0 &&
	    next_due - (int64_t)time(NULL) * 1000 > PROGRESS_HOLD_SAY_MS) {
		/* An idle run must say why (issue 17). */
		char at[16], in[32];

		progress_clock(at, sizeof(at), next_due);
		progress_eta(in, sizeof(in),
			     (double)(next_due - (int64_t)time(NULL) * 1000) /
				 1000.0);
		fprintf(stderr,
			"nightshift run: no job is due before %s (in %s): "
			"they wait out a provider's Retry-After or their "
			"backoff\n",
			at, in);
	}
	if (recovered)
		fprintf(stderr,
			"nightshift run: took back %lld jobs left running by a "
			"stopped run\n",
			recovered);
	if (lost)
		fprintf(stderr,
			"nightshift run: %lld requests that run had sent were "
			"never recorded: they are in the ledger as \"lost\" at "
			"their estimated cost (the provider may bill them)\n",
			lost);
	return 0;
}

/* conclude: what the run says at its end, and its exit code. */
static int conclude(struct runctx *rc, struct queue *q, const struct opts *o,
		    int time_up, int partial, long long batched)
{
	long long dead = 0, queued = 0, parked = 0, others = 0;
	int64_t next_due;

	if (rc->fatal == QUEUE_ECORRUPT)
		return cli_db_error("run", o->db, rc->fatal,
				    *queue_errmsg(q) ? queue_errmsg(q)
						     : rc->fatal_msg);
	if (rc->fatal) {
		char lost[256] = "";

		/* Sent, maybe billed, and in no ledger row nor in-flight
		 * list the next run could record as lost: say so, since
		 * the next run pays for them again. Counted from the sends,
		 * not the answers: a request given up in flight as the run
		 * stopped was sent too (issue 17, iofault.sh: the answers'
		 * count said 4 of 60). */
		unsigned long long unlisted =
			sent_added(&rc->sent) - rc->sent_committed;

		if (unlisted > 0)
			snprintf(lost, sizeof(lost),
				 " (not the %llu requests sent since the last "
				 "commit: they are not in the ledger, though "
				 "the provider may bill them, and their jobs "
				 "will be sent again)",
				 unlisted);
		fprintf(stderr,
			"nightshift run: %s while %s; what was committed is "
			"kept%s and the database is intact; %srun again to "
			"resume\n",
			rc->fatal == QUEUE_EFULL ? "disk full"
			: *queue_errmsg(q)	 ? queue_errmsg(q)
						 : "a database error (said above)",
			rc->fatal_msg, lost,
			rc->fatal == QUEUE_EFULL
				? "free some space on its disk, then "
				: "");
		return EXIT_RUNTIME;
	}
	if (stats_dead(rc->qr, &dead) ||
	    stats_backlog(rc->qr, &queued, &next_due, &parked, &others)) {
		fprintf(stderr, "nightshift run: %s\n", queue_errmsg(q));
		return EXIT_RUNTIME;
	}
	if (parked)
		why_parked(rc);
	if (atomic_load(&rc->budget.hit)) {
		/* The budget's own figure saturates (at $9.2e9, when replies
		 * claim absurd usage); the ledger's sum, a double, is what
		 * was recorded: this run's, or the database's. */
		double spent = budget_spent_usd(&rc->budget);

		if (o->cost_run)
			spent = atomic_load(&rc->spend_usd);
		else
			(void)ledger_spend(rc->qr, &spent);
		/* Requests are held at their worst case, so the cap can stop
		 * a run that has spent little: say what did not fit. */
		fprintf(stderr,
			"nightshift run: --max-cost reached: $%.6f spent%s of "
			"$%.6f, and the next request could cost up to $%.6f "
			"(its prompt plus its max_tokens, or the model's "
			"output limit for a job without one); run again with "
			"a higher cap, or give the jobs max_tokens, to "
			"continue\n",
			spent, o->cost_run ? " this run" : " in all",
			o->max_cost, budget_refused_usd(&rc->budget));
	}
	if (time_up)
		fprintf(stderr, "nightshift run: stopped for the %s\n",
			o->runtime_ms ? "--max-runtime" : "--deadline");
	if (batched > 0)
		fprintf(stderr,
			"nightshift run: %lld jobs wait in provider batches; "
			"a later `nightshift run` collects them\n",
			batched);
	if (o->submit_only && queued + parked > 0)
		fprintf(stderr,
			"nightshift run: %lld jobs wait for the sync lane; run "
			"without --submit-only to send them\n",
			queued + parked);
	/* Two runs on one queue (an overlapping cron job): what the other
	 * holds is not waiting for anyone to run again. */
	if (others > batched)
		fprintf(stderr,
			"nightshift run: %lld jobs are held by another run, "
			"still at work on them\n",
			others - batched);
	if (atomic_load(&rc->stopping) || parked || queued || others) {
		fprintf(stderr,
			"nightshift run: stopped with %lld jobs left; run "
			"again to resume\n",
			queued + parked + others);
		return EXIT_STOPPED;
	}
	if (dead) {
		fprintf(stderr,
			"nightshift run: %lld jobs dead (nightshift export "
			"--failed shows why; nightshift retry requeues them)\n",
			dead);
		return EXIT_PARTIAL;
	}
	return partial ? EXIT_PARTIAL : EXIT_OK;
}

/* open_lane: the run's batch lane (NULL: none to tend), having collected
 * what earlier runs' batches finished and submitted this run's. */
static int open_lane(struct runctx *rc, const struct opts *o, char *host,
		     const char *owner, struct lane **lane)
{
	struct lane_opts lo = {.db = o->db,
			       .run = owner,
			       .run_lane = o->lane,
			       .submit_only = o->submit_only,
			       .owner_alive = owner_alive,
			       .alive_arg = host};

	lo.end_ms = o->end_ms;
	if (lane_new(rc, &lo, lane) != 0 ||
	    (*lane && lane_prepare(*lane) != 0)) {
		if (lane_corrupt(*lane))
			return cli_db_error("run", o->db, QUEUE_ECORRUPT,
					    lane_corrupt(*lane));
		/* The lane said what failed, and a pass cut short still
		 * says what it was sending: the last line says the run
		 * stopped (issue 17, iofault.sh). */
		fprintf(stderr, "nightshift run: stopped: the batch lane "
				"failed (said above); what was committed is "
				"kept; run again to resume\n");
		return EXIT_RUNTIME;
	}
	return 0;
}

/* drive: start the workers and the store, watch, and end the run; its
 * exit code. */
static int drive(struct runctx *rc, struct queue *q, const struct opts *o,
		 int partial, struct lane *lane)
{
	struct worker **workers;
	struct store *st = NULL;
	struct watch_opts wo = {.grace_ms = o->grace_ms,
				.tty = o->progress >= 0 ? o->progress
							: isatty(2)};
	struct progress p = {0};
	sigset_t old;
	int started = 0, code;

	/* the time from the start, not a clock time: a clock step cannot
	 * move it */
	wo.start_ms = o->start_mono;
	if (o->end_ms)
		wo.end_in_ms = o->end_ms - o->start_wall;

	workers = xcalloc((size_t)rc->nworkers, sizeof(*workers));
	for (int i = 0; i < rc->nworkers; i++)
		if (!(workers[i] = worker_new(rc, i))) {
			fprintf(stderr, "nightshift run: libcurl failed to "
					"start\n");
			code = EXIT_RUNTIME;
			goto out;
		}
	watch_block_signals(&old);
	for (int i = 0; i < rc->nworkers; i++)
		if (worker_start(workers[i]) == 0)
			started++;
	/* the lane is busy before the store looks: a store that found the
	 * queue empty (every job in a batch) would end the run at once */
	if (started == rc->nworkers && lane && lane_start(lane) != 0) {
		fprintf(stderr, "nightshift run: cannot start threads\n");
		atomic_store(&rc->stopping, 1);
	}
	st = store_new(rc, rc->qr);
	if (started != rc->nworkers || store_start(st) != 0) {
		fprintf(stderr, "nightshift run: cannot start threads\n");
		atomic_store(&rc->stopping, 1);
		atomic_store(&rc->finished, 1);
		if (lane)
			lane_join(lane);
		for (int i = 0; i < started; i++)
			worker_join(workers[i]);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		code = EXIT_RUNTIME;
		goto out;
	}
	watch_take_signals();
	code = watch_run(rc, &wo, &p);
	store_join(st);
	if (lane && lane_join(lane) && !rc->fatal) {
		/* The lane said what failed, but for a damaged file, which
		 * the run says with how to recover; the last line must
		 * still say why the run stopped, not " while ;" (issue 17). */
		rc->fatal = lane_corrupt(lane) ? QUEUE_ECORRUPT : QUEUE_EIO;
		snprintf(rc->fatal_msg, sizeof(rc->fatal_msg), "%s",
			 lane_corrupt(lane) ? lane_corrupt(lane)
					    : "tending the batch lane");
	}
	for (int i = 0; i < rc->nworkers; i++)
		worker_join(workers[i]);
	progress_end(&p, rc, clk_mono_ms());
	if (!rc->fatal && recall_keep(rc, q) != QUEUE_OK)
		fprintf(stderr,
			"nightshift run: %s; the next run starts without "
			"what this one learned\n",
			queue_errmsg(q));
	code = conclude(rc, q, o, code, partial, lane ? lane_held(lane) : 0);
out:
	store_free(&st);
	for (int i = 0; i < rc->nworkers; i++)
		worker_free(&workers[i]);
	free(workers);
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct opts o = {.progress = -1,
			 .grace_ms = 30000,
			 .max_cost = -1,
			 .deadline_min = -1};
	struct runctx_opts ro = {.max_cost = -1};
	struct config *cfg = NULL;
	struct queue *q = NULL;
	struct qrun *qr = NULL;
	struct runctx *rc = NULL;
	struct lane *lane = NULL;
	char err[700], **keys = NULL, host[HOST_MAX], owner[OWNER_MAX];
	int code, partial = 0, curl = 0;

	if ((code = parse(argc, argv, &o)))
		return code < 0 ? EXIT_OK : code;
	o.start_mono = clk_mono_ms();
	o.start_wall = clk_wall_ms();
	if (o.runtime_ms)
		o.end_ms = o.start_wall + o.runtime_ms;
	if (o.deadline_min >= 0)
		o.end_ms = cli_next_hhmm_ms(o.deadline_min);
	if (config_load(o.providers, &cfg, err, sizeof(err)) ||
	    prices_apply(cfg->provs, cfg->nprovs, o.prices, NULL, err,
			 sizeof(err))) {
		fprintf(stderr, "nightshift run: %s\n", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (o.file && (code = cli_input_check("run", o.file))) {
		config_free(&cfg);
		return code;
	}
	o.db = cli_db_path(o.db);
	if ((code = prepare(&o, &q, &qr, &ro, &partial, host, owner)) ||
	    (code = read_keys(cfg, &keys)))
		goto out;
	if (o.max_cost >= 0 && ro.spent_usd >= o.max_cost) {
		fprintf(stderr,
			"nightshift run: this database has already spent "
			"$%.6f of --max-cost $%.6f; nothing sent\n",
			ro.spent_usd, o.max_cost);
		code = EXIT_STOPPED;
		goto out;
	}
	ro.max_cost = o.max_cost;
	runctx_size(cfg, o.max_inflight, o.workers, &ro);
	rc = runctx_new(cfg, qr, keys, &ro);
	keys = NULL; /* the runctx's now */
	recall_restore(rc, q);
	rc->admit.run_lane = o.lane;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "nightshift run: libcurl failed to start\n");
		code = EXIT_RUNTIME;
		goto out;
	}
	curl = 1;
	if ((code = open_lane(rc, &o, host, owner, &lane)))
		goto out;
	if (o.submit_only)
		code = conclude(rc, q, &o, 0, partial,
				lane ? lane_held(lane) : 0);
	else
		code = drive(rc, q, &o, partial, lane);
out:
	lane_free(&lane);
	if (curl)
		curl_global_cleanup();
	runctx_free(&rc);
	key_free_all(keys, cfg ? cfg->nprovs : 0);
	qrun_close(&qr);
	queue_close(&q);
	config_free(&cfg);
	return code;
}
