/*
 * cmd_devices.c - `trit devices`: the plugins found, their devices and what
 * was measured (with `trit bench`'s cached results), as text or JSON; with
 * --strict, a skipped plugin is exit status 4. Rendering is libtrit's.
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

const char cli_usage_devices[] =
	"Usage: trit devices [--json] [--strict] [--remeasure] [-v]\n"
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
	"  --remeasure  take again the measurements plugins keep in the probe cache\n"
	"             (memory bandwidth, device lists) and store the new ones\n"
	"  -v         also show the search path and how every value was measured\n";

/* EXIT_SKIPPED when a plugin was not loaded. */
static int strict_status(const struct trit_registry *reg)
{
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
		if (trit_registry_plugin(reg, i)->status != TRIT_PLUGIN_LOADED)
			return EXIT_SKIPPED;
	return EXIT_OK;
}

int cmd_devices(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "strict", no_argument, NULL, 's' },
		{ "remeasure", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int json = 0, strict = 0, c, rc = EXIT_OK;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "jsvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': strict = 1; break;
		case 'r': cli->remeasure = 1; break;
		case 'v': cli->verbose++; break;
		case 'h': fputs(cli_usage_devices, stdout); return EXIT_OK;
		default: return cli_usage_error("devices", "bad option");
		}
	}
	if (optind < argc)
		return cli_usage_error("devices", "devices takes no arguments (got '%s')",
		                       argv[optind]);
	if ((rc = cli_load_config(cli)) || (rc = cli_open_devices(cli)))
		return rc;
	/* a described machine's devices were never measured here; a cache
	 * that cannot be read is shown in the report */
	if (!cli->devices_file)
		trit_runtime_load_bench_cache(cli->rt, NULL, NULL, 0);
	if (json)
		rc = cli_print_json(trit_devices_report_json(cli->rt));
	else
		trit_devices_report_text(cli->rt, stdout, cli->verbose > 0);
	if (!rc && strict)
		rc = strict_status(trit_runtime_registry(cli->rt));
	return rc;
}
