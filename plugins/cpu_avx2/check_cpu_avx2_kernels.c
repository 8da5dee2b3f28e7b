/*
 * check_cpu_avx2_kernels.c - Check suite for the cpu_avx2 plugin's ternary
 * kernels, buffers and matmul checks. Every kernel is compared with libtrit's
 * reference (trit_ref_matmul_int bit for bit, trit_ref_matmul_f32 within
 * 1e-5 of the largest output) on random weights packed by trit_ternary_pack,
 * on shapes with ragged edges, for GEMV and GEMM, on 1, 2 and 3 threads.
 *
 * One source, three programs (KERNELS_MODE):
 *   0  check_cpu_avx2_kernels: the kernels this CPU runs, through the plugin
 *      table as the runtime calls them; argument checks; choosing the ISA.
 *   1  check_cpu_avx2_avx512: the native AVX-512 kernels; on a CPU without
 *      AVX512F+BW it prints a TAP skip with the reason and runs nothing.
 *   2  check_cpu_avx2_avx512_emu: the AVX-512 kernels built against SIMDe's
 *      emulation of the intrinsics, so their logic runs on any AVX2 CPU;
 *      skipped (with the reason) when SIMDe was not installed at build time.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <trit/backend.h>
#include <trit/ternary.h>

#include "kernels.h"
#include "probe.h"
#include "tests/support/support.h"
#include "formats/ternary.h" /* runtime/formats/ternary.h: packing and the reference */

#ifndef KERNELS_MODE
#define KERNELS_MODE 0
#endif

/* Helpers only some of the three programs use. */
#define MAYBE_UNUSED __attribute__((unused))

/* ------------------------------------------------------------------------ */
/* Fake host                                                                 */


static void host_log(void *ctx, int level, const char *message)
{
	(void)ctx;
	(void)level;
	(void)message;
}

static const struct trit_host host = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = "test",
	.log = host_log,
	.config_get = test_cfg_get,
	.config_key = test_cfg_key,
	.config_where = test_cfg_where,
};

/* Settings every case starts from: no bandwidth run (it takes a while). */
MAYBE_UNUSED static void reset_settings(void)
{
	test_n_settings = 0;
	test_setting_add("bandwidth_probe", "no", "test");
}

static const struct trit_backend *B(void)
{
	return cpu_avx2_LTX_trit_backend_entry();
}

MAYBE_UNUSED static uint64_t this_cpu_caps(void)
{
	struct cpu_avx2_cpuid raw;
	cpu_avx2_cpuid_read(&raw);
	return cpu_avx2_caps_decode(&raw, NULL, 0);
}

