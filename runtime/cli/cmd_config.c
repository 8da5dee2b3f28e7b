/*
 * cmd_config.c - `trit config`: the effective configuration with each
 * value's origin (text or JSON), or with --schema the keys libtrit accepts.
 * Validation and rendering are libtrit's.
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

const char cli_usage_config[] =
	"Usage: trit config [--json] [--schema]\n"
	"\n"
	"Print every configuration key with its effective value and where it came from\n"
	"(command line, environment, FILE:LINE, or default), after validating the file\n"
	"given with --config and the TRIT_* environment.\n"
	"\n"
	"  --json     print one JSON document\n"
	"  --schema   list the accepted keys, types, environment variables and defaults\n";

static void print_schema(void)
{
	struct trit_config_key_info k;

	for (size_t i = 0; trit_config_schema_key(i, &k) == 0; i++) {
		printf("[%s] %s", k.section, k.key);
		if (k.env)
			printf("  (env %s)", k.env);
		if (k.choices)
			printf("  one of %s", k.choices);
		if (k.def)
			printf("  default %s", k.def);
		printf("\n    %s\n", k.doc);
	}
	printf("[plugin.<name>] <key>  (env TRIT_PLUGIN_<NAME>_<KEY>)\n"
	       "    settings passed to the plugin <name>, which validates them\n");
}

int cmd_config(struct cli *cli, int argc, char **argv)
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
		case 'h': fputs(cli_usage_config, stdout); return EXIT_OK;
		default: return cli_usage_error("config", "bad option");
		}
	}
	if (optind < argc)
		return cli_usage_error("config", "config takes no arguments (got '%s')", argv[optind]);
	if (schema) {
		print_schema();
		return EXIT_OK;
	}
	if ((rc = cli_load_config(cli)))
		return rc;
	if (json)
		return cli_print_json(trit_runtime_config_report_json(cli->rt));
	trit_runtime_config_report_text(cli->rt, stdout);
	return EXIT_OK;
}
