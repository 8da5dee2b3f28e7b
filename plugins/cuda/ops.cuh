/*
 * ops.cuh - the cuda backend's ABI v2 graph ops besides the ternary dots
 * (trit/backend.h, enum trit_op): GET_ROWS, RMS_NORM, ADD, MUL, SCALE, ROPE,
 * ATTENTION, RELU2, SILU, GELU, GLU, QUANTIZE_ACT, MATMUL with F32, F16,
 * BF16 or Q8_0 weights, CPY and KV_WRITE. kernels.cu includes it, so nvcc
 * builds one module; graph.c launches these kernels after checking every
 * node. The kernels check only what depends on data (row ids, positions)
 * and report it through the error words (opsabi.h) instead of reading or
 * writing out of bounds.
 *
 * The arithmetic follows the opencl backend's ops.cl and the scalar
 * reference (runtime/exec): F32 throughout, the _rn intrinsics where the
 * reference's rounding is part of the result (activation quantisation,
 * Q8_0 scales), nvcc without contraction (local.mk). Tensors come as a base
 * pointer and a struct cu_geom (opsabi.h). tests/fakecuda/emulate.cc runs
 * these same kernels on the CPU for the suites of machines without a GPU.
 */
#ifdef __CUDACC__
#include <cuda_fp16.h>
#endif

#include "opsabi.h"

/* Dynamic shared memory; tests/fakecuda/emulate.cc, which compiles this file
 * as host C++, gives its own definition. */
#ifndef CU_DYN_SHARED
#define CU_DYN_SHARED(type, name) extern __shared__ type name[]
#endif

typedef unsigned char u8;

__device__ __forceinline__ void flag_error(int *e, int node, int value, int where)
{
	if (atomicCAS(&e[0], 0, node + 1) == 0) {
		e[1] = value;
		e[2] = where;
	}
}

__device__ __forceinline__ float half_at(const u8 *p)
{
	return __half2float(__ushort_as_half(*(const unsigned short *)p));
}

__device__ __forceinline__ float load_elem(const u8 *row, unsigned type, uint64_t k)
{
	if (type == CU_T_F32)
		return ((const float *)row)[k];
	if (type == CU_T_F16)
		return half_at(row + 2 * k);
	if (type == CU_T_BF16)
		return __uint_as_float((unsigned)((const unsigned short *)row)[k] << 16);
	/* Q8_0: blocks of an F16 scale and 32 int8 */
	const u8 *b = row + (k / 32) * 34;
	return __fmul_rn(half_at(b), (float)((const signed char *)b)[2 + k % 32]);
}

/* trit_f32_to_bf16: round to nearest even; NaN stays NaN. */
__device__ __forceinline__ unsigned short to_bf16(float f)
{
	unsigned x = __float_as_uint(f);
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (unsigned short)((x >> 16) | 0x40u);
	x += 0x7fffu + ((x >> 16) & 1u);
	return (unsigned short)(x >> 16);
}

__device__ __forceinline__ void store_f16(u8 *p, float v)
{
	*(unsigned short *)p = __half_as_ushort(__float2half_rn(v));
}

/* Q8_0 block of the 32 floats x, as trit_q8_0_quantize_block (trit/quant.h):
 * d = amax / 127 and 1 / d both correctly rounded, round half away. */
__device__ void store_q8_0(const float *x, u8 *b)
{
	float amax = 0.0f;
	for (int i = 0; i < 32; i++)
		amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
	float d = __fdiv_rn(amax, 127.0f);
	float id = d != 0.0f ? __fdiv_rn(1.0f, d) : 0.0f;
	store_f16(b, d);
	for (int i = 0; i < 32; i++)
		((signed char *)b)[2 + i] = (signed char)(int)roundf(__fmul_rn(x[i], id));
}