MAYBE_UNUSED static const struct trit_property *find_prop(const struct trit_device *d,
                                                        const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (!strcmp(d->props[i].key, key))
			return &d->props[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Random operands                                                           */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

/* Weight patterns: random trits, or all +1 / all -1 (the extremes that push
 * the int16 accumulators hardest). */
enum wpat { W_RANDOM, W_PLUS, W_MINUS };
/* Activation patterns (INT_DOTS): random int8, or all -128 / all 127. */
enum qpat { Q_RANDOM, Q_MIN, Q_MAX };

/* A packed rows x cols tensor of `type`; *bytes is its size. */
static void *make_weights(uint32_t type, uint64_t rows, uint64_t cols, enum wpat pat,
                          uint64_t *bytes)
{
	float *f = malloc(rows * cols * sizeof *f);
	uint64_t n = trit_ternary_bytes(type, rows, cols);
	void *w = malloc(n);
	char err[256];
	float scale = 0.25f + (float)rnd_below(100) / 64.0f;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(w);
	for (uint64_t i = 0; i < rows * cols; i++) {
		int t = pat == W_PLUS ? 1 : pat == W_MINUS ? -1 : (int)rnd_below(3) - 1;
		f[i] = (float)t * scale;
	}
	/* all zero would make the scale undefined: one non-zero weight */
	f[0] = pat == W_MINUS ? -scale : scale;
	ck_assert_msg(trit_ternary_pack(type, w, n, TRIT_TYPE_F32, f, rows * cols * 4, rows, cols,
	                                err, sizeof err) == 0, "%s", err);
	free(f);
	*bytes = n;
	return w;
}

static int8_t *make_q(uint64_t n, enum qpat pat)
{
	int8_t *q = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(q);
	for (uint64_t i = 0; i < n; i++)
		q[i] = pat == Q_MIN ? -128 : pat == Q_MAX ? 127 : (int8_t)(int)(rnd() & 0xff);
	return q;
}

static float *make_x(uint64_t n)
{
	float *x = malloc((n ? n : 1) * sizeof *x);
	ck_assert_ptr_nonnull(x);
	for (uint64_t i = 0; i < n; i++) {
		x[i] = ((float)rnd_below(20001) - 10000.0f) / 1000.0f;
		if (rnd_below(50) == 0)
			x[i] *= 40.0f; /* an outlier sets the token's scale */
	}
	return x;
}

/* ------------------------------------------------------------------------ */
/* Running one matmul                                                        */

/* Who runs it: the plugin through its table (state != NULL), or a kernel
 * table through the same driver (engine). */
struct runner {
	void *state;
	struct cpu_avx2_engine engine;
	const char *name;
};

static struct trit_buffer *alloc_buf(struct runner *rn, uint64_t size)
{
	struct trit_buffer *b = NULL;
	char err[256];
	ck_assert_msg(cpu_avx2_buffer_alloc(rn->state, 0, size ? size : 1, &b, err, sizeof err) ==
	              0, "%s", err);
	ck_assert_uint_eq((uintptr_t)cpu_avx2_buffer_data(b) % 64, 0);
	return b;
}

static int do_workspace(struct runner *rn, const struct trit_matmul *op, uint64_t *bytes,
                        char *err, size_t errlen)
{
	if (rn->state)
		return B()->matmul_workspace(rn->state, 0, op, bytes, err, errlen);
	return cpu_avx2_engine_workspace(&rn->engine, 0, op, bytes, err, errlen);
}

static int do_matmul(struct runner *rn, const struct trit_matmul *op, char *err, size_t errlen)
{
	if (rn->state)
		return B()->matmul(rn->state, 0, op, err, errlen);
	return cpu_avx2_engine_matmul(&rn->engine, 0, op, err, errlen);
}

#define CANARY 0xa5

/*
 * Run type rows x cols x tokens on `threads` threads and compare with the
 * reference. The workspace is exactly what matmul_workspace reported,
 * inside a larger buffer whose other bytes must come back untouched.
 */
static void check_case(struct runner *rn, uint32_t type, uint64_t rows, uint64_t cols,
                       uint64_t tokens, unsigned threads, int int_dots, enum wpat wp,
                       enum qpat qp)
{
	uint64_t wbytes, ws = 0, in_bytes = tokens * cols * (int_dots ? 1 : 4);
	uint64_t out_bytes = tokens * rows * 4, pad = 64 + 8 * rnd_below(8);
	void *w = make_weights(type, rows, cols, wp, &wbytes);
	int8_t *q = int_dots ? make_q(tokens * cols, qp) : NULL;
	float *x = int_dots ? NULL : make_x(tokens * cols);
	void *out = malloc(out_bytes), *ref = malloc(out_bytes);
	unsigned char *wsbytes;
	struct trit_buffer *bw, *bi, *bo, *bws;
	struct trit_matmul op;
	char err[512] = "", what[200];

	snprintf(what, sizeof what, "%s %s %llu x %llu, %llu tokens, %u threads, %s", rn->name,
	         type == TRIT_TYPE_I2_S ? "I2_S" : type == TRIT_TYPE_TL1 ? "TL1" : "TL2",
	         (unsigned long long)rows, (unsigned long long)cols, (unsigned long long)tokens,
	         threads, int_dots ? "INT_DOTS" : "F32");
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(ref);

	memset(&op, 0, sizeof op);
	op.struct_size = sizeof op;
	op.weight_type = type;
	op.rows = rows;
	op.cols = cols;
	op.tokens = tokens;
	op.n_threads = threads;
	op.flags = int_dots ? TRIT_MATMUL_INT_DOTS : 0;
	ck_assert_msg(do_workspace(rn, &op, &ws, err, sizeof err) == 0, "%s: %s", what, err);
	ck_assert_uint_gt(ws, 0);

	bw = alloc_buf(rn, wbytes);
	bi = alloc_buf(rn, in_bytes);
	bo = alloc_buf(rn, out_bytes);
	bws = alloc_buf(rn, ws + 2 * pad);
	wsbytes = cpu_avx2_buffer_data(bws);
	memset(wsbytes, CANARY, ws + 2 * pad);
	ck_assert(cpu_avx2_buffer_write(rn->state, bw, 0, w, wbytes, err, sizeof err) == 0);
	ck_assert(cpu_avx2_buffer_write(rn->state, bi, 0, int_dots ? (void *)q : (void *)x,
	                                in_bytes, err, sizeof err) == 0);
	op.weights = bw;
	op.input = bi;
	op.output = bo;
	op.workspace = bws;
	op.workspace_offset = pad;

	/* one byte short is refused */
	{
		struct trit_buffer *small = alloc_buf(rn, ws - 1 + pad);
		struct trit_matmul o2 = op;
		o2.workspace = small;
		ck_assert_int_eq(do_matmul(rn, &o2, err, sizeof err), TRIT_ERANGE);
		ck_assert_msg(strstr(err, "workspace") != NULL, "%s", err);
		cpu_avx2_buffer_free(rn->state, small);
	}

	ck_assert_msg(do_matmul(rn, &op, err, sizeof err) == 0, "%s: %s", what, err);
	for (uint64_t i = 0; i < pad; i++) {
		ck_assert_msg(wsbytes[i] == CANARY, "%s: workspace byte %llu before the region "
		              "was written", what, (unsigned long long)i);
		ck_assert_msg(wsbytes[pad + ws + i] == CANARY, "%s: byte %llu past the %llu "
		              "reported workspace bytes was written", what, (unsigned long long)i,
		              (unsigned long long)ws);
	}
	ck_assert(cpu_avx2_buffer_read(rn->state, bo, 0, out, out_bytes, err, sizeof err) == 0);

	if (int_dots) {
		const int32_t *got = out, *want = ref;
		trit_ref_matmul_int(type, w, rows, cols, q, tokens, (int32_t *)ref);
		for (uint64_t t = 0; t < tokens; t++)
			for (uint64_t r = 0; r < rows; r++)
				ck_assert_msg(got[t * rows + r] == want[t * rows + r],
				              "%s: token %llu row %llu: dot %d, reference %d", what,
				              (unsigned long long)t, (unsigned long long)r,
				              got[t * rows + r], want[t * rows + r]);
	} else {
		const float *got = out, *want = ref;
		ck_assert_int_eq(trit_ref_matmul_f32(type, w, rows, cols, x, tokens, (float *)ref,
		                                     NULL), 0);
		for (uint64_t t = 0; t < tokens; t++) {
			float big = 0.0f;
			for (uint64_t r = 0; r < rows; r++)
				big = fmaxf(big, fabsf(want[t * rows + r]));
			for (uint64_t r = 0; r < rows; r++)
				ck_assert_msg(fabsf(got[t * rows + r] - want[t * rows + r]) <=
				                      1e-5f * big,
				              "%s: token %llu row %llu: %.9g, reference %.9g (max %g)",
				              what, (unsigned long long)t, (unsigned long long)r,
				              (double)got[t * rows + r], (double)want[t * rows + r],
				              (double)big);
		}
	}
	cpu_avx2_buffer_free(rn->state, bw);
	cpu_avx2_buffer_free(rn->state, bi);
	cpu_avx2_buffer_free(rn->state, bo);
	cpu_avx2_buffer_free(rn->state, bws);
	free(w);
	free(q);
	free(x);
	free(out);
	free(ref);
}

static const uint32_t types[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };

/* Shapes chosen to reach every edge: rows not a multiple of 4 or 32, cols
 * not a multiple of 128/64/96, and long enough rows that every int16
 * accumulator is widened more than once (I2_S every 1024 columns, TL1 and
 * TL2 every 64 lookups per lane). */
static const struct {
	uint64_t rows, cols;
} shapes[] = {
	{ 1, 1 }, { 3, 5 }, { 7, 127 }, { 33, 130 }, { 37, 200 }, { 64, 96 },
	{ 70, 257 }, { 9, 1100 }, { 41, 1537 }, { 32, 2049 },
};

/* Every kernel x GEMV and GEMM x INT_DOTS and F32 x shapes x threads. */
static void check_all(struct runner *rn, int int_dots, int gemm)
{
	static const unsigned threads[] = { 1, 2, 3 };
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
		for (size_t k = 0; k < 3; k++) {
			uint64_t tokens = gemm ? 2 + rnd_below(16) : 1;
			unsigned th = threads[(s + k) % 3];
			check_case(rn, types[k], shapes[s].rows, shapes[s].cols, tokens, th, int_dots,
			           W_RANDOM, Q_RANDOM);
		}
	/* random shapes on top */
	for (int i = 0; i < 6; i++) {
		uint64_t rows = 1 + rnd_below(100), cols = 1 + rnd_below(700);
		uint64_t tokens = gemm ? 2 + rnd_below(16) : 1;
		check_case(rn, types[i % 3], rows, cols, tokens, 1 + (unsigned)(i % 3), int_dots,
		           W_RANDOM, Q_RANDOM);
	}
}

/* The extremes: q = -128 or 127 everywhere against all +1 or all -1, with
 * long rows, so the int16 accumulators reach their largest values. */
static void check_extremes(struct runner *rn)
{
	static const enum wpat wps[] = { W_PLUS, W_MINUS };
	static const enum qpat qps[] = { Q_MIN, Q_MAX };
	for (size_t k = 0; k < 3; k++)
		for (size_t a = 0; a < 2; a++)
			for (size_t b = 0; b < 2; b++) {
				check_case(rn, types[k], 35, 4100, 1, 2, 1, wps[a], qps[b]);
				check_case(rn, types[k], 35, 4100, 5, 2, 1, wps[a], qps[b]);
			}
}

/* ------------------------------------------------------------------------ */
/* Runners                                                                   */

MAYBE_UNUSED static struct runner plugin_runner(void)
{
	struct runner rn = { 0 };
	char err[512] = "";
	reset_settings();
	ck_assert_msg(B()->init(&host, &rn.state, err, sizeof err) == 0, "%s", err);
	rn.name = "plugin";
	return rn;
}

static struct runner table_runner(const struct cpu_avx2_kernels *k)
{
	struct runner rn = { 0 };
	rn.engine.k = k;
	rn.engine.default_threads = 2;
	rn.name = k->isa;
	return rn;
}

static void runner_done(struct runner *rn)
{
	if (rn->state)
		B()->shutdown(rn->state);
	else
		cpu_avx2_workers_free(rn->engine.pool);
}

/* The kernel tables this program checks (NULL-terminated): the paths, and
 * in the AVX-512 programs two mixes of them with AVX2 per kernel type, as
 * the plugin runs when measurement picks different paths per type. */
static const struct cpu_avx2_kernels *tables[6];
static struct cpu_avx2_mix mixes[2] MAYBE_UNUSED;

static void for_tables(void (*fn)(struct runner *rn, int a, int b), int a, int b)
{
	for (int i = 0; tables[i]; i++) {
		struct runner rn = table_runner(tables[i]);
		fn(&rn, a, b);
		runner_done(&rn);
	}
}

static void all_cb(struct runner *rn, int int_dots, int gemm)
{
	check_all(rn, int_dots, gemm);
}

static void extremes_cb(struct runner *rn, int a, int b)
{
	(void)a;
	(void)b;
	check_extremes(rn);
}

START_TEST(kernels_give_exact_int_dots_for_gemv)
{
	for_tables(all_cb, 1, 0);
}
END_TEST

START_TEST(kernels_give_exact_int_dots_for_gemm)
{
	for_tables(all_cb, 1, 1);
}
END_TEST

START_TEST(kernels_match_the_f32_reference_for_gemv)
{
	for_tables(all_cb, 0, 0);
}
END_TEST

START_TEST(kernels_match_the_f32_reference_for_gemm)
{
	for_tables(all_cb, 0, 1);
}
END_TEST

START_TEST(kernels_stay_exact_at_the_int16_accumulator_extremes)
{
	for_tables(extremes_cb, 0, 0);
}
END_TEST

/* The peak loops (peak.c times them): what they return counts the int8
 * products they ran, as many as peak_ops_per_iter says (2 ops each), the
 * same at every call. Not their speed: that is timing. */
START_TEST(peak_loops_count_the_int8_products_they_run)
{
	/* past 32767: an int16 accumulator that is never folded wraps there */
	static const uint64_t iters[] = { 0, 1, 3, 1000, 32767, 32768, 100001 };

	for (int i = 0; tables[i]; i++) {
		const struct cpu_avx2_kernels *k = tables[i];
		/* per chain and iteration: one instruction's products x 2, 32
		 * products for a YMM register, 64 for a ZMM one */
		unsigned per_chain = strncmp(k->isa, "avx512", 6) ? 64 : 128;

		ck_assert_msg(k->peak_loop && k->peak_insn && k->peak_chains >= 8, "%s: no peak loop "
		              "of at least 8 chains", k->isa);
		ck_assert_uint_eq(k->peak_ops_per_iter, k->peak_chains * per_chain);
		for (size_t j = 0; j < sizeof iters / sizeof iters[0]; j++) {
			uint64_t got = k->peak_loop(iters[j]);
			ck_assert_msg(2 * got == iters[j] * k->peak_ops_per_iter, "%s: %llu iterations "
			              "counted %llu products, not %llu", k->isa,
			              (unsigned long long)iters[j], (unsigned long long)got,
			              (unsigned long long)(iters[j] * k->peak_ops_per_iter / 2));
			ck_assert_uint_eq(k->peak_loop(iters[j]), got);
		}
	}
#if KERNELS_MODE != 0
	/* a mix runs the peak of its I2_S path */
	for (int m = 0; m < 2; m++) {
		const struct cpu_avx2_kernels *i2s = mixes[m].by_type[CPU_AVX2_K_I2S];
		ck_assert_ptr_eq(mixes[m].k.peak_loop, i2s->peak_loop);
		ck_assert_uint_eq(mixes[m].k.peak_ops_per_iter, i2s->peak_ops_per_iter);
		ck_assert_uint_eq(mixes[m].k.peak_chains, i2s->peak_chains);
		ck_assert_str_eq(mixes[m].k.peak_insn, i2s->peak_insn);
	}
#endif
}
END_TEST

#if KERNELS_MODE == 0
/* ------------------------------------------------------------------------ */
/* Through the plugin table                                                  */

START_TEST(plugin_matmul_matches_the_reference_on_1_2_3_and_default_threads)
{
	struct runner rn = plugin_runner();
	for (unsigned th = 0; th <= 3; th++)
		for (size_t k = 0; k < 3; k++) {
			check_case(&rn, types[k], 45, 333, 1, th, 1, W_RANDOM, Q_RANDOM);
			check_case(&rn, types[k], 45, 333, 6, th, 1, W_RANDOM, Q_RANDOM);
			check_case(&rn, types[k], 70, 200, 3, th, 0, W_RANDOM, Q_RANDOM);
		}
	runner_done(&rn);
}
END_TEST

START_TEST(plugin_advertises_the_ternary_types_and_the_kernel_isa)
{
	const struct trit_backend *b = B();
	const struct trit_property *p;
	const struct trit_device *d;
	void *state = NULL;
	char err[512] = "";

	ck_assert_ptr_nonnull(b->buffer_alloc);
	ck_assert_ptr_nonnull(b->buffer_free);
	ck_assert_ptr_nonnull(b->buffer_write);
	ck_assert_ptr_nonnull(b->buffer_read);
	ck_assert_ptr_nonnull(b->matmul_workspace);
	ck_assert_ptr_nonnull(b->matmul);
	reset_settings();
	ck_assert_msg(b->init(&host, &state, err, sizeof err) == 0, "%s", err);
	d = b->device_get(state, 0);
	ck_assert_uint_eq(d->matmul_types & (TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                                     TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                                     TRIT_TYPE_BIT(TRIT_TYPE_TL2)),
	                  TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                          TRIT_TYPE_BIT(TRIT_TYPE_TL2));
	ck_assert_ptr_nonnull(b->supports_op);
	ck_assert_ptr_nonnull(b->graph_compute);
	p = find_prop(d, "kernel.isa");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->text);
	if ((this_cpu_caps() & CPU_AVX2_NEEDS_AVX512BW) == CPU_AVX2_NEEDS_AVX512BW) {
#ifdef CPU_AVX2_HAVE_AVX512
		ck_assert_msg(!strncmp(p->text, "avx512", 6), "%s", p->text);
#endif
	} else {
		ck_assert_str_eq(p->text, "avx2");
	}
	/* this host keeps no probe cache: not measured, the widest */
	ck_assert_msg(strstr(p->value.source, "widest") != NULL, "%s", p->value.source);
	b->shutdown(state);
}
END_TEST

START_TEST(isa_avx2_is_honoured_and_its_source_names_the_setting)
{
	const struct trit_property *p;
	void *state = NULL;
	char err[512] = "";

	reset_settings();
	test_setting_add("isa", "avx2", "environment TRIT_PLUGIN_CPU_AVX2_ISA");
	ck_assert_msg(B()->init(&host, &state, err, sizeof err) == 0, "%s", err);
	p = find_prop(B()->device_get(state, 0), "kernel.isa");
	ck_assert_str_eq(p->text, "avx2");
	ck_assert_uint_eq(p->value.state, TRIT_VALUE_CONFIGURED);
	ck_assert_msg(strstr(p->value.source, "environment TRIT_PLUGIN_CPU_AVX2_ISA"), "%s",
	              p->value.source);
	B()->shutdown(state);
}
END_TEST

START_TEST(isa_avx512_is_refused_where_the_cpu_lacks_it_and_says_where)
{
	void *state = NULL;
	char err[512] = "";
	int rc;

	reset_settings();
	test_setting_add("isa", "avx512", "deploy.ini:9");
	rc = B()->init(&host, &state, err, sizeof err);
	if ((this_cpu_caps() & CPU_AVX2_NEEDS_AVX512BW) == CPU_AVX2_NEEDS_AVX512BW) {
#ifdef CPU_AVX2_HAVE_AVX512
		ck_assert_msg(rc == 0, "%s", err);
		ck_assert_msg(!strncmp(find_prop(B()->device_get(state, 0), "kernel.isa")->text,
		                       "avx512", 6), "isa = avx512 did not take");
		B()->shutdown(state);
		/* and when the configuration disables it */
		test_setting_add("disable", "avx512", "deploy.ini:10");
		state = NULL;
		rc = B()->init(&host, &state, err, sizeof err);
#endif
	}
	ck_assert_int_eq(rc, TRIT_ECONFIG);
	ck_assert_ptr_null(state);
	ck_assert_msg(strstr(err, "deploy.ini:9") && strstr(err, "isa = avx512"), "%s", err);
}
END_TEST

START_TEST(bad_isa_value_is_a_configuration_error)
{
	void *state = NULL;
	char err[512] = "";

	reset_settings();
	test_setting_add("isa", "sse9", "deploy.ini:2");
	ck_assert_int_eq(B()->init(&host, &state, err, sizeof err), TRIT_ECONFIG);
	ck_assert_msg(strstr(err, "deploy.ini:2") && strstr(err, "auto, avx2 or avx512"), "%s",
	              err);
}
END_TEST

START_TEST(without_fma_no_ternary_types_are_advertised_and_matmul_says_why)
{
	const struct trit_device *d;
	void *state = NULL;
	char err[512] = "";
	struct trit_matmul op = { .struct_size = sizeof op };
	struct trit_buffer *b[4];

	reset_settings();
	test_setting_add("disable", "fma", "deploy.ini:5");
	ck_assert_msg(B()->init(&host, &state, err, sizeof err) == 0, "%s", err);
	d = B()->device_get(state, 0);
	/* the shared graph ops still run (portable loops); the ternary kernels do not */
	ck_assert_uint_eq(d->matmul_types, TRIT_TYPE_BIT(TRIT_TYPE_F32) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_F16) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_BF16) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_Q8_0) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_TQ1_0) |
	                                           TRIT_TYPE_BIT(TRIT_TYPE_TQ2_0));
	ck_assert_ptr_null(find_prop(d, "kernel.isa")->text);
	ck_assert_msg(strstr(find_prop(d, "kernel.isa")->value.source, "fma"), "%s",
	              find_prop(d, "kernel.isa")->value.source);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(B()->buffer_alloc(state, 0, 1 << 16, &b[i], err, sizeof err), 0);
	op.weight_type = TRIT_TYPE_I2_S;
	op.rows = op.cols = op.tokens = 1;
	op.weights = b[0];
	op.input = b[1];
	op.output = b[2];
	op.workspace = b[3];
	ck_assert_int_eq(B()->matmul(state, 0, &op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "FMA") || strstr(err, "fma"), "%s", err);
	for (int i = 0; i < 4; i++)
		B()->buffer_free(state, b[i]);
	B()->shutdown(state);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Choosing the kernels (runs for every CPU description, whatever this CPU) */

