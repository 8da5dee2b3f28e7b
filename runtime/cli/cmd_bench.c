/*
 * cmd_bench.c - `trit bench`: parse which kernels, shapes, devices and
 * settings to measure, let libtrit run them and add them to the bench cache,
 * and print its report; progress and failures go to stderr as they happen.
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "cli.h"

const char cli_usage_bench[] =
	"Usage: trit bench [--full] [--kernel i2s|tl1|tl2|all] [--shape MxK]... [--tokens N]\n"
	"                  [--backend NAME]... [--device ID]... [--reps N] [--threads N]\n"
	"                  [--working-set SIZE] [--cache FILE] [--no-cache] [--json] [-q]\n"
	"\n"
	"Run each ternary kernel (I2_S, TL1, TL2) each device advertises, through the plugin\n"
	"interface, on BitNet-b1.58-2B-4T's layer shapes (M x K: 2560x2560, 640x2560,\n"
	"6912x2560, 2560x6912 and the 128256x2560 output) with the planner's thread count, and\n"
	"print GOP/s (2 x M x K x tokens per matmul), the weight bytes streamed per second, a\n"
	"plain streaming read of the same bytes measured in the same run (devices whose\n"
	"buffers are host memory; unknown, with the reason, for others) and the ratio of the\n"
	"two. The weights rotate over copies spanning twice the last-level cache (a fixed 1 GiB\n"
	"when no cache size is known), so they come from memory. By default a quick run (seconds\n"
	"on two cores) caps that at 256 MiB, still several times the cache a core can fill on\n"
	"most CPUs, and takes 5 samples. Each kernel is first checked against the scalar\n"
	"reference and is not reported when it disagrees. The results go to the bench cache,\n"
	"which `trit devices` shows and `trit plan` uses; a quick result never replaces a\n"
	"--full one. Progress goes to stderr. Method: docs/bench.md.\n"
	"\n"
	"  --full              the long version: the working set not capped (2 x the last-level\n"
	"                      cache, on the device and again in host memory), 9 samples\n"
	"  --kernel K          i2s, tl1, tl2 or all (default all; may be repeated)\n"
	"  --shape MxK         M output by K input features (may be repeated, at most 16;\n"
	"                      default the five shapes above)\n"
	"  --tokens N          activations per matmul (default 1, as in decoding)\n"
	"  --backend NAME      only this backend's devices (may be repeated). The scalar\n"
	"                      reference `ref` runs only when named, or when no other backend\n"
	"                      has a ternary kernel: it takes seconds per matmul on large shapes\n"
	"  --device ID         only devices with this id (may be repeated)\n"
	"  --reps N            timed samples per shape, after one untimed (default 5; 9 with\n"
	"                      --full)\n"
	"  --threads N         CPU threads (default: the planner's, see [runtime] threads)\n"
	"  --working-set SIZE  rotate the weights over SIZE bytes (e.g. 1GiB) instead\n"
	"  --cache FILE        the bench cache (default: [runtime] bench_cache,\n"
	"                      $XDG_CACHE_HOME/trit/bench.json, ~/.cache/trit/bench.json)\n"
	"  --no-cache          do not write the bench cache\n"
	"  --json              print one JSON document (schema: docs/json.md)\n"
	"  -q, --quiet         no progress messages on stderr\n"
	"Exit status: 0 every kernel was measured, 1 a kernel failed or disagreed with the\n"
	"reference (the others are still reported), nothing matched the filters, or the\n"
	"cache could not be read or written; 2 usage error; 3 configuration error.\n";

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

static void on_progress(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "trit bench: %s\n", msg);
}

static void on_failure(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "trit: %s\n", msg);
}

/* "--tokens N" (1 .. 4096) or "--reps N" (1 .. 1000). */
static int parse_count(const char *opt, const char *s, unsigned long long max, uint32_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v < 1 || v > max)
		return cli_usage_error("bench", "--%s '%s': expected a whole number from 1 to %llu",
		                       opt, s, max);
	*out = (uint32_t)v;
	return EXIT_OK;
}

/* A --backend or --device filter. */
static int add_filter(const char *opt, const char **v, uint32_t *n, const char *s)
{
	if (*n == TRIT_BENCH_OPT_MAX_FILTERS)
		return cli_usage_error("bench", "at most %u --%s options", TRIT_BENCH_OPT_MAX_FILTERS,
		                       opt);
	v[(*n)++] = s;
	return EXIT_OK;
}

