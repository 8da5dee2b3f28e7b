/*
 * kernels_i2s.h - decoding one 128-column I2_S block into trits, shared by
 * the plain NEON and the dot-product I2_S kernels (each file compiles it with
 * its own -march). Only kernels.c and kernels_dotprod.c include it.
 */
#ifndef CPU_NEON_KERNELS_I2S_H
#define CPU_NEON_KERNELS_I2S_H

#include <arm_neon.h>
#include <stdint.h>

/* Tokens one pass over a row serves: the decoded block stays in registers
 * while it meets this many tokens' activations. */
#define CPU_NEON_I2S_TOKENS 4u

/*
 * The 128 trits of the 32-byte block at blk as eight vectors, v[i] holding
 * columns 16i .. 16i+15 (trit/ternary.h: byte b of the block has columns b,
 * b+32, b+64, b+96 in bits 7:6, 5:4, 3:2, 1:0, so the first 16 bytes give
 * v[0], v[2], v[4], v[6] and the last 16 v[1], v[3], v[5], v[7]). Codes
 * 0, 1, 2 become -1, 0, +1 through a table, which also reads the invalid code
 * 3 as 0, as trit_ternary_get() does.
 */
static inline void cpu_neon_i2s_decode(const uint8_t *blk, int8x16_t v[8])
{
	static const int8_t code_to_trit[16] = { -1, 0, 1, 0 };
	const int8x16_t lut = vld1q_s8(code_to_trit);
	const uint8x16_t three = vdupq_n_u8(3);
	const uint8x16_t b0 = vld1q_u8(blk), b1 = vld1q_u8(blk + 16);

	v[0] = vqtbl1q_s8(lut, vshrq_n_u8(b0, 6));
	v[1] = vqtbl1q_s8(lut, vshrq_n_u8(b1, 6));
	v[2] = vqtbl1q_s8(lut, vandq_u8(vshrq_n_u8(b0, 4), three));
	v[3] = vqtbl1q_s8(lut, vandq_u8(vshrq_n_u8(b1, 4), three));
	v[4] = vqtbl1q_s8(lut, vandq_u8(vshrq_n_u8(b0, 2), three));
	v[5] = vqtbl1q_s8(lut, vandq_u8(vshrq_n_u8(b1, 2), three));
	v[6] = vqtbl1q_s8(lut, vandq_u8(b0, three));
	v[7] = vqtbl1q_s8(lut, vandq_u8(b1, three));
}

/* The quantised activations of token t, zero-padded to cols_pad. */
static inline const int8_t *cpu_neon_job_q(const struct cpu_neon_job *job, uint64_t t)
{
	return (const int8_t *)(job->ws + job->lay.q + t * job->cols_pad);
}

#endif /* CPU_NEON_KERNELS_I2S_H */
