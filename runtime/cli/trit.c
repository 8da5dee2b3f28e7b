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

#include <trit/trit.h>

#include "common.h"
#include "config.h"
#include "log.h"
#include "model/model.h"
#include "plan.h"
#include "registry.h"
#include "report.h"

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
	if (json)
		rc = print_json(trit_report_devices_json(reg));
	else
		trit_report_devices_text(stdout, reg, cli->verbose > 0);
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
	trit_registry_close(reg);
	trit_model_close(m);
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
	else if (strcmp(cmd, "help") == 0)
		rc = cmd_help(cargc > 1 ? cargv[1] : NULL);
	else
		rc = usage_error(NULL, "unknown command '%s'", cmd);
	trit_config_free(&cli.cfg);
	return rc;
}
