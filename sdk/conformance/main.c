/*
 * main.c - trit-conformance PLUGIN.so: load a backend plugin through
 * libtrit's registry (its ABI checks and table wrapping), then run every
 * case of cases.c that each of its devices supports, on that device and on
 * the built-in `ref` backend, and report each failure. Cases, inputs, runs
 * and comparisons are the core's (conformance.h); this file is the CLI.
 */
#include <build-config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/trit.h>

#include "conformance.h"

struct opts {
	const char *plugin;
	long device;          /* -1 = every device */
	struct cf_filter f;
	int list;
};

static void usage(FILE *f)
{
	fputs("usage: trit-conformance [options] PLUGIN.so\n"
	      "Run every op x type x shape case of the plugin ABI that each device of PLUGIN\n"
	      "supports, compare with the built-in ref backend, and print one line per failure.\n"
	      "  --device N   only device N of the plugin\n"
	      "  --op NAME    only this op (MATMUL, GET_ROWS, ..., BUFFER)\n"
	      "  --type NAME  only cases that use this type (I2_S, Q8_0, ...)\n"
	      "  --seed S     seed of the random inputs (default 1)\n"
	      "  --list       list the cases (no PLUGIN needed) and exit\n"
	      "  --json       one JSON object per case instead of text lines\n"
	      "  -v           also list passes and skipped cases\n"
	      "  --help       this text\n"
	      "Plugin settings come from the environment (TRIT_PLUGIN_<NAME>_<KEY>).\n"
	      "Exit status: 0 all passed, 1 a case failed, 2 usage or load error.\n", f);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->device = -1, o->f.op = -1, o->f.type = -1, o->f.seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n = 0;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o->f.verbose = 1;
		} else if (!strcmp(a, "--list")) {
			o->list = 1;
		} else if (!strcmp(a, "--json")) {
			o->f.json = 1;
		} else if (!strcmp(a, "--device") || !strcmp(a, "--op") || !strcmp(a, "--type") ||
		           !strcmp(a, "--seed")) {
			if (!v)
				return fprintf(stderr, "trit-conformance: %s needs a value\n", a), -1;
			i++;
			if (a[2] == 'o' && (o->f.op = cf_op_from_name(v)) < 0)
				return fprintf(stderr, "trit-conformance: unknown op '%s' (see --list)\n", v), -1;
			if (a[2] == 't' && (o->f.type = cf_type_from_name(v)) < 0)
				return fprintf(stderr, "trit-conformance: unknown type '%s'\n", v), -1;
			if ((a[2] == 'd' || a[2] == 's') && parse_u64(v, &n))
				return fprintf(stderr, "trit-conformance: %s wants a number, not '%s'\n", a, v), -1;
			if (a[2] == 'd')
				o->device = n > INT_MAX ? INT_MAX : (long)n;
			if (a[2] == 's')
				o->f.seed = n;
		} else if (a[0] == '-' && a[1]) {
			return fprintf(stderr, "trit-conformance: unknown option '%s'\n", a), -1;
		} else if (o->plugin) {
			return fprintf(stderr, "trit-conformance: one plugin at a time ('%s' and '%s')\n",
			               o->plugin, a), -1;
		} else {
			o->plugin = a;
		}
	}
	if (!o->plugin && !o->list)
		return fprintf(stderr, "trit-conformance: which plugin? (trit-conformance --help)\n"), -1;
	return 0;
}

static int list_cases(const struct opts *o)
{
	const struct cf_case *cases;
	size_t n = cf_cases(&cases);
	char label[256];

	for (size_t i = 0; i < n; i++)
		if (cf_selected(&o->f, &cases[i])) {
			cf_case_label(&cases[i], label, sizeof label);
			printf("%s\n", label);
		}
	return 0;
}

/* `path` without its extension, its directory resolved: libltdl opens x.la
 * in place of x.so, so the registry may name the other file of the stem. */
