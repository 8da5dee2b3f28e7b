/*
 * cmd_plan.c - `trit plan MODEL`: apply the command's options to the
 * configuration, open the model and the devices, and print libtrit's plan
 * (exit 5 when nothing fits). When the model cannot be analysed, a
 * conservative CPU plan is printed with the reason (exit 1).
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char cli_usage_plan[] =
	"Usage: trit plan MODEL [--ctx N] [--batch N] [--kv-type f32|f16|q8_0]\n"
	"                       [--priority latency|throughput|balanced] [--strategy auto|cpu|gpu|hybrid]\n"
	"                       [--tp N] [--pp N] [--ep N] [--cluster FILE]\n"
	"                       [--emit vllm|llama.cpp-rpc] [--engine trit|llama.cpp]\n"
	"                       [--flash-attn auto|on|off] [--json] [--explain]\n"
	"\n"
	"Analyse MODEL, measure the devices (or read a described machine with --devices),\n"
	"estimate every buffer (weights, KV cache, activations, workspace, overhead) and\n"
	"headroom per device, and choose GPU-only, hybrid or CPU-only with the most layers\n"
	"that fit on the GPUs, threads, ubatch and GPU memory fraction. Says why, and what\n"
	"it assumed. Settings also come from --config ([model], [memory], [planner]).\n"
	"\n"
	"  --ctx N        context in tokens (default: [model] context, else the model's)\n"
	"  --batch N      tokens per forward pass (default: the largest that fits, <= 512)\n"
	"  --kv-type T    KV cache element type (default f16)\n"
	"  --priority P   threads for latency (physical cores) or throughput (hardware threads)\n"
	"  --strategy S   force a strategy\n"
	"  --tp N, --pp N, --ep N\n"
	"                 plan a deployment another engine runs over several GPUs:\n"
	"                 tensor-parallel ranks per stage, pipeline stages, expert-\n"
	"                 parallel ranks ([parallel]; docs/memory.md says what each\n"
	"                 GPU holds). Degrees the model does not suit: exit 2\n"
	"  --cluster FILE search the deployments of a cluster inventory (docs/cluster.md):\n"
	"                 tp within a machine, pp within and across machines, ep for\n"
	"                 experts, ranked by estimated decode speed; --tp/--pp/--ep\n"
	"                 then keep only that degree\n"
	"  --emit ENGINE  print the commands that start the deployment instead:\n"
	"                 vllm (vllm serve, Ray across machines) or llama.cpp-rpc\n"
	"                 (ggml-rpc-server on workers, llama-server on the head; whole\n"
	"                 layers only). Exit 2 when the engine cannot run it\n"
	"  --engine E     whose memory to predict ([engine] name): trit's (default) or\n"
	"                 llama.cpp's own buffers on the CPU (model, KV, compute)\n"
	"  --flash-attn M the engine profile's flash attention (default auto: on)\n"
	"  --json         print one JSON document (schema: docs/json.md)\n"
	"  --explain      show the formulas, the KV cache per layer and every buffer\n"
	"Exit status 5 when nothing fits (the largest context that would is reported).\n";

/*
 * When the model cannot be analysed there is no estimate to plan with; the
 * conservative plan is the CPU with one thread per measured core and one
 * token per pass, printed with the reason (the exit status stays 1: the model
 * file is still broken).
 */
static int fallback_plan(const struct trit_registry *reg, const char *why, int json)
{
	const struct trit_device *cpu = NULL;
	const char *backend = NULL;
	uint64_t threads = 1;

	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		for (uint32_t k = 0; k < pi->n_devices; k++) {
			const struct trit_device *d = &pi->devices[k];
			if (d->kind == TRIT_DEVICE_CPU && (!cpu || (d->compute_units.state &&
			    d->compute_units.value > cpu->compute_units.value))) {
				cpu = d;
				backend = pi->name;
			}
		}
	}
	if (!cpu)
		return EXIT_FAIL;
	if (cpu->compute_units.state != TRIT_VALUE_UNKNOWN && cpu->compute_units.value)
		threads = cpu->compute_units.value;
	if (json)
		printf("{\n\t\"strategy\": \"cpu-only\",\n\t\"fallback\": true,\n\t\"device\": "
		       "\"%s/%s\",\n\t\"threads\": %llu,\n\t\"ubatch\": 1,\n\t\"why\": \"the model "
		       "could not be analysed, so nothing was estimated: a conservative CPU plan\"\n}\n",
		       backend, cpu->id, (unsigned long long)threads);
	else
		printf("Fallback plan (the model could not be analysed: %s)\n  strategy    cpu-only on "
		       "%s/%s\n  threads     %llu (its physical cores)\n  ubatch      1\n  memory      "
		       "not estimated\n", why, backend, cpu->id, (unsigned long long)threads);
	return EXIT_OK;
}

/* A command-line option that sets a configuration key. */
struct setting {
	const char *sec, *key, *val, *flag;
};

/* Parse the options into sets (at most 16) and flags: EXIT_OK, -1 when help
 * was printed, or the usage error's status. */
