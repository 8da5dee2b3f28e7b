/*
 * cmd_run.c - `trit run MODEL -p PROMPT`: plan the model on this machine,
 * load it where the plan says (with a progress bar on a terminal, JSON
 * progress events with --json), generate, stream the prompt and the text to
 * stdout, and print the plan summary, the load report, the speeds and memory
 * measured against the plan to stderr (or everything as one JSON document on
 * stdout).
 */
#include <build-config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char cli_usage_run[] =
	"Usage: trit run MODEL -p PROMPT [-n N] [--chat] [--seed S] [--ctx N] [--threads N]\n"
	"                [-c deploy.ini] [--json] [-q] [options]\n"
	"\n"
	"Plan MODEL on this machine, load it where the plan says and generate text from\n"
	"PROMPT. The prompt, then the text as it is generated, go to stdout; the plan\n"
	"summary, the load report, prompt and decode tokens/s and memory measured against\n"
	"the plan go to stderr. Settings also come from the configuration ([model],\n"
	"[memory], [planner], [runtime]).\n"
	"\n"
	"  -p, --prompt TEXT      the prompt (or -f FILE, - for stdin)\n"
	"  -f, --file FILE        read the prompt from FILE\n"
	"  -n, --n-predict N      tokens to generate (default 128; -1 until end of turn)\n"
	"      --chat             format the prompt as a user turn of the model's chat template\n"
	"      --system TEXT      with --chat: a system turn first\n"
	"      --chat-template T  with --chat: llama3, bitnet, falcon3, chatml or llama2\n"
	"      --seed S           sampling seed (default 0): same seed, same tokens\n"
	"      --temp T           temperature (default 0.8; 0 = greedy)\n"
	"      --top-k K          (default 40; 0 = off)\n"
	"      --top-p P          (default 0.95; 1 = off)\n"
	"      --min-p P          (default 0.05; 0 = off)\n"
	"      --repeat-penalty R (default 1 = off)  --repeat-last-n N (default 64)\n"
	"      --ctx N            context in tokens (default: [model] context, else the model's)\n"
	"      --batch N          tokens per forward pass (default: the plan's ubatch)\n"
	"      --kv-type T        f16 (default), f32 or q8_0\n"
	"      --threads N        CPU threads (default: the plan's)\n"
	"      --no-mmap          copy the weights instead of using the file in place\n"
	"      --no-display-prompt  print the generated text only (as -q, --chat and --json do)\n"
	"  -c, --config FILE      deployment INI file (as trit --config)\n"
	"      --json             one JSON document on stdout (docs/json.md); progress as JSON\n"
	"                         lines on stderr\n"
	"  -q, --quiet            only the generated text (and errors)\n"
	"Exit status 1 on errors, 2 on usage errors, 5 when the model fits nowhere.\n";

struct run_args {
	const char *model, *prompt, *file, *system, *chat_template;
	int chat, json, no_mmap, no_display_prompt;
	struct trit_generate_options gen;
	const char *sets[8][4];      /* section, key, value, flag */
	int n_sets;
};

static int parse_num(const char *flag, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return cli_usage_error("run", "%s wants a number from %g to %g, not '%s'", flag, lo,
		                       hi, s);
	*out = v;
	return 0;
}

static int add_set(struct run_args *a, const char *sec, const char *key, const char *val,
                   const char *flag)
{
	if (a->n_sets == 8)
		return cli_usage_error("run", "too many options");
	a->sets[a->n_sets][0] = sec;
	a->sets[a->n_sets][1] = key;
	a->sets[a->n_sets][2] = val;
	a->sets[a->n_sets++][3] = flag;
	return 0;
}

enum { O_CHAT = 256, O_SYSTEM, O_TEMPLATE, O_SEED, O_TEMP, O_TOPK, O_TOPP, O_MINP, O_REPP,
       O_REPN, O_CTX, O_BATCH, O_KV, O_THREADS, O_NOMMAP, O_JSON,
       O_NOPROMPT };

/* A sampling option: its value checked and stored. */
static int sampling_opt(struct run_args *a, int c, const char *v)
{
	double d;
	int rc = 0;

	switch (c) {
	case 'n': rc = parse_num("--n-predict", v, -1, INT32_MAX, &d); a->gen.n_predict = (int32_t)d; break;
	case O_SEED: rc = parse_num("--seed", v, 0, 18446744073709551615.0, &d);
		a->gen.seed = strtoull(v, NULL, 10); break;
	case O_TEMP: rc = parse_num("--temp", v, 0, 1e6, &d); a->gen.temperature = (float)d; break;
	case O_TOPK: rc = parse_num("--top-k", v, 0, INT32_MAX, &d); a->gen.top_k = (int32_t)d; break;
	case O_TOPP: rc = parse_num("--top-p", v, 0, 1, &d); a->gen.top_p = (float)d; break;
	case O_MINP: rc = parse_num("--min-p", v, 0, 1, &d); a->gen.min_p = (float)d; break;
	case O_REPP: rc = parse_num("--repeat-penalty", v, 1e-6, 1e6, &d);
		a->gen.repeat_penalty = (float)d; break;
	case O_REPN: rc = parse_num("--repeat-last-n", v, 0, 1 << 20, &d);
		a->gen.repeat_last_n = (int32_t)d; break;
	}
	return rc;
}

