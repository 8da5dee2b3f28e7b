/*
 * trit/quant.h - the non-ternary-layout element formats that cross the plugin
 * boundary, as inline functions: F16 and BF16 conversions, ggml's Q8_0
 * blocks, the TQ1_0 and TQ2_0 ternary blocks, and the Q8_K activation
 * quantisation ggml uses with TQ1_0/TQ2_0 weights.
 *
 * Every backend decodes and quantises through these (or through code held to
 * them by trit-conformance), so "what a Q8_0 weight means" and "how the
 * activations of a TQ2_0 matmul are rounded" are defined once. Nothing here
 * is fast; SIMD versions live in the plugins. The ternary layouts I2_S, TL1
 * and TL2 are in trit/ternary.h.
 *
 * Part of the trit SDK; stable under TRIT_BACKEND_ABI_VERSION (see backend.h).
 */
#ifndef TRIT_QUANT_H
#define TRIT_QUANT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* F16 (IEEE binary16) and BF16                                              */

/* Widening is exact. */
static inline float trit_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31u, man = h & 1023u, bits;
	float f;

	if (exp == 0) { /* zero or subnormal: man * 2^-24 */
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	bits = exp == 31 ? sign | 0x7f800000u | (man << 13) : sign | ((exp + 112) << 23) | (man << 13);
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* Round to nearest, ties to even; overflow gives infinity, NaN stays NaN. */
static inline uint16_t trit_f32_to_f16(float f)
{
	uint32_t x, sign, exp, man;
	memcpy(&x, &f, sizeof x);
	sign = (x >> 16) & 0x8000u;
	exp = (x >> 23) & 0xffu;
	man = x & 0x7fffffu;
	if (exp == 0xff) /* inf or NaN (keep a quiet NaN) */
		return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0u));
	if (exp > 142) /* >= 2^16: beyond the largest half */
		return (uint16_t)(sign | 0x7c00u);
	if (exp < 113) { /* below 2^-14: subnormal half or zero */
		uint32_t shift, m, half, rest;
		if (exp < 102) /* below 2^-25: rounds to zero */
			return (uint16_t)sign;
		m = man | 0x800000u;
		shift = 126 - exp; /* 14..24 */
		half = m >> shift;
		rest = m & ((1u << shift) - 1);
		if (rest > (1u << (shift - 1)) || (rest == (1u << (shift - 1)) && (half & 1)))
			half++;
		return (uint16_t)(sign | half);
	}
	{
		uint32_t h = ((exp - 112) << 10) | (man >> 13), rest = man & 0x1fffu;
		if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
			h++; /* may carry into the exponent, up to infinity: correct */
		return (uint16_t)(sign | h);
	}
}

static inline float trit_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* Round to nearest, ties to even; NaN stays NaN. */
static inline uint16_t trit_f32_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof x);
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((x >> 16) | 0x40u);
	x += 0x7fffu + ((x >> 16) & 1u);
	return (uint16_t)(x >> 16);
}

/* Little-endian 16-bit load, for any alignment. */
static inline uint16_t trit_rd16(const void *p)
{
	const unsigned char *b = (const unsigned char *)p;
	return (uint16_t)(b[0] | (b[1] << 8));
}

/* ------------------------------------------------------------------------ */
/* Q8_0: blocks of 32 elements, 34 bytes: F16 scale d, then int8 q[32];      */
/* value = d * q. Quantising (ggml's reference rule): d = amax / 127,        */
/* q = round-half-away(x / d), d stored as F16.                              */

#define TRIT_Q8_0_BLOCK 32
#define TRIT_Q8_0_BYTES 34

static inline void trit_q8_0_quantize_block(const float *x, void *block)
{
	unsigned char *b = (unsigned char *)block;
	float amax = 0.0f, d, id;
	uint16_t dh;
	int i;

	for (i = 0; i < TRIT_Q8_0_BLOCK; i++)
		amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
	d = amax / 127.0f;
	id = d != 0.0f ? 1.0f / d : 0.0f;
	dh = trit_f32_to_f16(d);
	b[0] = (unsigned char)(dh & 0xff);
	b[1] = (unsigned char)(dh >> 8);
	for (i = 0; i < TRIT_Q8_0_BLOCK; i++)
		b[2 + i] = (unsigned char)(int8_t)roundf(x[i] * id);
}

