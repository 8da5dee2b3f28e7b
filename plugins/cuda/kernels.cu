/*
 * kernels.cu - the cuda backend's device code: activation quantisation and
 * the I2_S, TL1 and TL2 matrix products (GEMV for one token, GEMM for more),
 * built by nvcc into a fatbin that the plugin embeds and loads with
 * cuModuleLoadData (see local.mk). Host code never links against this file:
 * kernels are found by their extern "C" names with cuModuleGetFunction.
 *
 * What a thread computes is in lanes.h (shared with the CPU emulation suite);
 * this file only maps threads to rows, tiles and tokens and sums across
 * lanes and warps. Layouts: trit/ternary.h. Every pointer argument is a
 * device address the host has bounds-checked (matmul.c).
 *
 * Outputs: with `s` non-NULL (the F32 path) out is float [tokens][rows] and
 * y = ((float)dot / s[t]) * scale, scale read from the tensor's trailer at
 * w + data_bytes; with `s` NULL (TRIT_MATMUL_INT_DOTS) out is int32 dots.
 */
#include <stdint.h>
#include <string.h>

#include "lanes.h"

/* Sum of v over the 32 lanes of a fully active warp (exact: integers). */
__device__ __forceinline__ int32_t warp_sum(int32_t v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_down_sync(0xffffffffu, v, o);
	return v;
}

__device__ __forceinline__ void store(void *out, const float *s, float scale, uint64_t rows,
                                      uint64_t t, uint64_t r, int32_t dot)
{
	if (s)
		((float *)out)[t * rows + r] = cu_output(dot, s[t], scale);
	else
		((int32_t *)out)[t * rows + r] = dot;
}

__device__ __forceinline__ float tensor_scale(const unsigned char *w, uint64_t data_bytes)
{
	float scale;
	memcpy(&scale, w + data_bytes, sizeof scale); /* the trailer may be unaligned */
	return scale;
}

/*
 * Quantise one token per block: x [tokens][cols] F32 -> q [tokens][cols_pad]
 * int8 (zeros past cols) and s[t]. Launched with CU_QTHREADS threads.
 */
extern "C" __global__ void trit_quantize(const float *x, uint64_t cols, uint64_t cols_pad,
                                         signed char *q, float *s)
{
	__shared__ float red[CU_QTHREADS];
	uint64_t t = blockIdx.x;
	const float *xt = x + t * cols;
	signed char *qt = q + t * cols_pad;
	float m = 0.0f;

	for (uint64_t k = threadIdx.x; k < cols; k += blockDim.x)
		m = cu_amax(m, fabsf(xt[k]));
	red[threadIdx.x] = m;
	__syncthreads();
	for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
		if (threadIdx.x < half)
			red[threadIdx.x] = cu_amax(red[threadIdx.x], red[threadIdx.x + half]);
		__syncthreads();
	}
	float st = cu_act_scale(red[0]);
	if (threadIdx.x == 0)
		s[t] = st;
	for (uint64_t k = threadIdx.x; k < cols_pad; k += blockDim.x)
		qt[k] = k < cols ? cu_quant1(xt[k], st) : 0;
}

/* Copy already-quantised int8 input [tokens][cols] into the zero-padded
 * workspace [tokens][cols_pad] (TRIT_MATMUL_INT_DOTS with a ragged K). */
extern "C" __global__ void trit_pad_i8(const signed char *in, uint64_t cols, uint64_t cols_pad,
                                       signed char *q)
{
	uint64_t t = blockIdx.x;

	for (uint64_t k = threadIdx.x; k < cols_pad; k += blockDim.x)
		q[t * cols_pad + k] = k < cols ? in[t * cols + k] : 0;
}

/* ------------------------------------------------------------------------ */
/* I2_S: block = CU_WARPS warps = CU_WARPS rows; grid (ceil(rows / CU_WARPS),
 * ceil(tokens / TT)); tokens start at t_base + blockIdx.y * TT. */
