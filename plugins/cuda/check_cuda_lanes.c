/*
 * check_cuda_lanes.c - the cuda kernels' per-thread arithmetic (lanes.h),
 * replayed on the CPU for every thread of every block a launch would run,
 * with the same grid, warp split and token tiles as kernels.cu, and compared
 * with the reference kernels (runtime/formats/ternary.c): exact integer dots, and
 * F32 outputs within the contract's 1e-5 of max |y| (on the CPU they are the
 * same bits). This runs without a GPU; what it cannot check is the hardware
 * side of kernels.cu (warp shuffles, shared memory, launch limits), which
 * check_cuda_gpu covers where a GPU is present.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "lanes.h"
#include "formats/ternary.h"

static const uint32_t formats[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A packed rows x cols tensor of `type` from random trits times scale. */
static unsigned char *random_weights(uint32_t type, uint64_t rows, uint64_t cols, float scale)
{
	float *w = malloc(rows * cols * sizeof *w);
	uint64_t bytes = trit_ternary_bytes(type, rows, cols);
	unsigned char *packed = malloc(bytes);
	char err[256];

	ck_assert(w && packed && bytes);
	for (uint64_t i = 0; i < rows * cols; i++)
		w[i] = (float)((int)(rnd() % 3) - 1) * scale;
	w[0] = scale; /* at least one non-zero, so the scale is the one given */
	ck_assert_msg(trit_ternary_pack(type, packed, bytes, TRIT_TYPE_F32, w,
	                                rows * cols * sizeof *w, rows, cols, err, sizeof err) == 0,
	              "%s", err);
	free(w);
	return packed;
}

static float *random_acts(uint64_t tokens, uint64_t cols)
{
	float *x = malloc(tokens * cols * sizeof *x);
	ck_assert(x);
	for (uint64_t t = 0; t < tokens; t++) {
		float mag = (float)(1 + rnd() % 1000) / 37.0f; /* tokens of different ranges */
		for (uint64_t k = 0; k < cols; k++)
			x[t * cols + k] = ((float)(rnd() % 20001) / 10000.0f - 1.0f) * mag;
	}
	return x;
}

/* trit_quantize on the CPU: one "block" per token, CU_QTHREADS "threads"
 * each folding a strided share of |x| into its maximum, then the tree
 * reduction of kernels.cu; q zero-padded to cols_pad. */
static void emulate_quantize(const float *x, uint64_t tokens, uint64_t cols, uint64_t cols_pad,
                             signed char *q, float *s)
{
	for (uint64_t t = 0; t < tokens; t++) {
		float red[CU_QTHREADS];
		for (unsigned th = 0; th < CU_QTHREADS; th++) {
			float m = 0.0f;
			for (uint64_t k = th; k < cols; k += CU_QTHREADS)
				m = cu_amax(m, fabsf(x[t * cols + k]));
			red[th] = m;
		}
		for (unsigned half = CU_QTHREADS / 2; half > 0; half /= 2)
			for (unsigned th = 0; th < half; th++)
				red[th] = cu_amax(red[th], red[th + half]);
		s[t] = cu_act_scale(red[0]);
		for (uint64_t k = 0; k < cols_pad; k++)
			q[t * cols_pad + k] = k < cols ? cu_quant1(x[t * cols + k], s[t]) : 0;
	}
}

/* The matmul kernel of `type` on the CPU, every block and thread of its
 * grid: dots[t][r] from q (q_stride apart per token). */
