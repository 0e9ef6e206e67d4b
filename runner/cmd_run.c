/* cmd_run.c — `nightshift run`: drain the queue through the providers.
 *
 * The main thread parses options, loads the providers config, recovers
 * leases left by dead runs, starts the store and worker threads, then
 * only watches: signals, the progress line, and the end. SIGINT/SIGTERM
 * stop claiming and let in-flight requests finish within a grace period;
 * a second signal (or the end of the grace period) gives them up. Either
 * way every job not finished goes back to the queue and the exit code is
 * 4: run again to resume. */
#define _DEFAULT_SOURCE /* gethostname, kill */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "queue/claim.h"
#include "queue/ledger.h"
#include "queue/queue.h"
#include "queue/run.h"
#include "queue/stats.h"
#include "runner/cli.h"
#include "runner/cmd.h"
#include "runner/config.h"
#include "runner/ingest/ingest_file.h"
#include "runner/providers/prices.h"
#include "runner/runctx.h"
#include "runner/sched/sched.h"
#include "runner/store.h"
#include "runner/worker.h"
#include "util/clock.h"
#include "util/xalloc.h"

static const char USAGE[] =
	"usage: nightshift run [--db FILE] [--providers FILE] [--prices FILE]\n"
	"                      [--workers N] [--max-inflight N]\n"
	"                      [--max-cost USD [--max-cost-run]]\n"
	"                      [--deadline HH:MM | --max-runtime DUR] [--grace DUR]\n"
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
	"  --max-cost USD     spend cap: a request is sent only if its worst\n"
	"                     case (estimated input + max_tokens output) fits\n"
	"                     what is left; counts the database's spend over\n"
	"                     all runs; when reached, in-flight requests\n"
	"                     finish and the run exits 4\n"
	"  --max-cost-run     count only this run's spend against --max-cost\n"
	"  --deadline HH:MM   stop sending so that in-flight work ends by then\n"
	"                     (local time, next occurrence); exit 4\n"
	"  --max-runtime DUR  the same, DUR after the start (e.g. 90m, 2h)\n"
	"  --grace DUR        on SIGINT/SIGTERM, how long in-flight requests\n"
	"                     may finish (default 30s; e.g. 90s, 2m)\n"
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

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

/* parse_duration: "30", "30s", "2m", "1h", "500ms" -> ms; -1 if bad. */
static long long parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return (long long)(v * 1000);
	if (strcmp(end, "ms") == 0)
		return (long long)v;
	if (strcmp(end, "m") == 0)
		return (long long)(v * 60000);
	if (strcmp(end, "h") == 0)
		return (long long)(v * 3600000);
	return -1;
}

/* owner_alive: a lease owner "host:pid:run" still runs? On this host we
 * can ask the kernel; elsewhere we cannot tell and wait for the lease to
 * expire. */
static int owner_alive(const char *owner, void *arg)
{
	const char *host = arg, *colon = strchr(owner, ':');
	long pid;
	char *end;

	if (!colon || (size_t)(colon - owner) != strlen(host) ||
	    strncmp(owner, host, strlen(host)) != 0)
		return 1;
	pid = strtol(colon + 1, &end, 10);
	if (pid <= 0 || *end != ':')
		return 1;
	if (pid == (long)getpid())
		return 0; /* an earlier run of ours in this process: gone */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* raise_nofile: every transfer holds a socket; lift the soft limit to the
 * hard one and cap in-flight requests to what fits. */
static int raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)want + 64 > rl.rlim_cur) {
		int cap = (int)rl.rlim_cur - 64;

		fprintf(stderr,
			"nightshift run: the open-files limit (%llu) caps "
			"requests in flight at %d (asked %d); raise it with "
			"ulimit -n\n",
			(unsigned long long)rl.rlim_cur, cap, want);
		return cap > 1 ? cap : 1;
	}
	return want;
}

/* end_margin: how long before a deadline to stop sending: twice the mean
 * latency seen so far (2 s before any reply). */