template <int TT>
__device__ __forceinline__ void i2s(const unsigned char *w, uint64_t data_bytes, uint64_t rows,
                                    uint64_t cols_pad, const signed char *q, uint64_t q_stride,
                                    uint64_t tokens, uint64_t t_base, const float *s, void *out)
{
	uint64_t row = (uint64_t)blockIdx.x * CU_WARPS + threadIdx.x / CU_WARP;
	unsigned lane = threadIdx.x % CU_WARP;
	uint64_t t0 = t_base + (uint64_t)blockIdx.y * TT;
	int32_t acc[TT];

	if (row >= rows || t0 >= tokens) /* the same for every lane of the warp */
		return;
	int ntok = tokens - t0 < TT ? (int)(tokens - t0) : TT;
	for (int t = 0; t < TT; t++)
		acc[t] = 0;
	cu_i2s_lane(w + row * (cols_pad / 4), cols_pad / 128, lane, q + t0 * q_stride, q_stride,
	            ntok, TT, acc);
	float scale = s ? tensor_scale(w, data_bytes) : 0.0f;
	for (int t = 0; t < TT; t++) {
		int32_t dot = warp_sum(acc[t]);
		if (lane == 0 && t < ntok)
			store(out, s, scale, rows, t0 + t, row, dot);
	}
}

/* TL1 and TL2: block = CU_WARPS warps on one 32-row tile, warp w taking
 * every CU_WARPS-th pair (triple) from w; grid (rows_pad / 32,
 * ceil(tokens / TT)). The warps' partial dots meet in shared memory. */
template <int TT, int TL2>
__device__ __forceinline__ void tl(const unsigned char *w, uint64_t data_bytes, uint64_t rows,
                                   uint64_t cols_pad, const signed char *q, uint64_t q_stride,
                                   uint64_t tokens, uint64_t t_base, const float *s, void *out)
{
	__shared__ int32_t part[CU_WARPS][TT][CU_WARP];
	uint64_t tile = blockIdx.x;
	unsigned warp = threadIdx.x / CU_WARP, lane = threadIdx.x % CU_WARP;
	uint64_t t0 = t_base + (uint64_t)blockIdx.y * TT;
	uint64_t row = tile * 32 + lane;
	int32_t acc[TT];

	if (t0 >= tokens) /* the same for the whole block */
		return;
	int ntok = tokens - t0 < TT ? (int)(tokens - t0) : TT;
	for (int t = 0; t < TT; t++)
		acc[t] = 0;
	if (TL2)
		cu_tl2_lane(w + tile * (cols_pad / 96 * 640), cols_pad / 3, lane, warp, CU_WARPS,
		            q + t0 * q_stride, q_stride, ntok, TT, acc);
	else
		cu_tl1_lane(w + tile * (cols_pad * 8), cols_pad / 2, lane, warp, CU_WARPS,
		            q + t0 * q_stride, q_stride, ntok, TT, acc);
	for (int t = 0; t < TT; t++)
		part[warp][t][lane] = acc[t];
	__syncthreads();
	if (warp != 0)
		return;
	float scale = s ? tensor_scale(w, data_bytes) : 0.0f;
	for (int t = 0; t < ntok; t++) {
		int32_t dot = 0;
		for (unsigned v = 0; v < CU_WARPS; v++)
			dot += part[v][t][lane];
		if (row < rows)
			store(out, s, scale, rows, t0 + t, row, dot);
	}
}

#define MATMUL_ARGS const unsigned char *w, uint64_t data_bytes, uint64_t rows, \
	uint64_t cols_pad, const signed char *q, uint64_t q_stride, uint64_t tokens, \
	uint64_t t_base, const float *s, void *out
#define MATMUL_PASS w, data_bytes, rows, cols_pad, q, q_stride, tokens, t_base, s, out

extern "C" __global__ void trit_i2s_gemv(MATMUL_ARGS) { i2s<1>(MATMUL_PASS); }
extern "C" __global__ void trit_i2s_gemm(MATMUL_ARGS) { i2s<CU_TT>(MATMUL_PASS); }
extern "C" __global__ void trit_tl1_gemv(MATMUL_ARGS) { tl<1, 0>(MATMUL_PASS); }
extern "C" __global__ void trit_tl1_gemm(MATMUL_ARGS) { tl<CU_TT, 0>(MATMUL_PASS); }
extern "C" __global__ void trit_tl2_gemv(MATMUL_ARGS) { tl<1, 1>(MATMUL_PASS); }
extern "C" __global__ void trit_tl2_gemm(MATMUL_ARGS) { tl<CU_TT, 1>(MATMUL_PASS); }

/* The ABI v2 graph ops, in the same module. */
#include "ops.cuh"