static int plan_options(int argc, char **argv, struct setting *sets, int *n_sets,
                        int *json, int *explain, const char **cluster, const char **emit)
{
	static const struct option opts[] = {
		{ "ctx", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "kv-type", required_argument, NULL, 'k' },
		{ "priority", required_argument, NULL, 'p' },
		{ "strategy", required_argument, NULL, 's' },
		{ "tp", required_argument, NULL, 'T' },
		{ "pp", required_argument, NULL, 'P' },
		{ "ep", required_argument, NULL, 'E' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "emit", required_argument, NULL, 'M' },
		{ "engine", required_argument, NULL, 'G' },
		{ "flash-attn", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "c:b:k:p:s:jeh", opts, NULL)) != -1) {
		struct setting *s = &sets[*n_sets];
		switch (c) {
		case 'c': *s = (struct setting){ "model", "context", optarg, "--ctx" }; break;
		case 'b': *s = (struct setting){ "model", "ubatch", optarg, "--batch" }; break;
		case 'k': *s = (struct setting){ "model", "kv_type", optarg, "--kv-type" }; break;
		case 'p':
			*s = (struct setting){ "planner", "priority", optarg, "--priority" };
			break;
		case 's':
			*s = (struct setting){ "planner", "strategy", optarg, "--strategy" };
			break;
		case 'T': *s = (struct setting){ "parallel", "tp", optarg, "--tp" }; break;
		case 'P': *s = (struct setting){ "parallel", "pp", optarg, "--pp" }; break;
		case 'E': *s = (struct setting){ "parallel", "ep", optarg, "--ep" }; break;
		case 'G': *s = (struct setting){ "engine", "name", optarg, "--engine" }; break;
		case 'F': *s = (struct setting){ "engine", "flash_attn", optarg, "--flash-attn" }; break;
		case 'C': *cluster = optarg; continue;
		case 'M':
			if (strcmp(optarg, "vllm") != 0 && strcmp(optarg, "llama.cpp-rpc") != 0)
				return cli_usage_error("plan", "--emit takes vllm or llama.cpp-rpc, not "
				                       "'%s'", optarg);
			*emit = optarg;
			continue;
		case 'j': *json = 1; continue;
		case 'e': *explain = 1; continue;
		case 'h': fputs(cli_usage_plan, stdout); return -1;
		default: return cli_usage_error("plan", "bad option");
		}
		if (++*n_sets == 16)
			return cli_usage_error("plan", "too many options");
	}
	if (optind != argc - 1)
		return cli_usage_error("plan", "plan takes exactly one MODEL (got %d)",
		                       argc - optind);
	return EXIT_OK;
}

/* The exit status of writing a deployment: 2 when the engine cannot run
 * it (the sentence is on stderr). */
