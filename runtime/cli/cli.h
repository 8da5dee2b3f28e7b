/*
 * cli.h - what the `trit` commands share: exit codes, the global options,
 * the steps every command takes through the embedding API (configuration,
 * devices) and how errors and JSON are printed. The CLI uses <trit/trit.h>
 * and nothing else of libtrit; each command lives in cmd_<name>.c.
 */
#ifndef TRIT_CLI_H
#define TRIT_CLI_H

#include <stddef.h>

#include <trit/trit.h>

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
	EXIT_SKIPPED = 4,
	EXIT_NOFIT = 5
};

#define CLI_MAX_PLUGIN_DIRS 64

struct cli {
	struct trit_runtime *rt;
	const char *config_path;
	const char *devices_file; /* --devices: plan for the machine it describes */
	const char *plugin_dirs[CLI_MAX_PLUGIN_DIRS];
	size_t n_plugin_dirs;
	int verbose, quiet;
	int remeasure;            /* devices --remeasure: bypass the probe cache */
};

/* Report a usage error for command cmd (NULL: trit itself); returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) TRIT_PRINTF(2, 3);
/* Read --config (or $TRIT_CONFIG) and the environment; set the log level. */
int cli_load_config(struct cli *cli);
/* Set a value from a command option; a bad one is a usage error. */
int cli_set(struct cli *cli, const char *section, const char *key, const char *value,
            const char *flag);
/* trit run and trit perplexity run on one machine without tensor,
 * pipeline or expert parallelism: EXIT_CONFIG naming where a [parallel]
 * degree above 1 was set (that is for `trit plan`), else EXIT_OK. */
int cli_refuse_parallel(struct cli *cli, const char *cmd);
/* Open the devices as the global options say (--devices FILE that does not
 * load: EXIT_CONFIG). */
int cli_open_devices(struct cli *cli);
/* The whole of a file named with -f (a regular file, or "-" for standard
 * input), NUL-terminated, *len its size; at most max bytes. NULL after a
 * message naming the file (not a regular file, larger than max, unreadable). */
char *cli_read_input(const char *path, size_t max, size_t *len);
/* Print a JSON report and free it; NULL means memory ran out. */
int cli_print_json(char *s);

/* The commands (argv[0] is the command name) and their help texts. */
int cmd_devices(struct cli *cli, int argc, char **argv);
int cmd_inspect(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_bench(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_tokenize(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_convert(struct cli *cli, int argc, char **argv);
extern const char cli_usage_convert[];
int cmd_perplexity(struct cli *cli, int argc, char **argv);
extern const char cli_usage_devices[], cli_usage_inspect[], cli_usage_plan[],
	cli_usage_bench[], cli_usage_config[], cli_usage_tokenize[], cli_usage_run[];
extern const char cli_usage_perplexity[];

#endif
