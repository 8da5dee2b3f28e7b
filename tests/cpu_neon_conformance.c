/*
 * cpu_neon_conformance.c - trit-conformance (sdk/conformance/) on the
 * cpu_neon plugin without libtrit or dlopen: `make check` cross-compiles the
 * suite's core, the plugin's sources and the ref kernels (runtime/backend/
 * ref*.c) into one static aarch64 program, and tests/cpu-neon-conformance.sh
 * runs it under qemu-aarch64 and turns its lines into TAP. The cases, runs
 * and tolerances are the core's; this file only builds the two tables.
 *
 *   cpu_neon_conformance [--op NAME] [--type NAME] [--seed S]
 *
 * The plugin picks its kernel path from the (emulated) CPU, as it would in
 * trit; the path is printed first. Every case is listed (-v of
 * trit-conformance), then "N passed, N failed, N skipped".
 */
#include <build-config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "backend/ref.h"

#include "../plugins/cpu_neon/kerncheck.h"
#include "../plugins/cpu_neon/neon.h"
#include "../sdk/conformance/conformance.h"

static int usage(void)
{
	fprintf(stderr, "usage: cpu_neon_conformance [--op NAME] [--type NAME] [--seed S]\n");
	return 2;
}

/* Options into f; -1 on a bad one (said on stderr). */
static int parse_args(int argc, char **argv, struct cf_filter *f)
{
	memset(f, 0, sizeof *f);
	f->op = -1, f->type = -1, f->seed = 1, f->verbose = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!v || (strcmp(a, "--op") && strcmp(a, "--type") && strcmp(a, "--seed")))
			return fprintf(stderr, "cpu_neon_conformance: bad option '%s'%s\n", a,
			               v ? "" : " (or its value is missing)"), -1;
		i++;
		if (!strcmp(a, "--op") && (f->op = cf_op_from_name(v)) < 0)
			return fprintf(stderr, "cpu_neon_conformance: unknown op '%s'\n", v), -1;
		if (!strcmp(a, "--type") && (f->type = cf_type_from_name(v)) < 0)
			return fprintf(stderr, "cpu_neon_conformance: unknown type '%s'\n", v), -1;
		if (!strcmp(a, "--seed")) {
			errno = 0;
			f->seed = strtoull(v, &end, 0);
			if (errno || end == v || *end || *v == '-')
				return fprintf(stderr, "cpu_neon_conformance: --seed wants a number, not '%s'\n",
				               v), -1;
		}
	}
	return 0;
}

/* init() of `be` with a host whose configuration is kv; 0 or -1 (said). */
static int start(const struct trit_backend *be, struct cpu_neon_kc_host *h, const char *const *kv,
                 void **state)
{
	char err[600] = "";
	int rc;

	cpu_neon_kc_host_init(h, kv);
	*state = NULL;
	if ((rc = be->init(&h->host, state, err, sizeof err)) != 0) {
		fprintf(stderr, "cpu_neon_conformance: %s init failed (error %d): %s\n", be->name, rc, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const fast[] = { "bandwidth_probe", "no", NULL };
	struct cpu_neon_kc_host neon_host, ref_host;
	struct cf_backend dut = { 0 }, ref = { 0 };
	struct cf_filter f;
	struct cf_tally t = { 0 };

	if (parse_args(argc, argv, &f))
		return usage();
	dut.be = cpu_neon_LTX_trit_backend_entry();
	ref.be = trit_ref_backend();
	ref.name = "ref/ref0";
	if (start(dut.be, &neon_host, fast, &dut.state))
		return 2;
	if (start(ref.be, &ref_host, NULL, &ref.state)) {
		dut.be->shutdown(dut.state);
		return 2;
	}
	printf("# kernel path: %s\n", cpu_neon_state_kernels(dut.state)->name);
	for (uint32_t d = 0; d < dut.be->device_count(dut.state); d++) {
		char name[256];
		snprintf(name, sizeof name, "cpu_neon/%s", dut.be->device_get(dut.state, d)->id);
		dut.device = d;
		dut.name = name;
		cf_run_device(&dut, &ref, &f, &t, stdout);
	}
	printf("%u passed, %u failed, %u skipped\n", t.passed, t.failed, t.skipped);
	ref.be->shutdown(ref.state);
	dut.be->shutdown(dut.state);
	return t.failed ? 1 : 0;
}
