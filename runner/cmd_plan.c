/* cmd_plan.c — `nightshift plan`: a dry run of `run`. For each provider,
 * model and lane, the jobs it would take, their estimated cost (with the
 * calibration earlier runs left) and the time they need at the
 * provider's limits, against the deadline and against the dearest plan.
 * It reads the queue's unfinished jobs (and FILE's lines, as `run FILE`
 * would queue them), routes each as a run would now, and sends nothing
 * and writes nothing. A batch lane's time is its turnaround (learned by
 * earlier runs, else its completion window); jobs already in provider
 * batches are counted apart. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/batch.h"
#include "queue/blob.h"
#include "queue/claim.h"
#include "queue/learned.h"
#include "queue/queue.h"
#include "runner/cli.h"
#include "runner/cmd.h"
#include "runner/config.h"
#include "runner/ingest/jobline.h"
#include "runner/ingest/linereader.h"
#include "runner/json/jsonidx.h"
#include "runner/keys.h"
#include "runner/plan.h"
#include "runner/providers/prices.h"
#include "runner/recall.h"
#include "runner/sched/admit.h"
#include "runner/sched/estimate.h"
#include "util/clock.h"
#include "util/timeparse.h"
#include "util/xalloc.h"

static const char USAGE[] =
	"usage: nightshift plan [--db FILE] [--providers FILE] [--prices FILE]\n"
	"                       [--deadline HH:MM | --max-runtime DUR]\n"
	"                       [--lane auto|sync|batch] [--json] [FILE.jsonl]\n"
	"\n"
	"A dry run of `run`: for each provider, model and lane, the jobs it\n"
	"would take now, their estimated cost and the time they need at the\n"
	"provider's limits (a batch lane: its turnaround), the total against\n"
	"the deadline and against the dearest plan. Reads the queue's\n"
	"unfinished jobs and FILE's lines (as `run FILE` would queue them);\n"
	"sends nothing and writes nothing.\n"
	"\n"
	"  --db FILE          queue database (default $NIGHTSHIFT_DB, else\n"
	"                     ./nightshift.db); without one, FILE alone\n"
	"  --providers FILE   providers config (default $NIGHTSHIFT_PROVIDERS,\n"
	"                     else the built-in catalogue)\n"
	"  --prices FILE      LiteLLM price map overriding the config's prices\n"
	"  --deadline HH:MM   compare the time needed with the next HH:MM\n"
	"  --max-runtime DUR  ... or with this long from now (90m, 2h)\n"
	"  --lane LANE        auto (default): each job's cheapest (provider,\n"
	"                     model, lane), a batch lane only where its\n"
	"                     turnaround fits the deadline; sync; batch (as\n"
	"                     `run --lane`; a job's own lane wins)\n"
	"  --json             one JSON object, for scripts\n"
	"  -h, --help         this help\n";

struct opts {
	const char *db, *providers, *prices, *file;
	int deadline_min; /* -1: none */
	int64_t runtime_ms;
	int json;
	int lane; /* --lane: 0 auto, 1 sync, 2 batch */
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		CLI_OPT_DB,
		{"providers", required_argument, NULL, 'p'},
		{"prices", required_argument, NULL, 'P'},
		{"deadline", required_argument, NULL, 'D'},
		{"max-runtime", required_argument, NULL, 'R'},
		{"lane", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		CLI_OPT_END};
	struct cli_args a = {"plan", argc, argv, opts, NULL, USAGE, 0};
	int c, rc;

	while ((c = cli_opt(&a)) > 0) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'p':
			o->providers = optarg;
			break;
		case 'P':
			o->prices = optarg;
			break;
		case 'D':
		case 'R':
			if ((rc = cli_time_limit("plan", c, optarg,
						 &o->deadline_min,
						 &o->runtime_ms)))
				return rc;
			break;
		case 'l':
			if ((rc = cli_lane("plan", optarg, &o->lane)))
				return rc;
			break;
		case 'j':
			o->json = 1;
			break;
		}
	}
	if (c == CLI_HELP)
		return -1;
	if (c != CLI_END)
		return cli_exit(c);
	if ((rc = cli_time_limits_ok("plan", o->deadline_min, o->runtime_ms)))
		return rc;
	if (argc - optind > 1)
		return cli_usage_error("plan", "one jobs file at a time");
	if (optind < argc)
		o->file = argv[optind];
	return 0;
}

/* plan_job: route j (its body decoded) as a run would now, and count it
 * where it would go. */
