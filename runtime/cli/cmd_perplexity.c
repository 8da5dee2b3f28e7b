/*
 * cmd_perplexity.c - `trit perplexity MODEL FILE`: plan and load MODEL as
 * `trit run` does (runtime, plan, session), with every token's logits, and
 * measure the perplexity of FILE's text the way llama.cpp's llama-perplexity
 * does (trit_session_perplexity; docs/perplexity.md): running estimate per
 * window on stderr, then PPL +- its error, tokens scored, tokens/s and the
 * plan (strategy, devices, ternary format), or one JSON document.
 */
#include <build-config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_usage_perplexity[] =
	"Usage: trit perplexity MODEL FILE [--ctx N] [--batch N] [--threads N] [--chunks N]\n"
	"                       [-c deploy.ini] [--json] [-q]\n"
	"\n"
	"Measure MODEL's perplexity on the text of FILE as llama.cpp's llama-perplexity\n"
	"does: the text's tokens (BOS first when the vocabulary adds one) are cut into\n"
	"windows of --ctx tokens, each evaluated from an empty cache with its first\n"
	"token BOS, and the second half of each window scored. The model is planned\n"
	"and loaded as trit run does ([planner] ternary_format picks I2_S, TL1 or TL2).\n"
	"Prints the running estimate per window on stderr, then PPL +- its standard\n"
	"error, the tokens scored, tokens/s and the plan (docs/perplexity.md).\n"
	"\n"
	"      --ctx N            window in tokens (default: [model] context, else 512 or\n"
	"                         the model's training context when smaller)\n"
	"      --batch N          tokens per forward pass (default: the plan's ubatch)\n"
	"      --threads N        CPU threads (default: the plan's)\n"
	"      --chunks N         evaluate at most N windows (default: all)\n"
	"      --kv-type T        f16 (default), f32 or q8_0\n"
	"      --no-mmap          copy the weights instead of using the file in place\n"
	"  -c, --config FILE      deployment INI file (as trit --config)\n"
	"      --json             one JSON document on stdout (docs/json.md)\n"
	"  -q, --quiet            only the result line (and errors)\n"
	"Exit status 1 on errors (a text shorter than one window included), 2 on usage\n"
	"errors, 3 on configuration errors, 5 when the model fits nowhere.\n";

struct ppl_args {
	const char *model, *file;
	int json, no_mmap;
	uint32_t chunks;
	const char *sets[4][4];
	int n_sets;
};

enum { O_CTX = 256, O_BATCH, O_THREADS, O_CHUNKS, O_KV, O_NOMMAP, O_JSON };

static int add_set(struct ppl_args *a, const char *key, const char *sec, const char *val,
                   const char *flag)
{
	if (a->n_sets == (int)(sizeof a->sets / sizeof a->sets[0]))
		return cli_usage_error("perplexity", "too many options (%s)", flag);
	a->sets[a->n_sets][0] = sec;
	a->sets[a->n_sets][1] = key;
	a->sets[a->n_sets][2] = val;
	a->sets[a->n_sets++][3] = flag;
	return 0;
}