static char *stem(const char *path)
{
	char *dup = strdup(path), *slash, *dot, *dir, *out = NULL;

	if (!dup)
		return NULL;
	slash = strrchr(dup, '/');
	dot = strrchr(slash ? slash : dup, '.');
	if (dot)
		*dot = '\0';
	if (slash)
		*slash = '\0';
	dir = realpath(slash ? (slash == dup ? "/" : dup) : ".", NULL);
	if (dir && (out = malloc(strlen(dir) + strlen(slash ? slash + 1 : dup) + 2)))
		sprintf(out, "%s/%s", dir, slash ? slash + 1 : dup);
	free(dir);
	free(dup);
	return out;
}

/* Find the plugin file among those the registry opened, and the ref. */
static int find(const struct trit_registry *reg, const char *want, size_t *dut, size_t *ref)
{
	char *w = stem(want);
	int found = 0;

	*ref = SIZE_MAX;
	for (size_t i = 0; w && i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		char *s = strcmp(p->path, "(built-in)") ? stem(p->path) : NULL;
		if (!strcmp(p->path, "(built-in)") && !strcmp(p->name, "ref"))
			*ref = i;
		else if (!found && s && !strcmp(s, w))
			*dut = i, found = 1;
		free(s);
	}
	free(w);
	return found && *ref != SIZE_MAX ? 0 : -1;
}

static int open_registry(const struct opts *o, struct trit_registry **reg, size_t *dut, size_t *ref)
{
	char err[512];
	const char *files[1] = { o->plugin };
	struct trit_registry_options ro = { 0 };

	ro.plugin_files = files;
	ro.n_plugin_files = 1;
	ro.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS;
	if (trit_registry_open(&ro, reg, err, sizeof err))
		return fprintf(stderr, "trit-conformance: %s\n", err), -1;
	if (find(*reg, o->plugin, dut, ref))
		return fprintf(stderr, "trit-conformance: %s: the registry did not open it\n", o->plugin), -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct trit_registry *reg = NULL;
	const struct trit_plugin_info *p;
	struct cf_backend dut = { 0 }, ref = { 0 };
	struct cf_tally t = { 0 };
	size_t idut = 0, iref = 0;

	if (parse_args(argc, argv, &o))
		return 2;
	if (o.list)
		return list_cases(&o);
	if (open_registry(&o, &reg, &idut, &iref)) {
		trit_registry_close(reg);
		return 2;
	}
	p = trit_registry_plugin(reg, idut);
	if (p->status != TRIT_PLUGIN_LOADED) {
		fprintf(stderr, "trit-conformance: plugin %s skipped: %s\n", p->path, p->reason);
		trit_registry_close(reg);
		return 2;
	}
	if (o.device >= 0 && (uint64_t)o.device >= p->n_devices) {
		fprintf(stderr, "trit-conformance: --device %ld: %s has %u device(s)\n", o.device, p->name,
		        p->n_devices);
		trit_registry_close(reg);
		return 2;
	}
	dut.be = trit_registry_backend(reg, idut, &dut.state);
	ref.be = trit_registry_backend(reg, iref, &ref.state);
	ref.name = "ref/ref0";
	for (uint32_t d = 0; d < p->n_devices; d++) {
		char name[256];
		if (o.device >= 0 && d != (uint32_t)o.device)
			continue;
		snprintf(name, sizeof name, "%s/%s", p->name, p->devices[d].id ? p->devices[d].id : "?");
		dut.device = d;
		dut.name = name;
		cf_run_device(&dut, &ref, &o.f, &t, stdout);
	}
	if (!o.f.json)
		printf("%u passed, %u failed, %u skipped\n", t.passed, t.failed, t.skipped);
	else
		printf("{\"passed\":%u,\"failed\":%u,\"skipped\":%u}\n", t.passed, t.failed, t.skipped);
	trit_registry_close(reg);
	return t.failed ? 1 : 0;
}
