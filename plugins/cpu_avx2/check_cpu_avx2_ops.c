/*
 * check_cpu_avx2_ops.c - Check suite for the cpu_avx2 plugin's ABI v2 graph
 * ops: every case of plugins/common/opcheck.c (each op against a plain
 * double-precision computation, on odd shapes, strided and in place) through
 * the plugin table, with the ISA forced to avx2 and to avx512 (when this CPU
 * has AVX-512) and on 1 and 3 threads; and the vector loops of
 * kern_ops_avx2.c against the portable ones on lengths around the vector
 * widths.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>
#include <trit/quant.h>

#include "../common/opcheck.h"
#include "kernels.h"
#include "probe.h"

static const char *isa_setting;

static const char *cfg_get(void *ctx, const char *key)
{
	(void)ctx;
	if (!strcmp(key, "bandwidth_probe"))
		return "no";
	if (!strcmp(key, "isa"))
		return isa_setting;
	return NULL;
}

static const char *cfg_key(void *ctx, uint32_t i)
{
	(void)ctx;
	return i == 0 ? "bandwidth_probe" : i == 1 && isa_setting ? "isa" : NULL;
}

static const char *cfg_where(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return "check_cpu_avx2_ops";
}

static const struct trit_host host = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = "test",
	.config_get = cfg_get,
	.config_key = cfg_key,
	.config_where = cfg_where,
};

/* A state with the isa option set (NULL: auto); NULL when this CPU cannot
 * run that ISA (the reason in why). */
static void *state_for(const char *isa, char *why, size_t len)
{
	const struct trit_backend *be = cpu_avx2_LTX_trit_backend_entry();
	void *st = NULL;

	isa_setting = isa;
	if (be->init(&host, &st, why, len) != 0)
		return NULL;
	return st;
}

static void run_case(unsigned i, const char *isa)
{
	const struct trit_backend *be = cpu_avx2_LTX_trit_backend_entry();
	char why[600], msg[1000];
	void *st = state_for(isa, why, sizeof why);

	if (!st) {
		ck_assert_msg(isa && !strcmp(isa, "avx512"), "init with isa %s failed: %s",
		              isa ? isa : "auto", why);
		fprintf(stderr, "# %s with isa = avx512 not run: %s\n",
		        cpu_opcheck_cases[i].name, why);
		return;
	}
	for (unsigned threads = 1; threads <= 3; threads += 2)
		ck_assert_msg(cpu_opcheck_run(be, st, i, threads, msg, sizeof msg) == 0,
		              "%s (isa %s, %u threads): %s", cpu_opcheck_cases[i].name,
		              isa ? isa : "auto", threads, msg);
	be->shutdown(st);
}

START_TEST(graph_op_case_with_isa_avx2)
{
	run_case((unsigned)_i, "avx2");
}
END_TEST

START_TEST(graph_op_case_with_isa_avx512)
{
	run_case((unsigned)_i, "avx512");
}
END_TEST

START_TEST(device_advertises_every_matmul_type_it_runs)
{
	const struct trit_backend *be = cpu_avx2_LTX_trit_backend_entry();
	char why[600];
	void *st = state_for(NULL, why, sizeof why);
	const struct trit_device *d;
	uint64_t want = 0;

	ck_assert_msg(st != NULL, "%s", why);
	d = be->device_get(st, 0);
	for (uint32_t t = 0; t < TRIT_TYPE_COUNT; t++)
		if (t != TRIT_TYPE_I8 && t != TRIT_TYPE_I32)
			want |= TRIT_TYPE_BIT(t);
	ck_assert_uint_eq(d->matmul_types, want);
	be->shutdown(st);
}
END_TEST

Suite *ops_suite(void);
Suite *ops_suite(void)
{
	Suite *s = suite_create("cpu_avx2_ops");
	TCase *tc = tcase_create("graph");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, graph_op_case_with_isa_avx2, 0, (int)cpu_opcheck_count);
	tcase_add_loop_test(tc, graph_op_case_with_isa_avx512, 0, (int)cpu_opcheck_count);
	tcase_add_test(tc, device_advertises_every_matmul_type_it_runs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ops_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