__device__ __forceinline__ float act(int op, float x)
{
	if (op == CU_OP_RELU2)
		return x > 0.0f ? x * x : 0.0f;
	if (op == CU_OP_SILU)
		return x / (1.0f + expf(-x));
	return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

/* ------------------------------------------------------------------------ */
/* Element-wise: grid (rows, ceil(ne0 / CU_ELEM)), block CU_ELEM.            */

#define ELEM_K() ((uint64_t)blockIdx.y * CU_ELEM + threadIdx.x)

extern "C" __global__ void op_unary(const u8 *xb, struct cu_geom xg, u8 *db, struct cu_geom dg,
                                    int op, float f)
{
	const uint64_t k = ELEM_K(), r = blockIdx.x;
	if (k >= dg.ne[0])
		return;
	float x = ((const float *)(xb + CU_ROW(xg, r)))[k];
	((float *)(db + CU_ROW(dg, r)))[k] = op == CU_OP_SCALE ? x * f : act(op, x);
}

/* ADD, MUL (y broadcasts where its ne is 1) and GLU (act(x) * y, act = glu). */
extern "C" __global__ void op_binary(const u8 *xb, struct cu_geom xg, const u8 *yb,
                                     struct cu_geom yg, u8 *db, struct cu_geom dg, int op, int glu)
{
	const uint64_t k = ELEM_K(), r = blockIdx.x;
	if (k >= dg.ne[0])
		return;
	const uint64_t i1 = r % xg.ne[1], i2 = r / xg.ne[1] % xg.ne[2], i3 = r / (xg.ne[1] * xg.ne[2]);
	const uint64_t yo = yg.off + (yg.ne[1] == 1 ? 0 : i1 * yg.nb[0]) +
	                    (yg.ne[2] == 1 ? 0 : i2 * yg.nb[1]) + (yg.ne[3] == 1 ? 0 : i3 * yg.nb[2]);
	float x = ((const float *)(xb + CU_ROW(xg, r)))[k];
	float y = ((const float *)(yb + yo))[yg.ne[0] == 1 ? 0 : k];
	float v = op == CU_OP_ADD ? x + y : op == CU_OP_MUL ? x * y : act(glu, x) * y;
	((float *)(db + CU_ROW(dg, r)))[k] = v;
}

/* ------------------------------------------------------------------------ */
/* Row reductions: a block of CU_ROWT threads per row (grid: rows).          */

__device__ float block_sum(float *red, float v)
{
	const unsigned lid = threadIdx.x;
	red[lid] = v;
	__syncthreads();
	for (unsigned step = blockDim.x / 2; step > 0; step /= 2) {
		if (lid < step)
			red[lid] += red[lid + step];
		__syncthreads();
	}
	v = red[0];
	__syncthreads();
	return v;
}

__device__ float block_max(float *red, float v)
{
	const unsigned lid = threadIdx.x;
	red[lid] = v;
	__syncthreads();
	for (unsigned step = blockDim.x / 2; step > 0; step /= 2) {
		if (lid < step && red[lid + step] > red[lid])
			red[lid] = red[lid + step];
		__syncthreads();
	}
	v = red[0];
	__syncthreads();
	return v;
}

/* x / sqrt(mean(x^2) + eps), times w when has_w. In place is safe: every
 * element is read before the reduction and written by the thread that read it. */
extern "C" __global__ void op_rms_norm(const u8 *xb, struct cu_geom xg, const u8 *wb,
                                       uint64_t w_off, int has_w, u8 *db, struct cu_geom dg,
                                       float eps)
{
	__shared__ float red[CU_ROWT];
	const uint64_t r = blockIdx.x, n = xg.ne[0];
	const float *x = (const float *)(xb + CU_ROW(xg, r));
	float *y = (float *)(db + CU_ROW(dg, r));
	const float *w = (const float *)(wb + w_off);
	float ss = 0.0f;

	for (uint64_t k = threadIdx.x; k < n; k += blockDim.x)
		ss += x[k] * x[k];
	ss = block_sum(red, ss);
	float a = 1.0f / sqrtf(ss / (float)n + eps);
	for (uint64_t k = threadIdx.x; k < n; k += blockDim.x)
		y[k] = has_w ? x[k] * a * w[k] : x[k] * a;
}

/* trit_quantize_act of trit/ternary.h to the bit, per row: q into dst (I8),
 * the multiplier into s[row]. */
extern "C" __global__ void op_quantize(const u8 *xb, struct cu_geom xg, u8 *db, struct cu_geom dg,
                                       u8 *sb, uint64_t s_off)
{
	__shared__ float red[CU_ROWT];
	const uint64_t r = blockIdx.x, n = xg.ne[0];
	const float *x = (const float *)(xb + CU_ROW(xg, r));
	signed char *q = (signed char *)(db + CU_ROW(dg, r));
	float amax = 0.0f;

	for (uint64_t k = threadIdx.x; k < n; k += blockDim.x)
		amax = cu_amax(amax, fabsf(x[k]));
	amax = block_max(red, amax);
	float s = cu_act_scale(amax);
	for (uint64_t k = threadIdx.x; k < n; k += blockDim.x)
		q[k] = cu_quant1(x[k], s);
	if (threadIdx.x == 0)
		((float *)(sb + s_off))[r] = s;
}

/* ------------------------------------------------------------------------ */
/* ROPE: grid (rows, ceil(items / CU_ELEM)); item i < n_rot / 2 turns a pair,  */
/* past it copies one element beyond n_rot.                                  */

extern "C" __global__ void op_rope(const u8 *xb, struct cu_geom xg, const u8 *pb, uint64_t p_off,
                                   u8 *db, struct cu_geom dg, int neox, unsigned n_rot,
                                   float base, float fscale)
{
	const uint64_t i = ELEM_K(), r = blockIdx.x;
	const unsigned half_ = n_rot / 2;
	if (i >= dg.ne[0] - half_)
		return;
	const uint64_t t = r / xg.ne[1];
	const float *x = (const float *)(xb + CU_ROW(xg, r));
	float *y = (float *)(db + CU_ROW(dg, r));
	int pos = ((const int *)(pb + p_off))[t];

	if (i >= half_) {
		uint64_t k = n_rot + (i - half_);
		y[k] = x[k];
		return;
	}
	double p = (double)pos * (double)fscale;
	double th = p * pow((double)base, -(double)(2 * i) / (double)n_rot);
	float c = (float)cos(th), s = (float)sin(th);
	unsigned a = neox ? (unsigned)i : 2 * (unsigned)i;
	unsigned b = neox ? (unsigned)i + half_ : 2 * (unsigned)i + 1;
	float x0 = x[a], x1 = x[b];
	y[a] = x0 * c - x1 * s;
	y[b] = x0 * s + x1 * c;
}

/* ------------------------------------------------------------------------ */
/* GET_ROWS, CPY, KV_WRITE                                                   */

/* grid (T, ceil(ne0 / CU_ELEM)): dst[k, t] = table[k, ids[t]] as F32. */
extern "C" __global__ void op_get_rows(const u8 *tb, struct cu_geom tg, unsigned ttype,
                                       const u8 *ib, uint64_t i_off, u8 *db, struct cu_geom dg,
                                       int *e, int node)
{
	const uint64_t k = ELEM_K(), t = blockIdx.x;
	if (k >= dg.ne[0])
		return;
	int id = ((const int *)(ib + i_off))[t];
	if (id < 0 || (uint64_t)id >= tg.ne[1]) {
		flag_error(e, node, id, (int)t);
		return;
	}
	((float *)(db + CU_ROW(dg, t)))[k] = load_elem(tb + tg.off + (uint64_t)id * tg.nb[0], ttype, k);
}

/* grid (rows, ceil(items / CU_ELEM)): element k of F32, F16 and BF16 (round
 * to nearest even), or block k when dst is Q8_0 (quantised as trit/quant.h;
 * Q8_0 to Q8_0 copies the bytes, as the reference). `items` is the elements
 * (blocks) per row. */
extern "C" __global__ void op_cpy(const u8 *xb, struct cu_geom xg, unsigned xtype, u8 *db,
                                  struct cu_geom dg, unsigned dtype, uint64_t items)
{
	const uint64_t k = ELEM_K(), r = blockIdx.x;
	if (k >= items)
		return;
	const u8 *x = xb + CU_ROW(xg, r);
	u8 *d = db + CU_ROW(dg, r);

	if (dtype == CU_T_Q8_0) {
		float v[32];
		if (xtype == CU_T_Q8_0) {
			for (int i = 0; i < 34; i++)
				d[k * 34 + i] = x[k * 34 + i];
			return;
		}
		for (int i = 0; i < 32; i++)
			v[i] = load_elem(x, xtype, k * 32 + i);
		store_q8_0(v, d + k * 34);
	} else if (xtype == dtype && dtype != CU_T_F32) {
		((unsigned short *)d)[k] = ((const unsigned short *)x)[k];
	} else if (dtype == CU_T_BF16) {
		((unsigned short *)d)[k] = to_bf16(load_elem(x, xtype, k));
	} else if (dtype == CU_T_F16) {
		store_f16(d + 2 * k, load_elem(x, xtype, k));
	} else {
		((float *)d)[k] = load_elem(x, xtype, k);
	}
}

/* grid (Hkv, ceil(items / CU_ELEM)): the tokens in order, so a repeated
 * position keeps the last token's value, as the reference. x [D, Hkv, T],
 * cache [D, Hkv, n_ctx]; an item is an element, or for a Q8_0 cache a
 * block of 32. */
extern "C" __global__ void op_kv_write(const u8 *xb, struct cu_geom xg, const u8 *pb,
                                       uint64_t p_off, u8 *cb, struct cu_geom cg, unsigned ctype,
                                       uint64_t items, int *e, int node)
{
	const uint64_t k = ELEM_K(), h = blockIdx.x;
	const int *pos = (const int *)(pb + p_off);
	if (k >= items)
		return;
	for (uint64_t t = 0; t < xg.ne[2]; t++) {
		int p = pos[t];
		if (p < 0 || (uint64_t)p >= cg.ne[2]) {
			flag_error(e, node, p, (int)t);
			continue;
		}
		u8 *row = cb + cg.off + h * cg.nb[0] + (uint64_t)p * cg.nb[1];
		const float *xr = (const float *)(xb + xg.off + h * xg.nb[0] + t * xg.nb[1]);
		if (ctype == CU_T_Q8_0)
			store_q8_0(xr + k * 32, row + k * 34);
		else if (ctype == CU_T_F16)
			store_f16(row + 2 * k, xr[k]);
		else
			((float *)row)[k] = xr[k];
	}
}

/* ------------------------------------------------------------------------ */
/* MATMUL with F32, F16, BF16 or Q8_0 weights: a warp per output row r,      */
/* grid (ceil(M / CU_MMW), T), block CU_MMW warps; each lane sums a share of */
/* the row, the warp adds the shares.                                        */

__device__ __forceinline__ float warp_fsum(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_down_sync(0xffffffffu, v, o);
	return v;
}

extern "C" __global__ void op_matmul_f(const u8 *wb, struct cu_geom wg, unsigned wtype,
                                       const u8 *xb, struct cu_geom xg, u8 *db, struct cu_geom dg)
{
	const uint64_t r = (uint64_t)blockIdx.x * CU_MMW + threadIdx.x / 32, t = blockIdx.y;
	const unsigned lane = threadIdx.x % 32;
	if (r >= wg.ne[1]) /* the same for the whole warp */
		return;
	const u8 *w = wb + wg.off + r * wg.nb[0];
	const float *x = (const float *)(xb + CU_ROW(xg, t));
	float acc = 0.0f;
	for (uint64_t k = lane; k < wg.ne[0]; k += 32)
		acc += load_elem(w, wtype, k) * x[k];
	acc = warp_fsum(acc);
	if (lane == 0)
		((float *)(db + CU_ROW(dg, t)))[r] = acc;
}

/* Q8_0 weights, as the reference: x quantised per 32-block into the
 * workspace first (op_quant_q8, grid (T, ceil(blocks / CU_ELEM))), then per
 * block the integer dot times both scales (op_matmul_q8). */
extern "C" __global__ void op_quant_q8(const u8 *xb, struct cu_geom xg, u8 *wsb, uint64_t ws_off,
                                       uint64_t nb)
{
	const uint64_t b = ELEM_K(), t = blockIdx.x;
	if (b >= nb)
		return;
	const float *x = (const float *)(xb + CU_ROW(xg, t)) + b * 32;
	float v[32];
	for (int i = 0; i < 32; i++)
		v[i] = x[i];
	store_q8_0(v, wsb + ws_off + (t * nb + b) * 34);
}

extern "C" __global__ void op_matmul_q8(const u8 *wb, struct cu_geom wg, const u8 *wsb,
                                        uint64_t ws_off, u8 *db, struct cu_geom dg)
{
	const uint64_t r = (uint64_t)blockIdx.x * CU_MMW + threadIdx.x / 32, t = blockIdx.y;
	const unsigned lane = threadIdx.x % 32;
	const uint64_t nb = wg.ne[0] / 32;
	if (r >= wg.ne[1])
		return;
	const u8 *w = wb + wg.off + r * wg.nb[0];
	const u8 *a = wsb + ws_off + t * nb * 34;
	float acc = 0.0f;
	for (uint64_t b = lane; b < nb; b += 32) {
		const signed char *wq = (const signed char *)(w + b * 34) + 2;
		const signed char *aq = (const signed char *)(a + b * 34) + 2;
		int dot = 0;
		for (int i = 0; i < 32; i++)
			dot += (int)wq[i] * (int)aq[i];
		acc += (float)dot * __fmul_rn(half_at(w + b * 34), half_at(a + b * 34));
	}
	acc = warp_fsum(acc);
	if (lane == 0)
		((float *)(db + CU_ROW(dg, t)))[r] = acc;
}

/* ------------------------------------------------------------------------ */
/* ATTENTION: a block of CU_ATTNT threads per (query head h, token t), grid  */
/* Hq x T flattened (h fastest); keys in blocks of CU_ATTNT, one key's score */
/* per thread, an online softmax, each thread owning the output dimensions  */
/* threadIdx.x, + CU_ATTNT, ... Dynamic shared memory: q and acc [D], the    */
/* scores and the reduction [CU_ATTNT].                                     */

extern "C" __global__ void op_attention(const u8 *qb, struct cu_geom qg, const u8 *kb,
                                        struct cu_geom kg, unsigned ktype, const u8 *vb,
                                        struct cu_geom vg, unsigned vtype, const u8 *pb,
                                        uint64_t p_off, u8 *db, struct cu_geom dg, unsigned n_kv,
                                        float scale, int *e, int node)
{
	CU_DYN_SHARED(float, shm);
	const uint64_t D = qg.ne[0], h = blockIdx.x % qg.ne[1], t = blockIdx.x / qg.ne[1];
	const uint64_t kh = h / (qg.ne[1] / kg.ne[1]);
	const unsigned lid = threadIdx.x, lsz = blockDim.x;
	float *qs = shm, *acc = shm + D, *sc = shm + 2 * D, *red = sc + lsz;
	const float *q = (const float *)(qb + qg.off + h * qg.nb[0] + t * qg.nb[1]);
	float *y = (float *)(db + dg.off + h * dg.nb[0] + t * dg.nb[1]);
	int pos = ((const int *)(pb + p_off))[t];
	float m = -INFINITY, l = 0.0f;

	if (pos < 0) {
		if (lid == 0)
			flag_error(e, node, pos, (int)t);
		return;
	}
	uint64_t limit = (uint64_t)pos + 1 < (uint64_t)n_kv ? (uint64_t)pos + 1 : (uint64_t)n_kv;
	for (uint64_t d = lid; d < D; d += lsz) {
		qs[d] = q[d];
		acc[d] = 0.0f;
	}
	__syncthreads();
	for (uint64_t j0 = 0; j0 < limit; j0 += lsz) {
		uint64_t nj = limit - j0 < lsz ? limit - j0 : lsz;
		float s = -INFINITY;
		if (lid < nj) {
			const u8 *kr = kb + kg.off + kh * kg.nb[0] + (j0 + lid) * kg.nb[1];
			s = 0.0f;
			for (uint64_t d = 0; d < D; d++)
				s += load_elem(kr, ktype, d) * qs[d];
			s *= scale;
		}
		sc[lid] = s;
		float bm = block_max(red, s); /* its barriers also publish sc[] */
		if (bm > m) {
			float c = expf(m - bm);
			for (uint64_t d = lid; d < D; d += lsz)
				acc[d] *= c;
			l *= c;
			m = bm;
		}
		for (uint64_t j = 0; j < nj; j++) {
			float p = expf(sc[j] - m);
			const u8 *vr = vb + vg.off + kh * vg.nb[0] + (j0 + j) * vg.nb[1];
			l += p;
			for (uint64_t d = lid; d < D; d += lsz)
				acc[d] += p * load_elem(vr, vtype, d);
		}
		__syncthreads();
	}
	for (uint64_t d = lid; d < D; d += lsz)
		y[d] = acc[d] / l;
}