static int run_options(struct cli *cli, int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "prompt", required_argument, NULL, 'p' }, { "file", required_argument, NULL, 'f' },
		{ "n-predict", required_argument, NULL, 'n' }, { "chat", no_argument, NULL, O_CHAT },
		{ "system", required_argument, NULL, O_SYSTEM },
		{ "chat-template", required_argument, NULL, O_TEMPLATE },
		{ "seed", required_argument, NULL, O_SEED }, { "temp", required_argument, NULL, O_TEMP },
		{ "top-k", required_argument, NULL, O_TOPK }, { "top-p", required_argument, NULL, O_TOPP },
		{ "min-p", required_argument, NULL, O_MINP },
		{ "repeat-penalty", required_argument, NULL, O_REPP },
		{ "repeat-last-n", required_argument, NULL, O_REPN },
		{ "ctx", required_argument, NULL, O_CTX }, { "batch", required_argument, NULL, O_BATCH },
		{ "kv-type", required_argument, NULL, O_KV },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "no-mmap", no_argument, NULL, O_NOMMAP }, { "config", required_argument, NULL, 'c' },
		{ "no-display-prompt", no_argument, NULL, O_NOPROMPT },
		{ "json", no_argument, NULL, O_JSON }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	int c, rc = 0;

	trit_generate_options_default(&a->gen);
	optind = 0;
	while (!rc && (c = getopt_long(argc, argv, "p:f:n:c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->prompt = optarg; break;
		case 'f': a->file = optarg; break;
		case O_CHAT: a->chat = 1; break;
		case O_SYSTEM: a->system = optarg; break;
		case O_TEMPLATE: a->chat_template = optarg; break;
		case O_CTX: rc = add_set(a, "model", "context", optarg, "--ctx"); break;
		case O_BATCH: rc = add_set(a, "model", "ubatch", optarg, "--batch"); break;
		case O_KV: rc = add_set(a, "model", "kv_type", optarg, "--kv-type"); break;
		case O_THREADS: rc = add_set(a, "runtime", "threads", optarg, "--threads"); break;
		case O_NOMMAP: a->no_mmap = 1; break;
		case O_NOPROMPT: a->no_display_prompt = 1; break;
		case 'c': cli->config_path = optarg; break;
		case O_JSON: a->json = 1; break;
		case 'q': cli->quiet = 1; break;
		case 'h': fputs(cli_usage_run, stdout); return -1;
		case '?': return cli_usage_error("run", "bad option");
		default: rc = sampling_opt(a, c, optarg); break;
		}
	}
	if (rc)
		return rc;
	if (optind != argc - 1)
		return cli_usage_error("run", "run takes exactly one MODEL (got %d)", argc - optind);
	if (!a->prompt == !a->file)
		return cli_usage_error("run", "give the prompt with -p TEXT or -f FILE (one of them)");
	a->model = argv[optind];
	return EXIT_OK;
}

/* ------------------------------------------------------------ progress */

struct progress {
	int mode;                  /* 0 none, 1 bar on a terminal, 2 JSON lines */
	double last;
};

static void on_progress(void *ctx, const struct trit_load_status *s)
{
	struct progress *p = ctx;
	int done = s->done_bytes >= s->total_bytes && s->done_tensors >= s->total_tensors;
	double mib = 1024.0 * 1024.0, rate, left;

	if (!done && s->seconds - p->last < 0.1)
		return;
	p->last = s->seconds;
	rate = s->seconds > 0 ? (double)s->done_bytes / s->seconds : 0;
	left = rate > 0 ? (double)(s->total_bytes - s->done_bytes) / rate : -1;
	if (p->mode == 2) {
		fprintf(stderr, "{\"event\": \"load\", \"done_bytes\": %llu, \"total_bytes\": %llu, "
		        "\"done_tensors\": %u, \"total_tensors\": %u, \"seconds\": %.3f}\n",
		        (unsigned long long)s->done_bytes, (unsigned long long)s->total_bytes,
		        s->done_tensors, s->total_tensors, s->seconds);
		return;
	}
	int width = 30, fill = s->total_bytes ? (int)(width * ((double)s->done_bytes /
	            (double)s->total_bytes)) : width;
	fprintf(stderr, "\rloading [%.*s%*s] %6.1f/%.1f MiB %7.1f MiB/s", fill,
	        "==============================", width - fill, "", (double)s->done_bytes / mib,
	        (double)s->total_bytes / mib, rate / mib);
	if (done)
		fprintf(stderr, " %.2f s\n", s->seconds);
	else if (left >= 0)
		fprintf(stderr, " %.1f s left ", left);
	fflush(stderr);
}