START_TEST(selection_takes_the_widest_kernels_the_caps_allow)
{
	const uint64_t avx2 = TRIT_CAP_AVX | TRIT_CAP_AVX2 | TRIT_CAP_FMA;
	const uint64_t bw = avx2 | TRIT_CAP_AVX512F | TRIT_CAP_AVX512BW;
	const struct cpu_avx2_kernels *k;
	char why[400] = "";

	ck_assert_ptr_eq(cpu_avx2_kernels_select(avx2, CPU_AVX2_ISA_AUTO, NULL, why, sizeof why),
	                 &cpu_avx2_kernels_avx2);
	ck_assert_ptr_eq(cpu_avx2_kernels_select(bw | TRIT_CAP_AVX512VNNI, CPU_AVX2_ISA_AVX2,
	                                         NULL, why, sizeof why),
	                 &cpu_avx2_kernels_avx2);
	/* AVX512F without BW is not enough */
	ck_assert_ptr_eq(cpu_avx2_kernels_select(avx2 | TRIT_CAP_AVX512F, CPU_AVX2_ISA_AUTO, NULL,
	                                         why, sizeof why),
	                 &cpu_avx2_kernels_avx2);
#ifdef CPU_AVX2_HAVE_AVX512
	ck_assert_ptr_eq(cpu_avx2_kernels_select(bw, CPU_AVX2_ISA_AUTO, NULL, why, sizeof why),
	                 &cpu_avx2_kernels_avx512bw);
	ck_assert_ptr_eq(cpu_avx2_kernels_select(bw | TRIT_CAP_AVX512VNNI, CPU_AVX2_ISA_AUTO,
	                                         NULL, why, sizeof why),
	                 &cpu_avx2_kernels_avx512vnni);
	ck_assert_ptr_eq(cpu_avx2_kernels_select(bw | TRIT_CAP_AVX512VNNI, CPU_AVX2_ISA_AVX512,
	                                         NULL, why, sizeof why),
	                 &cpu_avx2_kernels_avx512vnni);
	ck_assert_ptr_eq(cpu_avx2_kernels_select(bw, CPU_AVX2_ISA_AVX512, NULL, why, sizeof why),
	                 &cpu_avx2_kernels_avx512bw);
	ck_assert_str_eq(cpu_avx2_kernels_avx512bw.isa, "avx512bw");
	ck_assert_str_eq(cpu_avx2_kernels_avx512vnni.isa, "avx512vnni");
#endif
	k = cpu_avx2_kernels_select(avx2 | TRIT_CAP_AVX512F, CPU_AVX2_ISA_AVX512, "deploy.ini:4",
	                            why, sizeof why);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(why, "deploy.ini:4") && strstr(why, "isa = avx512"), "%s", why);
	k = cpu_avx2_kernels_select(TRIT_CAP_AVX | TRIT_CAP_AVX2, CPU_AVX2_ISA_AUTO, NULL, why,
	                            sizeof why);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(why, "fma"), "%s", why);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */

struct bad_fixture {
	void *state;
	struct trit_buffer *w, *in, *out, *ws;
	struct trit_matmul op;
	uint64_t ws_bytes;
};

/* A valid 40 x 300 I2_S GEMV with 2 tokens; cases break one thing each. */
static void bad_setup(struct bad_fixture *f)
{
	char err[512] = "";
	uint64_t wbytes;
	void *w;

	memset(f, 0, sizeof *f);
	reset_settings();
	ck_assert_msg(B()->init(&host, &f->state, err, sizeof err) == 0, "%s", err);
	w = make_weights(TRIT_TYPE_I2_S, 40, 300, W_RANDOM, &wbytes);
	ck_assert_int_eq(B()->buffer_alloc(f->state, 0, wbytes, &f->w, err, sizeof err), 0);
	ck_assert_int_eq(B()->buffer_write(f->state, f->w, 0, w, wbytes, err, sizeof err), 0);
	free(w);
	ck_assert_int_eq(B()->buffer_alloc(f->state, 0, 2 * 300 * 4, &f->in, err, sizeof err), 0);
	ck_assert_int_eq(B()->buffer_alloc(f->state, 0, 2 * 40 * 4, &f->out, err, sizeof err), 0);
	f->op.struct_size = sizeof f->op;
	f->op.weight_type = TRIT_TYPE_I2_S;
	f->op.rows = 40;
	f->op.cols = 300;
	f->op.tokens = 2;
	f->op.weights = f->w;
	f->op.input = f->in;
	f->op.output = f->out;
	ck_assert_int_eq(B()->matmul_workspace(f->state, 0, &f->op, &f->ws_bytes, err, sizeof err),
	                 0);
	ck_assert_int_eq(B()->buffer_alloc(f->state, 0, f->ws_bytes, &f->ws, err, sizeof err), 0);
	f->op.workspace = f->ws;
	{
		float *x = make_x(600);
		ck_assert_int_eq(B()->buffer_write(f->state, f->in, 0, x, 2400, err, sizeof err), 0);
		free(x);
	}
	ck_assert_msg(B()->matmul(f->state, 0, &f->op, err, sizeof err) == 0, "%s", err);
}

static void bad_teardown(struct bad_fixture *f)
{
	B()->buffer_free(f->state, f->w);
	B()->buffer_free(f->state, f->in);
	B()->buffer_free(f->state, f->out);
	B()->buffer_free(f->state, f->ws);
	B()->shutdown(f->state);
}

/* matmul on op must fail with rc and an error containing words. */
#define EXPECT_BAD(f, o, rc, words) do { \
	char err_[512] = ""; \
	ck_assert_int_eq(B()->matmul((f)->state, 0, (o), err_, sizeof err_), (rc)); \
	ck_assert_msg(strstr(err_, (words)) != NULL, "'%s' lacks '%s'", err_, (words)); \
} while (0)

START_TEST(matmul_refuses_bad_operations_with_a_reason)
{
	struct bad_fixture f;
	struct trit_matmul o;
	struct trit_buffer *small;
	struct { uint64_t magic, size; void *data; } foreign = { 1, 1 << 20, NULL };
	char err[512] = "";

	bad_setup(&f);

	ck_assert_int_eq(B()->matmul(f.state, 0, NULL, err, sizeof err), TRIT_EINVAL);
	o = f.op; o.struct_size = 8;
	EXPECT_BAD(&f, &o, TRIT_EABI, "struct trit_matmul is 8 bytes");
	ck_assert_int_eq(B()->matmul(f.state, 1, &f.op, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "index 1"), "%s", err);
	o = f.op; o.weight_type = TRIT_TYPE_F32;
	EXPECT_BAD(&f, &o, TRIT_EUNSUPPORTED, "weight type 0");
	o = f.op; o.weight_type = 99;
	EXPECT_BAD(&f, &o, TRIT_EUNSUPPORTED, "I2_S");
	o = f.op; o.flags = 0x80;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "flags 0x80");
	o = f.op; o.rows = 0;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "at least 1");
	o = f.op; o.tokens = 0;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "at least 1");
	o = f.op; o.cols = UINT64_C(1) << 40;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "too large");
	o = f.op; o.rows = 41; /* the weights are 40 rows */
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "tensor is");
	o = f.op; o.weights_offset = 1;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "offset 1");
	o = f.op; o.weights_offset = UINT64_MAX;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "tensor is");
	o = f.op; o.tokens = 3;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "input");
	o = f.op; o.output_offset = 4;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "output");
	o = f.op; o.input_offset = UINT64_MAX - 1;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "input");
	o = f.op; o.workspace = NULL;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "workspace buffer is NULL");
	o = f.op; o.input = NULL;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "input buffer is NULL");
	o = f.op; o.output = (struct trit_buffer *)&foreign;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "not allocated by cpu_avx2");
	o = f.op; o.workspace_offset = 8;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "workspace");
	o = f.op; o.n_threads = 100000;
	EXPECT_BAD(&f, &o, TRIT_ERANGE, "n_threads");
	/* F32 needs 4-byte aligned offsets */
	ck_assert_int_eq(B()->buffer_alloc(f.state, 0, 2 * 40 * 4 + 2, &small, err, sizeof err), 0);
	o = f.op; o.output = small; o.output_offset = 2;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "multiple of 4");
	B()->buffer_free(f.state, small);
	/* an output that overlaps the workspace */
	o = f.op; o.output = f.ws;
	EXPECT_BAD(&f, &o, TRIT_EINVAL, "overlaps");
	/* the workspace question checks the same shape rules */
	{
		uint64_t bytes = 7;
		o = f.op; o.cols = 0;
		ck_assert_int_eq(B()->matmul_workspace(f.state, 0, &o, &bytes, err, sizeof err),
		                 TRIT_EINVAL);
		ck_assert_uint_eq(bytes, 0);
		ck_assert_int_eq(B()->matmul_workspace(f.state, 0, &f.op, NULL, err, sizeof err),
		                 TRIT_EINVAL);
	}
	/* and after all that, the good operation still runs */
	ck_assert_msg(B()->matmul(f.state, 0, &f.op, err, sizeof err) == 0, "%s", err);
	bad_teardown(&f);
}
END_TEST