static int emitted(int rc, const char *err)
{
	if (!rc)
		return EXIT_OK;
	fprintf(stderr, "trit: %s\n", err);
	return rc == TRIT_EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

/* A deployment another engine runs with the [parallel] degrees: what each
 * GPU holds. Exit 5 when it does not fit, 2 when the model does not suit
 * the degrees (a usage error: the degrees were asked for). */
static int parallel_plan(struct cli *cli, const struct trit_model *m, const char *path,
                         const struct trit_parallel_options *par, const char *emit, int json,
                         int explain)
{
	struct trit_plan_options po;
	struct trit_parallel_plan *plan;
	struct trit_parallel_summary sum;
	char err[4096];
	int rc;

	trit_runtime_plan_options(cli->rt, &po);
	if ((rc = trit_parallel_plan_create(cli->rt, m, &po, par, &plan, err, sizeof err))) {
		fprintf(stderr, "trit: cannot plan %s with tp %u, pp %u, ep %u: %s\n", path, par->tp,
		        par->pp, par->ep, err);
		return rc == TRIT_EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	trit_parallel_plan_get_summary(plan, &sum);
	if (emit && sum.fits)
		rc = emitted(trit_parallel_plan_emit(plan, emit, json, stdout, err, sizeof err), err);
	else if (emit) {
		fprintf(stderr, "trit: nothing to emit: %s\n", sum.why);
		rc = EXIT_NOFIT;
	} else {
		rc = json ? cli_print_json(trit_parallel_plan_report_json(plan, explain)) : EXIT_OK;
		if (!json)
			trit_parallel_plan_report_text(plan, stdout, explain);
		if (!rc && !sum.fits)
			rc = EXIT_NOFIT;
	}
	trit_parallel_plan_free(plan);
	return rc;
}

/* A degree set explicitly (command line, environment, INI), else 0. */
static uint32_t degree_given(struct cli *cli, const char *key)
{
	struct trit_config_value v;

	if (trit_runtime_config(cli->rt, "parallel", key, &v) || !v.text || !v.where ||
	    strcmp(v.where, "default") == 0)
		return 0;
	return (uint32_t)v.i;
}

/* The deployments of a cluster inventory, ranked. Exit 5 when none fits,
 * 3 when the inventory has problems. */
static int cluster_plan(struct cli *cli, const struct trit_model *m, const char *cluster,
                        const char *emit, int json, int explain)
{
	struct trit_parallel_options par = { degree_given(cli, "tp"), degree_given(cli, "pp"),
	                                     degree_given(cli, "ep") };
	struct trit_plan_options po;
	struct trit_cluster_plan *plan;
	struct trit_cluster_summary sum;
	char err[8192];
	int rc;

	trit_runtime_plan_options(cli->rt, &po);
	if ((rc = trit_cluster_plan_create(m, &po, cluster, &par, &plan, err, sizeof err))) {
		fprintf(stderr, "trit: %s\n", err);
		return rc == TRIT_ECONFIG || rc == TRIT_EIO ? EXIT_CONFIG : EXIT_FAIL;
	}
	trit_cluster_plan_get_summary(plan, &sum);
	if (emit && sum.n_fit)
		rc = emitted(trit_cluster_plan_emit(plan, emit, json, stdout, err, sizeof err), err);
	else if (emit) {
		fprintf(stderr, "trit: nothing to emit: no deployment of %s fits (trit plan "
		        "--cluster %s --explain says why)\n", cluster, cluster);
		rc = EXIT_NOFIT;
	} else {
		rc = json ? cli_print_json(trit_cluster_plan_report_json(plan, explain)) : EXIT_OK;
		if (!json)
			trit_cluster_plan_report_text(plan, stdout, explain);
		if (!rc && !sum.n_fit)
			rc = EXIT_NOFIT;
	}
	trit_cluster_plan_free(plan);
	return rc;
}

/* [engine] name = llama.cpp: llama.cpp's own buffers, printed; -1 when the
 * engine is trit's (plan as usual). */
static int engine_profile(struct cli *cli, const struct trit_model *m, int json)
{
	struct trit_config_value v;
	struct trit_plan_options po;
	char err[2048];

	if (trit_runtime_config(cli->rt, "engine", "name", &v) || !v.text ||
	    strcmp(v.text, "llama.cpp") != 0)
		return -1;
	trit_runtime_plan_options(cli->rt, &po);
	if (trit_engine_profile_write(cli->rt, m, &po, json, stdout, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Plan m on the open devices and print it. */
static int plan_and_print(struct cli *cli, const struct trit_model *m, const char *path,
                          int json, int explain)
{
	struct trit_plan_options po;
	struct trit_plan_summary sum;
	struct trit_plan *plan;
	char err[4096];
	int rc;

	trit_runtime_plan_options(cli->rt, &po);
	if (trit_plan_create(cli->rt, m, &po, &plan, err, sizeof err)) {
		fprintf(stderr, "trit: cannot plan %s: %s\n", path, err);
		return EXIT_FAIL;
	}
	rc = EXIT_OK;
	if (json)
		rc = cli_print_json(trit_plan_report_json(plan, explain));
	else
		trit_plan_report_text(plan, stdout, explain);
	trit_plan_get_summary(plan, &sum);
	if (!rc && sum.strategy == TRIT_STRATEGY_NONE)
		rc = EXIT_NOFIT;
	trit_plan_free(plan);
	return rc;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	struct setting sets[16];
	int n_sets = 0, json = 0, explain = 0, rc;
	char err[4096];
	struct trit_model *m = NULL;
	struct trit_parallel_options par;
	const char *cluster = NULL, *emit = NULL;

	if ((rc = plan_options(argc, argv, sets, &n_sets, &json, &explain, &cluster, &emit)))
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = cli_load_config(cli)))
		return rc;
	for (int i = 0; i < n_sets; i++)
		if ((rc = cli_set(cli, sets[i].sec, sets[i].key, sets[i].val, sets[i].flag)))
			return rc;
	if (trit_model_open(argv[optind], &m, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		if (cli_open_devices(cli) == EXIT_OK)
			fallback_plan(trit_runtime_registry(cli->rt), err, json);
		return EXIT_FAIL;
	}
	/* another machine's GPUs, or llama.cpp's buffers from the model alone:
	 * this machine's devices are not opened */
	rc = cluster ? cluster_plan(cli, m, cluster, emit, json, explain) :
	     engine_profile(cli, m, json);
	if (rc >= 0) {
		trit_model_close(m);
		return rc;
	}
	if ((rc = cli_open_devices(cli))) {
		trit_model_close(m);
		return rc;
	}
	trit_runtime_parallel_options(cli->rt, &par);
	if (par.tp > 1 || par.pp > 1 || par.ep > 1 || emit)
		rc = parallel_plan(cli, m, argv[optind], &par, emit, json, explain);
	else {
		/* a described machine's devices were never measured here; a cache
		 * that cannot be read is warned about by the planner */
		if (!cli->devices_file)
			trit_runtime_load_bench_cache(cli->rt, NULL, NULL, 0);
		rc = plan_and_print(cli, m, argv[optind], json, explain);
	}
	trit_model_close(m);
	return rc;
}
