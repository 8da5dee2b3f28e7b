/*
 * cmd_inspect.c - `trit inspect MODEL`: what a model file says (architecture,
 * hyper-parameters, bytes by role, type and layer), as text or JSON. The
 * analysis and its rendering are libtrit's.
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

const char cli_usage_inspect[] =
	"Usage: trit inspect MODEL [--json] [--tensors]\n"
	"\n"
	"Read a model's header (GGUF, or SafeTensors: a file, a model.safetensors.index.json\n"
	"or a directory with config.json) without reading its weights, and print the\n"
	"architecture, hyper-parameters, parameter count, bytes by role, by type and per\n"
	"layer, and whether trit's ternary kernels apply.\n"
	"\n"
	"  --json      print one JSON document (schema: docs/json.md)\n"
	"  --tensors   list every tensor: type, shape, bytes, layer, role\n";

int cmd_inspect(struct cli *cli, int argc, char **argv)
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
		case 'h': fputs(cli_usage_inspect, stdout); return EXIT_OK;
		default: return cli_usage_error("inspect", "bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("inspect", "inspect takes exactly one MODEL (got %d)",
		                       argc - optind);
	if ((rc = cli_load_config(cli)))
		return rc;
	if (trit_model_open(argv[optind], &m, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	if (json && trit_model_report_json_write(m, stdout, tensors)) {
		fprintf(stderr, "trit: out of memory or an output error writing the JSON report\n");
		rc = EXIT_FAIL;
	} else if (!json)
		trit_model_report_text(m, stdout, tensors);
	trit_model_close(m);
	return rc;
}
