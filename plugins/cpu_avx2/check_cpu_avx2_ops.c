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
#include <trit/ternary.h>

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

/* ------------------------------------------------------------------------ */
/* The loops themselves, against double, on every length 0 .. 99.          */

static const struct cpu_ops_kernels *tables[2] = { &cpu_ops_portable, &cpu_avx2_ops_avx2 };

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void close_to(const char *what, const char *isa, uint64_t n, double got, double want,
                     double scale)
{
	ck_assert_msg(fabs(got - want) <= 1e-5 * (scale > 1 ? scale : 1),
	              "%s (%s) of length %llu: %.9g, expected %.9g", what, isa,
	              (unsigned long long)n, got, want);
}

START_TEST(vector_loops_match_double_on_every_length)
{
	const struct cpu_ops_kernels *k = tables[_i];
	float a[128], x[128], y[128], y0[128];
	uint16_t h[128], bf[128];
	unsigned char qa[4 * 34], qx[4 * 34];
	int8_t ia[128], ix[128];
	unsigned s = 7;
	struct cpu_avx2_cpuid raw;

	cpu_avx2_cpuid_read(&raw);
	if (k != cpu_avx2_ops_select(cpu_avx2_caps_decode(&raw, NULL, 0), CPU_AVX2_ISA_AUTO) &&
	    k != &cpu_ops_portable) {
		fprintf(stderr, "# %s loops not run: this CPU lacks AVX2, FMA or F16C\n", k->name);
		return;
	}

	for (uint64_t n = 0; n < 100; n++) {
		double d = 0, df = 0, db = 0, ss = 0, di = 0;
		for (uint64_t i = 0; i < 128; i++) {
			a[i] = 4 * frand(&s), x[i] = 4 * frand(&s), y0[i] = frand(&s);
			h[i] = trit_f32_to_f16(a[i]), bf[i] = trit_f32_to_bf16(a[i]);
			ia[i] = (int8_t)(frand(&s) * 128), ix[i] = (int8_t)(frand(&s) * 128);
		}
		ia[0] = ix[0] = -128; /* the extreme pair */
		for (uint64_t i = 0; i < n; i++) {
			d += (double)a[i] * x[i];
			df += (double)trit_f16_to_f32(h[i]) * x[i];
			db += (double)trit_bf16_to_f32(bf[i]) * x[i];
			ss += (double)a[i] * a[i];
			di += (double)ia[i] * ix[i];
		}
		close_to("dot_f32", k->name, n, k->dot_f32(a, x, n), d, ss);
		close_to("dot_f16", k->name, n, k->dot_f16(h, x, n), df, ss);
		close_to("dot_bf16", k->name, n, k->dot_bf16(bf, x, n), db, ss);
		close_to("sumsq", k->name, n, k->sumsq(a, n), ss, ss);
		ck_assert_int_eq(k->dot_i8(ia, ix, n), (int32_t)di);
		memcpy(y, y0, sizeof y);
		k->axpy_f32(y, 0.75f, x, n);
		for (uint64_t i = 0; i < 128; i++)
			close_to("axpy_f32", k->name, n, y[i], y0[i] + (i < n ? 0.75 * x[i] : 0), 4);
		memcpy(y, y0, sizeof y);
		k->axpy_f16(y, -1.5f, h, n);
		for (uint64_t i = 0; i < 128; i++)
			close_to("axpy_f16", k->name, n, y[i],
			         y0[i] + (i < n ? -1.5 * trit_f16_to_f32(h[i]) : 0), 8);
		k->scale_mul(y, x, 0.5f, a, n);
		for (uint64_t i = 0; i < n; i++)
			close_to("scale_mul", k->name, n, y[i], 0.5 * x[i] * a[i], 8);
		k->scale(y, x, 3.0f, n);
		for (uint64_t i = 0; i < n; i++)
			close_to("scale", k->name, n, y[i], 3.0 * x[i], 12);
	}
	for (uint64_t nb = 0; nb <= 4; nb++) {
		double dq = 0, dqq = 0, sq = 0;
		for (uint64_t b = 0; b < 4; b++) {
			trit_q8_0_quantize_block(a + 32 * b, qa + 34 * b);
			trit_q8_0_quantize_block(x + 32 * b, qx + 34 * b);
		}
		for (uint64_t b = 0; b < nb; b++) {
			double da = trit_f16_to_f32(trit_rd16(qa + 34 * b));
			double dx = trit_f16_to_f32(trit_rd16(qx + 34 * b));
			int32_t sum = 0;
			for (int i = 0; i < 32; i++) {
				dq += da * (int8_t)qa[34 * b + 2 + (uint64_t)i] * x[32 * b + (uint64_t)i];
				sum += (int8_t)qa[34 * b + 2 + (uint64_t)i] *
				       (int8_t)qx[34 * b + 2 + (uint64_t)i];
				sq += (double)x[32 * b + (uint64_t)i] * x[32 * b + (uint64_t)i];
			}
			dqq += sum * da * dx;
		}
		close_to("dot_q8_0_f32", k->name, nb, k->dot_q8_0_f32(qa, x, nb), dq, sq * 16);
		close_to("dot_q8_0_q8_0", k->name, nb, k->dot_q8_0_q8_0(qa, qx, nb), dqq, sq * 16);
		memcpy(y, y0, sizeof y);
		k->axpy_q8_0(y, 2.0f, qa, nb);
		for (uint64_t i = 0; i < 128; i++)
			close_to("axpy_q8_0", k->name, nb, y[i], y0[i] + (i < 32 * nb
				? 2.0 * trit_f16_to_f32(trit_rd16(qa + 34 * (i / 32))) *
				          (int8_t)qa[34 * (i / 32) + 2 + i % 32] : 0), 8);
	}
}
END_TEST

