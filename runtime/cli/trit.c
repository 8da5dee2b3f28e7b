/*
 * trit.c - the command-line interface. It parses arguments, builds the
 * configuration, and calls the runtime modules in order; it decides nothing
 * itself. Exit codes: 0 success, 1 failure, 2 usage error, 3 configuration
 * error, 4 a plugin was skipped under --strict, 5 nothing fits (plan).
 */
#include <build-config.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <trit/trit.h>

#include "bench/bench.h"
#include "core/common.h"
#include "config/config.h"
#include "core/log.h"
#include "model/model.h"
#include "plan/plan.h"
#include "backend/registry.h"
#include "report/report.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
	EXIT_SKIPPED = 4,
	EXIT_NOFIT = 5
};

#define MAX_PLUGIN_DIRS 64

struct cli {
	struct trit_config cfg;
	const char *config_path;
	const char *devices_file; /* --devices: plan for the machine it describes */
	const char *plugin_dirs[MAX_PLUGIN_DIRS];
	size_t n_plugin_dirs;
	int verbose, quiet;
};

static const char usage_main[] =
	"Usage: trit [OPTIONS] COMMAND [COMMAND OPTIONS]\n"
	"\n"
	"trit decides where a ternary (BitNet b1.58) language model runs, and runs it.\n"
	"\n"
	"Commands:\n"
	"  devices      list backend plugins, their devices and what was measured\n"
	"  inspect      analyse a model file: architecture, parameters, bytes by role/type/layer\n"
	"  plan         decide where a model runs: CPU, GPU or a hybrid split, with memory per device\n"
	"  bench        measure each device's ternary kernels against a streaming read of\n"
	"               the same bytes; the results feed trit plan\n"
	"  config       show the effective configuration and where each value came from\n"
	"  help [CMD]   show help for trit or for one command\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE      read deployment settings from FILE (default: $TRIT_CONFIG)\n"
	"  -P, --plugin-dir DIR   search DIR for plugins first (may be repeated)\n"
	"  -D, --devices FILE     use the devices described in FILE instead of probing\n"
	"                         this machine (no plugins are loaded): plan for hardware\n"
	"                         you do not have; format in docs/devices.md, examples in\n"
	"                         docs/machines/\n"
	"  -v, --verbose          more messages (repeat for debug, trace)\n"
	"  -q, --quiet            only errors\n"
	"  -V, --version          print the version and plugin ABI, then exit\n"
	"  -h, --help             print this help, then exit\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error, 3 configuration error\n"
	"(including a --devices file that does not load), 4 a plugin was skipped\n"
	"(devices --strict), 5 the model fits nowhere (plan).\n"
	"Configuration keys and TRIT_* environment variables: docs/config.md,\n"
	"or `trit config --schema`.\n";

static const char usage_devices[] =
	"Usage: trit devices [--json] [--strict] [-v]\n"
	"\n"
	"Find the backend plugins (in --plugin-dir, $TRIT_PLUGIN_PATH, [runtime] plugin_path,\n"
	"the build tree when run uninstalled, and the installed plugin directory), probe\n"
	"them, and list each plugin with its devices: memory total and free, bandwidth,\n"
	"compute units, capabilities, kernels. Plugins that could not be used are listed\n"
	"with the reason. Unknown values are shown as unknown, with why. With\n"
	"trit --devices FILE, lists the devices FILE describes instead.\n"
	"\n"
	"  --json     print one JSON document (schema: docs/json.md)\n"
	"  --strict   exit with status 4 when any plugin was skipped\n"
	"  -v         also show the search path and how every value was measured\n";

static const char usage_inspect[] =
	"Usage: trit inspect MODEL [--json] [--tensors]\n"
	"\n"
	"Read a model's header (GGUF, or SafeTensors: a file, a model.safetensors.index.json\n"
	"or a directory with config.json) without reading its weights, and print the\n"
	"architecture, hyper-parameters, parameter count, bytes by role, by type and per\n"
	"layer, and whether trit's ternary kernels apply.\n"
	"\n"
	"  --json      print one JSON document (schema: docs/json.md)\n"
	"  --tensors   list every tensor: type, shape, bytes, layer, role\n";

static const char usage_plan[] =
	"Usage: trit plan MODEL [--ctx N] [--batch N] [--kv-type f32|f16|q8_0]\n"
	"                       [--priority latency|throughput|balanced] [--strategy auto|cpu|gpu|hybrid]\n"
	"                       [--json] [--explain]\n"
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
	"  --json         print one JSON document (schema: docs/json.md)\n"
	"  --explain      show the formulas, the KV cache per layer and every buffer\n"
	"Exit status 5 when nothing fits (the largest context that would is reported).\n";

