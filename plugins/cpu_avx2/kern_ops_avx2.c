/*
 * kern_ops_avx2.c - the graph ops' inner loops (struct cpu_ops_kernels) with
 * AVX2, FMA and F16C, compiled with those -m flags and run only on CPUs that
 * have all three (cpu_avx2_ops_select). F16 rows widen with vcvtph2ps, BF16
 * by a 16-bit shift, Q8_0 blocks with pmovsxbd (against F32) or as
 * exact int16 pair products (against Q8_0: integer block dots, then both
 * scales). Tails shorter than a vector fall back to scalar code
 * with trit/quant.h's conversions.
 */
#include <build-config.h>

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "kernels.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

INLINE int32_t hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

INLINE __m256 load_f16(const uint16_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
}

INLINE __m256 load_bf16(const uint16_t *p)
{
	__m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
	return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

/* 8 int8 of a Q8_0 block as floats. */
INLINE __m256 load_q8(const uint8_t *p)
{
	int64_t v;
	memcpy(&v, p, 8);
	return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(v)));
}

static float dot_f32(const float *a, const float *x, uint64_t n)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
	uint64_t i = 0;
	float s;
	for (; i + 32 <= n; i += 32) {
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(x + i + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(x + i + 24), s3);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
	s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
	for (; i < n; i++)
		s += a[i] * x[i];
	return s;
}

static float dot_f16(const uint16_t *a, const float *x, uint64_t n)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
	uint64_t i = 0;
	float s;
	for (; i + 32 <= n; i += 32) {
		s0 = _mm256_fmadd_ps(load_f16(a + i), _mm256_loadu_ps(x + i), s0);
		s1 = _mm256_fmadd_ps(load_f16(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
		s2 = _mm256_fmadd_ps(load_f16(a + i + 16), _mm256_loadu_ps(x + i + 16), s2);
		s3 = _mm256_fmadd_ps(load_f16(a + i + 24), _mm256_loadu_ps(x + i + 24), s3);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(load_f16(a + i), _mm256_loadu_ps(x + i), s0);
	s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
	for (; i < n; i++)
		s += trit_f16_to_f32(trit_rd16(a + i)) * x[i];
	return s;
}

static float dot_bf16(const uint16_t *a, const float *x, uint64_t n)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = s0;
	uint64_t i = 0;
	float s;
	for (; i + 16 <= n; i += 16) {
		s0 = _mm256_fmadd_ps(load_bf16(a + i), _mm256_loadu_ps(x + i), s0);
		s1 = _mm256_fmadd_ps(load_bf16(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(load_bf16(a + i), _mm256_loadu_ps(x + i), s0);
	s = hsum_ps(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
		s += trit_bf16_to_f32(trit_rd16(a + i)) * x[i];
	return s;
}

static float dot_q8_0_f32(const uint8_t *a, const float *x, uint64_t nb)
{
	__m256 acc = _mm256_setzero_ps();
	for (uint64_t b = 0; b < nb; b++, a += 34, x += 32) {
		__m256 s = _mm256_mul_ps(load_q8(a + 2), _mm256_loadu_ps(x));
		s = _mm256_fmadd_ps(load_q8(a + 10), _mm256_loadu_ps(x + 8), s);
		s = _mm256_fmadd_ps(load_q8(a + 18), _mm256_loadu_ps(x + 16), s);
		s = _mm256_fmadd_ps(load_q8(a + 26), _mm256_loadu_ps(x + 24), s);
		acc = _mm256_fmadd_ps(_mm256_set1_ps(trit_f16_to_f32(trit_rd16(a))), s, acc);
	}
	return hsum_ps(acc);
}

/* 16 int8 pairs: widened to int16, pairs of products summed into int32 by
 * madd; exact for every input (maddubs would saturate on -128). */
INLINE __m256i dot16_i8(const void *a, const void *x)
{
	__m256i va = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a));
	__m256i vx = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x));
	return _mm256_madd_epi16(va, vx);
}

static float dot_q8_0_q8_0(const uint8_t *a, const uint8_t *x, uint64_t nb)
{
	__m256 acc = _mm256_setzero_ps();
	for (uint64_t b = 0; b < nb; b++, a += 34, x += 34) {
		__m256i p = _mm256_add_epi32(dot16_i8(a + 2, x + 2), dot16_i8(a + 18, x + 18));
		__m256 d = _mm256_set1_ps(trit_f16_to_f32(trit_rd16(a)) *
		                          trit_f16_to_f32(trit_rd16(x)));
		acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
	}
	return hsum_ps(acc);
}

static int32_t dot_i8(const int8_t *a, const int8_t *x, uint64_t n)
{
	__m256i acc = _mm256_setzero_si256();
	uint64_t i = 0;
	int32_t s;
	for (; i + 16 <= n; i += 16)
		acc = _mm256_add_epi32(acc, dot16_i8(a + i, x + i));
	s = hsum_epi32(acc);
	for (; i < n; i++)
		s += (int32_t)a[i] * x[i];
	return s;
}

static void axpy_f32(float *y, float a, const float *x, uint64_t n)
{
	__m256 va = _mm256_set1_ps(a);
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i),
		                                        _mm256_loadu_ps(y + i)));
	for (; i < n; i++)
		y[i] += a * x[i];
}

