/*
 * check_cpu_neon.c - Check suite for the cpu_neon plugin, built and run on
 * aarch64 hosts. Feature decoding and CPU naming are fed other CPUs' hwcap
 * words, cpuinfo texts and MIDR files (fixtures in a mkdtemp directory); the
 * configuration comes from a fake host; the kernels are compared with the
 * scalar reference through the backend table (kerncheck.c, shared with the
 * qemu test other hosts run) on both kernel paths this CPU can execute.
 */
#include <build-config.h>

#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/opcheck.h"
#include "kerncheck.h"
#include "neon.h"

static char tmp[256];

static void make_parents(const char *path)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
}

static void put(const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	make_parents(path);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/check_cpu_neon.XXXXXX", P_tmpdir);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	put("proc/self/.keep", "");
	put("sys/devices/.keep", "");
}

static void teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------------ */
/* Features                                                                  */

START_TEST(hwcaps_of_a_cortex_a53_give_neon_only)
{
	/* AT_HWCAP as qemu's cortex-a53 model reports it. */
	struct cpu_neon_hwcaps raw = { 0x8fb, 0 };
	char why[200];
	ck_assert_uint_eq(cpu_neon_caps_decode(&raw, why, sizeof why), TRIT_CAP_NEON);
	ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(hwcaps_of_a_neoverse_n1_give_dotprod_and_fp16)
{
	struct cpu_neon_hwcaps raw = { 0x119ffb, 0 };
	ck_assert_uint_eq(cpu_neon_caps_decode(&raw, NULL, 0),
	                  TRIT_CAP_NEON | TRIT_CAP_DOTPROD | TRIT_CAP_FP16);
}
END_TEST

START_TEST(hwcap2_gives_i8mm_and_bf16_and_hwcap_sve)
{
	struct cpu_neon_hwcaps raw = { CPU_NEON_HWCAP_ASIMD | CPU_NEON_HWCAP_SVE,
		                       CPU_NEON_HWCAP2_I8MM | CPU_NEON_HWCAP2_BF16 };
	ck_assert_uint_eq(cpu_neon_caps_decode(&raw, NULL, 0),
	                  TRIT_CAP_NEON | TRIT_CAP_SVE | TRIT_CAP_I8MM | TRIT_CAP_BF16);
}
END_TEST

START_TEST(no_asimd_bit_means_no_caps_and_a_reason)
{
	struct cpu_neon_hwcaps raw = { CPU_NEON_HWCAP_ASIMDDP, 0 };
	char why[200];
	ck_assert_uint_eq(cpu_neon_caps_decode(&raw, why, sizeof why), 0);
	ck_assert_ptr_nonnull(strstr(why, "no ASIMD bit"));
}
END_TEST

START_TEST(disable_names_map_to_caps_and_format_back)
{
	char buf[100];
	ck_assert_uint_eq(cpu_neon_caps_by_name("dotprod"), TRIT_CAP_DOTPROD);
	ck_assert_uint_eq(cpu_neon_caps_by_name("neon"), TRIT_CAP_NEON);
	ck_assert_uint_eq(cpu_neon_caps_by_name("avx2"), 0);
	cpu_neon_caps_format(TRIT_CAP_NEON | TRIT_CAP_DOTPROD | TRIT_CAP_FP16, buf, sizeof buf);
	ck_assert_str_eq(buf, "neon dotprod fp16");
	cpu_neon_caps_format(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "none");
}
END_TEST

START_TEST(this_cpu_has_neon_per_getauxval)
{
	struct cpu_neon_hwcaps raw;
	cpu_neon_hwcaps_read(&raw);
	ck_assert(cpu_neon_caps_decode(&raw, NULL, 0) & TRIT_CAP_NEON);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

START_TEST(midr_values_split_and_name_known_parts)
{
	struct cpu_neon_midr m = cpu_neon_midr_split(0x414fd0c1);
	ck_assert_uint_eq(m.implementer, 0x41);
	ck_assert_uint_eq(m.variant, 4);
	ck_assert_uint_eq(m.part, 0xd0c);
	ck_assert_uint_eq(m.revision, 1);
	ck_assert_str_eq(cpu_neon_part_name(0x41, 0xd0c), "Neoverse-N1");
	ck_assert_str_eq(cpu_neon_part_name(0x41, 0xd03), "Cortex-A53");
	ck_assert_str_eq(cpu_neon_implementer_name(0x46), "Fujitsu");
	ck_assert_ptr_null(cpu_neon_part_name(0x41, 0xfff));
	ck_assert_ptr_null(cpu_neon_implementer_name(0x00));
}
END_TEST

static const char big_little[] =
	"processor\t: 0\nBogoMIPS\t: 38.40\nFeatures\t: fp asimd evtstrm aes pmull sha1 "
	"sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
	"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x2\n"
	"CPU part\t: 0xd05\nCPU revision\t: 0\n\n"
	"processor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n\n"
	"processor\t: 4\nCPU implementer\t: 0x41\nCPU architecture: 8\n"
	"CPU part\t: 0xd0b\nCPU revision\t: 1\n";

START_TEST(cpuinfo_lists_each_kind_of_core_once)
{
	struct cpu_neon_midr m[8];
	ck_assert_uint_eq(cpu_neon_cpuinfo_parts(big_little, m, 8), 2);
	ck_assert_uint_eq(m[0].part, 0xd05);
	ck_assert_uint_eq(m[1].part, 0xd0b);
	ck_assert_uint_eq(cpu_neon_cpuinfo_parts("processor\t: 0\nvendor_id\t: GenuineIntel\n"
	                                         "model name\t: Intel(R) Xeon(R)\n", m, 8), 0);
}
END_TEST

START_TEST(name_comes_from_cpuinfo_first)
{
	struct cpu_neon_hwcaps raw = { 0, 0 };
	struct cpu_common_pool pool = { 0 };
	struct trit_value src;
	const char *name, *vendor;
	char proc[300], sys[300];

	put("proc/cpuinfo", big_little);
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	snprintf(sys, sizeof sys, "%s/sys", tmp);
	cpu_neon_name_probe(proc, sys, &raw, &name, &vendor, &src, &pool);
	ck_assert_str_eq(name, "Arm Cortex-A55 + Cortex-A76");
	ck_assert_str_eq(vendor, "Arm");
	ck_assert_uint_eq(src.state, TRIT_VALUE_MEASURED);
	ck_assert_ptr_nonnull(strstr(src.source, "several kinds of core"));
	cpu_common_pool_free(&pool);
}
END_TEST

START_TEST(name_falls_back_to_the_sysfs_midr_then_says_why_it_is_unknown)
{
	struct cpu_neon_hwcaps raw = { 0, 0 };
	struct cpu_common_pool pool = { 0 };
	struct trit_value src;
	const char *name, *vendor;
	char proc[300], sys[300];

	put("proc/cpuinfo", "processor\t: 0\nmodel name\t: something else\n");
	put("sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "0x00000000461f0010\n");
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	snprintf(sys, sizeof sys, "%s/sys", tmp);
	cpu_neon_name_probe(proc, sys, &raw, &name, &vendor, &src, &pool);
	ck_assert_str_eq(name, "Fujitsu A64FX");
	ck_assert_uint_eq(src.value, 0x461f0010);

	/* Garbage in the MIDR file, and no CPUID hwcap: unknown, with all
	 * three reasons. */
	put("sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "fast\n");
	cpu_neon_name_probe(proc, sys, &raw, &name, &vendor, &src, &pool);
	ck_assert_uint_eq(src.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(src.source, "no CPU implementer"));
	ck_assert_ptr_nonnull(strstr(src.source, "hex MIDR"));
	ck_assert_ptr_nonnull(strstr(src.source, "CPUID"));
	ck_assert_ptr_null(vendor);
	cpu_common_pool_free(&pool);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Configuration and the device                                              */

static int init_with(const char *const *kv, void **st, char *err, size_t errlen)
{
	static struct cpu_neon_kc_host h;
	cpu_neon_kc_host_init(&h, kv);
	return cpu_neon_LTX_trit_backend_entry()->init(&h.host, st, err, errlen);
}

START_TEST(bad_configuration_is_refused_naming_the_key)
{
	static const char *const unknown[] = { "threads", "4", NULL };
	static const char *const feature[] = { "disable", "dotprod,avx512", NULL };
	static const char *const onoff[] = { "bandwidth_probe", "sometimes", NULL };
	static const char *const small[] = { "bandwidth_bytes", "1KiB", NULL };
	static const char *const rel[] = { "sys_root", "sys", NULL };
	static const char *const *const bad[] = { unknown, feature, onoff, small, rel };
	static const char *const word[] = { "no key 'threads'", "'avx512' is not a feature",
		                            "bandwidth_probe", "at least 1 MiB", "sys_root" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *st = (void *)1;
		char err[400] = "";
		ck_assert_int_eq(init_with(bad[i], &st, err, sizeof err), TRIT_ECONFIG);
		ck_assert_ptr_null(st);
		ck_assert_msg(strstr(err, word[i]) && strstr(err, "the test's configuration"),
		              "message: %s", err);
	}
}
END_TEST

START_TEST(disabling_neon_refuses_to_register)
{
	static const char *const kv[] = { "disable", "neon", "bandwidth_probe", "no", NULL };
	void *st = NULL;
	char err[400] = "";
	ck_assert_int_eq(init_with(kv, &st, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err, "disable = neon"));
}
END_TEST

START_TEST(init_reports_one_cpu_with_the_ternary_kernels)
{
	static const char *const kv[] = { "bandwidth_bytes", "16MiB", NULL };
	const struct trit_backend *be = cpu_neon_LTX_trit_backend_entry();
	const struct trit_device *d;
	struct cpu_neon_hwcaps raw;
	void *st = NULL;
	char err[400] = "";

	ck_assert_uint_eq(be->abi_version, TRIT_BACKEND_ABI_VERSION);
	ck_assert_str_eq(be->name, "cpu_neon");
	ck_assert_msg(init_with(kv, &st, err, sizeof err) == 0, "init: %s", err);
	ck_assert_uint_eq(be->device_count(st), 1);
	ck_assert_ptr_nonnull(d = be->device_get(st, 0));
	ck_assert_ptr_null(be->device_get(st, 1));
	ck_assert_uint_eq(d->kind, TRIT_DEVICE_CPU);
	ck_assert_ptr_nonnull(d->name);
	ck_assert(d->caps & TRIT_CAP_NEON);
	ck_assert_uint_eq(d->matmul_types, TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_TL2));
	ck_assert_uint_ne(d->mem_total.state, TRIT_VALUE_UNKNOWN);
	ck_assert_uint_ne(d->hw_threads.state, TRIT_VALUE_UNKNOWN);
	ck_assert_msg(d->mem_bandwidth.state == TRIT_VALUE_MEASURED ||
	                      d->mem_bandwidth.source != NULL, "bandwidth without a reason");
	cpu_neon_hwcaps_read(&raw);
	ck_assert_str_eq(cpu_neon_state_kernels(st)->name,
	                 (raw.hwcap & CPU_NEON_HWCAP_ASIMDDP) ? "dotprod" : "neon");
	for (uint32_t i = 0; i < d->n_props; i++)
		if (!strcmp(d->props[i].key, "kernel.isa"))
			ck_assert_str_eq(d->props[i].text, cpu_neon_state_kernels(st)->name);
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), 0);
	ck_assert_int_eq(be->device_update(st, 1, err, sizeof err), TRIT_EINVAL);
	be->shutdown(st);
}
END_TEST

START_TEST(disable_dotprod_selects_the_plain_neon_kernels)
{
	static const char *const kv[] = { "disable", "dotprod", "bandwidth_probe", "no", NULL };
	void *st = NULL;
	char err[400] = "";
	ck_assert_msg(init_with(kv, &st, err, sizeof err) == 0, "init: %s", err);
	ck_assert_str_eq(cpu_neon_state_kernels(st)->name, "neon");
	ck_assert(!(cpu_neon_LTX_trit_backend_entry()->device_get(st, 0)->caps &
	            TRIT_CAP_DOTPROD));
	cpu_neon_LTX_trit_backend_entry()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernels                                                                   */

/* Loop index i: bit 0 threads (1 or 3), bit 1 I8 dots or F32, bit 2 GEMV or
 * GEMM, bits 3.. the type; on the path of the CPU (paths 0) or with the
 * dot-product extension disabled (path 1). */
static void kernel_case(int i, int path)
{
	static const uint32_t types[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	static const uint64_t blk[3] = { 128, 64, 96 };
	static const char *const fast[] = { "bandwidth_probe", "no", NULL };
	static const char *const plain[] = { "bandwidth_probe", "no", "disable", "dotprod",
		                             NULL };
	const struct trit_backend *be = cpu_neon_LTX_trit_backend_entry();
	unsigned threads = (i & 1) ? 3 : 1;
	int int_dots = (i >> 1) & 1, gemv = (i >> 2) & 1, ti = i >> 3;
	void *st = NULL;
	char err[400] = "", msg[600] = "";

	ck_assert_msg(init_with(path ? plain : fast, &st, err, sizeof err) == 0, "init: %s", err);
	for (int k = 0; k < 5; k++) {
		struct cpu_neon_kc_case c;
		cpu_neon_kc_random(&c, types[ti], gemv, threads, int_dots,
		                   (uint64_t)(1000 * i + k + 1));
		if (k == 3) {
			c.rows = 64;
			c.cols = 2 * blk[ti];
			c.tokens = gemv ? 1 : 17;
		} else if (k == 4) {
			c.extreme = 1;
			c.cols = 4100;
		}
		ck_assert_msg(cpu_neon_kc_run(be, st, &c, msg, sizeof msg) == 0, "%s path: %s",
		              cpu_neon_state_kernels(st)->name, msg);
	}
	be->shutdown(st);
}

START_TEST(kernels_match_the_reference_on_this_cpus_path)
{
	kernel_case(_i, 0);
}
END_TEST

START_TEST(kernels_match_the_reference_with_dotprod_disabled)
{
	kernel_case(_i, 1);
}
END_TEST

START_TEST(bad_matmul_arguments_are_refused_with_a_sentence)
{
	static const char *const fast[] = { "bandwidth_probe", "no", NULL };
	const struct trit_backend *be = cpu_neon_LTX_trit_backend_entry();
	void *st = NULL;
	char err[400] = "", msg[600] = "";

	ck_assert_msg(init_with(fast, &st, err, sizeof err) == 0, "init: %s", err);
	ck_assert_msg(cpu_neon_kc_bad_args(be, st, msg, sizeof msg) == 0, "%s", msg);
	be->shutdown(st);
}
END_TEST

/* The ABI v2 graph ops (plugins/common/opcheck.c) on 1 and 3 threads. */
START_TEST(graph_op_case_matches_double_on_this_cpu)
{
	static const char *const fast[] = { "bandwidth_probe", "no", NULL };
	const struct trit_backend *be = cpu_neon_LTX_trit_backend_entry();
	void *st = NULL;
	char err[400] = "", msg[1000] = "";

	ck_assert_msg(init_with(fast, &st, err, sizeof err) == 0, "init: %s", err);
	for (unsigned threads = 1; threads <= 3; threads += 2)
		ck_assert_msg(cpu_opcheck_run(be, st, (unsigned)_i, threads, msg, sizeof msg) == 0,
		              "%s (%u threads): %s", cpu_opcheck_cases[_i].name, threads, msg);
	be->shutdown(st);
}
END_TEST

static Suite *cpu_neon_suite(void)
{
	Suite *s = suite_create("cpu_neon");
	TCase *tc;

	tc = tcase_create("features");
	tcase_add_test(tc, hwcaps_of_a_cortex_a53_give_neon_only);
	tcase_add_test(tc, hwcaps_of_a_neoverse_n1_give_dotprod_and_fp16);
	tcase_add_test(tc, hwcap2_gives_i8mm_and_bf16_and_hwcap_sve);
	tcase_add_test(tc, no_asimd_bit_means_no_caps_and_a_reason);
	tcase_add_test(tc, disable_names_map_to_caps_and_format_back);
	tcase_add_test(tc, this_cpu_has_neon_per_getauxval);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, midr_values_split_and_name_known_parts);
	tcase_add_test(tc, cpuinfo_lists_each_kind_of_core_once);
	tcase_add_test(tc, name_comes_from_cpuinfo_first);
	tcase_add_test(tc, name_falls_back_to_the_sysfs_midr_then_says_why_it_is_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("backend");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_configuration_is_refused_naming_the_key);
	tcase_add_test(tc, disabling_neon_refuses_to_register);
	tcase_add_test(tc, init_reports_one_cpu_with_the_ternary_kernels);
	tcase_add_test(tc, disable_dotprod_selects_the_plain_neon_kernels);
	tcase_add_test(tc, bad_matmul_arguments_are_refused_with_a_sentence);
	suite_add_tcase(s, tc);

	tc = tcase_create("kernels");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, kernels_match_the_reference_on_this_cpus_path, 0, 24);
	tcase_add_loop_test(tc, kernels_match_the_reference_with_dotprod_disabled, 0, 24);
	tcase_add_loop_test(tc, graph_op_case_matches_double_on_this_cpu, 0,
	                    (int)cpu_opcheck_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cpu_neon_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