static void emulate_matmul(uint32_t type, const unsigned char *w, uint64_t rows, uint64_t cols,
                           const signed char *q, uint64_t q_stride, uint64_t tokens,
                           int32_t *dots)
{
	struct trit_ternary_geometry g;
	int tt = tokens == 1 ? 1 : CU_TT;

	ck_assert(trit_ternary_geometry(type, rows, cols, &g) == 0);
	for (uint64_t t0 = 0; t0 < tokens; t0 += (uint64_t)tt) {
		int ntok = tokens - t0 < (uint64_t)tt ? (int)(tokens - t0) : tt;
		const signed char *qt = q + t0 * q_stride;
		if (type == TRIT_TYPE_I2_S) {
			/* grid.x = ceil(rows / CU_WARPS) blocks of CU_WARPS warps, a warp per row */
			for (uint64_t bx = 0; bx < (rows + CU_WARPS - 1) / CU_WARPS; bx++)
				for (unsigned warp = 0; warp < CU_WARPS; warp++) {
					uint64_t row = bx * CU_WARPS + warp;
					int32_t sum[CU_TT] = { 0 };
					if (row >= rows)
						continue;
					for (unsigned lane = 0; lane < CU_WARP; lane++) {
						int32_t acc[CU_TT] = { 0 };
						cu_i2s_lane(w + row * (g.cols_pad / 4), g.cols_pad / 128, lane, qt,
						            q_stride, ntok, tt, acc);
						for (int t = 0; t < tt; t++)
							sum[t] += acc[t];
					}
					for (int t = 0; t < ntok; t++)
						dots[(t0 + (uint64_t)t) * rows + row] = sum[t];
				}
			continue;
		}
		/* TL1/TL2: a block per 32-row tile, warp w taking every CU_WARPS-th
		 * pair or triple from w, lane = row; partial sums meet per lane */
		for (uint64_t tile = 0; tile < g.rows_pad / 32; tile++) {
			int32_t part[CU_WARPS][CU_TT][CU_WARP];
			memset(part, 0, sizeof part);
			for (unsigned warp = 0; warp < CU_WARPS; warp++)
				for (unsigned lane = 0; lane < CU_WARP; lane++) {
					int32_t acc[CU_TT] = { 0 };
					if (type == TRIT_TYPE_TL1)
						cu_tl1_lane(w + tile * (g.cols_pad * 8), g.cols_pad / 2, lane, warp,
						            CU_WARPS, qt, q_stride, ntok, tt, acc);
					else
						cu_tl2_lane(w + tile * (g.cols_pad / 96 * 640), g.cols_pad / 3, lane,
						            warp, CU_WARPS, qt, q_stride, ntok, tt, acc);
					for (int t = 0; t < tt; t++)
						part[warp][t][lane] = acc[t];
				}
			for (unsigned lane = 0; lane < CU_WARP; lane++) {
				uint64_t row = tile * 32 + lane;
				for (int t = 0; t < ntok; t++) {
					int32_t dot = 0;
					for (unsigned v = 0; v < CU_WARPS; v++)
						dot += part[v][t][lane];
					if (row < rows)
						dots[(t0 + (uint64_t)t) * rows + row] = dot;
				}
			}
		}
	}
}

