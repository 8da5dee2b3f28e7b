/*
 * cpu_neon_qemu.c - the cpu_neon plugin's checks as a plain C program that
 * prints TAP, for hosts that are not aarch64: `make check` cross-compiles it
 * statically with AARCH64_CC, together with the plugin's sources and the
 * scalar reference (runtime/formats/ternary.c) and the shared graph-op checks
 * (plugins/common/opcheck.c), and tests/cpu-neon-qemu.sh runs it
 * under qemu-aarch64 on a CPU model with the dot-product extension and on
 * one without. (Check is not available for the cross target; on an aarch64
 * host the plugin's Check suite runs the same checks natively.)
 *
 *   cpu_neon_qemu --expect dotprod|neon [--expect-name TEXT]
 *
 * --expect says which kernel path the plugin must choose on this CPU: the
 * dot-product kernels are then run (an emulated CPU without the extension
 * would stop the program with SIGILL), and with "dotprod" the plain NEON
 * path is run as well through a second state configured to disable it.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "../plugins/common/opcheck.h"
#include "../plugins/cpu_neon/kerncheck.h"
#include "../plugins/cpu_neon/neon.h"

typedef unsigned long long ull;

static unsigned test_no, failed;

static void ok(int pass, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void ok(int pass, const char *fmt, ...)
{
	va_list ap;
	printf("%s %u - ", pass ? "ok" : "not ok", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		failed++;
	fflush(stdout);
}

static void note_value(const char *name, const struct trit_value *v, const char *unit)
{
	if (v->state == TRIT_VALUE_UNKNOWN)
		printf("# %s: unknown (%s)\n", name, v->source ? v->source : "no reason");
	else
		printf("# %s: %llu %s (%s)\n", name, (ull)v->value, unit,
		       v->source ? v->source : "no source");
}

static const char *prop_text(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (!strcmp(d->props[i].key, key))
			return d->props[i].text ? d->props[i].text : d->props[i].value.source;
	return "(absent)";
}

static const struct trit_property *prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (!strcmp(d->props[i].key, key))
			return &d->props[i];
	return NULL;
}

#define KERNEL_TESTS (3 * 2 * 2 * 2)

/* Every kernel x {gemv, gemm} x {I8 dots, F32} x {1, 3 threads}: three
 * random ragged shapes, one aligned shape and one of extreme values each. */
