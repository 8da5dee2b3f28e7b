/*
 * ops_kern.c - the portable inner loops of the CPU graph ops (struct
 * cpu_ops_kernels): dot products of F32, F16, BF16 and Q8_0 rows with F32
 * or Q8_0 activations, int8 dots, scaled sums and norms, in plain C through
 * trit/quant.h's decoders. The plugins' SIMD tables compute the same up to
 * float rounding; this one is their fallback and the tests' yardstick.
 */
#include <build-config.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "ops.h"

/* Four partial sums, so the compiler may vectorise and rounding stays low. */
float cpu_ops_p_dot_f32(const float *a, const float *x, uint64_t n)
{
	float s[4] = { 0 };
	uint64_t i = 0;
	for (; i + 4 <= n; i += 4)
		for (int j = 0; j < 4; j++)
			s[j] += a[i + j] * x[i + j];
	for (; i < n; i++)
		s[0] += a[i] * x[i];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

float cpu_ops_p_dot_f16(const uint16_t *a, const float *x, uint64_t n)
{
	float s = 0.0f;
	for (uint64_t i = 0; i < n; i++)
		s += trit_f16_to_f32(trit_rd16(a + i)) * x[i];
	return s;
}

float cpu_ops_p_dot_bf16(const uint16_t *a, const float *x, uint64_t n)
{
	float s = 0.0f;
	for (uint64_t i = 0; i < n; i++)
		s += trit_bf16_to_f32(trit_rd16(a + i)) * x[i];
	return s;
}

float cpu_ops_p_dot_q8_0_f32(const uint8_t *a, const float *x, uint64_t nb)
{
	float s = 0.0f;
	for (uint64_t b = 0; b < nb; b++, a += 34, x += 32) {
		float bs = 0.0f;
		for (int i = 0; i < 32; i++)
			bs += (float)(int8_t)a[2 + i] * x[i];
		s += trit_f16_to_f32(trit_rd16(a)) * bs;
	}
	return s;
}

float cpu_ops_p_dot_q8_0_q8_0(const uint8_t *a, const uint8_t *x, uint64_t nb)
{
	float s = 0.0f;
	for (uint64_t b = 0; b < nb; b++, a += 34, x += 34) {
		int32_t d = 0;
		for (int i = 0; i < 32; i++)
			d += (int32_t)(int8_t)a[2 + i] * (int8_t)x[2 + i];
		s += (float)d * (trit_f16_to_f32(trit_rd16(a)) * trit_f16_to_f32(trit_rd16(x)));
	}
	return s;
}

int32_t cpu_ops_p_dot_i8(const int8_t *a, const int8_t *x, uint64_t n)
{
	int32_t s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += (int32_t)a[i] * x[i];
	return s;
}

void cpu_ops_p_axpy_f32(float *y, float a, const float *x, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		y[i] += a * x[i];
}

void cpu_ops_p_axpy_f16(float *y, float a, const uint16_t *x, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		y[i] += a * trit_f16_to_f32(trit_rd16(x + i));
}

void cpu_ops_p_axpy_q8_0(float *y, float a, const uint8_t *x, uint64_t nb)
{
	for (uint64_t b = 0; b < nb; b++, x += 34, y += 32) {
		float ad = a * trit_f16_to_f32(trit_rd16(x));
		for (int i = 0; i < 32; i++)
			y[i] += ad * (float)(int8_t)x[2 + i];
	}
}

void cpu_ops_p_scale(float *y, const float *x, float a, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		y[i] = x[i] * a;
}

float cpu_ops_p_sumsq(const float *x, uint64_t n)
{
	double s = 0.0;
	for (uint64_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return (float)s;
}

void cpu_ops_p_scale_mul(float *y, const float *x, float a, const float *w, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		y[i] = x[i] * a * w[i];
}

float cpu_ops_p_quant_act(const float *x, uint64_t n, int8_t *q)
{
	return trit_quantize_act(x, n, q);
}

int32_t cpu_ops_p_sum_i8(const int8_t *q, uint64_t n)
{
	uint32_t s = 0;
	for (uint64_t i = 0; i < n; i++)
		s += (uint32_t)(int32_t)q[i];
	return (int32_t)s;
}

const struct cpu_ops_kernels cpu_ops_portable = {
	.name = "portable",
	.dot_f32 = cpu_ops_p_dot_f32,
	.dot_f16 = cpu_ops_p_dot_f16,
	.dot_bf16 = cpu_ops_p_dot_bf16,
	.dot_q8_0_f32 = cpu_ops_p_dot_q8_0_f32,
	.dot_q8_0_q8_0 = cpu_ops_p_dot_q8_0_q8_0,
	.dot_i8 = cpu_ops_p_dot_i8,
	.axpy_f32 = cpu_ops_p_axpy_f32,
	.axpy_f16 = cpu_ops_p_axpy_f16,
	.axpy_q8_0 = cpu_ops_p_axpy_q8_0,
	.scale = cpu_ops_p_scale,
	.sumsq = cpu_ops_p_sumsq,
	.scale_mul = cpu_ops_p_scale_mul,
	.quant_act = cpu_ops_p_quant_act,
	.sum_i8 = cpu_ops_p_sum_i8,
};