static const char usage_config[] =
	"Usage: trit config [--json] [--schema]\n"
	"\n"
	"Print every configuration key with its effective value and where it came from\n"
	"(command line, environment, FILE:LINE, or default), after validating the file\n"
	"given with --config and the TRIT_* environment.\n"
	"\n"
	"  --json     print one JSON document\n"
	"  --schema   list the accepted keys, types, environment variables and defaults\n";

static void print_version(void)
{
	printf("trit %s (plugin ABI %u)\n", trit_version(), trit_backend_abi());
}

/* Report a usage error for command cmd (NULL: trit itself); returns EXIT_USAGE. */
static int usage_error(const char *cmd, const char *fmt, ...) TRIT_PRINTF(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trit: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'trit %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

/* Load --config (or $TRIT_CONFIG) and the environment into cli->cfg. */
static int load_config(struct cli *cli)
{
	char err[4096];
	const char *path = cli->config_path ? cli->config_path : trit_getenv("TRIT_CONFIG");
	int level;

	if (path && *path && trit_config_load_file(&cli->cfg, path, err, sizeof err)) {
		fprintf(stderr, "trit: configuration errors:\n%s\n", err);
		return EXIT_CONFIG;
	}
	if (trit_config_apply_env(&cli->cfg, err, sizeof err)) {
		fprintf(stderr, "trit: environment errors:\n%s\n", err);
		return EXIT_CONFIG;
	}
	level = trit_log_level_from_name(trit_config_get(&cli->cfg, "runtime", "log_level"));
	if (level < 0)
		level = TRIT_LOG_WARN;
	level += cli->verbose;
	if (cli->quiet)
		level = TRIT_LOG_ERROR;
	trit_log_set_level(level);
	return EXIT_OK;
}

/*
 * Open the registry as the global options say. With --devices, a file that
 * did not load is a configuration error: planning for an empty machine
 * would hide it. Returns EXIT_OK with *reg set, or the exit status.
 */
static int open_registry(struct cli *cli, struct trit_registry **reg)
{
	struct trit_registry_options ro = {
		.plugin_dirs = cli->plugin_dirs,
		.n_plugin_dirs = cli->n_plugin_dirs,
		.config = &cli->cfg,
		.devices_file = cli->devices_file,
	};
	char err[1024];

	if (cli->devices_file && cli->n_plugin_dirs)
		trit_log(TRIT_LOG_WARN, "--plugin-dir is ignored with --devices: no plugins are "
		         "loaded for a described machine");
	if (trit_registry_open(&ro, reg, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	for (size_t i = 0; cli->devices_file && i < trit_registry_plugin_count(*reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(*reg, i);
		if (p->status == TRIT_PLUGIN_LOADED)
			continue;
		fprintf(stderr, "trit: --devices %s: the described machine did not load:\n%s\n",
		        cli->devices_file, p->reason);
		trit_registry_close(*reg);
		*reg = NULL;
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

/*
 * Read the bench cache named by `option` (--cache), [runtime] bench_cache or
 * the default place into *c. On failure c is empty and *why (a static
 * buffer) says what went wrong; `trit devices` and `trit plan` carry on
 * without the measurements.
 */
static int open_bench_cache(struct cli *cli, const char *option, struct trit_bench_cache *c,
                            const char **why)
{
	static char err[1200];
	char path[4096];
	int rc;

	memset(c, 0, sizeof *c);
	*why = NULL;
	rc = trit_bench_cache_path(option, trit_config_get(&cli->cfg, "runtime", "bench_cache"),
	                           path, sizeof path, NULL, err, sizeof err);
	if (!rc)
		rc = trit_bench_cache_load(c, path, err, sizeof err);
	if (rc)
		*why = err;
	return rc;
}

static int print_json(char *s)
{
	if (!s) {
		fprintf(stderr, "trit: out of memory building the JSON report\n");
		return EXIT_FAIL;
	}
	puts(s);
	free(s);
	return EXIT_OK;
}

static int cmd_devices(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "strict", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int json = 0, strict = 0, c, rc;
	struct trit_registry *reg;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "jsvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': strict = 1; break;
		case 'v': cli->verbose++; break;
		case 'h': fputs(usage_devices, stdout); return EXIT_OK;
		default: return usage_error("devices", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("devices", "devices takes no arguments (got '%s')", argv[optind]);
	if ((rc = load_config(cli)) || (rc = open_registry(cli, &reg)))
		return rc;
	/* a described machine's devices were never measured here */
	struct trit_bench_cache bench = { .n = 0 };
	const char *bench_why = NULL;
	if (!cli->devices_file)
		open_bench_cache(cli, NULL, &bench, &bench_why);
	if (json)
		rc = print_json(trit_report_devices_json(reg, cli->devices_file ? NULL : &bench,
		                                         bench_why));
	else
		trit_report_devices_text(stdout, reg, cli->verbose > 0,
		                         cli->devices_file ? NULL : &bench, bench_why);
	trit_bench_cache_free(&bench);
	if (!rc && strict)
		for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
			if (trit_registry_plugin(reg, i)->status != TRIT_PLUGIN_LOADED)
				rc = EXIT_SKIPPED;
	trit_registry_close(reg);
	return rc;
}

static int cmd_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tensors", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int json = 0, tensors = 0, c, rc;
	char err[1024];
	struct trit_model *m;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "jth", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 't': tensors = 1; break;
		case 'h': fputs(usage_inspect, stdout); return EXIT_OK;
		default: return usage_error("inspect", "bad option");
		}
	}
	if (optind != argc - 1)
		return usage_error("inspect", "inspect takes exactly one MODEL (got %d)", argc - optind);
	if ((rc = load_config(cli)))
		return rc;
	if (trit_model_open(argv[optind], &m, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	if (json)
		rc = print_json(trit_report_model_json(m, tensors));
	else
		trit_report_model_text(stdout, m, tensors);
	trit_model_close(m);
	return rc;
}


/* A command-line option that sets a configuration key. */
struct cli_set {
	const char *sec, *key, *val, *flag;
};

/* A config value as an integer (already validated by config.c). */
static long cfg_long(const struct trit_config *cfg, const char *sec, const char *key, long def)
{
	const char *v = trit_config_get(cfg, sec, key);
	return v && *v ? strtol(v, NULL, 10) : def;
}

static double cfg_fraction(const struct trit_config *cfg, const char *sec, const char *key,
                           double def)
{
	const struct trit_config_entry *e = trit_config_find(cfg, sec, key);
	const char *v;

	if (e)
		return e->f;
	v = trit_config_get(cfg, sec, key);
	if (!v)
		return def;
	return strchr(v, '%') ? strtod(v, NULL) / 100.0 : strtod(v, NULL);
}

static int enum_index(const char *v, const char *const *names, int n, int def)
{
	for (int i = 0; v && i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return def;
}

/* Every loaded device, with its [memory] limit.<backend>.<id>. */
static struct trit_plan_device *plan_devices(const struct trit_registry *reg,
                                             const struct trit_config *cfg, uint32_t *n)
{
	size_t cap = 0;
	struct trit_plan_device *v;

	*n = 0;
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
		cap += trit_registry_plugin(reg, i)->n_devices;
	v = calloc(cap ? cap : 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		void *state = NULL;
		const struct trit_backend *be = trit_registry_backend(reg, i, &state);
		for (uint32_t k = 0; be && k < pi->n_devices; k++) {
			struct trit_plan_device *d = &v[(*n)++];
			char key[160];
			const struct trit_config_entry *e;
			d->dev = &pi->devices[k];
			d->backend = pi->name;
			d->be = be;
			d->state = state;
			d->index = k;
			snprintf(key, sizeof key, "limit.%s.%s", pi->name, d->dev->id);
			if ((e = trit_config_find(cfg, "memory", key))) {
				d->limit = e->size;
				d->limit_where = e->where;
			}
		}
	}
	return v;
}

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

static int cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctx", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "kv-type", required_argument, NULL, 'k' },
		{ "priority", required_argument, NULL, 'p' },
		{ "strategy", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const strategies[] = { "auto", "cpu", "gpu", "hybrid" };
	static const char *const priorities[] = { "balanced", "latency", "throughput" };
	struct cli_set sets[8];
	int n_sets = 0, json = 0, explain = 0, c, rc;
	char err[4096];
	struct trit_model *m = NULL;
	struct trit_registry *reg = NULL;
	struct trit_plan_device *devs = NULL;
	struct trit_plan plan;
	uint32_t n_devs = 0;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "c:b:k:p:s:jeh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': sets[n_sets++] = (struct cli_set){ "model", "context", optarg, "--ctx" }; break;
		case 'b': sets[n_sets++] = (struct cli_set){ "model", "ubatch", optarg, "--batch" }; break;
		case 'k': sets[n_sets++] = (struct cli_set){ "model", "kv_type", optarg, "--kv-type" }; break;
		case 'p': sets[n_sets++] = (struct cli_set){ "planner", "priority", optarg, "--priority" }; break;
		case 's': sets[n_sets++] = (struct cli_set){ "planner", "strategy", optarg, "--strategy" }; break;
		case 'j': json = 1; break;
		case 'e': explain = 1; break;
		case 'h': fputs(usage_plan, stdout); return EXIT_OK;
		default: return usage_error("plan", "bad option");
		}
		if (n_sets == 8)
			return usage_error("plan", "too many options");
	}
	if (optind != argc - 1)
		return usage_error("plan", "plan takes exactly one MODEL (got %d)", argc - optind);
	if ((rc = load_config(cli)))
		return rc;
	for (int i = 0; i < n_sets; i++)
		if (trit_config_set(&cli->cfg, sets[i].sec, sets[i].key, sets[i].val, sets[i].flag,
		                    err, sizeof err)) {
			fprintf(stderr, "trit: %s\n", err);
			return EXIT_USAGE;
		}
	if (trit_model_open(argv[optind], &m, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		if (open_registry(cli, &reg) == EXIT_OK) {
			fallback_plan(reg, err, json);
			trit_registry_close(reg);
		}
		return EXIT_FAIL;
	}
	if ((rc = open_registry(cli, &reg))) {
		trit_model_close(m);
		return rc;
	}
	devs = plan_devices(reg, &cli->cfg, &n_devs);
	struct trit_bench_cache bench = { .n = 0 };
	const char *bench_why = NULL;
	if (!cli->devices_file && open_bench_cache(cli, NULL, &bench, &bench_why))
		trit_log(TRIT_LOG_WARN, "bench results not used: %s", bench_why);
	const struct trit_config *cfg = &cli->cfg;
	long ubatch = cfg_long(cfg, "model", "ubatch", 0);
	struct trit_plan_opts po = {
		.est = {
			.n_ctx = (uint32_t)cfg_long(cfg, "model", "context", 0),
			.n_ubatch = (uint32_t)(ubatch ? ubatch : cfg_long(cfg, "model", "batch", 0)),
			.n_seq = (uint32_t)cfg_long(cfg, "model", "sequences", 1),
			.headroom = trit_config_get(cfg, "memory", "headroom") ?
			            cfg_fraction(cfg, "memory", "headroom", -1) : -1,
			.kv_pad = (uint32_t)cfg_long(cfg, "memory", "kv_pad", TRIT_KV_PAD),
		},
		.force = (enum trit_strategy)enum_index(trit_config_get(cfg, "planner", "strategy"),
		                                         strategies, 4, 0),
		.priority = (enum trit_priority)enum_index(trit_config_get(cfg, "planner", "priority"),
		                                           priorities, 3, 0),
		.max_gpu_layers = (int32_t)cfg_long(cfg, "planner", "max_gpu_layers", -1),
		.gpu_fraction = cfg_fraction(cfg, "planner", "gpu_fraction", 0.90),
		.workspace_fraction = cfg_fraction(cfg, "planner", "workspace_fraction", 0.80),
		.workspace_overhead = cfg_fraction(cfg, "planner", "workspace_overhead", -1),
		.max_batch = (uint32_t)cfg_long(cfg, "planner", "max_batch", 256),
		.threads = (uint32_t)cfg_long(cfg, "runtime", "threads", 0),
		.bench = cli->devices_file ? NULL : &bench,
	};
	if (trit_kv_type_from_name(trit_config_get(cfg, "model", "kv_type"), &po.est.kv_type))
		po.est.kv_type = TRIT_KV_F16;
	rc = devs ? trit_plan_make(m, devs, n_devs, &po, &plan, err, sizeof err) : TRIT_ENOMEM;
	if (rc) {
		fprintf(stderr, "trit: cannot plan %s: %s\n", argv[optind], devs ? err : "out of memory");
		rc = EXIT_FAIL;
	} else {
		if (json)
			rc = print_json(trit_report_plan_json(m, &plan, devs, explain));
		else
			trit_report_plan_text(stdout, m, &plan, devs, explain);
		if (!rc && plan.strategy == TRIT_STRATEGY_NONE)
			rc = EXIT_NOFIT;
		trit_plan_free(&plan);
	}
	free(devs);
	trit_bench_cache_free(&bench);
	trit_registry_close(reg);
	trit_model_close(m);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The bench cache and `trit bench`                                          */

static const char usage_bench[] =
	"Usage: trit bench [--kernel i2s|tl1|tl2|all] [--shape MxK]... [--tokens N]\n"
	"                  [--backend NAME]... [--device ID]... [--reps N] [--threads N]\n"
	"                  [--working-set SIZE] [--cache FILE] [--no-cache] [--json] [-q]\n"
	"\n"
	"Run each ternary kernel (I2_S, TL1, TL2) each device advertises, through the plugin\n"
	"interface, on BitNet-b1.58-2B-4T's layer shapes (M x K: 2560x2560, 640x2560,\n"
	"6912x2560, 2560x6912 and the 128256x2560 output) with the planner's thread count, and\n"
	"print GOP/s (2 x M x K x tokens per matmul), the weight bytes streamed per second, a\n"
	"plain streaming read of the same bytes measured in the same run (devices whose\n"
	"buffers are host memory; unknown, with the reason, for others) and the ratio of the\n"
	"two. The weights rotate over copies filling twice the last-level cache (a fixed 1 GiB\n"
	"when no cache size is known), so they come from memory. Each kernel is first checked\n"
	"against the scalar reference and is not reported when it disagrees. The results go to\n"
	"the bench cache, which `trit devices` shows and `trit plan` uses. Method: docs/bench.md.\n"
	"\n"
	"  --kernel K          i2s, tl1, tl2 or all (default all; may be repeated)\n"
	"  --shape MxK         M output by K input features (may be repeated, at most 16;\n"
	"                      default the five shapes above)\n"
	"  --tokens N          activations per matmul (default 1, as in decoding)\n"
	"  --backend NAME      only this backend's devices (may be repeated). The scalar\n"
	"                      reference `ref` runs only when named, or when no other backend\n"
	"                      has a ternary kernel: it takes seconds per matmul on large shapes\n"
	"  --device ID         only devices with this id (may be repeated)\n"
	"  --reps N            timed samples per shape, after one untimed (default 9)\n"
	"  --threads N         CPU threads (default: the planner's, see [runtime] threads)\n"
	"  --working-set SIZE  rotate the weights over SIZE bytes (e.g. 256MiB) instead\n"
	"  --cache FILE        the bench cache (default: [runtime] bench_cache,\n"
	"                      $XDG_CACHE_HOME/trit/bench.json, ~/.cache/trit/bench.json)\n"
	"  --no-cache          do not write the bench cache\n"
	"  --json              print one JSON document (schema: docs/json.md)\n"
	"  -q, --quiet         no progress messages on stderr\n"
	"Exit status: 0 every kernel was measured, 1 a kernel failed or disagreed with the\n"
	"reference (the others are still reported), nothing matched the filters, or the\n"
	"cache could not be read or written; 2 usage error; 3 configuration error.\n";

/* BitNet-b1.58-2B-4T's matmuls: q and o, k and v, gate and up, down, output. */
static const uint64_t bitnet_shapes[][2] = {
	{ 2560, 2560 }, { 640, 2560 }, { 6912, 2560 }, { 2560, 6912 }, { 128256, 2560 },
};

#define MAX_FILTERS 16

struct bench_filters {
	const char *backends[MAX_FILTERS], *devices[MAX_FILTERS];
	int n_backends, n_devices;
	uint32_t kernels;          /* TRIT_TYPE_BIT set */
};

static int listed(const char *const *v, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* "2560x2560" -> rows, cols (each 1 .. 2^31). */
static int parse_shape(const char *s, uint64_t *rows, uint64_t *cols)
{
	char *end;
	unsigned long long m, k;

	if (*s < '0' || *s > '9')
		return -1;
	m = strtoull(s, &end, 10);
	if (*end != 'x' && *end != 'X')
		return -1;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return -1;
	k = strtoull(s, &end, 10);
	if (*end || !m || !k || m > (1ull << 31) || k > (1ull << 31))
		return -1;
	*rows = m;
	*cols = k;
	return 0;
}

static int parse_kernel(const char *s, uint32_t *mask)
{
	if (strcasecmp(s, "all") == 0)
		*mask |= TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
		         TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	else if (strcasecmp(s, "i2s") == 0 || strcasecmp(s, "i2_s") == 0)
		*mask |= TRIT_TYPE_BIT(TRIT_TYPE_I2_S);
	else if (strcasecmp(s, "tl1") == 0)
		*mask |= TRIT_TYPE_BIT(TRIT_TYPE_TL1);
	else if (strcasecmp(s, "tl2") == 0)
		*mask |= TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	else
		return -1;
	return 0;
}

static void bench_progress(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "trit bench: %s\n", msg);
}

/* Whether some backend other than ref, passing the filters, has a ternary
 * kernel the filters ask for. */
static int other_than_ref(const struct trit_registry *reg, const struct bench_filters *f)
{
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		if (pi->status != TRIT_PLUGIN_LOADED || strcmp(pi->name, "ref") == 0)
			continue;
		for (uint32_t k = 0; k < pi->n_devices; k++)
			if ((pi->devices[k].matmul_types & f->kernels) &&
			    (!f->n_devices || listed(f->devices, f->n_devices, pi->devices[k].id)))
				return 1;
	}
	return 0;
}

static int cmd_bench(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "shape", required_argument, NULL, 's' },
		{ "tokens", required_argument, NULL, 't' },
		{ "backend", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 'T' },
		{ "working-set", required_argument, NULL, 'w' },
		{ "cache", required_argument, NULL, 'C' },
		{ "no-cache", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint32_t order[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	struct bench_filters f = { .kernels = 0 };
	struct trit_bench_opts bo = { .tokens = 1, .reps = 9 };
	struct trit_bench_cache cache = { .n = 0 };
	struct trit_bench_result *res = NULL;
	struct trit_bench_refusal *refused = NULL;
	size_t n_res = 0, n_refused = 0, cap = 0;
	const char *cache_opt = NULL, *threads_opt = NULL, *why;
	int json = 0, quiet = cli->quiet, write_cache = 1, c, rc, skipped_ref = 0;
	struct trit_registry *reg = NULL;
	const struct trit_device **peers = NULL;
	size_t n_peers = 0;
	char err[1200], *end;
	unsigned long long v;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "k:s:t:b:d:r:T:w:C:Njqh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (parse_kernel(optarg, &f.kernels))
				return usage_error("bench", "--kernel '%s': expected i2s, tl1, tl2 or all",
				                   optarg);
			break;
		case 's':
			if (bo.n_shapes == TRIT_BENCH_MAX_SHAPES)
				return usage_error("bench", "at most %u --shape options", TRIT_BENCH_MAX_SHAPES);
			if (parse_shape(optarg, &bo.rows[bo.n_shapes], &bo.cols[bo.n_shapes]))
				return usage_error("bench", "--shape '%s': expected MxK, two whole numbers "
				                   "from 1 to 2147483648 (output by input features), e.g. "
				                   "2560x6912", optarg);
			bo.n_shapes++;
			break;
		case 't':
		case 'r':
			v = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || v < 1 || v > (c == 't' ? 4096 : 1000))
				return usage_error("bench", "--%s '%s': expected a whole number from 1 to %d",
				                   c == 't' ? "tokens" : "reps", optarg, c == 't' ? 4096 : 1000);
			if (c == 't')
				bo.tokens = (uint32_t)v;
			else
				bo.reps = (uint32_t)v;
			break;
		case 'b':
		case 'd':
			if ((c == 'b' ? f.n_backends : f.n_devices) == MAX_FILTERS)
				return usage_error("bench", "at most %d --%s options", MAX_FILTERS,
				                   c == 'b' ? "backend" : "device");
			if (c == 'b')
				f.backends[f.n_backends++] = optarg;
			else
				f.devices[f.n_devices++] = optarg;
			break;
		case 'T': threads_opt = optarg; break;
		case 'w':
			if (trit_parse_size(optarg, &bo.working_set) || !bo.working_set)
				return usage_error("bench", "--working-set '%s': expected a size such as "
				                   "256MiB", optarg);
			break;
		case 'C': cache_opt = optarg; break;
		case 'N': write_cache = 0; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_bench, stdout); return EXIT_OK;
		default: return usage_error("bench", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("bench", "bench takes no arguments (got '%s')", argv[optind]);
	if (cli->devices_file)
		return usage_error("bench", "bench measures this machine's kernels; --devices "
		                   "describes another machine, whose kernels cannot run here");
	if (!f.kernels)
		parse_kernel("all", &f.kernels);
	int default_shapes = !bo.n_shapes;
	if (!bo.n_shapes)
		for (size_t i = 0; i < TRIT_ARRAY_LEN(bitnet_shapes); i++) {
			bo.rows[bo.n_shapes] = bitnet_shapes[i][0];
			bo.cols[bo.n_shapes++] = bitnet_shapes[i][1];
		}
	if ((rc = load_config(cli)))
		return rc;
	if (threads_opt && trit_config_set(&cli->cfg, "runtime", "threads", threads_opt, "--threads",
	                                   err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_USAGE;
	}
	if (write_cache && open_bench_cache(cli, cache_opt, &cache, &why)) {
		fprintf(stderr, "trit: %s\n", why);
		return EXIT_FAIL;
	}
	if ((rc = open_registry(cli, &reg))) {
		trit_bench_cache_free(&cache);
		return rc;
	}
	if (!quiet) {
		bo.progress = bench_progress;
		bo.progress_ctx = NULL;
	}

	const struct trit_config *cfg = &cli->cfg;
	static const char *const priorities[] = { "balanced", "latency", "throughput" };
	uint32_t forced = (uint32_t)cfg_long(cfg, "runtime", "threads", 0);
	enum trit_priority prio = (enum trit_priority)enum_index(
		trit_config_get(cfg, "planner", "priority"), priorities, 3, 0);
	int others = other_than_ref(reg, &f);
	if (!others && default_shapes && !quiet &&
	    (!f.n_backends || listed(f.backends, f.n_backends, "ref")))
		fprintf(stderr, "trit bench: the scalar reference `ref` takes minutes on the default "
		        "shapes (seconds per matmul on the 128256x2560 output); --shape MxK picks "
		        "smaller ones\n");

	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
		n_peers += trit_registry_plugin(reg, i)->n_devices;
	peers = calloc(n_peers ? n_peers : 1, sizeof *peers);
	n_peers = 0;
	for (size_t i = 0; peers && i < trit_registry_plugin_count(reg); i++)
		for (uint32_t k = 0; k < trit_registry_plugin(reg, i)->n_devices; k++)
			peers[n_peers++] = &trit_registry_plugin(reg, i)->devices[k];
	rc = peers ? EXIT_OK : EXIT_FAIL;

	for (size_t i = 0; !rc && i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		void *state = NULL;
		const struct trit_backend *be = trit_registry_backend(reg, i, &state);

		if (!be || (f.n_backends && !listed(f.backends, f.n_backends, pi->name)))
			continue;
		for (uint32_t k = 0; !rc && k < pi->n_devices; k++) {
			const struct trit_device *d = &pi->devices[k];
			char twhy[300];

			if (f.n_devices && !listed(f.devices, f.n_devices, d->id))
				continue;
			if (!(d->matmul_types & f.kernels))
				continue;
			if (strcmp(pi->name, "ref") == 0 && !f.n_backends && others) {
				skipped_ref = 1;
				continue;
			}
			bo.threads = d->kind == TRIT_DEVICE_CPU ?
			             trit_plan_threads(d, forced, prio, twhy, sizeof twhy) : 0;
			for (size_t t = 0; t < TRIT_ARRAY_LEN(order); t++) {
				if (!(d->matmul_types & f.kernels & TRIT_TYPE_BIT(order[t])))
					continue;
				if (n_res == cap || n_refused == cap) {
					size_t nc = cap ? cap * 2 : 8;
					void *a = realloc(res, nc * sizeof *res);
					if (a)
						res = a;
					void *b = realloc(refused, nc * sizeof *refused);
					if (b)
						refused = b;
					if (!a || !b) {
						rc = EXIT_FAIL;
						break;
					}
					cap = nc;
				}
				int r = trit_bench_kernel(be, state, k, pi->name, d, order[t], peers, n_peers,
				                          &bo, &res[n_res], err, sizeof err);
				if (!r) {
					n_res++;
					continue;
				}
				struct trit_bench_refusal *x = &refused[n_refused++];
				snprintf(x->backend, sizeof x->backend, "%s", pi->name);
				snprintf(x->device_id, sizeof x->device_id, "%s", d->id);
				snprintf(x->kernel, sizeof x->kernel, "%s", trit_type_traits(order[t])->name);
				snprintf(x->why, sizeof x->why, "%s", err);
				fprintf(stderr, "trit: %s\n", err);
			}
		}
	}
	if (skipped_ref && !quiet)
		fprintf(stderr, "trit bench: ref (the scalar reference) skipped: another backend has "
		        "ternary kernels; name it with --backend ref to measure it too\n");
	int written = 0;
	if (!rc && !n_res && !n_refused) {
		fprintf(stderr, "trit: nothing to measure: no device%s advertises a%s ternary kernel "
		        "(trit devices lists the kernels)\n",
		        f.n_backends || f.n_devices ? " matching --backend/--device" : "",
		        f.kernels == (TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
		                      TRIT_TYPE_BIT(TRIT_TYPE_TL2)) ? "" : " requested");
		rc = EXIT_FAIL;
	}
	if (!rc && write_cache && n_res) {
		for (size_t i = 0; i < n_res && !rc; i++)
			if (trit_bench_cache_put(&cache, &res[i]))
				rc = EXIT_FAIL;
		if (!rc && trit_bench_cache_save(&cache, err, sizeof err)) {
			fprintf(stderr, "trit: %s\n", err);
			rc = EXIT_FAIL;
		}
		written = !rc;
	}
	if (n_res || n_refused) {
		const char *path = write_cache ? cache.path : NULL;
		if (json) {
			int jr = print_json(trit_report_bench_json(res, n_res, refused, n_refused, path,
			                                           written));
			if (!rc)
				rc = jr;
		} else {
			trit_report_bench_text(stdout, res, n_res, refused, n_refused, path, written);
		}
	}
	if (!rc && n_refused)
		rc = EXIT_FAIL;
	free(peers);
	free(res);
	free(refused);
	trit_bench_cache_free(&cache);
	trit_registry_close(reg);
	return rc;
}

static void print_schema(void)
{
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);

	for (size_t i = 0; i < n; i++) {
		printf("[%s] %s", k[i].section, k[i].key);
		if (k[i].env)
			printf("  (env %s)", k[i].env);
		if (k[i].choices)
			printf("  one of %s", k[i].choices);
		if (k[i].def)
			printf("  default %s", k[i].def);
		printf("\n    %s\n", k[i].doc);
	}
	printf("[plugin.<name>] <key>  (env TRIT_PLUGIN_<NAME>_<KEY>)\n"
	       "    settings passed to the plugin <name>, which validates them\n");
}

static int cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "schema", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int json = 0, schema = 0, c, rc;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "jsh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': schema = 1; break;
		case 'h': fputs(usage_config, stdout); return EXIT_OK;
		default: return usage_error("config", "bad option");
		}
	}
	if (optind < argc)
		return usage_error("config", "config takes no arguments (got '%s')", argv[optind]);
	if (schema) {
		print_schema();
		return EXIT_OK;
	}
	if ((rc = load_config(cli)))
		return rc;
	if (json)
		return print_json(trit_report_config_json(&cli->cfg));
	trit_report_config_text(stdout, &cli->cfg);
	return EXIT_OK;
}

static int cmd_help(const char *topic)
{
	if (!topic) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	if (strcmp(topic, "devices") == 0)
		fputs(usage_devices, stdout);
	else if (strcmp(topic, "config") == 0)
		fputs(usage_config, stdout);
	else if (strcmp(topic, "inspect") == 0)
		fputs(usage_inspect, stdout);
	else if (strcmp(topic, "plan") == 0)
		fputs(usage_plan, stdout);
	else if (strcmp(topic, "bench") == 0)
		fputs(usage_bench, stdout);
	else
		return usage_error(NULL, "no help for unknown command '%s'", topic);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ "devices", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli cli = { 0 };
	int c, rc;

	/* '+': stop at the command name; its options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+c:P:D:vqVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli.config_path = optarg; break;
		case 'P':
			if (cli.n_plugin_dirs == MAX_PLUGIN_DIRS)
				return usage_error(NULL, "at most %d --plugin-dir options", MAX_PLUGIN_DIRS);
			cli.plugin_dirs[cli.n_plugin_dirs++] = optarg;
			break;
		case 'D': cli.devices_file = optarg; break;
		case 'v': cli.verbose++; break;
		case 'q': cli.quiet = 1; break;
		case 'V': print_version(); return EXIT_OK;
		case 'h': fputs(usage_main, stdout); return EXIT_OK;
		default: return usage_error(NULL, "unknown option");
		}
	}
	if (optind >= argc) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}

	const char *cmd = argv[optind];
	int cargc = argc - optind;
	char **cargv = argv + optind;

	trit_config_init(&cli.cfg);
	if (strcmp(cmd, "devices") == 0)
		rc = cmd_devices(&cli, cargc, cargv);
	else if (strcmp(cmd, "config") == 0)
		rc = cmd_config(&cli, cargc, cargv);
	else if (strcmp(cmd, "inspect") == 0)
		rc = cmd_inspect(&cli, cargc, cargv);
	else if (strcmp(cmd, "plan") == 0)
		rc = cmd_plan(&cli, cargc, cargv);
	else if (strcmp(cmd, "bench") == 0)
		rc = cmd_bench(&cli, cargc, cargv);
	else if (strcmp(cmd, "help") == 0)
		rc = cmd_help(cargc > 1 ? cargv[1] : NULL);
	else
		rc = usage_error(NULL, "unknown command '%s'", cmd);
	trit_config_free(&cli.cfg);
	return rc;
}