/* One shape of one format through both paths, against the reference. */
static void check_shape(uint32_t type, uint64_t rows, uint64_t cols, uint64_t tokens)
{
	struct trit_ternary_geometry g;
	float scale = 0.0371f;
	unsigned char *w = random_weights(type, rows, cols, scale);
	float *x = random_acts(tokens, cols), *s = malloc(tokens * sizeof *s);
	float *y = malloc(tokens * rows * sizeof *y), *y_ref = malloc(tokens * rows * sizeof *y);
	int32_t *dots = malloc(tokens * rows * sizeof *dots);
	int32_t *dots_ref = malloc(tokens * rows * sizeof *dots);
	int8_t *q_ref = malloc(tokens * cols);
	signed char *q;
	const char *name = trit_type_traits(type)->name;

	ck_assert(trit_ternary_geometry(type, rows, cols, &g) == 0);
	q = malloc(tokens * g.cols_pad);
	ck_assert(s && y && y_ref && dots && dots_ref && q_ref && q);
	for (uint64_t i = 0; i < tokens * rows; i++)
		dots[i] = INT32_MIN; /* a row the emulation misses shows */

	/* the quantisation: same q and s as trit_quantize_act */
	emulate_quantize(x, tokens, cols, g.cols_pad, q, s);
	for (uint64_t t = 0; t < tokens; t++) {
		float s_ref = trit_quantize_act(x + t * cols, cols, q_ref + t * cols);
		ck_assert_msg(memcmp(&s_ref, &s[t], sizeof s_ref) == 0,
		              "%s %llux%llu token %llu: s %a, reference %a", name,
		              (unsigned long long)rows, (unsigned long long)cols,
		              (unsigned long long)t, (double)s[t], (double)s_ref);
		ck_assert_msg(memcmp(q_ref + t * cols, q + t * g.cols_pad, cols) == 0,
		              "%s token %llu: quantised activations differ", name,
		              (unsigned long long)t);
	}

	/* INT_DOTS through the zero-padded copy (trit_pad_i8 + matmul) */
	emulate_matmul(type, w, rows, cols, q, g.cols_pad, tokens, dots);
	trit_ref_matmul_int(type, w, rows, cols, q_ref, tokens, dots_ref);
	for (uint64_t i = 0; i < tokens * rows; i++)
		ck_assert_msg(dots[i] == dots_ref[i], "%s %llux%llu, %llu tokens: dot [%llu][%llu] = %d, "
		              "reference %d", name, (unsigned long long)rows, (unsigned long long)cols,
		              (unsigned long long)tokens, (unsigned long long)(i / rows),
		              (unsigned long long)(i % rows), dots[i], dots_ref[i]);
	/* INT_DOTS reading the input in place, when no padding is needed */
	if (g.cols_pad == cols) {
		memset(dots, 0, tokens * rows * sizeof *dots);
		emulate_matmul(type, w, rows, cols, (const signed char *)q_ref, cols, tokens, dots);
		ck_assert(memcmp(dots, dots_ref, tokens * rows * sizeof *dots) == 0);
	}

	/* F32: y from the dots, s and the trailer's scale, as store() does */
	float tscale = trit_ternary_scale(w, g.data_bytes);
	for (uint64_t t = 0; t < tokens; t++)
		for (uint64_t r = 0; r < rows; r++)
			y[t * rows + r] = cu_output(dots[t * rows + r], s[t], tscale);
	ck_assert(trit_ref_matmul_f32(type, w, rows, cols, x, tokens, y_ref, NULL) == 0);
	for (uint64_t t = 0; t < tokens; t++) {
		float ymax = 0.0f;
		for (uint64_t r = 0; r < rows; r++)
			ymax = fmaxf(ymax, fabsf(y_ref[t * rows + r]));
		for (uint64_t r = 0; r < rows; r++) {
			float a = y[t * rows + r], b = y_ref[t * rows + r];
			ck_assert_msg(fabsf(a - b) <= 1e-5f * ymax, "%s token %llu row %llu: %g vs %g",
			              name, (unsigned long long)t, (unsigned long long)r, (double)a,
			              (double)b);
			ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s token %llu row %llu: %a is not "
			              "bit-identical to the reference %a", name, (unsigned long long)t,
			              (unsigned long long)r, (double)a, (double)b);
		}
	}
	free(w);
	free(x);
	free(s);
	free(y);
	free(y_ref);
	free(dots);
	free(dots_ref);
	free(q_ref);
	free(q);
}

START_TEST(lane_constants_match_the_sdk)
{
	ck_assert(CU_ACT_QMAX == TRIT_ACT_QMAX);
	ck_assert(CU_ACT_EPS == TRIT_ACT_EPS);
	ck_assert_uint_eq(CU_WARPS * CU_WARP, 256);
	ck_assert(CU_TT <= 8);
}
END_TEST