static int add_shape(struct trit_bench_options *o, const char *s)
{
	if (o->n_shapes == TRIT_BENCH_OPT_MAX_SHAPES)
		return cli_usage_error("bench", "at most %u --shape options",
		                       TRIT_BENCH_OPT_MAX_SHAPES);
	if (parse_shape(s, &o->rows[o->n_shapes], &o->cols[o->n_shapes]))
		return cli_usage_error("bench", "--shape '%s': expected MxK, two whole numbers "
		                       "from 1 to 2147483648 (output by input features), e.g. "
		                       "2560x6912", s);
	o->n_shapes++;
	return EXIT_OK;
}

/* What the command line asks for besides the options libtrit takes. */
struct bench_cli {
	const char *cache, *threads;
	int json, quiet, write_cache;
};

/* One option; EXIT_OK, -1 when help was printed, or the usage error's status. */
static int bench_option(int c, struct trit_bench_options *o, struct bench_cli *b)
{
	switch (c) {
	case 'k':
		if (parse_kernel(optarg, &o->kernels))
			return cli_usage_error("bench", "--kernel '%s': expected i2s, tl1, tl2 or all",
			                       optarg);
		return EXIT_OK;
	case 's': return add_shape(o, optarg);
	case 't': return parse_count("tokens", optarg, 4096, &o->tokens);
	case 'r': return parse_count("reps", optarg, 1000, &o->reps);
	case 'b': return add_filter("backend", o->backends, &o->n_backends, optarg);
	case 'd': return add_filter("device", o->devices, &o->n_devices, optarg);
	case 'T': b->threads = optarg; return EXIT_OK;
	case 'w':
		if (trit_parse_size(optarg, &o->working_set) || !o->working_set)
			return cli_usage_error("bench", "--working-set '%s': expected a size such as "
			                       "256MiB", optarg);
		return EXIT_OK;
	case 'C': b->cache = optarg; return EXIT_OK;
	case 'N': b->write_cache = 0; return EXIT_OK;
	case 'F': o->full = 1; return EXIT_OK;
	case 'j': b->json = 1; return EXIT_OK;
	case 'q': b->quiet = 1; return EXIT_OK;
	case 'h': fputs(cli_usage_bench, stdout); return -1;
	default: return cli_usage_error("bench", "bad option");
	}
}

static int bench_options(int argc, char **argv, struct trit_bench_options *o,
                         struct bench_cli *b)
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
		{ "full", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "k:s:t:b:d:r:T:w:C:Njqh", opts, NULL)) != -1)
		if ((rc = bench_option(c, o, b)))
			return rc;
	if (optind < argc)
		return cli_usage_error("bench", "bench takes no arguments (got '%s')", argv[optind]);
	return EXIT_OK;
}

/* Run and print; the exit status. */
static int bench_and_print(struct cli *cli, const struct trit_bench_options *o, int json)
{
	struct trit_bench_report *r;
	char err[1200];
	int rc = trit_bench_run(cli->rt, o, &r, err, sizeof err) ? EXIT_FAIL : EXIT_OK;

	if (rc)
		fprintf(stderr, "trit: %s\n", err);
	if (r && (trit_bench_report_count(r) || trit_bench_report_refused(r))) {
		if (json) {
			int jr = cli_print_json(trit_bench_report_json(r));
			if (!rc)
				rc = jr;
		} else {
			trit_bench_report_text(r, stdout);
		}
	}
	if (!rc && r && trit_bench_report_refused(r))
		rc = EXIT_FAIL;
	trit_bench_report_free(r);
	return rc;
}

int cmd_bench(struct cli *cli, int argc, char **argv)
{
	struct trit_bench_options o = { .tokens = 1 }; /* reps 0: the mode's */
	struct bench_cli b = { .quiet = cli->quiet, .write_cache = 1 };
	char err[1200];
	int rc;

	if ((rc = bench_options(argc, argv, &o, &b)))
		return rc < 0 ? EXIT_OK : rc;
	if (cli->devices_file)
		return cli_usage_error("bench", "bench measures this machine's kernels; --devices "
		                       "describes another machine, whose kernels cannot run here");
	if ((rc = cli_load_config(cli)))
		return rc;
	if (b.threads && (rc = cli_set(cli, "runtime", "threads", b.threads, "--threads")))
		return rc;
	if (b.write_cache && trit_runtime_load_bench_cache(cli->rt, b.cache, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	if ((rc = cli_open_devices(cli)))
		return rc;
	if (!b.quiet)
		o.progress = on_progress;
	o.failure = on_failure;
	return bench_and_print(cli, &o, b.json);
}