static int ppl_options(struct cli *cli, int argc, char **argv, struct ppl_args *a)
{
	static const struct option opts[] = {
		{ "ctx", required_argument, NULL, O_CTX }, { "batch", required_argument, NULL, O_BATCH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "chunks", required_argument, NULL, O_CHUNKS },
		{ "kv-type", required_argument, NULL, O_KV },
		{ "no-mmap", no_argument, NULL, O_NOMMAP }, { "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, O_JSON }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	int c, rc = 0;
	char *end;
	unsigned long v;

	optind = 0;
	while (!rc && (c = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
		switch (c) {
		case O_CTX: rc = add_set(a, "context", "model", optarg, "--ctx"); break;
		case O_BATCH: rc = add_set(a, "ubatch", "model", optarg, "--batch"); break;
		case O_THREADS: rc = add_set(a, "threads", "runtime", optarg, "--threads"); break;
		case O_KV: rc = add_set(a, "kv_type", "model", optarg, "--kv-type"); break;
		case O_CHUNKS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || v < 1 || v > UINT32_MAX)
				return cli_usage_error("perplexity", "--chunks wants a whole number from 1, "
				                       "not '%s'", optarg);
			a->chunks = (uint32_t)v;
			break;
		case O_NOMMAP: a->no_mmap = 1; break;
		case 'c': cli->config_path = optarg; break;
		case O_JSON: a->json = 1; break;
		case 'q': cli->quiet = 1; break;
		case 'h': fputs(cli_usage_perplexity, stdout); return -1;
		default: return cli_usage_error("perplexity", "bad option");
		}
	}
	if (rc)
		return rc;
	if (optind != argc - 2)
		return cli_usage_error("perplexity", "perplexity takes a MODEL and a text FILE (got "
		                       "%d arguments)", argc - optind);
	a->model = argv[optind];
	a->file = argv[optind + 1];
	return EXIT_OK;
}

/* The window: --ctx or [model] context when set, else 512 (the figure
 * llama.cpp's perplexity is usually quoted at), or the training context
 * when that is smaller. */
static int default_ctx(struct cli *cli, const struct trit_model *m)
{
	struct trit_config_value v;
	struct trit_model_facts f;
	char buf[16];

	if (trit_runtime_config(cli->rt, "model", "context", &v) == 0 && v.i > 0)
		return EXIT_OK;
	trit_model_get_facts(m, &f);
	snprintf(buf, sizeof buf, "%u", f.n_ctx_train && f.n_ctx_train < 512 ? f.n_ctx_train : 512);
	return cli_set(cli, "model", "context", buf, "trit perplexity's default window");
}

static void on_chunk(void *ctx, uint32_t chunk, uint32_t n_chunks, double ppl)
{
	(void)ctx;
	fprintf(stderr, "[%u]%.4f,", chunk, ppl);
	if (chunk == n_chunks || chunk % 16 == 0)
		fputc('\n', stderr);
	fflush(stderr);
}

static void print_result(const struct trit_session *s, const struct trit_perplexity_result *r,
                         int quiet)
{
	const struct trit_plan *plan = trit_session_plan(s);
	struct trit_plan_summary sum;
	struct trit_plan_device_info d;

	printf("PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_err);
	if (quiet)
		return;
	trit_plan_get_summary(plan, &sum);
	printf("scored %llu tokens of %u windows of %u (%llu tokens in the text, %s), "
	       "batch %u: %.2f s, %.1f tokens/s\n", (unsigned long long)r->n_scored, r->n_chunks,
	       r->n_ctx, (unsigned long long)r->n_tokens, r->add_bos ? "BOS first" : "no BOS",
	       r->n_batch, r->seconds, r->tokens_per_s);
	printf("plan: %s, %u threads", sum.strategy_name, sum.threads);
	for (uint32_t i = 0; i < sum.n_devices && !trit_plan_get_device(plan, i, &d); i++)
		printf("; %s/%s: %u layers, ternary %s", d.backend, d.device_id, d.n_layers,
		       d.ternary_format ? d.ternary_format : "none");
	printf("\n");
}

static int measure(struct cli *cli, struct ppl_args *a, const struct trit_model *m,
                   const char *text, size_t len)
{
	struct trit_plan_options po;
	struct trit_plan_summary sum;
	struct trit_plan *plan;
	struct trit_session *s;
	struct trit_session_options so = { .no_zero_copy = a->no_mmap, .all_logits = 1 };
	struct trit_perplexity_options o = { .max_chunks = a->chunks };
	struct trit_perplexity_result r;
	char err[4096];
	int rc;

	struct trit_config_value ctx;

	/* the window is the context asked for (the plan's may be padded) */
	if (trit_runtime_config(cli->rt, "model", "context", &ctx) == 0 && ctx.i > 0)
		o.n_ctx = (uint32_t)ctx.i;
	if (!cli->quiet && !a->json)
		o.progress = on_chunk;
	trit_runtime_plan_options(cli->rt, &po);
	po.all_logits = 1;
	if (trit_plan_create(cli->rt, m, &po, &plan, err, sizeof err)) {
		fprintf(stderr, "trit: cannot plan %s: %s\n", a->model, err);
		return EXIT_FAIL;
	}
	trit_plan_get_summary(plan, &sum);
	if (sum.strategy == TRIT_STRATEGY_NONE) {
		fprintf(stderr, "trit: %s fits nowhere: %s\n", a->model, sum.why);
		trit_plan_free(plan);
		return EXIT_NOFIT;
	}
	if (trit_session_new(cli->rt, m, plan, &so, &s, err, sizeof err)) {
		fprintf(stderr, "trit: cannot load %s: %s\n", a->model, err);
		trit_plan_free(plan);
		return EXIT_FAIL;
	}
	rc = trit_session_perplexity(s, text, len, &o, &r, err, sizeof err);
	if (rc) {
		fprintf(stderr, "trit: %s: %s\n", a->file, err);
		rc = EXIT_FAIL;
	} else if (a->json) {
		rc = cli_print_json(trit_perplexity_report_json(s, &r));
	} else {
		print_result(s, &r, cli->quiet);
		rc = EXIT_OK;
	}
	trit_session_free(s);
	trit_plan_free(plan);
	return rc;
}

int cmd_perplexity(struct cli *cli, int argc, char **argv)
{
	struct ppl_args a = { 0 };
	struct trit_model *m = NULL;
	char *text, err[4096];
	size_t len;
	int rc;

	if ((rc = ppl_options(cli, argc, argv, &a)))
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = cli_load_config(cli)))
		return rc;
	for (int i = 0; i < a.n_sets; i++)
		if ((rc = cli_set(cli, a.sets[i][0], a.sets[i][1], a.sets[i][2], a.sets[i][3])))
			return rc;
	if ((rc = cli_refuse_parallel(cli, "trit perplexity")))
		return rc;
	if (!(text = cli_read_input(a.file, (size_t)256 << 20, &len)))
		return EXIT_FAIL;
	if (trit_model_open(a.model, &m, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		free(text);
		return EXIT_FAIL;
	}
	if ((rc = default_ctx(cli, m)) == EXIT_OK && (rc = cli_open_devices(cli)) == EXIT_OK) {
		trit_runtime_load_bench_cache(cli->rt, NULL, NULL, 0);
		rc = measure(cli, &a, m, text, len);
	}
	trit_model_close(m);
	free(text);
	return rc;
}
