/*
 * main.c - `trit`: parse the global options, create the runtime and hand the
 * command line to the command named. Exit codes: 0 success, 1 failure, 2
 * usage error, 3 configuration error, 4 a plugin was skipped under --strict,
 * 5 nothing fits (plan); 70 is libtrit's, for a plugin calling exit() while it
 * loads (backend/plugin_guard.h). What each command does is in its cmd_<name>.c.
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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
	"  run          load a model where its plan says and generate text from a prompt\n"
	"  tokenize     the token ids of a text with a model's vocabulary, as llama.cpp has them\n"
	"  convert      write a GGUF from a Hugging Face BitNet b1.58 directory, or re-type a GGUF\n"
	"  perplexity   a model's perplexity on a text (llama-perplexity's convention)\n"
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
	"(devices --strict), 5 the model fits nowhere (plan), 70 a plugin called exit()\n"
	"while it was loading (docs/plugins.md).\n"
	"Configuration keys and TRIT_* environment variables: docs/config.md,\n"
	"or `trit config --schema`.\n";

static void print_version(void)
{
	printf("trit %s (plugin ABI %u)\n", trit_version(), trit_backend_abi());
}

static int cmd_help(const char *topic)
{
	static const struct {
		const char *name, *text;
	} topics[] = {
		{ "devices", cli_usage_devices }, { "config", cli_usage_config },
		{ "inspect", cli_usage_inspect }, { "plan", cli_usage_plan },
		{ "bench", cli_usage_bench }, { "tokenize", cli_usage_tokenize },
		{ "run", cli_usage_run },
		{ "convert", cli_usage_convert },
		{ "perplexity", cli_usage_perplexity },
	};

	if (!topic) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
		if (strcmp(topic, topics[i].name) == 0) {
			fputs(topics[i].text, stdout);
			return EXIT_OK;
		}
	return cli_usage_error(NULL, "no help for unknown command '%s'", topic);
}

static int run_command(struct cli *cli, const char *cmd, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *, int, char **);
	} commands[] = {
		{ "devices", cmd_devices }, { "config", cmd_config }, { "inspect", cmd_inspect },
		{ "plan", cmd_plan }, { "bench", cmd_bench }, { "tokenize", cmd_tokenize },
		{ "run", cmd_run },
		{ "convert", cmd_convert },
		{ "perplexity", cmd_perplexity },
	};

	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(cli, argc, argv);
	if (strcmp(cmd, "help") == 0)
		return cmd_help(argc > 1 ? argv[1] : NULL);
	return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

/* The global options, up to the command name; *rc set when trit is done. */
static int global_options(struct cli *cli, int argc, char **argv, int *rc)
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
	int c;

	/* '+': stop at the command name; its options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+c:P:D:vqVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli->config_path = optarg; break;
		case 'P':
			if (cli->n_plugin_dirs == CLI_MAX_PLUGIN_DIRS) {
				*rc = cli_usage_error(NULL, "at most %d --plugin-dir options",
				                      CLI_MAX_PLUGIN_DIRS);
				return 1;
			}
			cli->plugin_dirs[cli->n_plugin_dirs++] = optarg;
			break;
		case 'D': cli->devices_file = optarg; break;
		case 'v': cli->verbose++; break;
		case 'q': cli->quiet = 1; break;
		case 'V': print_version(); *rc = EXIT_OK; return 1;
		case 'h': fputs(usage_main, stdout); *rc = EXIT_OK; return 1;
		default: *rc = cli_usage_error(NULL, "unknown option"); return 1;
		}
	}
	if (optind >= argc) {
		fputs(usage_main, stderr);
		*rc = EXIT_USAGE;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	char err[256];
	int rc;

	if (global_options(&cli, argc, argv, &rc))
		return rc;
	if (trit_runtime_new(&cli.rt, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	rc = run_command(&cli, argv[optind], argc - optind, argv + optind);
	trit_runtime_free(cli.rt);
	return rc;
}