static void plan_job(struct plan *pl, struct claim_job *j)
{
	struct admit_state s;
	enum route_none why = ROUTE_EXHAUSTED;
	char *detail = NULL;
	double cost, dearest, sync_cost;
	size_t end;
	int i, lane;

	admit_state_init(&s);
	admit_route(&pl->a, j, &s, &pl->idx, &end, &detail);
	if (s.ncands > 0) {
		i = admit_lane(&pl->a, j, &s, j->lane ? j->lane : pl->run_lane,
			       pl->batch, pl->now_ms, &lane, &cost, &dearest,
			       &sync_cost, &why);
		if (i >= 0) {
			struct route_cand c = s.cands[i];
			struct row *r =
				&pl->rows[2 * (pl->off[c.prov] + c.model) +
					  (size_t)lane];
			struct est_tokens t;

			est_tokens(pl->a.est, c, j->est_input_tokens,
				   j->max_output_tokens, &t);
			r->jobs++;
			r->in += t.in;
			r->out += t.out;
			r->usd += cost;
			pl->jobs++;
			pl->usd += cost;
			pl->dearest += dearest;
			return;
		}
		if (why == ROUTE_PARK) {
			pl->parked++;
			return;
		}
		detail = xstrdup(why == ROUTE_OVER_COST
					 ? "every usable candidate costs more "
					   "than its max_cost_usd"
				 : why == ROUTE_TOO_LONG
					 ? "the prompt is longer than the "
					   "context window of every candidate"
					 : "no candidate left to try");
	}
	if (!pl->unroutable++ && detail)
		snprintf(pl->why, sizeof(pl->why), "%s: %s", j->custom_id,
			 detail);
	free(detail);
}

static int plan_queue(struct plan *pl, struct queue *q)
{
	struct claim_scan *sc = NULL;
	struct blob_codec *codec = blob_codec_new();
	struct claim_job j;
	int rc;

	if ((rc = claim_scan_open(q, &sc)) == QUEUE_OK) {
		while ((rc = claim_scan_next(sc, &j)) == 1) {
			if (claim_job_decode(&j, codec) == 0)
				plan_job(pl, &j);
			else
				pl->rejected++;
			claim_job_clear(&j);
		}
		claim_scan_close(&sc);
	}
	blob_codec_free(&codec);
	return rc < 0 ? rc : QUEUE_OK;
}

/* plan_file: FILE's valid lines as the jobs they would become; lines
 * that ingest would reject are counted. */
