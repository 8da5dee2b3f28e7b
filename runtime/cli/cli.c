/*
 * cli.c - the steps every `trit` command shares (see cli.h): usage errors,
 * reading the configuration, applying command options to it, opening the
 * devices, printing JSON. Only <trit/trit.h> is used.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trit: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'trit %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

int cli_load_config(struct cli *cli)
{
	char err[4096];
	int level;

	if (trit_runtime_load_config(cli->rt, cli->config_path, err, sizeof err)) {
		fprintf(stderr, "trit: configuration errors:\n%s\n", err);
		return EXIT_CONFIG;
	}
	if (trit_runtime_apply_env(cli->rt, err, sizeof err)) {
		fprintf(stderr, "trit: environment errors:\n%s\n", err);
		return EXIT_CONFIG;
	}
	level = trit_runtime_log_level(cli->rt) + cli->verbose;
	if (cli->quiet)
		level = TRIT_LOG_ERROR;
	trit_log_set_level(level);
	return EXIT_OK;
}

int cli_set(struct cli *cli, const char *section, const char *key, const char *value,
            const char *flag)
{
	char err[1024];

	if (!trit_runtime_set(cli->rt, section, key, value, flag, err, sizeof err))
		return EXIT_OK;
	fprintf(stderr, "trit: %s\n", err);
	return EXIT_USAGE;
}

int cli_open_devices(struct cli *cli)
{
	struct trit_registry_options ro = {
		.plugin_dirs = cli->plugin_dirs,
		.n_plugin_dirs = cli->n_plugin_dirs,
		.devices_file = cli->devices_file,
		.flags = cli->remeasure ? TRIT_REGISTRY_REMEASURE : 0,
	};
	char err[16384];
	int rc = trit_runtime_open_devices(cli->rt, &ro, err, sizeof err);

	if (!rc)
		return EXIT_OK;
	fprintf(stderr, "trit: %s\n", err);
	return rc == TRIT_ECONFIG ? EXIT_CONFIG : EXIT_FAIL;
}

int cli_print_json(char *s)
{
	if (!s) {
		fprintf(stderr, "trit: out of memory building the JSON report\n");
		return EXIT_FAIL;
	}
	puts(s);
	free(s);
	return EXIT_OK;
}

int cli_refuse_parallel(struct cli *cli, const char *cmd)
{
	static const char *const keys[] = { "tp", "pp", "ep" };
	struct trit_config_value v;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (trit_runtime_config(cli->rt, "parallel", keys[i], &v) == 0 && v.text && v.i > 1) {
			fprintf(stderr, "trit: %s runs on one machine without tensor, pipeline or "
			        "expert parallelism, but [parallel] %s = %lld (%s): that deployment "
			        "is for another engine; `trit plan --%s %lld` says what each GPU "
			        "holds\n", cmd, keys[i], (long long)v.i, v.where, keys[i],
			        (long long)v.i);
			return EXIT_CONFIG;
		}
	return EXIT_OK;
}
