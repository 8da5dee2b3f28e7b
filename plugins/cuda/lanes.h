/*
 * lanes.h - the arithmetic one thread of a cuda kernel does, written once for
 * two compilers: nvcc builds it into kernels.cu, and the C compiler builds it
 * into check_cuda_lanes, which replays every thread of a launch on the CPU and
 * compares the result with the reference kernels. So the decoding of the
 * I2_S/TL1/TL2 layouts (trit/ternary.h) and the activation quantisation are
 * tested on machines without a GPU; only the mapping of threads to work
 * (kernels.cu) and the warp reductions are not.
 *
 * Integer dots are exact in any summation order, so the way work is split
 * between lanes and warps cannot change a result. The float steps use the
 * round-to-nearest intrinsics on the GPU so that nvcc never contracts or
 * approximates them: the quantised activations and the outputs are the same
 * bits as trit_quantize_act() and trit_ternary_output() compute on the CPU.
 */
#ifndef TRIT_CUDA_LANES_H
#define TRIT_CUDA_LANES_H

#include <stdint.h>

#ifdef __CUDACC__
#define CU_FN __device__ __forceinline__
#define CU_FMUL(a, b) __fmul_rn((a), (b))
#define CU_FDIV(a, b) __fdiv_rn((a), (b))
#define CU_I2F(d) __int2float_rn(d)
#else
#include <math.h>
#define CU_FN static inline
#define CU_FMUL(a, b) ((a) * (b))
#define CU_FDIV(a, b) ((a) / (b))
#define CU_I2F(d) ((float)(d))
#endif

/* Launch geometry shared by kernels.cu and the emulation. */
#define CU_WARP      32  /* lanes per warp */
#define CU_WARPS     8   /* warps per block of the matmul kernels */
#define CU_TT        8   /* tokens per block of the GEMM kernels (GEMV: 1) */
#define CU_QTHREADS  256 /* threads per block of the quantise kernel */

/* Same constants as trit/ternary.h (TRIT_ACT_QMAX, TRIT_ACT_EPS); restated so
 * that the device code needs no host header. check_cuda_lanes compares them. */
#define CU_ACT_QMAX 127.0f
#define CU_ACT_EPS  1e-5f

/* The multiplier s of a token whose largest |x| is amax. */
CU_FN float cu_act_scale(float amax)
{
	return CU_FDIV(CU_ACT_QMAX, amax > CU_ACT_EPS ? amax : CU_ACT_EPS);
}

/* One quantised activation: clamp(rint(x * s), -128, 127), NaN -> 0. rintf
 * rounds half to even on both sides (cvt.rni on the GPU). */
CU_FN signed char cu_quant1(float x, float s)
{
	float v = rintf(CU_FMUL(x, s));
	return (signed char)(v != v ? 0 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int)v);
}

/* Fold one |x| into a running maximum exactly as trit_quantize_act does: a
 * NaN never wins the comparison, so it is ignored. */
CU_FN float cu_amax(float m, float a)
{
	return a > m ? a : m;
}

/* The output of one row from its dot, the token's s and the tensor scale. */
CU_FN float cu_output(int32_t dot, float s, float scale)
{
	return CU_FMUL(CU_FDIV(CU_I2F(dot), s), scale);
}

/* ------------------------------------------------------------------------ */
/* Partial dots. Every function adds, for the tokens t < ntok (at most tt,   */
/* a compile-time constant in the kernels), the products of its share of one */
/* row's weights with q + t * q_stride into acc[t]. q holds the token's      */
/* quantised activations with zeros from cols up to cols_pad, so a lane may  */
/* read whole blocks.                                                        */

CU_FN int cu_i2s_trit(unsigned code)
{
	return code == 3 ? 0 : (int)code - 1; /* code 3 is invalid and reads as 0 */
}

/*
 * I2_S: one warp per row. Lane `lane` takes byte `lane` of every 32-byte block
 * of the row, i.e. columns 128j + lane + {0, 32, 64, 96}.
 */