static int plan_file(struct plan *pl, const char *path)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	struct linereader *lr;
	const char *line;
	size_t len;
	char err[300];
	int rc;

	if (fd < 0) {
		fprintf(stderr, "nightshift plan: %s: cannot be read\n", path);
		return EXIT_USAGE;
	}
	lr = linereader_new(fd, 4u << 20);
	while ((rc = linereader_next(lr, &line, &len)) != LINEREADER_EOF) {
		struct jobline jl;
		struct claim_job j;

		if (rc == LINEREADER_EIO)
			break;
		if (rc == LINEREADER_ETOOLONG ||
		    jobline_parse(line, len, &jl, err, sizeof(err)) != 0) {
			pl->rejected += len > 0 || rc != LINEREADER_LINE;
			continue;
		}
		memset(&j, 0, sizeof(j));
		j.custom_id = jl.custom_id;
		j.body = jl.body;
		j.body_len = jl.body_len;
		j.candidate = -1;
		j.est_input_tokens = jl.est_input_tokens;
		j.max_output_tokens = jl.max_output_tokens;
		j.max_cost_usd = jl.max_cost_usd;
		j.providers = jl.providers;
		j.lane = jl.lane;
		plan_job(pl, &j);
		jobline_clear(&jl);
	}
	linereader_free(&lr);
	if (fd != 0)
		close(fd);
	if (rc == LINEREADER_EIO) {
		fprintf(stderr, "nightshift plan: %s: read error\n", path);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* The time the plan has, in seconds; < 0 without a deadline. */
static double available_s(const struct opts *o)
{
	if (o->runtime_ms)
		return (double)o->runtime_ms / 1000;
	if (o->deadline_min >= 0)
		return (double)(cli_next_hhmm_ms(o->deadline_min) -
				clk_wall_ms()) /
		       1000;
	return -1;
}

/* learned: the calibration and round trips earlier runs left in q. */
static void learned(struct plan *pl, struct queue *q)
{
	struct learned_prov *p;
	struct learned_calib *c;
	size_t np, nc;

	if (learned_load(q, &p, &np, &c, &nc) != QUEUE_OK)
		return; /* plan without: the estimates' priors */
	recall_apply(pl->cfg, NULL, pl->a.est, p, np, c, nc);
	for (size_t i = 0; i < np; i++) {
		int k = route_find_prov(pl->cfg->provs, pl->cfg->nprovs,
					p[i].provider);

		if (k >= 0)
			pl->rtt_ms[k] = p[i].srtt_ms;
	}
	learned_free(p, np, c, nc);
}

/* lanes: which batch lanes the plan may use, as a run would decide now,
 * and the jobs already in provider batches. */
static void lanes(struct plan *pl, struct queue *q, const struct opts *o)
{
	const struct config *cfg = pl->cfg;
	double avail = available_s(o);
	int64_t end = avail < 0 ? 0 : pl->now_ms + (int64_t)(avail * 1000);
	struct qbatch *open = NULL;
	size_t nopen = 0;

	for (size_t i = 0; i < cfg->nprovs; i++) {
		int64_t ms = 0;
		int n = 0;

		if (q && cfg->provs[i].batch.on &&
		    qbatch_turnaround(q, cfg->provs[i].name, &ms, &n) != 0)
			ms = 0;
		pl->turn_learned[i] = n > 0;
		pl->turn_ms[i] = admit_lane_turnaround(&cfg->provs[i], ms);
		pl->batch[i] = (unsigned char)admit_lane_state(
			&cfg->provs[i], pl->a.keyed[i], ms, pl->now_ms, end);
	}
	if (q && qbatch_open_list(q, &open, &nopen) == QUEUE_OK)
		for (size_t i = 0; i < nopen; i++) {
			pl->held += open[i].requests;
			qbatch_clear(&open[i]);
		}
	free(open);
}

int cmd_plan(int argc, char **argv)
{
	struct opts o = {.deadline_min = -1};
	struct config *cfg = NULL;
	struct queue *q = NULL;
	struct plan pl;
	const char *db;
	char err[700];
	size_t n = 0;
	int code;

	if ((code = parse(argc, argv, &o)))
		return code < 0 ? EXIT_OK : code;
	if (config_load(o.providers, &cfg, err, sizeof(err)) ||
	    prices_apply(cfg->provs, cfg->nprovs, o.prices, NULL, err,
			 sizeof(err))) {
		fprintf(stderr, "nightshift plan: %s\n", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	db = cli_db_path(o.db);
	/* Without a queue FILE alone is planned; with neither, say so. */
	if (o.file && access(db, F_OK) != 0)
		db = NULL;
	if (db && (code = cli_open_queue("plan", db, QUEUE_OPEN_READ, &q))) {
		config_free(&cfg);
		return code;
	}
	memset(&pl, 0, sizeof(pl));
	pl.cfg = cfg;
	pl.now_ms = clk_wall_ms();
	pl.off = xcalloc(cfg->nprovs ? cfg->nprovs : 1, sizeof(*pl.off));
	for (size_t i = 0; i < cfg->nprovs; i++) {
		pl.off[i] = n;
		n += cfg->provs[i].nmodels;
	}
	pl.rows = xcalloc(n ? 2 * n : 1, sizeof(*pl.rows));
	pl.rtt_ms = xcalloc(cfg->nprovs ? cfg->nprovs : 1, sizeof(*pl.rtt_ms));
	pl.batch = xcalloc(cfg->nprovs ? cfg->nprovs : 1, 1);
	pl.turn_ms = xcalloc(cfg->nprovs ? cfg->nprovs : 1, sizeof(*pl.turn_ms));
	pl.turn_learned = xcalloc(cfg->nprovs ? cfg->nprovs : 1, 1);
	pl.run_lane = o.lane;
	pl.avail_s = available_s(&o);
	pl.file = o.file != NULL;
	pl.a = (struct admit){
		.provs = cfg->provs,
		.nprovs = cfg->nprovs,
		.routes = cfg->routes,
		.nroutes = cfg->nroutes,
		.keyed = xcalloc(cfg->nprovs ? cfg->nprovs : 1, 1),
		.disabled = xcalloc(cfg->nprovs ? cfg->nprovs : 1,
				    sizeof(atomic_int)),
		.est = est_new(cfg->provs, cfg->nprovs)};
	for (size_t i = 0; i < cfg->nprovs; i++)
		((unsigned char *)pl.a.keyed)[i] = key_state(&cfg->provs[i]) == 1;
	if (q)
		learned(&pl, q);
	lanes(&pl, q, &o);
	code = q ? plan_queue(&pl, q) : QUEUE_OK;
	if (code != QUEUE_OK) {
		fprintf(stderr, "nightshift plan: %s\n", queue_errmsg(q));
		code = EXIT_RUNTIME;
	} else if (!o.file || (code = plan_file(&pl, o.file)) == 0) {
		if (o.json)
			code = plan_print_json(&pl, db);
		else {
			plan_print_text(&pl, db);
			code = EXIT_OK;
		}
	}
	jsonidx_free(&pl.idx);
	est_free(&pl.a.est);
	free((void *)pl.a.keyed);
	free(pl.a.disabled);
	free(pl.rtt_ms);
	free(pl.batch);
	free(pl.turn_ms);
	free(pl.turn_learned);
	free(pl.rows);
	free(pl.off);
	queue_close(&q);
	config_free(&cfg);
	return code;
}