static void axpy_f16(float *y, float a, const uint16_t *x, uint64_t n)
{
	__m256 va = _mm256_set1_ps(a);
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16(x + i), _mm256_loadu_ps(y + i)));
	for (; i < n; i++)
		y[i] += a * trit_f16_to_f32(trit_rd16(x + i));
}

static void axpy_q8_0(float *y, float a, const uint8_t *x, uint64_t nb)
{
	for (uint64_t b = 0; b < nb; b++, x += 34, y += 32) {
		__m256 ad = _mm256_set1_ps(a * trit_f16_to_f32(trit_rd16(x)));
		for (int j = 0; j < 4; j++)
			_mm256_storeu_ps(y + 8 * j, _mm256_fmadd_ps(ad, load_q8(x + 2 + 8 * j),
			                                            _mm256_loadu_ps(y + 8 * j)));
	}
}

static void scale(float *y, const float *x, float a, uint64_t n)
{
	__m256 va = _mm256_set1_ps(a);
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), va));
	for (; i < n; i++)
		y[i] = x[i] * a;
}

/* In double lanes: a norm over thousands of squares keeps its digits. */
static float sumsq(const float *x, uint64_t n)
{
	__m256d s0 = _mm256_setzero_pd(), s1 = s0;
	uint64_t i = 0;
	double s;
	for (; i + 8 <= n; i += 8) {
		__m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
		__m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
		s0 = _mm256_fmadd_pd(lo, lo, s0);
		s1 = _mm256_fmadd_pd(hi, hi, s1);
	}
	{
		__m256d t = _mm256_add_pd(s0, s1);
		__m128d h = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
		s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
	}
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	return (float)s;
}

static void scale_mul(float *y, const float *x, float a, const float *w, uint64_t n)
{
	__m256 va = _mm256_set1_ps(a);
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), va),
		                                      _mm256_loadu_ps(w + i)));
	for (; i < n; i++)
		y[i] = x[i] * a * w[i];
}

/*
 * trit_quantize_act (trit/ternary.h) bit for bit. The largest |x|: vmaxps
 * returns its second operand when either is NaN, so with the running
 * maximum second a NaN never wins, as `a > amax` never holds for one; max
 * is exact, so the order does not matter. The same multiplier from the same
 * amax; x * s rounded to nearest even by vroundps (rintf in the default
 * rounding mode), NaN to 0, clamped to [-128, 127], then narrowed.
 */
INLINE __m256i quant8(const float *x, __m256 s)
{
	__m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), s),
	                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	v = _mm256_andnot_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), v);
	v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f));
	return _mm256_cvtps_epi32(v);
}

static float quant_act(const float *x, uint64_t n, int8_t *q)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__m256 m = _mm256_setzero_ps(), vs;
	__m128 h;
	float amax, s;
	uint64_t k = 0;

	for (; k + 8 <= n; k += 8)
		m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + k), abs_mask), m);
	h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_movehdup_ps(h));
	amax = _mm_cvtss_f32(h);
	for (; k < n; k++) {
		float a = fabsf(x[k]);
		if (a > amax)
			amax = a;
	}
	s = TRIT_ACT_QMAX / (amax > TRIT_ACT_EPS ? amax : TRIT_ACT_EPS);
	vs = _mm256_set1_ps(s);
	for (k = 0; k + 32 <= n; k += 32) {
		__m256i a = _mm256_packs_epi32(quant8(x + k, vs), quant8(x + k + 8, vs));
		__m256i b = _mm256_packs_epi32(quant8(x + k + 16, vs), quant8(x + k + 24, vs));
		/* packs work within 128-bit lanes: put the 4-byte groups back in order */
		__m256i v = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), order);
		_mm256_storeu_si256((__m256i *)(void *)(q + k), v);
	}
	for (; k < n; k++) {
		float v = rintf(x[k] * s);
		q[k] = (int8_t)(v != v ? 0 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int)v);
	}
	return s;
}

static int32_t sum_i8(const int8_t *q, uint64_t n)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i acc = _mm256_setzero_si256();
	uint32_t s;
	uint64_t k = 0;

	for (; k + 16 <= n; k += 16) {
		__m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(q + k)));
		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(w, ones));
	}
	s = (uint32_t)hsum_epi32(acc);
	for (; k < n; k++)
		s += (uint32_t)(int32_t)q[k];
	return (int32_t)s;
}

const struct cpu_ops_kernels cpu_avx2_ops_avx2 = {
	.name = "avx2",
	.dot_f32 = dot_f32,
	.dot_f16 = dot_f16,
	.dot_bf16 = dot_bf16,
	.dot_q8_0_f32 = dot_q8_0_f32,
	.dot_q8_0_q8_0 = dot_q8_0_q8_0,
	.dot_i8 = dot_i8,
	.axpy_f32 = axpy_f32,
	.axpy_f16 = axpy_f16,
	.axpy_q8_0 = axpy_q8_0,
	.scale = scale,
	.sumsq = sumsq,
	.scale_mul = scale_mul,
	.quant_act = quant_act,
	.sum_i8 = sum_i8,
};