CU_FN void cu_i2s_lane(const unsigned char *row, uint64_t n_blocks, unsigned lane,
                       const signed char *q, uint64_t q_stride, int ntok, int tt,
                       int32_t *acc)
{
	for (uint64_t j = 0; j < n_blocks; j++) {
		unsigned b = row[j * 32 + lane];
		int w0 = cu_i2s_trit(b >> 6), w1 = cu_i2s_trit((b >> 4) & 3);
		int w2 = cu_i2s_trit((b >> 2) & 3), w3 = cu_i2s_trit(b & 3);
		const signed char *qj = q + j * 128 + lane;
		for (int t = 0; t < tt; t++)
			if (t < ntok) {
				const signed char *qt = qj + (uint64_t)t * q_stride;
				acc[t] += w0 * qt[0] + w1 * qt[32] + w2 * qt[64] + w3 * qt[96];
			}
	}
}

/*
 * TL1: one warp per 32-row tile, lane = row within the tile; the tile's
 * pairs are shared among the block's warps: this call takes pairs p0,
 * p0 + step, ... below n_pairs.
 */
CU_FN void cu_tl1_lane(const unsigned char *tile, uint64_t n_pairs, unsigned lane,
                       uint64_t p0, uint64_t step, const signed char *q, uint64_t q_stride,
                       int ntok, int tt, int32_t *acc)
{
	unsigned shift = lane < 16 ? 0 : 4, j = lane & 15;

	for (uint64_t p = p0; p < n_pairs; p += step) {
		unsigned idx = (tile[p * 16 + j] >> shift) & 15;
		int a = 0, b = 0;
		if (idx <= 8) { /* 9..15 are invalid and read as zero pairs */
			a = (int)(idx / 3) - 1;
			b = (int)(idx % 3) - 1;
		}
		const signed char *qp = q + 2 * p;
		for (int t = 0; t < tt; t++)
			if (t < ntok) {
				const signed char *qt = qp + (uint64_t)t * q_stride;
				acc[t] += a * qt[0] + b * qt[1];
			}
	}
}

/* The three trits of a TL2 triple from its magnitude (balanced-ternary
 * digits, most significant first) and sign; an invalid magnitude (> 13)
 * reads as zeros. */
CU_FN void cu_tl2_triple(unsigned mag, unsigned neg, int *d)
{
	int v = (int)mag;

	d[0] = d[1] = d[2] = 0;
	if (mag > 13)
		return;
	for (int n = 2; n >= 0; n--) {
		int rem = v % 3;
		if (rem == 2) {
			d[n] = -1;
			v = v / 3 + 1;
		} else {
			d[n] = rem;
			v /= 3;
		}
	}
	if (neg) {
		d[0] = -d[0];
		d[1] = -d[1];
		d[2] = -d[2];
	}
}

/*
 * TL2: as TL1, over triples g0, g0 + step, ... below n_triples. Triple g is
 * in the 640-byte group g / 32 of the tile: magnitude nibble at
 * 16 * (g % 32) + lane % 16, sign in bit lane of the word at 512 + 4 * (g % 32).
 */
CU_FN void cu_tl2_lane(const unsigned char *tile, uint64_t n_triples, unsigned lane,
                       uint64_t g0, uint64_t step, const signed char *q, uint64_t q_stride,
                       int ntok, int tt, int32_t *acc)
{
	unsigned shift = lane < 16 ? 0 : 4, j = lane & 15;

	for (uint64_t g = g0; g < n_triples; g += step) {
		const unsigned char *grp = tile + g / 32 * 640;
		unsigned i = (unsigned)(g % 32);
		unsigned mag = (grp[16 * i + j] >> shift) & 15;
		unsigned neg = (grp[512 + 4 * i + lane / 8] >> (lane % 8)) & 1;
		int d[3];
		cu_tl2_triple(mag, neg, d);
		const signed char *qg = q + 3 * g;
		for (int t = 0; t < tt; t++)
			if (t < ntok) {
				const signed char *qt = qg + (uint64_t)t * q_stride;
				acc[t] += d[0] * qt[0] + d[1] * qt[1] + d[2] * qt[2];
			}
	}
}

#endif /* TRIT_CUDA_LANES_H */