static int64_t end_margin(struct runctx *rc)
{
	long long n = atomic_load(&rc->lat_n);

	return n ? 2 * atomic_load(&rc->lat_sum_ms) / n : 2000;
}

static void fmt_eta(char *buf, size_t n, double secs)
{
	long s = (long)secs;

	if (secs < 0 || secs > 99 * 3600)
		snprintf(buf, n, "--:--");
	else if (s >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, n, "%ld:%02ld", s / 60, s % 60);
}

static void progress(struct runctx *rc, int64_t t0, int tty, int final)
{
	long long done = atomic_load(&rc->n_done);
	long long dead = atomic_load(&rc->n_dead);
	long long fin = done + dead;
	double secs = (double)(clk_mono_ms() - t0) / 1000.0;
	double rate = secs > 0 ? (double)fin / secs : 0;
	/* Jobs ingested while the run goes are claimed too: the total
	 * grows with them rather than being passed. */
	long long total = rc->total_at_start > fin ? rc->total_at_start : fin;
	long long left = total - fin;
	char eta[32];

	fmt_eta(eta, sizeof(eta), rate > 0 ? (double)left / rate : -1);
	fprintf(stderr,
		"%s%lld/%lld done, %lld dead, %.1f jobs/s, ETA %s, "
		"%lld requests, %lld retries, $%.6f%s",
		tty ? "\r\033[K" : "nightshift run: ", done, total,
		dead, rate, eta, atomic_load(&rc->n_requests),
		atomic_load(&rc->n_retries),
		(double)atomic_load(&rc->spend_pusd) / 1e12,
		tty && !final ? "" : "\n");
}

struct opts {
	const char *db, *providers, *file, *prices;
	int workers, max_inflight, strict, progress, cost_run;
	long long grace_ms;
	double max_cost;       /* < 0: none */
	long long runtime_ms;  /* 0: none */
	int deadline_min;      /* minutes after midnight, -1: none */
};

/* parse_hhmm: "HH:MM" -> minutes after midnight, -1 if malformed. */
static int parse_hhmm(const char *s)
{
	int h, m;
	char tail;

	if (sscanf(s, "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 ||
	    m < 0 || m > 59)
		return -1;
	return h * 60 + m;
}

/* deadline_ms: epoch ms of the next local HH:MM. */
static int64_t deadline_ms(int minutes)
{
	time_t now = time(NULL), t;
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t <= now) {
		tm.tm_mday++;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return (int64_t)t * 1000;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, 'd'},
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
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c;
	char *end;
	long v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
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
			if (*end || v < 1 || v > (c == 'w' ? 256 : 100000))
				return cli_usage_error(
					"run", "%s: \"%s\" is not a number "
					       "in range",
					c == 'w' ? "--workers"
						 : "--max-inflight",
					optarg);
			if (c == 'w')
				o->workers = (int)v;
			else
				o->max_inflight = (int)v;
			break;
		case 'g':
			o->grace_ms = parse_duration(optarg);
			if (o->grace_ms < 0)
				return cli_usage_error(
					"run", "--grace: \"%s\" is not a "
					       "duration (e.g. 30s, 2m)",
					optarg);
			break;
		case 's':
			o->strict = 1;
			break;
		case 'c':
			o->max_cost = strtod(optarg, &end);
			if (end == optarg || *end || !(o->max_cost >= 0))
				return cli_usage_error(
					"run", "--max-cost: \"%s\" is not an "
					       "amount in USD",
					optarg);
			break;
		case 'C':
			o->cost_run = 1;
			break;
		case 'D':
			o->deadline_min = parse_hhmm(optarg);
			if (o->deadline_min < 0)
				return cli_usage_error(
					"run", "--deadline: \"%s\" is not "
					       "HH:MM",
					optarg);
			break;
		case 'R':
			o->runtime_ms = parse_duration(optarg);
			if (o->runtime_ms <= 0)
				return cli_usage_error(
					"run", "--max-runtime: \"%s\" is not a "
					       "duration (e.g. 90m, 2h)",
					optarg);
			break;
		case 'P':
			o->progress = 1;
			break;
		case 'N':
			o->progress = 0;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return -1;
		default:
			return cli_bad_option("run", c, argv);
		}
	}
	if (o->deadline_min >= 0 && o->runtime_ms)
		return cli_usage_error("run", "--deadline or --max-runtime, "
					      "not both");
	if (o->cost_run && o->max_cost < 0)
		return cli_usage_error("run", "--max-cost-run goes with "
					      "--max-cost");
	if (argc - optind > 1)
		return cli_usage_error("run", "one jobs file at a time");
	if (optind < argc)
		o->file = argv[optind];
	return 0;
}

