/*
 * ops_neon.c - the graph ops' inner loops (struct cpu_ops_kernels) with
 * Advanced SIMD, which every aarch64 CPU has: F32 and F16 dot products and
 * scaled sums with fused multiply-adds (F16 widened by vcvt_f32_f16), the
 * Q8_0 and int8 integer dots with widening multiplies. BF16 rows and the
 * Q8_0-against-F32 loops stay the portable ones of plugins/common.
 */
#include <build-config.h>

#include <arm_neon.h>

#include <trit/quant.h>

#include "neon.h"

static float dot_f32(const float *a, const float *x, uint64_t n)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
	uint64_t i = 0;
	float s;
	for (; i + 16 <= n; i += 16) {
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(x + i));
		s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(x + i + 4));
		s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(x + i + 8));
		s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(x + i + 12));
	}
	for (; i + 4 <= n; i += 4)
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(x + i));
	s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
	for (; i < n; i++)
		s += a[i] * x[i];
	return s;
}

static float32x4_t load_f16(const uint16_t *p)
{
	return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static float dot_f16(const uint16_t *a, const float *x, uint64_t n)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
	uint64_t i = 0;
	float s;
	for (; i + 8 <= n; i += 8) {
		s0 = vfmaq_f32(s0, load_f16(a + i), vld1q_f32(x + i));
		s1 = vfmaq_f32(s1, load_f16(a + i + 4), vld1q_f32(x + i + 4));
	}
	s = vaddvq_f32(vaddq_f32(s0, s1));
	for (; i < n; i++)
		s += trit_f16_to_f32(trit_rd16(a + i)) * x[i];
	return s;
}

/* 16 int8 pairs: widening multiplies, pairwise accumulated into int32. */
static int32x4_t dot16(const int8_t *a, const int8_t *x, int32x4_t acc)
{
	int8x16_t va = vld1q_s8(a), vx = vld1q_s8(x);
	acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(va), vget_low_s8(vx)));
	return vpadalq_s16(acc, vmull_high_s8(va, vx));
}

static float dot_q8_0_q8_0(const uint8_t *a, const uint8_t *x, uint64_t nb)
{
	float s = 0.0f;
	for (uint64_t b = 0; b < nb; b++, a += 34, x += 34) {
		int32x4_t acc = dot16((const int8_t *)a + 2, (const int8_t *)x + 2, vdupq_n_s32(0));
		acc = dot16((const int8_t *)a + 18, (const int8_t *)x + 18, acc);
		s += (float)vaddvq_s32(acc) *
		     (trit_f16_to_f32(trit_rd16(a)) * trit_f16_to_f32(trit_rd16(x)));
	}
	return s;
}

static int32_t dot_i8(const int8_t *a, const int8_t *x, uint64_t n)
{
	int32x4_t acc = vdupq_n_s32(0);
	uint64_t i = 0;
	int32_t s;
	for (; i + 16 <= n; i += 16)
		acc = dot16(a + i, x + i, acc);
	s = vaddvq_s32(acc);
	for (; i < n; i++)
		s += (int32_t)a[i] * x[i];
	return s;
}

static void axpy_f32(float *y, float a, const float *x, uint64_t n)
{
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
	for (; i < n; i++)
		y[i] += a * x[i];
}

static void axpy_f16(float *y, float a, const uint16_t *x, uint64_t n)
{
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), load_f16(x + i), a));
	for (; i < n; i++)
		y[i] += a * trit_f16_to_f32(trit_rd16(x + i));
}

static void scale(float *y, const float *x, float a, uint64_t n)
{
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(x + i), a));
	for (; i < n; i++)
		y[i] = x[i] * a;
}

static float sumsq(const float *x, uint64_t n)
{
	float64x2_t s0 = vdupq_n_f64(0), s1 = s0;
	uint64_t i = 0;
	double s;
	for (; i + 4 <= n; i += 4) {
		float32x4_t v = vld1q_f32(x + i);
		float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
		s0 = vfmaq_f64(s0, lo, lo);
		s1 = vfmaq_f64(s1, hi, hi);
	}
	s = vaddvq_f64(vaddq_f64(s0, s1));
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	return (float)s;
}

static void scale_mul(float *y, const float *x, float a, const float *w, uint64_t n)
{
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1q_f32(y + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), a), vld1q_f32(w + i)));
	for (; i < n; i++)
		y[i] = x[i] * a * w[i];
}

const struct cpu_ops_kernels cpu_neon_ops_neon = {
	.name = "neon",
	.dot_f32 = dot_f32,
	.dot_f16 = dot_f16,
	.dot_bf16 = cpu_ops_p_dot_bf16,
	.dot_q8_0_f32 = cpu_ops_p_dot_q8_0_f32,
	.dot_q8_0_q8_0 = dot_q8_0_q8_0,
	.dot_i8 = dot_i8,
	.axpy_f32 = axpy_f32,
	.axpy_f16 = axpy_f16,
	.axpy_q8_0 = cpu_ops_p_axpy_q8_0,
	.scale = scale,
	.sumsq = sumsq,
	.scale_mul = scale_mul,
	.quant_act = cpu_ops_p_quant_act,
	.sum_i8 = cpu_ops_p_sum_i8,
};