static void kernel_tests(const struct trit_backend *be, void *state, const char *path)
{
	static const uint32_t types[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	static const char *const tnames[3] = { "I2_S", "TL1", "TL2" };
	static const uint64_t blk[3] = { 128, 64, 96 };
	uint64_t seed = 1;

	for (int ti = 0; ti < 3; ti++)
		for (int gemv = 1; gemv >= 0; gemv--)
			for (int int_dots = 1; int_dots >= 0; int_dots--)
				for (unsigned threads = 1; threads <= 3; threads += 2) {
					char msg[600] = "";
					int pass = 1;
					for (int i = 0; i < 5 && pass; i++) {
						struct cpu_neon_kc_case c;
						cpu_neon_kc_random(&c, types[ti], gemv, threads, int_dots,
						                   seed++);
						if (i == 3) { /* aligned, tokens across chunks */
							c.rows = 64;
							c.cols = 2 * blk[ti];
							c.tokens = gemv ? 1 : 17;
						} else if (i == 4) { /* int16 headroom */
							c.extreme = 1;
							c.cols = 4100;
						}
						pass = cpu_neon_kc_run(be, state, &c, msg, sizeof msg) == 0;
					}
					ok(pass, "%s path: %s %s %s, %u thread%s%s%s", path, tnames[ti],
					   gemv ? "GEMV" : "GEMM", int_dots ? "I8 dots exact" : "F32 <= 1e-5",
					   threads, threads == 1 ? "" : "s", pass ? "" : ": ", msg);
				}
}

/* The ABI v2 graph ops (plugins/common/opcheck.c) on 1 and 3 threads. */
static void op_tests(const struct trit_backend *be, void *state)
{
	for (unsigned threads = 1; threads <= 3; threads += 2)
		for (unsigned i = 0; i < cpu_opcheck_count; i++) {
			char msg[1000] = "";
			int pass = cpu_opcheck_run(be, state, i, threads, msg, sizeof msg) == 0;
			ok(pass, "graph op: %s, %u thread%s%s%s", cpu_opcheck_cases[i].name, threads,
			   threads == 1 ? "" : "s", pass ? "" : ": ", msg);
		}
}

int main(int argc, char **argv)
{
	static const char *const fast[] = { "bandwidth_bytes", "8MiB", NULL };
	static const char *const plain[] = { "disable", "dotprod", "bandwidth_probe", "no", NULL };
	const char *expect = NULL, *expect_name = NULL;
	const struct trit_backend *be = cpu_neon_LTX_trit_backend_entry();
	struct cpu_neon_kc_host host, host_plain;
	void *st = NULL, *st_plain = NULL;
	char err[600] = "", msg[600] = "";
	int want_dot, rc;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--expect"))
			expect = argv[i + 1];
		else if (!strcmp(argv[i], "--expect-name"))
			expect_name = argv[i + 1];
	}
	if (!expect || (strcmp(expect, "dotprod") && strcmp(expect, "neon"))) {
		fprintf(stderr, "usage: %s --expect dotprod|neon [--expect-name TEXT]\n", argv[0]);
		return 2;
	}
	want_dot = !strcmp(expect, "dotprod");
	printf("1..%u\n", 6 + KERNEL_TESTS * (want_dot ? 2 : 1) + 1 + 2 * cpu_opcheck_count);

	cpu_neon_kc_host_init(&host, fast);
	rc = be->init(&host.host, &st, err, sizeof err);
	ok(rc == 0, "init probes this CPU%s%s", rc ? ": " : "", err);
	if (rc != 0) {
		printf("Bail out! cpu_neon does not initialise here\n");
		return 1;
	}
	{
		const struct trit_device *d = be->device_get(st, 0);
		const struct cpu_neon_kernels *k = cpu_neon_state_kernels(st);
		uint64_t types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
		                 TRIT_TYPE_BIT(TRIT_TYPE_TL2);
		const struct trit_property *nm = prop(d, "cpu.name");

		printf("# device: %s (vendor %s)\n", d->name, d->vendor ? d->vendor : "unknown");
		printf("# name from: %s\n", nm && nm->value.source ? nm->value.source : "?");
		printf("# features: %s (%s)\n", prop_text(d, "cpu.features"),
		       prop(d, "cpu.features")->value.source);
		printf("# kernel path: %s; I2_S: %s\n", k->name, k->i2s_how);
		note_value("hw_threads", &d->hw_threads, "threads");
		note_value("compute_units", &d->compute_units, "cores");
		note_value("cache.l1d", &prop(d, "cache.l1d")->value, "bytes");
		note_value("cache.l2", &prop(d, "cache.l2")->value, "bytes");
		note_value("cache.l3", &prop(d, "cache.l3")->value, "bytes");
		note_value("mem_total", &d->mem_total, "bytes");
		note_value("mem_bandwidth (emulated)", &d->mem_bandwidth, "bytes/s");
		note_value("clock_hz", &d->clock_hz, "Hz");

		ok((d->caps & TRIT_CAP_NEON) && !!(d->caps & TRIT_CAP_DOTPROD) == want_dot,
		   "caps from getauxval: NEON, and dotprod %s", want_dot ? "present" : "absent");
		ok(!strcmp(k->name, expect) && !strcmp(prop_text(d, "kernel.isa"), expect),
		   "the %s kernel path is chosen and reported as kernel.isa (got %s, %s)", expect,
		   k->name, prop_text(d, "kernel.isa"));
		ok((d->matmul_types & types) == types && d->mem_total.state != TRIT_VALUE_UNKNOWN,
		   "the device advertises I2_S, TL1, TL2 and a measured memory size");
		ok(nm && nm->value.state != TRIT_VALUE_UNKNOWN &&
		           (!expect_name || strstr(d->name, expect_name)),
		   "the CPU is identified by its MIDR%s%s (got '%s')",
		   expect_name ? " as " : "", expect_name ? expect_name : "", d->name);
	}

	kernel_tests(be, st, expect);

	cpu_neon_kc_host_init(&host_plain, plain);
	rc = be->init(&host_plain.host, &st_plain, err, sizeof err);
	ok(rc == 0 && !strcmp(cpu_neon_state_kernels(st_plain)->name, "neon") &&
	           !(be->device_get(st_plain, 0)->caps & TRIT_CAP_DOTPROD),
	   "disable = dotprod selects the plain NEON path%s%s", rc ? ": " : "", err);
	if (want_dot && rc == 0)
		kernel_tests(be, st_plain, "neon (dotprod disabled)");

	op_tests(be, st);

	rc = cpu_neon_kc_bad_args(be, st, msg, sizeof msg);
	ok(rc == 0, "bad matmul and buffer arguments are refused with their code and a "
	            "sentence%s%s", rc ? ": " : "", msg);

	be->shutdown(st_plain);
	be->shutdown(st);
	return failed ? 1 : 0;
}