START_TEST(quantisation_of_edge_values_matches_trit_quantize_act)
{
	/* halves round to even, NaN is 0 and ignored by the maximum, infinities
	 * make s 0, denormals survive, -0 stays 0 */
	static const float cases[][6] = {
		{ 2.5f, -2.5f, 3.5f, 127.0f, 0.5f, -0.5f },
		{ NAN, 1.0f, -1.0f, 0.25f, NAN, 0.0f },
		{ INFINITY, 1.0f, -2.0f, 3.0f, 0.0f, -0.0f },
		{ 1e-40f, -1e-40f, 0.0f, 0.0f, 0.0f, 0.0f },
		{ 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f },
		{ -300.0f, 299.0f, 1.0f, 1.5f, -1.5f, 0.75f },
		{ 1e-6f, 2e-6f, -3e-6f, 4e-6f, 5e-6f, 6e-6f },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		int8_t q_ref[6];
		signed char q[64];
		float s;
		float s_ref = trit_quantize_act(cases[c], 6, q_ref);
		emulate_quantize(cases[c], 1, 6, 64, q, &s);
		ck_assert_msg(memcmp(&s, &s_ref, sizeof s) == 0, "case %zu: s %a vs %a", c, (double)s,
		              (double)s_ref);
		ck_assert_msg(memcmp(q, q_ref, 6) == 0, "case %zu: q differs", c);
		for (int k = 6; k < 64; k++)
			ck_assert_int_eq(q[k], 0);
	}
}
END_TEST

START_TEST(tl2_triples_decode_as_the_sdk_reads_them)
{
	/* every magnitude and sign, invalid ones included, through cu_tl2_triple
	 * and through trit_ternary_get on a one-tile tensor */
	struct trit_ternary_geometry g;
	ck_assert(trit_ternary_geometry(TRIT_TYPE_TL2, 32, 96, &g) == 0);
	unsigned char *data = calloc(1, g.total_bytes);
	ck_assert(data);
	for (unsigned mag = 0; mag < 16; mag++)
		for (unsigned neg = 0; neg < 2; neg++) {
			int d[3];
			memset(data, 0, g.total_bytes);
			data[0] = (unsigned char)mag;          /* row 0, triple 0 */
			data[512] = (unsigned char)neg;        /* sign of row 0, triple 0 */
			cu_tl2_triple(mag, neg, d);
			for (int k = 0; k < 3; k++)
				ck_assert_int_eq(d[k], trit_ternary_get(TRIT_TYPE_TL2, &g, data, 0, (uint64_t)k));
		}
	free(data);
}
END_TEST

START_TEST(every_thread_of_ragged_launches_matches_the_reference)
{
	static const uint64_t rows[] = { 1, 5, 31, 32, 33, 70, 97 };
	static const uint64_t cols[] = { 1, 63, 64, 95, 96, 100, 127, 128, 129, 200, 385 };
	uint32_t type = formats[_i];

	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
			check_shape(type, rows[r], cols[c], 1 + rnd() % 17);
	/* GEMV and a full GEMM tile on one shape */
	check_shape(type, 40, 300, 1);
	check_shape(type, 40, 300, 8);
	check_shape(type, 40, 300, 16);
}
END_TEST

START_TEST(bitnet_2b_shapes_match_the_reference)
{
	/* BitNet b1.58 2B's projections: 2560 -> 2560, 2560 -> 6912, 6912 -> 2560 */
	uint32_t type = formats[_i];
	check_shape(type, 2560, 2560, 1);
	check_shape(type, 6912, 2560, 3);
	check_shape(type, 2560, 6912, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cuda_lanes");
	TCase *tc = tcase_create("lanes");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lane_constants_match_the_sdk);
	tcase_add_test(tc, quantisation_of_edge_values_matches_trit_quantize_act);
	tcase_add_test(tc, tl2_triples_decode_as_the_sdk_reads_them);
	tcase_add_loop_test(tc, every_thread_of_ragged_launches_matches_the_reference, 0, 3);
	tcase_add_loop_test(tc, bitnet_2b_shapes_match_the_reference, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