static int on_text(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	return ferror(stdout) ? 1 : 0;
}

/* ------------------------------------------------------------ the run */

static void print_plan_summary(const struct trit_plan *plan)
{
	struct trit_plan_summary sum;
	struct trit_plan_device_info d;

	trit_plan_get_summary(plan, &sum);
	fprintf(stderr, "plan: %s, %u threads, context %u, ubatch %u, %.1f MiB planned\n",
	        sum.strategy_name, sum.threads, sum.n_ctx, sum.ubatch,
	        (double)sum.total_bytes / (1024.0 * 1024.0));
	for (uint32_t i = 0; i < sum.n_devices && !trit_plan_get_device(plan, i, &d); i++) {
		char layers[48] = "no layers";
		if (d.n_layers)
			snprintf(layers, sizeof layers, "layers %u..%u", d.first_layer,
			         d.first_layer + d.n_layers - 1);
		fprintf(stderr, "  %s/%s: %s, %.1f MiB\n", d.backend, d.device_id, layers,
		        (double)d.bytes / (1024.0 * 1024.0));
	}
}

static int generate(struct cli *cli, struct run_args *a, struct trit_session *s)
{
	struct trit_run_report *rep = NULL;
	char err[4096];
	int rc;

	a->gen.chat = a->chat;
	a->gen.system = a->system;
	a->gen.chat_template = a->chat_template;
	if (!a->json) {
		a->gen.on_text = on_text;
		if (!cli->quiet)
			trit_session_load_report_text(s, stderr);
		/* the prompt as given, then its continuation, as llama.cpp's
		 * llama-cli shows them; not a chat turn's template around it */
		if (!cli->quiet && !a->chat && !a->no_display_prompt)
			fputs(a->gen.prompt, stdout);
	}
	rc = trit_session_generate(s, &a->gen, &rep, err, sizeof err);
	if (!a->json) {
		putchar('\n');
		fflush(stdout); /* before the report on stderr, which may be the same file */
	}
	if (rc)
		fprintf(stderr, "trit: %s\n", err);
	if (rep && a->json) {
		if (cli_print_json(trit_run_report_json(rep)))
			rc = 1;
	} else if (rep && !cli->quiet) {
		trit_run_report_text(rep, stderr);
	}
	trit_run_report_free(rep);
	return rc ? EXIT_FAIL : EXIT_OK;
}

static int run_model(struct cli *cli, struct run_args *a, const struct trit_model *m)
{
	struct trit_plan_options po;
	struct trit_plan_summary sum;
	struct trit_plan *plan;
	struct trit_session *s;
	struct progress prog = { .mode = a->json ? 2 : (!cli->quiet && isatty(2)) ? 1 : 0 };
	struct trit_session_options so = { .no_zero_copy = a->no_mmap,
	                                   .progress = prog.mode ? on_progress : NULL,
	                                   .ctx = &prog };
	char err[4096];
	int rc;

	trit_runtime_plan_options(cli->rt, &po);
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
	if (!cli->quiet && !a->json)
		print_plan_summary(plan);
	if ((rc = trit_session_new(cli->rt, m, plan, &so, &s, err, sizeof err))) {
		fprintf(stderr, "trit: cannot load %s: %s\n", a->model, err);
		trit_plan_free(plan);
		return EXIT_FAIL;
	}
	rc = generate(cli, a, s);
	trit_session_free(s);
	trit_plan_free(plan);
	return rc;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_args a = { 0 };
	struct trit_model *m = NULL;
	char *prompt = NULL, err[4096];
	size_t prompt_len;
	int rc;

	if ((rc = run_options(cli, argc, argv, &a)))
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = cli_load_config(cli)))
		return rc;
	for (int i = 0; i < a.n_sets; i++)
		if ((rc = cli_set(cli, a.sets[i][0], a.sets[i][1], a.sets[i][2], a.sets[i][3])))
			return rc;
	if ((rc = cli_refuse_parallel(cli, "trit run")))
		return rc;
	if (a.file && !(prompt = cli_read_input(a.file, (size_t)64 << 20, &prompt_len)))
		return EXIT_FAIL;
	a.gen.prompt = prompt ? prompt : a.prompt;
	if (trit_model_open(a.model, &m, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		free(prompt);
		return EXIT_FAIL;
	}
	if ((rc = cli_open_devices(cli)) == EXIT_OK) {
		trit_runtime_load_bench_cache(cli->rt, NULL, NULL, 0);
		rc = run_model(cli, &a, m);
	}
	trit_model_close(m);
	free(prompt);
	return rc;
}