START_TEST(workspace_grows_with_tokens_and_is_the_same_for_every_thread_count)
{
	struct bad_fixture f;
	uint64_t a = 0, b = 0, c = 0;
	char err[256];
	struct trit_matmul o;

	bad_setup(&f);
	o = f.op;
	o.weight_type = TRIT_TYPE_TL1;
	o.tokens = 1;
	ck_assert_int_eq(B()->matmul_workspace(f.state, 0, &o, &a, err, sizeof err), 0);
	o.tokens = 8;
	ck_assert_int_eq(B()->matmul_workspace(f.state, 0, &o, &b, err, sizeof err), 0);
	o.n_threads = 3;
	ck_assert_int_eq(B()->matmul_workspace(f.state, 0, &o, &c, err, sizeof err), 0);
	ck_assert_uint_gt(b, a);
	ck_assert_uint_eq(b, c);
	/* TL1 with 320 padded columns: q 320 + s 4 (each rounded to 64) + tables 160 * 32 */
	ck_assert_uint_eq(a, 320 + 64 + 160 * 32);
	bad_teardown(&f);
}
END_TEST

START_TEST(buffers_refuse_bad_sizes_devices_and_ranges)
{
	struct trit_buffer *b = NULL;
	char err[512] = "", data[16] = "0123456789abcdef", back[16];
	void *state = NULL;

	reset_settings();
	ck_assert_int_eq(B()->init(&host, &state, err, sizeof err), 0);
	ck_assert_int_eq(B()->buffer_alloc(state, 0, 0, &b, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(B()->buffer_alloc(state, 1, 16, &b, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(B()->buffer_alloc(state, 0, UINT64_MAX, &b, err, sizeof err),
	                 TRIT_ENOMEM);
	ck_assert_int_eq(B()->buffer_alloc(state, 0, 16, &b, err, sizeof err), 0);
	ck_assert_int_eq(B()->buffer_write(state, b, 8, data, 16, err, sizeof err), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "16 bytes at offset 8") && strstr(err, "16-byte buffer"), "%s",
	              err);
	ck_assert_int_eq(B()->buffer_write(state, b, UINT64_MAX, data, 2, err, sizeof err),
	                 TRIT_ERANGE);
	ck_assert_int_eq(B()->buffer_write(state, b, 0, NULL, 2, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(B()->buffer_write(state, NULL, 0, data, 2, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(B()->buffer_write(state, b, 0, data, 16, err, sizeof err), 0);
	ck_assert_int_eq(B()->buffer_read(state, b, 4, back, 13, err, sizeof err), TRIT_ERANGE);
	ck_assert_int_eq(B()->buffer_read(state, b, 4, back, 12, err, sizeof err), 0);
	ck_assert(memcmp(back, data + 4, 12) == 0);
	ck_assert_int_eq(B()->buffer_read(state, b, 0, back, 0, err, sizeof err), 0);
	B()->buffer_free(state, b);
	B()->buffer_free(state, NULL);
	B()->shutdown(state);
}
END_TEST
/* ------------------------------------------------------------------------ */
/* Choosing the path per kernel type by measurement. Nothing here depends  */
/* on timing: a fake probe cache serves planted figures, and the pure      */
/* cases replace the measurement with a fake one.                           */

#define PC_MAX 12
#define PEAK_KEY "cpu0.int8_peak." /* peak.c's keys: counted apart from choose.c's */
static struct {
	char key[PC_MAX][72], value[PC_MAX][600];
	int n;
	int gets, puts;
	char stamp[TRIT_HOST_CACHE_STAMP_MAX + 1];
	char put_key[PC_MAX][72], put_value[PC_MAX][600];
	int peak_gets, peak_puts;
	char peak_stamp[TRIT_HOST_CACHE_STAMP_MAX + 1];
	char peak_put_key[PC_MAX][72], peak_put_value[PC_MAX][600];
	int get_erange; /* answer TRIT_ERANGE, as for a value too long for the buffer */
	int off;        /* keeps nothing, as the runtime's cache when switched off */
} pc;

static void pc_reset(void)
{
	memset(&pc, 0, sizeof pc);
}

static void pc_plant(const char *key, const char *value)
{
	ck_assert_int_lt(pc.n, PC_MAX);
	snprintf(pc.key[pc.n], sizeof pc.key[0], "%s", key);
	snprintf(pc.value[pc.n], sizeof pc.value[0], "%s", value);
	pc.n++;
}

static int pc_get(void *ctx, const char *key, const char *stamp, char *value, size_t len,
                  uint64_t *age_s)
{
	(void)ctx;
	if (!strncmp(key, PEAK_KEY, strlen(PEAK_KEY))) {
		pc.peak_gets++;
		snprintf(pc.peak_stamp, sizeof pc.peak_stamp, "%s", stamp);
	} else {
		pc.gets++;
		snprintf(pc.stamp, sizeof pc.stamp, "%s", stamp);
	}
	if (pc.get_erange && strcmp(key, "cpu0.kernel.cache-check"))
		return TRIT_ERANGE;
	for (int i = 0; i < pc.n; i++)
		if (!strcmp(pc.key[i], key)) {
			if (strlen(pc.value[i]) >= len)
				return TRIT_ERANGE;
			snprintf(value, len, "%s", pc.value[i]);
			if (age_s)
				*age_s = 720; /* 12 min */
			return 1;
		}
	return 0;
}

static int pc_put(void *ctx, const char *key, const char *stamp, const char *value)
{
	(void)ctx;
	(void)stamp;
	if (!strcmp(key, "cpu0.kernel.cache-check")) {
		/* the plugin checks that the cache keeps values: keep it unless off */
		if (!pc.off)
			pc_plant(key, value);
		return 0;
	}
	if (!strncmp(key, PEAK_KEY, strlen(PEAK_KEY))) {
		ck_assert_int_lt(pc.peak_puts, PC_MAX);
		snprintf(pc.peak_put_key[pc.peak_puts], sizeof pc.peak_put_key[0], "%s", key);
		snprintf(pc.peak_put_value[pc.peak_puts], sizeof pc.peak_put_value[0], "%s", value);
		pc.peak_puts++;
		return 0;
	}
	ck_assert_int_lt(pc.puts, PC_MAX);
	snprintf(pc.put_key[pc.puts], sizeof pc.put_key[0], "%s", key);
	snprintf(pc.put_value[pc.puts], sizeof pc.put_value[0], "%s", value);
	pc.puts++;
	return 0;
}

static const struct trit_host chost = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = "test",
	.log = host_log,
	.config_get = test_cfg_get,
	.config_key = test_cfg_key,
	.config_where = test_cfg_where,
	.cache_get = pc_get,
	.cache_put = pc_put,
};

/* Paths by name only: the pure cases never run a kernel, so they describe
 * any CPU whatever this one has. */
static const struct cpu_avx2_kernels fk_vnni = { .isa = "avx512vnni" };
static const struct cpu_avx2_kernels fk_bw = { .isa = "avx512bw" };
static const struct cpu_avx2_kernels fk_avx2 = { .isa = "avx2" };

static struct {
	int calls[3];
	uint64_t ns[3][CPU_AVX2_MAX_PATHS];
	int fail;
} fm;

static int ktype_index(uint32_t type)
{
	return type == TRIT_TYPE_I2_S ? 0 : type == TRIT_TYPE_TL1 ? 1 : 2;
}

static int fake_measure(void *ctx, const struct cpu_avx2_choose_in *in, uint32_t type,
                        uint64_t ws, uint64_t ns[], char *why, size_t len)
{
	int t = ktype_index(type);
	(void)ctx;
	ck_assert_uint_ge(ws, UINT64_C(32) << 20);
	fm.calls[t]++;
	if (fm.fail) {
		snprintf(why, len, "the fake measurement failed");
		return -1;
	}
	for (unsigned i = 0; i < in->n_paths; i++)
		ns[i] = fm.ns[t][i];
	return 0;
}

static struct cpu_avx2_choose_in choose_in(const struct trit_host *h, unsigned n_paths)
{
	struct cpu_avx2_choose_in in = { 0 };
	const struct cpu_avx2_kernels *all[3] = { &fk_vnni, &fk_bw, &fk_avx2 };

	memset(&fm, 0, sizeof fm);
	in.host = h;
	in.machine = "Test CPU|GenuineTest|features=avx2 fma avx512f avx512bw avx512vnni";
	in.threads = 3;
	in.l3_total = UINT64_C(32) << 20;
	in.mem_free = UINT64_C(8) << 30;
	/* n_paths 2: vnni and avx2; 3: all; 1: avx2 */
	if (n_paths == 1) {
		in.paths[0] = &fk_avx2;
	} else if (n_paths == 2) {
		in.paths[0] = &fk_vnni;
		in.paths[1] = &fk_avx2;
	} else {
		for (int i = 0; i < 3; i++)
			in.paths[i] = all[i];
	}
	in.n_paths = n_paths;
	in.measure = fake_measure;
	return in;
}

static void assert_src(const struct trit_value *v, const char *words)
{
	ck_assert_ptr_nonnull(v->source);
	ck_assert_msg(strstr(v->source, words) != NULL, "'%s' lacks '%s'", v->source, words);
}

START_TEST(planted_figures_choose_avx2_when_it_is_faster_and_avx512_when_that_is)
{
	struct cpu_avx2_pool pool = { 0 };
	struct cpu_avx2_choose_in in;
	struct cpu_avx2_choice ch;

	pc_reset();
	in = choose_in(&chost, 2);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		pc_plant(cpu_avx2_ktypes[t].key, "avx512vnni=1800000 avx2=1230000");
	cpu_avx2_choose(&in, &ch, &pool);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_avx2);
		ck_assert_uint_eq(ch.src[t].state, TRIT_VALUE_MEASURED);
		assert_src(&ch.src[t], "measured: avx512vnni 1.8 ms, avx2 1.23 ms per "
		                       "2560x6912 + 6912x2560 GEMV pair");
		assert_src(&ch.src[t], "12 min ago (probe cache)");
		assert_src(&ch.src[t], "avx2 is the fastest");
		ck_assert_int_eq(ch.from_cache[t], 1);
		ck_assert_int_eq(fm.calls[t], 0);
	}
	ck_assert_int_eq(pc.gets, 3);
	ck_assert_int_eq(pc.puts, 0);
	ck_assert_int_eq(ch.measured_now, 0);

	/* the other order */
	pc_reset();
	in = choose_in(&chost, 2);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		pc_plant(cpu_avx2_ktypes[t].key, "avx2=1800000 avx512vnni=1230000");
	cpu_avx2_choose(&in, &ch, &pool);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_vnni);
		assert_src(&ch.src[t], "avx512vnni is the fastest");
	}
	ck_assert_int_eq(pc.puts, 0);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(each_kernel_type_gets_its_own_winner_and_a_tie_goes_to_the_wider)
{
	struct cpu_avx2_pool pool = { 0 };
	struct cpu_avx2_choose_in in;
	struct cpu_avx2_choice ch;
	struct cpu_avx2_mix m;

	pc_reset();
	in = choose_in(&chost, 3);
	pc_plant("cpu0.kernel.i2_s", "avx512vnni=3000 avx512bw=2000 avx2=1000");
	pc_plant("cpu0.kernel.tl1", "avx2=3000 avx512bw=2000 avx512vnni=1000");
	pc_plant("cpu0.kernel.tl2", "avx512vnni=3000 avx512bw=1000 avx2=1000");
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_ptr_eq(ch.k[CPU_AVX2_K_I2S], &fk_avx2);
	ck_assert_ptr_eq(ch.k[CPU_AVX2_K_TL1], &fk_vnni);
	ck_assert_ptr_eq(ch.k[CPU_AVX2_K_TL2], &fk_bw);
	ck_assert_int_eq(pc.puts, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		ck_assert_int_eq(fm.calls[t], 0);

	/* the mix the plugin runs: kernel and tables from the same path, and a
	 * kernel.isa naming all three in the order I2_S/TL1/TL2 */
	cpu_avx2_kernels_mix(&m, &cpu_avx2_kernels_avx2, &cpu_avx2_kernels_avx2,
	                     &cpu_avx2_kernels_avx2);
	ck_assert_str_eq(m.k.isa, "avx2");
	ck_assert_ptr_eq(m.k.tl1_tables, cpu_avx2_kernels_avx2.tl1_tables);
#ifdef CPU_AVX2_HAVE_AVX512
	cpu_avx2_kernels_mix(&m, &cpu_avx2_kernels_avx2, &cpu_avx2_kernels_avx512vnni,
	                     &cpu_avx2_kernels_avx512bw);
	ck_assert_str_eq(m.k.isa, "avx2/avx512vnni/avx512bw");
	ck_assert_ptr_eq(m.k.i2s, cpu_avx2_kernels_avx2.i2s);
	ck_assert_ptr_null(m.k.i2s_order); /* AVX2 reads activations in order */
	ck_assert_ptr_eq(m.k.tl1, cpu_avx2_kernels_avx512vnni.tl1);
	ck_assert_ptr_eq(m.k.tl1_tables, cpu_avx2_kernels_avx512vnni.tl1_tables);
	ck_assert_ptr_eq(m.k.tl2, cpu_avx2_kernels_avx512bw.tl2);
	ck_assert_ptr_eq(m.k.tl2_tables, cpu_avx2_kernels_avx512bw.tl2_tables);
	cpu_avx2_kernels_mix(&m, &cpu_avx2_kernels_avx512vnni, &cpu_avx2_kernels_avx512vnni,
	                     &cpu_avx2_kernels_avx512bw);
	ck_assert_uint_le(strlen(m.k.isa), 31); /* trit bench keeps 31 characters */
	/* the activations in the order of the I2_S kernel's path */
	ck_assert_ptr_eq(m.k.i2s, cpu_avx2_kernels_avx512vnni.i2s);
	ck_assert_ptr_eq(m.k.i2s_order, cpu_avx2_kernels_avx512vnni.i2s_order);
	ck_assert_ptr_nonnull(m.k.i2s_order);
#endif
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(a_damaged_or_foreign_cached_value_is_measured_again_and_stored)
{
	static const char *const damaged[] = {
		"", "avx2=1000", "avx512vnni=abc avx2=1000", "avx512vnni=1000 avx2=1000 avx2=9",
		"avx512vnni=0 avx2=1000", "avx512vnni=1000 avx2=2000 sse=3",
		"avx512vnni=1000  avx2=2000", "avx512vnni=1000 avx2=2000 ", "avx512vnni= avx2=5",
		"=5 avx2=5", "avx512vnni=-5 avx2=5", "avx512vnni=99999999999999999999 avx2=5",
		"avx512bw=1000 avx2=1000",
	};
	struct cpu_avx2_pool pool = { 0 };

	for (size_t d = 0; d <= sizeof damaged / sizeof damaged[0]; d++) {
		struct cpu_avx2_choose_in in;
		struct cpu_avx2_choice ch;
		uint64_t parsed_ns[2];
		unsigned long long a, b;
		char what[200];

		pc_reset();
		in = choose_in(&chost, 2);
		snprintf(what, sizeof what, "cached '%s'",
		         d < sizeof damaged / sizeof damaged[0] ? damaged[d] : "(too long)");
		if (d < sizeof damaged / sizeof damaged[0])
			pc_plant("cpu0.kernel.i2_s", damaged[d]);
		else
			pc.get_erange = 1;
		/* the others are fine (except with ERANGE, where every get fails) */
		pc_plant("cpu0.kernel.tl1", "avx512vnni=1000 avx2=2000");
		pc_plant("cpu0.kernel.tl2", "avx512vnni=1000 avx2=2000");
		fm.ns[0][0] = 4000000; /* the new figures: AVX2 faster for I2_S */
		fm.ns[0][1] = 2000000;
		fm.ns[1][0] = fm.ns[2][0] = 1000;
		fm.ns[1][1] = fm.ns[2][1] = 2000;
		cpu_avx2_choose(&in, &ch, &pool);
		ck_assert_msg(fm.calls[0] == 1, "%s: I2_S measured %d times", what, fm.calls[0]);
		ck_assert_msg(ch.k[0] == &fk_avx2, "%s: chose %s", what, ch.k[0]->isa);
		assert_src(&ch.src[0], "measured now, kept in the probe cache");
		ck_assert_int_eq(ch.measured_now, 1);
		ck_assert_str_eq(pc.put_key[0], "cpu0.kernel.i2_s");
		ck_assert_str_eq(pc.put_value[0], "avx512vnni=4000000 avx2=2000000");
		ck_assert_int_eq(sscanf(pc.put_value[0], "avx512vnni=%llu avx2=%llu", &a, &b), 2);
		parsed_ns[0] = a;
		parsed_ns[1] = b;
		ck_assert_uint_eq(parsed_ns[0], fm.ns[0][0]);
		ck_assert_uint_eq(parsed_ns[1], fm.ns[0][1]);
		if (!pc.get_erange) {
			ck_assert_int_eq(pc.puts, 1);
			ck_assert_int_eq(fm.calls[1] + fm.calls[2], 0);
		}
	}
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(the_stamp_names_what_the_figures_depend_on)
{
	struct cpu_avx2_pool pool = { 0 };
	struct cpu_avx2_choose_in in;
	struct cpu_avx2_choice ch;
	char first[sizeof pc.stamp];
	static const struct {
		uint64_t l3, ws;
	} sizes[] = {
		{ 0, UINT64_C(64) << 20 },                    /* unknown L3 */
		{ UINT64_C(4) << 20, UINT64_C(32) << 20 },    /* the floor */
		{ UINT64_C(96) << 20, UINT64_C(192) << 20 },  /* 2 x L3 */
		{ UINT64_C(1) << 30, UINT64_C(256) << 20 },   /* the cap */
	};

	pc_reset();
	in = choose_in(&chost, 3);
	cpu_avx2_choose(&in, &ch, &pool);
	snprintf(first, sizeof first, "%s", pc.stamp);
	ck_assert_msg(strstr(first, "Test CPU|GenuineTest|features=avx2 fma avx512f avx512bw "
	                     "avx512vnni|paths=avx512vnni,avx512bw,avx2|threads=3|ws=67108864|"
	                     "shapes=2560x6912,6912x2560|tokens=1|reps=11|kernel="),
	              "stamp '%s'", first);
	ck_assert_int_eq(pc.puts, 3);
	/* other threads: another stamp */
	pc_reset();
	in = choose_in(&chost, 3);
	in.threads = 4;
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_str_ne(pc.stamp, first);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		pc_reset();
		in = choose_in(&chost, 3);
		in.l3_total = sizes[i].l3;
		cpu_avx2_choose(&in, &ch, &pool);
		ck_assert_uint_eq(ch.ws, sizes[i].ws);
	}
	/* choose_bytes sets it, whatever the L3 */
	pc_reset();
	in = choose_in(&chost, 3);
	in.ws_bytes = UINT64_C(48) << 20;
	in.ws_where = "deploy.ini:8";
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_uint_eq(ch.ws, UINT64_C(48) << 20);
	ck_assert_msg(strstr(pc.stamp, "|ws=50331648|"), "%s", pc.stamp);
	assert_src(&ch.src[0], "working set 48 MiB: set by choose_bytes at deploy.ini:8");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(one_path_no_cache_no_memory_or_a_failed_run_do_not_choose_by_figures)
{
	static const struct trit_host nocache = {
		.abi_version = TRIT_BACKEND_ABI_VERSION,
		.struct_size = sizeof(struct trit_host),
		.log = host_log,
	};
	struct cpu_avx2_pool pool = { 0 };
	struct cpu_avx2_choose_in in;
	struct cpu_avx2_choice ch;

	/* one path: nothing is looked up or timed */
	pc_reset();
	in = choose_in(&chost, 1);
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_int_eq(pc.gets + pc.puts, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_avx2);
		ck_assert_int_eq(fm.calls[t], 0);
		ck_assert_uint_eq(ch.src[t].state, TRIT_VALUE_DERIVED);
		assert_src(&ch.src[t], "not measured (avx2 is the only kernel path");
	}
	/* a host without a probe cache: the widest, not timed */
	in = choose_in(&nocache, 2);
	cpu_avx2_choose(&in, &ch, &pool);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_vnni);
		ck_assert_int_eq(fm.calls[t], 0);
		assert_src(&ch.src[t], "not measured (the host keeps no probe cache");
		assert_src(&ch.src[t], "chose avx512vnni, the widest path");
	}
	/* a cache that keeps nothing (switched off): not timed at every start */
	pc_reset();
	pc.off = 1;
	in = choose_in(&chost, 2);
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_int_eq(pc.puts, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_vnni);
		ck_assert_int_eq(fm.calls[t], 0);
		assert_src(&ch.src[t], "not measured (the probe cache is off or keeps nothing");
	}
	/* too little free memory for the working set */
	pc_reset();
	in = choose_in(&chost, 2);
	in.mem_free = UINT64_C(100) << 20;
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_int_eq(pc.puts, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_vnni);
		ck_assert_int_eq(fm.calls[t], 0);
		assert_src(&ch.src[t], "more than half of the 104857600 bytes of free memory");
	}
	/* the run fails: the widest, the reason, nothing stored */
	pc_reset();
	in = choose_in(&chost, 2);
	fm.fail = 1;
	cpu_avx2_choose(&in, &ch, &pool);
	ck_assert_int_eq(pc.puts, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		ck_assert_ptr_eq(ch.k[t], &fk_vnni);
		assert_src(&ch.src[t], "not measured (the fake measurement failed)");
	}
	cpu_avx2_pool_free(&pool);
}
END_TEST

/* A planted peak (peak.c's value): 10^6 iterations in 10 ms. */
#define PEAK_VALUE "iters=1000000 best_ns=10000000 samples=5 spent_ns=70000000"

/* Through init on this CPU: its paths, figures planted so that `win[t]`
 * (an index into the paths, clamped) is the fastest for kernel type t, and
 * a peak for every path, so that init times nothing. */
static unsigned plant_winners(const unsigned win[CPU_AVX2_NK],
                              const struct cpu_avx2_kernels *paths[CPU_AVX2_MAX_PATHS])
{
	unsigned n = cpu_avx2_kernel_paths(this_cpu_caps(), paths);

	pc_reset();
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		char v[300] = "";
		size_t used = 0;
		for (unsigned i = 0; i < n; i++)
			used += (size_t)snprintf(v + used, sizeof v - used, "%s%s=%u", i ? " " : "",
			                         paths[i]->isa,
			                         i == (win[t] < n ? win[t] : n - 1) ? 1000000 : 3000000);
		pc_plant(cpu_avx2_ktypes[t].key, v);
	}
	for (unsigned i = 0; i < n; i++) { /* after them: tests edit pc.value[t] */
		char key[72];
		snprintf(key, sizeof key, PEAK_KEY "%s", paths[i]->isa);
		pc_plant(key, PEAK_VALUE);
	}
	return n;
}