/* usable_providers: how many providers have their key (or need none);
 * says once which are skipped for want of a key. */
static int usable_providers(const struct config *cfg, char **keys)
{
	int n = 0, skipped = 0;

	for (size_t i = 0; i < cfg->nprovs; i++) {
		if (keys[i]) {
			n++;
			continue;
		}
		fprintf(stderr, "%s %s (%s)",
			skipped++ ? "," : "nightshift run: skipping providers "
					  "without a key:",
			cfg->provs[i].name, cfg->provs[i].api_key_env);
	}
	if (skipped)
		fputc('\n', stderr);
	return n;
}

/* drain: free tasks left on the lists after every thread has stopped. */
static void drain(struct runctx *rc)
{
	struct task *lists[2] = {rc->work_head, rc->done_head};

	for (int i = 0; i < 2; i++)
		while (lists[i]) {
			struct task *t = lists[i];

			lists[i] = t->next;
			task_free(t);
		}
	rc->work_head = rc->work_tail = rc->done_head = rc->done_tail = NULL;
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

int cmd_run(int argc, char **argv)
{
	struct opts o = {.progress = -1,
			 .grace_ms = 30000,
			 .max_cost = -1,
			 .deadline_min = -1};
	struct config *cfg = NULL;
	struct queue *q = NULL;
	struct qrun *qr = NULL;
	struct runctx rc;
	struct store st = {0};
	char err[700], host[256], owner[400];
	long long recovered = 0, unparked = 0, dead = 0;
	long long queued = 0, parked = 0, others = 0;
	int64_t next_due, t0, stop_at = 0, last_print = 0, end_at = 0;
	int code, exit_code = EXIT_OK, tty, started = 0, time_up = 0;
	sigset_t block, old;
	struct sigaction sa;

	memset(&rc, 0, sizeof(rc));
	rc.end_fd = -1;
	if ((code = parse(argc, argv, &o)))
		return code < 0 ? EXIT_OK : code;
	if (config_load(o.providers, &cfg, err, sizeof(err)) ||
	    prices_apply(cfg, o.prices, NULL, err, sizeof(err))) {
		fprintf(stderr, "nightshift run: %s\n", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (o.file && (code = cli_input_check("run", o.file))) {
		config_free(&cfg);
		return code;
	}
	o.db = cli_db_path(o.db);
	code = queue_open(o.db, o.file ? QUEUE_OPEN_CREATE : 0, &q, err,
			  sizeof(err));
	if (code) {
		fprintf(stderr, "nightshift run: %s\n", err);
		config_free(&cfg);
		return code == QUEUE_ENOENT || code == QUEUE_ENOTDB ||
			       code == QUEUE_EVERSION
		       ? EXIT_USAGE
		       : EXIT_RUNTIME;
	}
	if (o.file) {
		struct ingest_opts io = {.max_line = 4u << 20,
					 .max_errors = 100,
					 .strict = o.strict};
		struct ingest_counts n;
		int r = ingest_path(q, o.file, &io, &n);

		if (r == EXIT_RUNTIME || r == EXIT_USAGE ||
		    (o.strict && r == EXIT_PARTIAL)) {
			exit_code = r;
			goto out;
		}
		if (r == EXIT_PARTIAL)
			exit_code = EXIT_PARTIAL; /* remembered for the end */
	}

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(owner, sizeof(owner), "%s:%ld:%lx", host, (long)getpid(),
		 (unsigned long)time(NULL));
	if ((code = qrun_open(q, owner, &qr)) || (code = qrun_begin(qr)) ||
	    (code = claim_unpark(qr, &unparked)) || (code = qrun_commit(qr)) ||
	    (code = claim_recover(qr, (int64_t)time(NULL) * 1000, owner_alive,
				  host, &recovered)) ||
	    (code = stats_backlog(qr, &queued, &next_due, &parked, &others))) {
		fprintf(stderr, "nightshift run: %s\n", queue_errmsg(q));
		exit_code = EXIT_RUNTIME;
		goto out;
	}
	if (recovered)
		fprintf(stderr,
			"nightshift run: took back %lld jobs left running by a "
			"stopped run\n",
			recovered);

	rc.cfg = cfg;
	rc.policy = (struct policy_cfg){.max_attempts = 5,
					.base_ms = 1000,
					.cap_ms = 60000,
					.quality_retries = 1};
	rc.total_at_start = queued;
	rc.keys = xcalloc(cfg->nprovs, sizeof(*rc.keys));
	rc.sched = sched_new(cfg->provs, cfg->nprovs);
	rc.trips_logged = xcalloc(cfg->nprovs, sizeof(*rc.trips_logged));
	rc.pause_logged = xcalloc(cfg->nprovs, sizeof(*rc.pause_logged));
	rc.prov_disabled = xcalloc(cfg->nprovs, sizeof(*rc.prov_disabled));
	rc.disabled_logged = xcalloc(cfg->nprovs, sizeof(*rc.disabled_logged));
	for (size_t i = 0; i < cfg->nprovs; i++) {
		int bad;

		rc.keys[i] = config_key(&cfg->provs[i], &bad);
		atomic_init(&rc.prov_disabled[i], 0);
		rc.max_inflight += cfg->provs[i].max_inflight;
		if (bad) {
			/* never the key itself: it may be half right */
			fprintf(stderr,
				"nightshift run: %s: the key holds a control "
				"character (a line break or a CR from a "
				"Windows file?); it would break the request's "
				"headers. Set it to the key alone\n",
				cfg->provs[i].api_key_env);
			exit_code = EXIT_USAGE;
			goto out;
		}
	}
	rc.calib_off = xcalloc(cfg->nprovs, sizeof(*rc.calib_off));
	{
		size_t ncal = 0;

		for (size_t i = 0; i < cfg->nprovs; i++) {
			rc.calib_off[i] = ncal;
			ncal += cfg->provs[i].nmodels;
		}
		rc.calib = xcalloc(ncal, sizeof(*rc.calib));
	}
	if (usable_providers(cfg, rc.keys) == 0) {
		fprintf(stderr, "nightshift run: no provider has its API key "
				"set; nothing can be sent. Set one of:");
		for (size_t i = 0; i < cfg->nprovs; i++)
			if (cfg->provs[i].api_key_env)
				fprintf(stderr, " %s",
					cfg->provs[i].api_key_env);
		fputc('\n', stderr);
		exit_code = EXIT_USAGE;
		goto out;
	}
	if (o.max_cost >= 0) {
		double spent = 0;

		if (!o.cost_run && ledger_spend(qr, &spent)) {
			fprintf(stderr, "nightshift run: %s\n",
				queue_errmsg(q));
			exit_code = EXIT_RUNTIME;
			goto out;
		}
		/* 1 nano-dollar stands for "zero budget" being set. */
		rc.budget_nusd = (long long)(o.max_cost * 1e9) + 1;
		atomic_store(&rc.ledger_nusd, (long long)(spent * 1e9 + 0.5));
		if (spent >= o.max_cost) {
			fprintf(stderr,
				"nightshift run: this database has already "
				"spent $%.6f of --max-cost $%.6f; nothing "
				"sent\n",
				spent, o.max_cost);
			exit_code = EXIT_STOPPED;
			goto out;
		}
	}
	if (rc.max_inflight > 1024)
		rc.max_inflight = 1024;
	if (o.max_inflight)
		rc.max_inflight = o.max_inflight;
	rc.max_inflight = raise_nofile(rc.max_inflight);
	rc.nworkers = o.workers ? o.workers
				: (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (rc.nworkers < 1)
		rc.nworkers = 1;
	if (rc.nworkers > rc.max_inflight)
		rc.nworkers = rc.max_inflight;
	pthread_mutex_init(&rc.mu, NULL);
	pthread_cond_init(&rc.store_cv, NULL);
	/* without it the main thread ends at its next tick instead */
	rc.end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc.qr = qr;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "nightshift run: libcurl failed to start\n");
		exit_code = EXIT_RUNTIME;
		goto out;
	}
	rc.workers = xcalloc((size_t)rc.nworkers, sizeof(*rc.workers));
	for (int i = 0; i < rc.nworkers; i++)
		if (!(rc.workers[i] = worker_new(&rc, i))) {
			fprintf(stderr, "nightshift run: libcurl failed to "
					"start\n");
			exit_code = EXIT_RUNTIME;
			goto out_curl;
		}

	/* Threads inherit this mask: only the main thread takes signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	st.rc = &rc;
	st.qr = qr;
	for (int i = 0; i < rc.nworkers; i++)
		if (worker_start(rc.workers[i]) == 0)
			started++;
	if (started != rc.nworkers || store_start(&st) != 0) {
		fprintf(stderr, "nightshift run: cannot start threads\n");
		atomic_store(&rc.finished, 1);
		for (int i = 0; i < started; i++)
			worker_join(rc.workers[i]);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		exit_code = EXIT_RUNTIME;
		goto out_curl;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigdelset(&block, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);

	tty = o.progress >= 0 ? o.progress : isatty(2);
	t0 = clk_mono_ms();
	if (o.runtime_ms)
		end_at = t0 + o.runtime_ms;
	if (o.deadline_min >= 0)
		end_at = t0 + (deadline_ms(o.deadline_min) -
			       (int64_t)time(NULL) * 1000);
	if (!tty)
		fprintf(stderr,
			"nightshift run: %lld jobs to do, %d workers, %d in "
			"flight at most\n",
			queued, rc.nworkers, rc.max_inflight);
	while (!atomic_load(&rc.finished)) {
		/* A signal ends the wait too (EINTR), and so does the
		 * store when it is done. */
		struct pollfd pfd = {.fd = rc.end_fd, .events = POLLIN};
		int64_t now;

		(void)poll(&pfd, 1, 100);
		now = clk_mono_ms();
		if (signals_seen == 1 && !atomic_load(&rc.stopping)) {
			atomic_store(&rc.stopping, 1);
			stop_at = now + o.grace_ms;
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr,
				"nightshift run: stopping: no new requests; "
				"waiting up to %.0f s for those in flight "
				"(signal again to stop now)\n",
				(double)o.grace_ms / 1000);
		}
		if (end_at && !atomic_load(&rc.stopping) &&
		    now >= end_at - end_margin(&rc)) {
			/* Stop sending so that what is in flight can
			 * finish by the deadline; at the deadline itself,
			 * give up what is left. */
			atomic_store(&rc.stopping, 1);
			stop_at = end_at;
			time_up = 1;
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "nightshift run: time is up: no new "
					"requests\n");
		}
		if ((signals_seen > 1 || (stop_at && now >= stop_at)) &&
		    !atomic_load(&rc.abort_now)) {
			atomic_store(&rc.stopping, 1);
			atomic_store(&rc.abort_now, 1);
			for (int i = 0; i < rc.nworkers; i++)
				worker_wake(rc.workers[i]);
		}
		if (now - last_print >= (tty ? 500 : 10000)) {
			if (last_print)
				progress(&rc, t0, tty, 0);
			last_print = now;
		}
	}
	store_join(&st);
	for (int i = 0; i < rc.nworkers; i++)
		worker_join(rc.workers[i]);
	progress(&rc, t0, tty, 1);

	if (rc.fatal) {
		char lost[160] = "";

		/* Answered, maybe billed, and not recorded: say so, since
		 * the next run pays for them again. */
		if (rc.lost_requests > 0)
			snprintf(lost, sizeof(lost),
				 " (the %lld requests answered since the last "
				 "commit are not: their jobs will be sent "
				 "again)",
				 rc.lost_requests);
		fprintf(stderr,
			"nightshift run: %s while %s; what was committed is "
			"kept%s and the database is intact; %srun again to "
			"resume\n",
			rc.fatal == QUEUE_EFULL ? "disk full"
						: queue_errmsg(q),
			rc.fatal_msg, lost,
			rc.fatal == QUEUE_EFULL
				? "free some space on its disk, then "
				: "");
		exit_code = EXIT_RUNTIME;
		goto out_curl;
	}
	if (stats_dead(qr, &dead) ||
	    stats_backlog(qr, &queued, &next_due, &parked, &others)) {
		fprintf(stderr, "nightshift run: %s\n", queue_errmsg(q));
		exit_code = EXIT_RUNTIME;
		goto out_curl;
	}
	if (parked)
		why_parked(&rc);
	if (atomic_load(&rc.budget_hit))
		/* Requests are held at their worst case, so the cap can stop
		 * a run that has spent little: say what did not fit. */
		fprintf(stderr,
			"nightshift run: --max-cost reached: $%.6f spent%s of "
			"$%.6f, and the next request could cost up to $%.6f "
			"(its prompt plus its max_tokens, or the model's "
			"output limit for a job without one); run again with "
			"a higher cap, or give the jobs max_tokens, to "
			"continue\n",
			(double)atomic_load(&rc.ledger_nusd) / 1e9,
			o.cost_run ? " this run" : " in all", o.max_cost,
			(double)atomic_load(&rc.refused_nusd) / 1e9);
	if (time_up)
		fprintf(stderr, "nightshift run: stopped for the %s\n",
			o.runtime_ms ? "--max-runtime" : "--deadline");
	if (atomic_load(&rc.stopping) || parked || queued || others) {
		fprintf(stderr,
			"nightshift run: stopped with %lld jobs left; run "
			"again to resume\n",
			queued + parked + others);
		exit_code = EXIT_STOPPED;
	} else if (dead) {
		fprintf(stderr,
			"nightshift run: %lld jobs dead (nightshift export "
			"--failed shows why; nightshift retry requeues them)\n",
			dead);
		exit_code = EXIT_PARTIAL;
	} else if (exit_code != EXIT_PARTIAL) {
		exit_code = EXIT_OK;
	}
out_curl:
	drain(&rc);
	for (int i = 0; rc.workers && i < rc.nworkers; i++)
		worker_free(&rc.workers[i]);
	free(rc.workers);
	curl_global_cleanup();
	pthread_mutex_destroy(&rc.mu);
	pthread_cond_destroy(&rc.store_cv);
out:
	if (rc.end_fd >= 0)
		close(rc.end_fd);
	for (size_t i = 0; rc.keys && i < cfg->nprovs; i++)
		if (rc.keys[i]) {
			explicit_bzero(rc.keys[i], strlen(rc.keys[i]));
			free(rc.keys[i]);
		}
	free(rc.keys);
	sched_free(&rc.sched);
	free(rc.trips_logged);
	free(rc.pause_logged);
	free(rc.prov_disabled);
	free(rc.disabled_logged);
	free(rc.calib);
	free(rc.calib_off);
	qrun_close(&qr);
	queue_close(&q);
	config_free(&cfg);
	return exit_code;
}