/* The quantiser must give trit_quantize_act's bytes and multiplier exactly
 * (every backend quantises alike), and sum_i8 the exact sum: on every
 * length 0 .. 99 and on values where the rules are sharp. */
static void quant_matches(const struct cpu_ops_kernels *k, const float *x, uint64_t n,
                          const char *what)
{
	int8_t q[160], want[160];
	float s = k->quant_act(x, n, q), ws = trit_quantize_act(x, n, want);
	int32_t sum = 0;

	ck_assert_msg(memcmp(&s, &ws, sizeof s) == 0, "%s quant_act (%s), length %llu: "
	              "multiplier %.9g, trit_quantize_act %.9g", what, k->name,
	              (unsigned long long)n, s, ws);
	for (uint64_t i = 0; i < n; i++) {
		ck_assert_msg(q[i] == want[i], "%s quant_act (%s), length %llu: q[%llu] = %d, "
		              "trit_quantize_act %d (x = %.9g)", what, k->name, (unsigned long long)n,
		              (unsigned long long)i, q[i], want[i], x[i]);
		sum += want[i];
	}
	ck_assert_int_eq(k->sum_i8(want, n), sum);
}

START_TEST(quantiser_gives_trit_quantize_act_bits)
{
	const struct cpu_ops_kernels *k = tables[_i];
	struct cpu_avx2_cpuid raw;
	float x[160];
	unsigned s = 11;

	cpu_avx2_cpuid_read(&raw);
	if (k != cpu_avx2_ops_select(cpu_avx2_caps_decode(&raw, NULL, 0), CPU_AVX2_ISA_AUTO) &&
	    k != &cpu_ops_portable) {
		fprintf(stderr, "# %s quantiser not run: this CPU lacks AVX2, FMA or F16C\n", k->name);
		return;
	}
	for (uint64_t n = 0; n < 100; n++) {
		for (uint64_t i = 0; i < 160; i++)
			x[i] = 3 * frand(&s);
		quant_matches(k, x, n, "random");
		/* halves: the largest |x| 127 makes the multiplier 1, so x * s
		 * is exactly k + 0.5 and rounds to even */
		for (uint64_t i = 0; i < n; i++)
			x[i] = (float)((int)(frand(&s) * 120)) + 0.5f;
		if (n)
			x[n / 2] = -127.0f;
		quant_matches(k, x, n, "halves");
		/* a NaN never is the largest and quantises to 0; an infinity
		 * makes the multiplier 0 and every product NaN or 0 */
		for (uint64_t i = 0; i < n; i++)
			x[i] = frand(&s);
		if (n) {
			x[n - 1] = NAN;
			x[0] = -NAN;
		}
		quant_matches(k, x, n, "NaN");
		if (n > 2)
			x[n / 3] = -INFINITY;
		quant_matches(k, x, n, "infinity");
		/* all zero: amax under TRIT_ACT_EPS */
		memset(x, 0, sizeof x);
		if (n > 1)
			x[1] = -1e-9f;
		quant_matches(k, x, n, "zero");
	}
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
	tcase_add_loop_test(tc, vector_loops_match_double_on_every_length, 0, 2);
	tcase_add_loop_test(tc, quantiser_gives_trit_quantize_act_bits, 0, 2);
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