static const char *prop_text(void *state, const char *key)
{
	const struct trit_property *p = find_prop(B()->device_get(state, 0), key);
	ck_assert_msg(p != NULL, "no property %s", key);
	return p->text ? p->text : "(null)";
}

START_TEST(the_plugin_runs_the_planted_winner_per_kernel_type_and_stays_exact)
{
	static const unsigned mixed[CPU_AVX2_NK] = { 2, 0, 1 }, widest[CPU_AVX2_NK] = { 0, 0, 0 };
	const struct cpu_avx2_kernels *paths[CPU_AVX2_MAX_PATHS];
	struct runner rn = { 0 };
	char err[512] = "", want[64];
	unsigned n;

	reset_settings();
	n = plant_winners(mixed, paths);
	ck_assert_msg(B()->init(&chost, &rn.state, err, sizeof err) == 0, "%s", err);
	rn.name = "plugin (planted mix)";
	if (n < 2) {
		/* one path: nothing looked up, nothing timed */
		ck_assert_int_eq(pc.gets + pc.puts, 0);
		ck_assert_str_eq(prop_text(rn.state, "kernel.isa"), "avx2");
		ck_assert_msg(strstr(find_prop(B()->device_get(rn.state, 0), "kernel.isa")->value.source,
		                     "not measured"), "%s",
		              find_prop(B()->device_get(rn.state, 0), "kernel.isa")->value.source);
		runner_done(&rn);
		return;
	}
	ck_assert_int_eq(pc.gets, 3);
	ck_assert_int_eq(pc.puts, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		const struct trit_property *p = find_prop(B()->device_get(rn.state, 0),
		                                          cpu_avx2_ktypes[t].prop);
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(p->text, paths[mixed[t] < n ? mixed[t] : n - 1]->isa);
		ck_assert_uint_eq(p->value.state, TRIT_VALUE_MEASURED);
		ck_assert_msg(strstr(p->value.source, "(probe cache)"), "%s", p->value.source);
	}
	snprintf(want, sizeof want, "%s/%s/%s", paths[n - 1]->isa, paths[0]->isa,
	         paths[n > 2 ? 1 : n - 1]->isa);
	ck_assert_str_eq(prop_text(rn.state, "kernel.isa"), want);
	/* the mix is exact against the reference, every type, GEMV and GEMM */
	for (size_t k = 0; k < 3; k++)
		for (unsigned th = 1; th <= 2; th++) {
			check_case(&rn, types[k], 70, 1100, 1, th, 1, W_RANDOM, Q_RANDOM);
			check_case(&rn, types[k], 45, 333, 5, th, 0, W_RANDOM, Q_RANDOM);
			check_case(&rn, types[k], 35, 4100, 2, th, 1, W_PLUS, Q_MIN);
		}
	runner_done(&rn);

	/* all AVX-512 fastest: one path name */
	n = plant_winners(widest, paths);
	rn.state = NULL;
	ck_assert_msg(B()->init(&chost, &rn.state, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(prop_text(rn.state, "kernel.isa"), paths[0]->isa);
	ck_assert_msg(!strncmp(prop_text(rn.state, "kernel.isa"), "avx512", 6), "%s",
	              prop_text(rn.state, "kernel.isa"));
	runner_done(&rn);
}
END_TEST

START_TEST(a_forced_isa_or_choose_widest_wins_over_planted_figures)
{
	static const unsigned avx2_wins[CPU_AVX2_NK] = { 2, 2, 2 };
	const struct cpu_avx2_kernels *paths[CPU_AVX2_MAX_PATHS];
	const struct trit_property *p;
	void *state = NULL;
	char err[512] = "";
	unsigned n;

	/* figures say AVX2; isa = avx512 says otherwise */
	reset_settings();
	n = plant_winners(avx2_wins, paths);
	if (n < 2)
		return; /* nothing to force between; the other case checks one path */
	test_setting_add("isa", "avx512", "deploy.ini:3");
	ck_assert_msg(B()->init(&chost, &state, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(pc.gets, 0);
	for (int t = 0; t < CPU_AVX2_NK; t++) {
		p = find_prop(B()->device_get(state, 0), cpu_avx2_ktypes[t].prop);
		ck_assert_str_eq(p->text, paths[0]->isa);
		ck_assert_uint_eq(p->value.state, TRIT_VALUE_CONFIGURED);
		ck_assert_str_eq(p->value.source, "[plugin.cpu_avx2] isa = avx512 (deploy.ini:3)");
	}
	ck_assert_str_eq(prop_text(state, "kernel.isa"), paths[0]->isa);
	B()->shutdown(state);

	/* choose = widest: not looked up either */
	reset_settings();
	plant_winners(avx2_wins, paths);
	test_setting_add("choose", "widest", "environment TRIT_PLUGIN_CPU_AVX2_CHOOSE");
	state = NULL;
	ck_assert_msg(B()->init(&chost, &state, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(pc.gets, 0);
	p = find_prop(B()->device_get(state, 0), "kernel.isa");
	ck_assert_str_eq(p->text, paths[0]->isa);
	ck_assert_msg(strstr(p->value.source, "choose = widest (environment "
	                                      "TRIT_PLUGIN_CPU_AVX2_CHOOSE)"), "%s",
	              p->value.source);
	B()->shutdown(state);

	/* isa = auto set explicitly still measures: AVX2 from the figures */
	reset_settings();
	plant_winners(avx2_wins, paths);
	test_setting_add("isa", "auto", "deploy.ini:4");
	state = NULL;
	ck_assert_msg(B()->init(&chost, &state, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(prop_text(state, "kernel.isa"), "avx2");
	B()->shutdown(state);
}
END_TEST

START_TEST(a_damaged_cached_value_makes_the_plugin_measure_and_store_again)
{
	const struct cpu_avx2_kernels *paths[CPU_AVX2_MAX_PATHS];
	static const unsigned any[CPU_AVX2_NK] = { 0, 0, 0 };
	const struct trit_property *p;
	void *state = NULL;
	char err[512] = "";
	unsigned n;

	reset_settings();
	n = plant_winners(any, paths);
	if (n < 2)
		return;
	snprintf(pc.value[0], sizeof pc.value[0], "avx2=garbage");
	ck_assert_msg(B()->init(&chost, &state, err, sizeof err) == 0, "%s", err);
	/* I2_S was timed for real (what it found is not checked: timing), TL1
	 * and TL2 came from the cache */
	ck_assert_int_eq(pc.puts, 1);
	ck_assert_str_eq(pc.put_key[0], "cpu0.kernel.i2_s");
	for (unsigned i = 0; i < n; i++) {
		char name[40];
		snprintf(name, sizeof name, "%s=", paths[i]->isa);
		ck_assert_msg(strstr(pc.put_value[0], name), "'%s' lacks %s", pc.put_value[0], name);
	}
	p = find_prop(B()->device_get(state, 0), "kernel.isa.i2_s");
	ck_assert_uint_eq(p->value.state, TRIT_VALUE_MEASURED);
	ck_assert_msg(strstr(p->value.source, "measured now"), "%s", p->value.source);
	ck_assert_msg(strstr(pc.stamp, "threads="), "%s", pc.stamp);
	p = find_prop(B()->device_get(state, 0), "kernel.isa.tl1");
	ck_assert_msg(strstr(p->value.source, "(probe cache)"), "%s", p->value.source);
	B()->shutdown(state);
}
END_TEST

START_TEST(bad_choose_value_is_a_configuration_error)
{
	void *state = NULL;
	char err[512] = "";

	reset_settings();
	test_setting_add("choose", "fastest", "deploy.ini:7");
	ck_assert_int_eq(B()->init(&host, &state, err, sizeof err), TRIT_ECONFIG);
	ck_assert_msg(strstr(err, "deploy.ini:7") && strstr(err, "measure or widest"), "%s", err);
	reset_settings();
	test_setting_add("choose_bytes", "8MiB", "deploy.ini:8");
	ck_assert_int_eq(B()->init(&host, &state, err, sizeof err), TRIT_ECONFIG);
	ck_assert_msg(strstr(err, "deploy.ini:8") && strstr(err, "at least 16 MiB"), "%s", err);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The peak int8 throughput (peak.c). Nothing here depends on timing: a     */
/* fake measurement, or figures planted in the fake probe cache.            */

static struct {
	int calls, fail;
	struct cpu_avx2_peak_run run;
	const struct cpu_avx2_kernels *path;
} fp;

static int fake_peak(void *ctx, const struct cpu_avx2_kernels *path,
                     struct cpu_avx2_peak_run *run, char *why, size_t len)
{
	(void)ctx;
	fp.calls++;
	fp.path = path;
	if (fp.fail) {
		snprintf(why, len, "the fake peak failed");
		return -1;
	}
	*run = fp.run;
	return 0;
}

/* The AVX2 path (768 ops per iteration) timed by the fake: 10^6 iterations
 * in 10 ms, 76.8 G ops/s. */
static struct cpu_avx2_peak_in peak_in(const struct trit_host *h)
{
	memset(&fp, 0, sizeof fp);
	fp.run = (struct cpu_avx2_peak_run){ .iters = 1000000, .best_ns = 10000000, .samples = 5,
	                                     .spent_ns = 70000000 };
	return (struct cpu_avx2_peak_in){ .host = h, .path = &cpu_avx2_kernels_avx2,
	                                  .machine = "Test CPU|GenuineTest|features=avx2 fma",
	                                  .measure = fake_peak };
}

START_TEST(int8_peak_is_measured_once_kept_in_the_probe_cache_and_read_back)
{
	struct cpu_avx2_pool pool = { 0 };
	struct cpu_avx2_peak_in in;
	struct cpu_avx2_peak pk;

	pc_reset();
	in = peak_in(&chost);
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_int_eq(fp.calls, 1);
	ck_assert_ptr_eq(fp.path, &cpu_avx2_kernels_avx2);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(pk.ops.value, UINT64_C(76800000000));
	ck_assert_int_eq(pk.measured_now, 1);
	ck_assert_int_eq(pk.from_cache, 0);
	assert_src(&pk.ops, "vpmaddubsw ymm + vpaddw ymm, 12 independent chains (the "
	                    "avx2 path's I2_S int8 multiply; 64 ops, 2 per int8 product, per "
	                    "chain and iteration), 1000000 iterations, best of 5 samples (10 ms of "
	                    "the thread's CPU time), 70 ms in all; per core (one thread); measured now, kept in the "
	                    "probe cache");
	ck_assert_int_eq(pc.peak_puts, 1);
	ck_assert_str_eq(pc.peak_put_key[0], "cpu0.int8_peak.avx2");
	ck_assert_str_eq(pc.peak_put_value[0], PEAK_VALUE);
	/* the stamp names the machine, the path, the loop and the method */
	ck_assert_msg(strstr(pc.peak_stamp, "Test CPU|GenuineTest|features=avx2 fma") &&
	              strstr(pc.peak_stamp, "path=avx2") &&
	              strstr(pc.peak_stamp, "loop=vpmaddubsw ymm + vpaddw ymm x12, 768 ops") &&
	              strstr(pc.peak_stamp, "samples=5") && strstr(pc.peak_stamp, "clock=thread-cpu") &&
	              strstr(pc.peak_stamp, "kernel="),
	              "%s", pc.peak_stamp);
	ck_assert_int_eq(pc.gets, 1); /* the check that the cache keeps values */

	/* the next start reads it back: nothing timed, nothing stored */
	pc_reset();
	pc_plant("cpu0.int8_peak.avx2", PEAK_VALUE);
	in = peak_in(&chost);
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_int_eq(fp.calls, 0);
	ck_assert_int_eq(pc.peak_puts, 0);
	ck_assert_int_eq(pc.peak_gets, 1);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(pk.ops.value, UINT64_C(76800000000));
	ck_assert_int_eq(pk.from_cache, 1);
	ck_assert_int_eq(pk.measured_now, 0);
	assert_src(&pk.ops, "1000000 iterations, best of 5 samples (10 ms of the thread's CPU "
	                    "time), 70 ms in all; per core (one thread); kept in the probe cache "
	                    "(12 min ago)");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(int8_peak_is_unknown_with_the_reason_when_it_would_not_be_kept)
{
	static const struct trit_host nocache = {
		.abi_version = TRIT_BACKEND_ABI_VERSION,
		.struct_size = sizeof(struct trit_host),
		.log = host_log,
	};
	static const struct cpu_avx2_kernels noloop = { .isa = "avx2" };
	struct cpu_avx2_pool pool = { 0 };
	struct cpu_avx2_peak_in in;
	struct cpu_avx2_peak pk;

	pc_reset();
	in = peak_in(&nocache);
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_UNKNOWN);
	assert_src(&pk.ops, "not measured: the host keeps no probe cache, so it would be "
	                    "measured at every start");
	ck_assert_int_eq(fp.calls, 0);

	/* a cache that keeps nothing (switched off) */
	pc_reset();
	pc.off = 1;
	in = peak_in(&chost);
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_UNKNOWN);
	assert_src(&pk.ops, "not measured: the probe cache is off or keeps nothing");
	ck_assert_int_eq(fp.calls, 0);
	ck_assert_int_eq(pc.peak_puts, 0);

	/* no path can run, or one without a loop */
	pc_reset();
	in = peak_in(&chost);
	in.path = NULL;
	in.why_none = "FMA is disabled by [plugin.cpu_avx2] disable = fma (test)";
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_UNKNOWN);
	assert_src(&pk.ops, "not measured: FMA is disabled by [plugin.cpu_avx2] disable = fma");
	in = peak_in(&chost);
	in.path = &noloop;
	cpu_avx2_peak_get(&in, &pk, &pool);
	assert_src(&pk.ops, "not measured: the avx2 path has no peak loop");
	ck_assert_int_eq(fp.calls, 0);

	/* a failed or impossible measurement: unknown, nothing stored */
	pc_reset();
	in = peak_in(&chost);
	fp.fail = 1;
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_UNKNOWN);
	assert_src(&pk.ops, "not measured: the fake peak failed");
	in = peak_in(&chost);
	fp.run.best_ns = 1;
	fp.run.iters = UINT64_C(1) << 36;
	cpu_avx2_peak_get(&in, &pk, &pool);
	ck_assert_uint_eq(pk.ops.state, TRIT_VALUE_UNKNOWN);
	assert_src(&pk.ops, "not measured: the measurement gave an impossible figure");
	ck_assert_int_eq(pc.peak_puts, 0);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(a_damaged_cached_int8_peak_is_measured_again_and_stored)
{
	static const char *const damaged[] = {
		"", "garbage", "iters=0 best_ns=10 samples=5 spent_ns=70",
		"iters=10 best_ns=0 samples=5 spent_ns=70", "iters=10 best_ns=10 samples=5",
		"iters=10 best_ns=10 samples=5 spent_ns=70 more=1",
		"iters=1x best_ns=10 samples=5 spent_ns=70",
		"best_ns=10 iters=10 samples=5 spent_ns=70",
		"iters=10  best_ns=10 samples=5 spent_ns=70",
		"iters=-10 best_ns=10 samples=5 spent_ns=70",
		"iters=99999999999999999999999 best_ns=10 samples=5 spent_ns=70",
		"iters=68719476736 best_ns=1 samples=5 spent_ns=1", /* 5e22 ops/s */
		"iters=10 best_ns=10 samples=0 spent_ns=70",
	};
	struct cpu_avx2_pool pool = { 0 };

	for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
		struct cpu_avx2_peak_in in;
		struct cpu_avx2_peak pk;

		pc_reset();
		pc_plant("cpu0.int8_peak.avx2", damaged[i]);
		in = peak_in(&chost);
		cpu_avx2_peak_get(&in, &pk, &pool);
		ck_assert_msg(fp.calls == 1, "cached '%s': timed %d times", damaged[i], fp.calls);
		ck_assert_int_eq(pk.measured_now, 1);
		ck_assert_uint_eq(pk.ops.value, UINT64_C(76800000000));
		ck_assert_int_eq(pc.peak_puts, 1);
		ck_assert_str_eq(pc.peak_put_value[0], PEAK_VALUE);
	}
	cpu_avx2_pool_free(&pool);
}
END_TEST

/* Each property's value and source against the path of its type. */
static void assert_peak_prop(void *state, const char *key,
                             const struct cpu_avx2_kernels *path)
{
	const struct trit_property *p = find_prop(B()->device_get(state, 0), key);
	char words[120];

	ck_assert_msg(p != NULL, "no property %s", key);
	ck_assert_str_eq(p->unit, "ops/s");
	ck_assert_uint_eq(p->value.state, TRIT_VALUE_MEASURED);
	/* PEAK_VALUE: 10^6 iterations in 10 ms */
	ck_assert_uint_eq(p->value.value, UINT64_C(100000000) * path->peak_ops_per_iter);
	snprintf(words, sizeof words, "%s, %u independent chains (the %s path's",
	         path->peak_insn, path->peak_chains, path->isa);
	assert_src(&p->value, words);
	assert_src(&p->value, "per core (one thread); kept in the probe cache (12 min ago)");
}

START_TEST(the_plugin_reports_each_types_int8_peak_from_the_cache_else_unknown)
{
	static const char *const keys[] = { "compute.int8_peak", "compute.int8_peak.i2_s",
	                                    "compute.int8_peak.tl1", "compute.int8_peak.tl2" };
	static const unsigned mixed[CPU_AVX2_NK] = { 2, 0, 1 };
	const struct cpu_avx2_kernels *paths[CPU_AVX2_MAX_PATHS];
	void *state = NULL;
	char err[512] = "";
	unsigned n;

	/* no probe cache: unknown, with the reason */
	reset_settings();
	ck_assert_msg(B()->init(&host, &state, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct trit_property *p = find_prop(B()->device_get(state, 0), keys[i]);
		ck_assert_msg(p != NULL, "no property %s", keys[i]);
		ck_assert_str_eq(p->unit, "ops/s");
		ck_assert_uint_eq(p->value.state, TRIT_VALUE_UNKNOWN);
		assert_src(&p->value, "not measured: the host keeps no probe cache, so it would be "
		                      "measured at every start");
	}
	B()->shutdown(state);

	/* with one: the planted figures of each type's path, nothing timed */
	reset_settings();
	n = plant_winners(mixed, paths);
	state = NULL;
	ck_assert_msg(B()->init(&chost, &state, err, sizeof err) == 0, "%s", err);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		assert_peak_prop(state, cpu_avx2_ktypes[t].peak_prop,
		                 paths[mixed[t] < n ? mixed[t] : n - 1]);
	assert_peak_prop(state, "compute.int8_peak", paths[mixed[0] < n ? mixed[0] : n - 1]);
	ck_assert_int_eq(pc.peak_puts, 0);
	B()->shutdown(state);

	/* a forced path: its peak, for every type */
	reset_settings();
	plant_winners(mixed, paths);
	test_setting_add("isa", "avx2", "deploy.ini:3");
	state = NULL;
	ck_assert_msg(B()->init(&chost, &state, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		assert_peak_prop(state, keys[i], &cpu_avx2_kernels_avx2);
	ck_assert_int_eq(pc.peak_puts, 0);
	B()->shutdown(state);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The worker pool (pool.c)                                                  */

#define POOL_MAX_PARTS 8

struct count_job {
	_Atomic unsigned ran[POOL_MAX_PARTS];
	_Atomic unsigned bad;  /* a part told another part count than was asked */
	unsigned want;
};

static void count_part(void *arg, unsigned part, unsigned nparts)
{
	struct count_job *j = arg;
	if (nparts != j->want || part >= nparts)
		atomic_fetch_add(&j->bad, 1);
	else
		atomic_fetch_add(&j->ran[part], 1);
}

/* Runs of varying sizes, so workers are sometimes in a run and sometimes
 * not; every part of every run must run exactly once. */
static void check_every_part_once(struct cpu_avx2_workers **pool)
{
	static const unsigned sizes[] = { 2, 3, 1, 4, 2, 8, 5, 2, 7, 3 };
	for (unsigned r = 0; r < 3000; r++) {
		struct count_job j = { .want = sizes[r % 10] };
		unsigned n = cpu_avx2_workers_run(pool, j.want, count_part, &j);
		ck_assert_uint_eq(n, j.want);
		ck_assert_uint_eq(atomic_load(&j.bad), 0);
		for (unsigned i = 0; i < POOL_MAX_PARTS; i++)
			ck_assert_uint_eq(atomic_load(&j.ran[i]), i < j.want ? 1u : 0u);
	}
}

START_TEST(pool_runs_every_part_once_hot_and_parked)
{
	static const unsigned spins[] = { 0, 1, CPU_AVX2_SPIN_US };
	for (size_t i = 0; i < sizeof spins / sizeof spins[0]; i++) {
		struct cpu_avx2_workers *pool = cpu_avx2_workers_new();
		ck_assert_ptr_nonnull(pool);
		cpu_avx2_workers_set(pool, spins[i], 0);
		check_every_part_once(&pool);
		ck_assert_uint_eq(cpu_avx2_workers_started(pool), POOL_MAX_PARTS - 1);
		cpu_avx2_workers_free(pool);
	}
}
END_TEST

static double process_cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* An idle process must not burn CPU: once no run arrives within the spin
 * budget every worker parks. Over a whole idle second after the budget the
 * process may use a little CPU (timer ticks), not the second a spinning
 * worker would take. */
START_TEST(pool_workers_park_once_idle_for_the_spin_budget)
{
	struct cpu_avx2_workers *pool = cpu_avx2_workers_new();
	double before, used;

	ck_assert_ptr_nonnull(pool);
	cpu_avx2_workers_set(pool, 20000, 1); /* 20 ms */
	check_every_part_once(&pool);
	sleep_seconds(0.1);                   /* the budget is spent */
	before = process_cpu_seconds();
	sleep_seconds(1.0);
	used = process_cpu_seconds() - before;
	ck_assert_msg(used < 0.2, "%u idle workers used %.3f s of CPU in 1 s after a 20 ms "
	              "spin budget", cpu_avx2_workers_started(pool), used);
	/* and they still wake for the next run */
	check_every_part_once(&pool);
	cpu_avx2_workers_free(pool);
}
END_TEST

static int cpu_in(int cpu, const cpu_set_t *set)
{
	return cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, set);
}

START_TEST(pool_binds_workers_to_distinct_cpus_only_when_there_are_enough)
{
	cpu_set_t mask;
	struct cpu_avx2_workers *pool;
	unsigned ncpu;

	ck_assert_int_eq(sched_getaffinity(0, sizeof mask, &mask), 0);
	ncpu = (unsigned)CPU_COUNT(&mask);

	/* as many threads as CPUs (at most 4): each worker on a CPU of its own */
	if (ncpu >= 2) {
		unsigned n = ncpu < 4 ? ncpu : 4;
		struct count_job j = { .want = n };
		pool = cpu_avx2_workers_new();
		ck_assert_uint_eq(cpu_avx2_workers_run(&pool, n, count_part, &j), n);
		for (unsigned i = 0; i + 1 < n; i++) {
			int c = cpu_avx2_workers_bound_cpu(pool, i);
			ck_assert_msg(cpu_in(c, &mask), "worker %u is bound to %d, not one CPU of "
			              "the mask", i, c);
			for (unsigned k = 0; k < i; k++)
				ck_assert_int_ne(c, cpu_avx2_workers_bound_cpu(pool, k));
		}
		cpu_avx2_workers_free(pool);
	}
	/* pinning off: nobody is bound */
	if (ncpu >= 2) {
		struct count_job j = { .want = 2 };
		pool = cpu_avx2_workers_new();
		cpu_avx2_workers_set(pool, CPU_AVX2_SPIN_US, 0);
		cpu_avx2_workers_run(&pool, 2, count_part, &j);
		ck_assert_int_eq(cpu_avx2_workers_bound_cpu(pool, 0), -1);
		cpu_avx2_workers_free(pool);
	}
	/* more threads than CPUs: nobody is bound, and every part still runs */
	{
		unsigned n = ncpu + 1 < POOL_MAX_PARTS ? ncpu + 1 : POOL_MAX_PARTS;
		struct count_job j = { .want = n };
		pool = cpu_avx2_workers_new();
		if (n > ncpu) {
			ck_assert_uint_eq(cpu_avx2_workers_run(&pool, n, count_part, &j), n);
			for (unsigned i = 0; i + 1 < n; i++)
				ck_assert_int_eq(cpu_avx2_workers_bound_cpu(pool, i), -1);
		}
		cpu_avx2_workers_free(pool);
	}
}
END_TEST

static void where_part(void *arg, unsigned part, unsigned nparts)
{
	int *cpu = arg;
	if (part < nparts && part < POOL_MAX_PARTS)
		cpu[part] = sched_getcpu();
}

/* The caller runs part 0 and is not bound. Put on the CPU of the bound
 * worker (its mask allows every CPU, so the kernel leaves it there), it
 * would share that CPU with the worker; the pool moves it off for the run
 * and gives its mask back after. */
START_TEST(pool_moves_the_caller_off_a_bound_workers_cpu)
{
	cpu_set_t mask, one, after;
	struct cpu_avx2_workers *pool;
	int cpu[POOL_MAX_PARTS], w;

	ck_assert_int_eq(sched_getaffinity(0, sizeof mask, &mask), 0);
	if (CPU_COUNT(&mask) < 2)
		return; /* nothing to bind to: the test above covers it */
	pool = cpu_avx2_workers_new();
	ck_assert_uint_eq(cpu_avx2_workers_run(&pool, 2, where_part, cpu), 2);
	w = cpu_avx2_workers_bound_cpu(pool, 0);
	ck_assert_msg(cpu_in(w, &mask), "worker 0 is not bound (%d)", w);
	for (int r = 0; r < 50; r++) {
		CPU_ZERO(&one);
		CPU_SET(w, &one);
		ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
		ck_assert_int_eq(sched_setaffinity(0, sizeof mask, &mask), 0);
		cpu[0] = cpu[1] = -1;
		ck_assert_uint_eq(cpu_avx2_workers_run(&pool, 2, where_part, cpu), 2);
		ck_assert_int_eq(cpu[1], w);
		ck_assert_msg(cpu[0] != w && cpu_in(cpu[0], &mask), "run %d: the caller ran part 0 "
		              "on CPU %d, the bound worker's", r, cpu[0]);
		ck_assert_int_eq(sched_getaffinity(0, sizeof after, &after), 0);
		ck_assert_msg(CPU_EQUAL(&after, &mask), "run %d: the caller's mask was not given "
		              "back", r);
	}
	cpu_avx2_workers_free(pool);
}
END_TEST

START_TEST(spin_us_and_pin_are_read_and_bad_values_refused)
{
	static const struct {
		const char *key, *value;
		int ok;
	} cases[] = {
		{ "spin_us", "0", 1 }, { "spin_us", "200", 1 }, { "spin_us", "1000000", 1 },
		{ "spin_us", "1000001", 0 }, { "spin_us", "-1", 0 }, { "spin_us", "5ms", 0 },
		{ "spin_us", "", 0 }, { "pin", "no", 1 }, { "pin", "on", 1 }, { "pin", "2", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		void *state = NULL;
		char err[512] = "";
		int rc;
		reset_settings();
		test_setting_add(cases[i].key, cases[i].value, "deploy.ini:9");
		rc = B()->init(&host, &state, err, sizeof err);
		if (cases[i].ok) {
			ck_assert_msg(rc == 0, "%s = '%s': %s", cases[i].key, cases[i].value, err);
			B()->shutdown(state);
		} else {
			ck_assert_int_eq(rc, TRIT_ECONFIG);
			ck_assert_ptr_null(state);
			ck_assert_msg(strstr(err, cases[i].key) && strstr(err, "deploy.ini:9"),
			              "%s = '%s': %s", cases[i].key, cases[i].value, err);
		}
	}
}
END_TEST
#endif /* KERNELS_MODE == 0 */

/* ------------------------------------------------------------------------ */

static Suite *kernels_suite(void)
{
	Suite *s = suite_create("cpu_avx2_kernels");
	TCase *tc = tcase_create("kernels");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, kernels_give_exact_int_dots_for_gemv);
	tcase_add_test(tc, kernels_give_exact_int_dots_for_gemm);
	tcase_add_test(tc, kernels_match_the_f32_reference_for_gemv);
	tcase_add_test(tc, kernels_match_the_f32_reference_for_gemm);
	tcase_add_test(tc, kernels_stay_exact_at_the_int16_accumulator_extremes);
	tcase_add_test(tc, peak_loops_count_the_int8_products_they_run);
	suite_add_tcase(s, tc);
#if KERNELS_MODE == 0
	tc = tcase_create("plugin");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, plugin_matmul_matches_the_reference_on_1_2_3_and_default_threads);
	tcase_add_test(tc, plugin_advertises_the_ternary_types_and_the_kernel_isa);
	tcase_add_test(tc, isa_avx2_is_honoured_and_its_source_names_the_setting);
	tcase_add_test(tc, isa_avx512_is_refused_where_the_cpu_lacks_it_and_says_where);
	tcase_add_test(tc, bad_isa_value_is_a_configuration_error);
	tcase_add_test(tc, without_fma_no_ternary_types_are_advertised_and_matmul_says_why);
	tcase_add_test(tc, selection_takes_the_widest_kernels_the_caps_allow);
	tcase_add_test(tc, matmul_refuses_bad_operations_with_a_reason);
	tcase_add_test(tc, workspace_grows_with_tokens_and_is_the_same_for_every_thread_count);
	tcase_add_test(tc, buffers_refuse_bad_sizes_devices_and_ranges);
	suite_add_tcase(s, tc);
	tc = tcase_create("choose");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, planted_figures_choose_avx2_when_it_is_faster_and_avx512_when_that_is);
	tcase_add_test(tc, each_kernel_type_gets_its_own_winner_and_a_tie_goes_to_the_wider);
	tcase_add_test(tc, a_damaged_or_foreign_cached_value_is_measured_again_and_stored);
	tcase_add_test(tc, the_stamp_names_what_the_figures_depend_on);
	tcase_add_test(tc, one_path_no_cache_no_memory_or_a_failed_run_do_not_choose_by_figures);
	tcase_add_test(tc, the_plugin_runs_the_planted_winner_per_kernel_type_and_stays_exact);
	tcase_add_test(tc, a_forced_isa_or_choose_widest_wins_over_planted_figures);
	tcase_add_test(tc, a_damaged_cached_value_makes_the_plugin_measure_and_store_again);
	tcase_add_test(tc, bad_choose_value_is_a_configuration_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("peak");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, int8_peak_is_measured_once_kept_in_the_probe_cache_and_read_back);
	tcase_add_test(tc, int8_peak_is_unknown_with_the_reason_when_it_would_not_be_kept);
	tcase_add_test(tc, a_damaged_cached_int8_peak_is_measured_again_and_stored);
	tcase_add_test(tc, the_plugin_reports_each_types_int8_peak_from_the_cache_else_unknown);
	suite_add_tcase(s, tc);
	tc = tcase_create("pool");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pool_runs_every_part_once_hot_and_parked);
	tcase_add_test(tc, pool_workers_park_once_idle_for_the_spin_budget);
	tcase_add_test(tc, pool_binds_workers_to_distinct_cpus_only_when_there_are_enough);
	tcase_add_test(tc, pool_moves_the_caller_off_a_bound_workers_cpu);
	tcase_add_test(tc, spin_us_and_pin_are_read_and_bad_values_refused);
	suite_add_tcase(s, tc);
#endif
	return s;
}

/* Fill `tables` for this program; NULL with the reason to skip. */
static const char *choose_tables(void)
{
	uint64_t caps = this_cpu_caps();
	int n = 0;

#if KERNELS_MODE == 0
	if ((caps & CPU_AVX2_NEEDS_AVX2) != CPU_AVX2_NEEDS_AVX2)
		return "this CPU has no AVX2+FMA, so no cpu_avx2 kernel can run";
	tables[n++] = &cpu_avx2_kernels_avx2;
#elif KERNELS_MODE == 1
#ifdef CPU_AVX2_HAVE_AVX512
	if ((caps & CPU_AVX2_NEEDS_AVX512BW) != CPU_AVX2_NEEDS_AVX512BW)
		return "this CPU has no AVX512F+AVX512BW; the native AVX-512 kernels were not run "
		       "(their logic is checked by check_cpu_avx2_avx512_emu)";
	tables[n++] = &cpu_avx2_kernels_avx512bw;
	if ((caps & CPU_AVX2_NEEDS_AVX512VNNI) == CPU_AVX2_NEEDS_AVX512VNNI)
		tables[n++] = &cpu_avx2_kernels_avx512vnni;
	else
		printf("# AVX512-VNNI absent: only the avx512bw kernels run\n");
#else
	(void)caps;
	return "the compiler could not build the AVX-512 kernels (see configure's summary)";
#endif
#else
#ifdef CPU_AVX2_HAVE_EMU
	if ((caps & CPU_AVX2_NEEDS_AVX2) != CPU_AVX2_NEEDS_AVX2)
		return "this CPU has no AVX2+FMA, which the SIMDe emulation build uses";
	tables[n++] = &cpu_avx2_kernels_avx512bw_emu;
	tables[n++] = &cpu_avx2_kernels_avx512vnni_emu;
#else
	(void)caps;
	return "SIMDe (libsimde-dev) was not found at configure time, so the AVX-512 kernels "
	       "could not be built for emulation";
#endif
#endif
#if KERNELS_MODE != 0
	cpu_avx2_kernels_mix(&mixes[0], &cpu_avx2_kernels_avx2, tables[n - 1],
	                     &cpu_avx2_kernels_avx2);
	cpu_avx2_kernels_mix(&mixes[1], tables[0], &cpu_avx2_kernels_avx2, tables[n - 1]);
	tables[n++] = &mixes[0].k;
	tables[n++] = &mixes[1].k;
#endif
	tables[n] = NULL;
	return NULL;
}

int main(void)
{
	SRunner *sr;
	const char *skip = choose_tables();
	int failed;

	if (skip) {
		printf("1..0 # SKIP %s\n", skip);
		return EXIT_SUCCESS;
	}
	sr = srunner_create(kernels_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