static inline void trit_q8_0_dequantize_block(const void *block, float *y)
{
	const unsigned char *b = (const unsigned char *)block;
	float d = trit_f16_to_f32(trit_rd16(b));
	int i;
	for (i = 0; i < TRIT_Q8_0_BLOCK; i++)
		y[i] = d * (float)(int8_t)b[2 + i];
}

/* ------------------------------------------------------------------------ */
/* TQ2_0: 256 weights in 66 bytes: qs[64] then F16 d. Element e of a block   */
/* is in byte (e / 128) * 32 + e % 32 at bits 2 * ((e % 128) / 32), stored  */
/* as trit + 1. TQ1_0: 256 weights in 54 bytes: qs[48], qh[4], F16 d; five  */
/* trits per qs byte and four per qh byte, most significant first (see      */
/* docs/formats.md). Value = trit * d.                                       */

#define TRIT_QK_K        256
#define TRIT_TQ2_0_BYTES 66
#define TRIT_TQ1_0_BYTES 54

/* The 256 trits of a TQ2_0 block into t[], returning its d. A code of 3
 * (never written by a quantiser) reads as +2, as ggml's kernels compute it. */
static inline float trit_tq2_0_block(const void *block, int8_t t[TRIT_QK_K])
{
	const unsigned char *b = (const unsigned char *)block;
	int e;
	for (e = 0; e < TRIT_QK_K; e++) {
		int byte = (e / 128) * 32 + e % 32, shift = 2 * ((e % 128) / 32);
		t[e] = (int8_t)(((b[byte] >> shift) & 3) - 1);
	}
	return trit_f16_to_f32(trit_rd16(b + 64));
}

/* Trit n (0 = most significant) of a base-3 byte q holding five (or four). */
static inline int trit_tq1_digit(unsigned char q, int n)
{
	static const unsigned char pow3[5] = { 1, 3, 9, 27, 81 };
	unsigned char v = (unsigned char)(q * pow3[n]);
	return (int)(((uint16_t)v * 3) >> 8) - 1;
}

static inline float trit_tq1_0_block(const void *block, int8_t t[TRIT_QK_K])
{
	const unsigned char *b = (const unsigned char *)block;
	int m, n, j;
	for (n = 0; n < 5; n++)
		for (m = 0; m < 32; m++)
			t[m + 32 * n] = (int8_t)trit_tq1_digit(b[m], n);
	for (n = 0; n < 5; n++)
		for (m = 0; m < 16; m++)
			t[160 + m + 16 * n] = (int8_t)trit_tq1_digit(b[32 + m], n);
	for (n = 0; n < 4; n++)
		for (j = 0; j < 4; j++)
			t[240 + j + 4 * n] = (int8_t)trit_tq1_digit(b[48 + j], n);
	return trit_f16_to_f32(trit_rd16(b + 52));
}

/* ------------------------------------------------------------------------ */
/* Q8_K: how ggml quantises the activations of a TQ1_0/TQ2_0 matmul, per     */
/* 256-block: max = the element of largest magnitude (signed), iscale =      */
/* -127 / max, q = min(127, round-half-even(iscale * x)), d = 1 / iscale.    */
/* A block of zeros has d = 0 and q = 0.                                    */

static inline float trit_q8_k_quantize_block(const float *x, int8_t q[TRIT_QK_K])
{
	float amax = 0.0f, max = 0.0f, iscale;
	int i;

	for (i = 0; i < TRIT_QK_K; i++)
		if (fabsf(x[i]) > amax) {
			amax = fabsf(x[i]);
			max = x[i];
		}
	if (amax == 0.0f) {
		memset(q, 0, TRIT_QK_K);
		return 0.0f;
	}
	iscale = -127.0f / max;
	for (i = 0; i < TRIT_QK_K; i++) {
		float v = rintf(iscale * x[i]);
		q[i] = (int8_t)(v > 127.0f ? 127 : v);
	}
	return 1.0f / iscale;
}

#ifdef __cplusplus
}
#endif

#endif /* TRIT_QUANT_H */
