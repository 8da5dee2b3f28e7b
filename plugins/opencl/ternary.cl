/*
 * ternary.cl - trit's ternary kernels (I2_S, TL1, TL2) in OpenCL C 1.2.
 *
 * The byte layouts and the activation quantisation are the contract in
 * sdk/include/trit/ternary.h; this file follows it to the bit. The host
 * (plugins/opencl/kernels.c) embeds it at build time, compiles it once per
 * device and runs, per matmul:
 *   1. trit_quantize (F32 input) or trit_pad (I8 input, TRIT_MATMUL_INT_DOTS):
 *      one work-group per token writes the token's int8 activations into the
 *      workspace, zero-padded to cols_pad, so the dot kernels never read the
 *      input past `cols`; trit_quantize also stores the token's multiplier s;
 *   2. one dot kernel per format: a work-item per output row, TT tokens at a
 *      time, computing the exact integer dot and writing either it (I32) or
 *      ((float)dot / s) * scale (F32).
 *
 * Build options the host passes: -DTRIT_TT=<tokens per work-item in the
 * *_tt kernels>, -DTRIT_DIV_EMULATE=0|1 (1 when the device cannot divide
 * correctly rounded), and -cl-fp32-correctly-rounded-divide-sqrt when it can.
 */

/* No a*b+c contraction: every float result must round as the C reference's. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef TRIT_TT
#define TRIT_TT 4
#endif
#ifndef TRIT_DIV_EMULATE
#define TRIT_DIV_EMULATE 0
#endif

#define TRIT_ACT_QMAX 127.0f
#define TRIT_ACT_EPS 1e-5f

/*
 * a / b rounded to nearest even, as C's float division. With
 * -cl-fp32-correctly-rounded-divide-sqrt the plain operator is exact. Without
 * it OpenCL allows 2.5 ulp, so the quotient is corrected: of the floats
 * within 3 ulp of the approximation, the one whose residual a - c*b
 * (computed exactly by fma, which OpenCL rounds correctly) is smallest is the
 * correctly rounded quotient (a quotient of two floats is never exactly half
 * way between two floats, so there is no tie). Valid for finite a, b with a
 * normal quotient, which is what the kernels divide; anything else (zero,
 * infinity, NaN) is returned as the operator gives it.
 */
inline float div_rn(float a, float b)
{
	float q = a / b;
#if TRIT_DIV_EMULATE
	float best = q, c;
	float best_r;
	int i;

	if (q == 0.0f || !isnormal(q) || !isfinite(a) || !isfinite(b))
		return q;
	best_r = fabs(fma(-q, b, a));
	c = q;
	for (i = 0; i < 3; i++) {
		float r;
		c = nextafter(c, -INFINITY);
		r = fabs(fma(-c, b, a));
		if (r < best_r) {
			best_r = r;
			best = c;
		}
	}
	c = q;
	for (i = 0; i < 3; i++) {
		float r;
		c = nextafter(c, INFINITY);
		r = fabs(fma(-c, b, a));
		if (r < best_r) {
			best_r = r;
			best = c;
		}
	}
	return best;
#else
	return q;
#endif
}

/* Little-endian F32 from four bytes (the tensor trailer need not be aligned). */
inline float load_f32_le(__global const uchar *p)
{
	uint u = (uint)p[0] | ((uint)p[1] << 8) | ((uint)p[2] << 16) | ((uint)p[3] << 24);
	return as_float(u);
}

/* ------------------------------------------------------------------------ */
/* Step 1: activations into the workspace.                                   */

/*
 * One work-group per token (dimension 0 = group id = token). Local size is a
 * power of two <= 256; `red` holds one float per work-item. Writes
 * q[t][0..cols_pad) (zero past cols) and s[t].
 */
__kernel void trit_quantize(__global const uchar *xbase, ulong x_off, uint cols, uint cols_pad,
                            __global uchar *wsbase, ulong q_off, ulong s_off,
                            __local float *red)
{
	const uint t = get_group_id(0);
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	__global const float *x = (__global const float *)(xbase + x_off) + (size_t)t * cols;
	__global char *q = (__global char *)(wsbase + q_off) + (size_t)t * cols_pad;
	__global float *sv = (__global float *)(wsbase + s_off);
	float amax = 0.0f, s;
	uint k, step;

	for (k = lid; k < cols; k += lsz) {
		float a = fabs(x[k]);
		if (a > amax) /* as the reference: a NaN never becomes the maximum */
			amax = a;
	}
	red[lid] = amax;
	barrier(CLK_LOCAL_MEM_FENCE);
	for (step = lsz / 2; step > 0; step /= 2) {
		if (lid < step && red[lid + step] > red[lid])
			red[lid] = red[lid + step];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	amax = red[0];
	s = div_rn(TRIT_ACT_QMAX, amax > TRIT_ACT_EPS ? amax : TRIT_ACT_EPS);
	for (k = lid; k < cols_pad; k += lsz) {
		char v = 0;
		if (k < cols) {
			float r = rint(x[k] * s); /* rint: half to even, exact in OpenCL */
			v = isnan(r) ? (char)0 : r > 127.0f ? (char)127 : r < -128.0f ? (char)-128
			                                                             : (char)(int)r;
		}
		q[k] = v;
	}
	if (lid == 0)
		sv[t] = s;
}

/* The same for already quantised I8 input: copy and zero-pad. */
__kernel void trit_pad(__global const uchar *inbase, ulong in_off, uint cols, uint cols_pad,
                       __global uchar *wsbase, ulong q_off)
{
	const uint t = get_group_id(0);
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	__global const char *in = (__global const char *)(inbase + in_off) + (size_t)t * cols;
	__global char *q = (__global char *)(wsbase + q_off) + (size_t)t * cols_pad;
	uint k;

	for (k = lid; k < cols_pad; k += lsz)
		q[k] = k < cols ? in[k] : (char)0;
}

/* ------------------------------------------------------------------------ */
/* Step 2: the dots.                                                         */

/* TL1: pair index 0..8 -> the two trits (index / 3 - 1, index % 3 - 1);
 * 9..15 are invalid and read as 0. Arithmetic rather than a table, so that a
 * CPU device vectorises it across work-items. */
inline int2 tl1_trits(uint idx)
{
	int valid = idx <= 8;
	int hi = (int)(idx / 3) - 1, lo = (int)(idx % 3) - 1;
	return (int2)(valid ? hi : 0, valid ? lo : 0);
}

/* TL2: magnitude 0..13 -> its balanced-ternary digits, most significant
 * first (the trits of columns 3g, 3g+1, 3g+2), negated when the sign is set;
 * 14 and 15 are invalid and read as 0. A digit of v is ((v + 1) % 3) - 1,
 * and (v - digit) / 3 moves to the next. */
inline int4 tl2_trits(uint mag, uint neg)
{
	int v = mag <= 13 ? (int)mag : 0;
	int d2 = (v + 1) % 3 - 1;
	int v1 = (v - d2) / 3;
	int d1 = (v1 + 1) % 3 - 1;
	int d0 = (v1 - d1) / 3;
	int sgn = neg ? -1 : 1;
	return (int4)(sgn * d0, sgn * d1, sgn * d2, 0);
}

/* I2_S: one 2-bit code -> trit; code 3 (invalid) reads as 0. */
inline int i2s_trit(uint code)
{
	return code == 3 ? 0 : (int)code - 1;
}

/* The trits of one 32-byte I2_S block as four char16 pairs: columns
 * 32g .. 32g+15 in lo[g], 32g+16 .. 32g+31 in hi[g]. */
inline char16 i2s_decode(uchar16 b, uint shift)
{
	char16 c = as_char16((b >> (uchar16)shift) & (uchar16)3);
	/* code - 1, except code 3 -> 0 */
	return select(c - (char16)1, (char16)0, c == (char16)3);
}

/*
 * Write one row's result for token t: the exact dot (I32) or the scaled F32.
 */
inline void put(__global uchar *outbase, ulong out_off, ulong rows, uint r, uint t, int dot,
                int int_dots, __global const float *sv, float scale)
{
	size_t i = (size_t)t * rows + r;
	if (int_dots)
		((__global int *)(outbase + out_off))[i] = dot;
	else
		((__global float *)(outbase + out_off))[i] = div_rn((float)dot, sv[t]) * scale;
}

/*
 * The dot kernels. Dimension 0: rows (I2_S: a work-item per row r < rows;
 * TL1, TL2: see TILE_PROLOGUE);
 * dimension 1: token tiles; tokens t_base + TT * get_global_id(1) + j for
 * j < TT are computed by one work-item. `qs` points at the zero-padded int8
 * activations ([tokens][cols_pad]), `sv` at the per-token multipliers (F32
 * output only). `data_bytes` is where the trailer (the scale) starts.
 */
#define DOT_ARGS                                                                         \
	__global const uchar *wbase, ulong w_off, ulong data_bytes, uint rows, uint cols_pad, \
	__global const uchar *wsbase, ulong q_off, ulong s_off, uint t_base,                 \
	__global uchar *outbase, ulong out_off, int int_dots

#define DOT_PROLOGUE(TT)                                                                 \
	const uint r = get_global_id(0);                                                      \
	const uint t0 = t_base + (uint)get_global_id(1) * (TT);                               \
	__global const uchar *w = wbase + w_off;                                              \
	__global const char *qs = (__global const char *)(wsbase + q_off);                    \
	__global const float *sv = (__global const float *)(wsbase + s_off);                  \
	int acc[TT];                                                                          \
	uint j;                                                                               \
	if (r >= rows)                                                                        \
		return;                                                                       \
	for (j = 0; j < (TT); j++)                                                            \
		acc[j] = 0

#define DOT_EPILOGUE(TT)                                                                 \
	{                                                                                     \
		float scale = int_dots ? 0.0f : load_f32_le(w + data_bytes);                  \
		for (j = 0; j < (TT); j++)                                                    \
			put(outbase, out_off, rows, r, t0 + j, acc[j], int_dots, sv, scale);  \
	}

/* I2_S: row r is cols_pad / 4 bytes of 32-byte blocks of 128 columns. The
 * products of a block (|trit x q| <= 128, so 8 of them fit a short) are
 * summed lane-wise in shorts, widened once per block, and the 16 lanes are
 * added up at the end. */
#define DEFINE_I2S(NAME, TT)                                                             \
	__kernel void NAME(DOT_ARGS)                                                          \
	{                                                                                     \
		DOT_PROLOGUE(TT);                                                             \
		__global const uchar *wr = w + (size_t)r * (cols_pad / 4);                    \
		int16 vacc[TT];                                                               \
		for (j = 0; j < (TT); j++)                                                    \
			vacc[j] = (int16)0;                                                   \
		for (uint blk = 0; blk < cols_pad / 128; blk++) {                             \
			uchar16 b0 = vload16(0, wr + 32 * blk);                               \
			uchar16 b1 = vload16(1, wr + 32 * blk);                               \
			short16 lo[4], hi[4];                                                 \
			for (uint g = 0; g < 4; g++) {                                        \
				lo[g] = convert_short16(i2s_decode(b0, 6 - 2 * g));           \
				hi[g] = convert_short16(i2s_decode(b1, 6 - 2 * g));           \
			}                                                                     \
			for (j = 0; j < (TT); j++) {                                          \
				__global const char *q =                                      \
				        qs + (size_t)(t0 + j) * cols_pad + 128 * blk;         \
				short16 sum = (short16)0;                                     \
				for (uint g = 0; g < 4; g++)                                  \
					sum += lo[g] * convert_short16(vload16(0, q + 32 * g)) + \
					       hi[g] * convert_short16(vload16(1, q + 32 * g));  \
				vacc[j] += convert_int16(sum);                                \
			}                                                                     \
		}                                                                             \
		for (j = 0; j < (TT); j++) {                                                  \
			int8 a = vacc[j].lo + vacc[j].hi;                                     \
			int4 b = a.lo + a.hi;                                                 \
			int2 c = b.lo + b.hi;                                                 \
			acc[j] = c.x + c.y;                                                   \
		}                                                                             \
		DOT_EPILOGUE(TT);                                                             \
	}

/*
 * TL1 and TL2 keep 32 rows to a tile with rows j and 16 + j sharing a byte
 * (low and high nibble), so a work-item takes both: dimension 0 counts 16
 * work-items per tile, and with a work-group of 16 the 16 of a tile read 16
 * consecutive bytes, which a CPU device turns into one vector load.
 */
#define TILE_PROLOGUE(TT)                                                                \
	const uint lid = get_local_id(0);                                                     \
	const uint tile = (uint)get_group_id(0) * ((uint)get_local_size(0) / 16) + lid / 16;  \
	const uint jr = lid % 16, r0 = 32 * tile + jr, r1 = r0 + 16;                          \
	const uint t0 = t_base + (uint)get_global_id(1) * (TT);                               \
	__global const uchar *w = wbase + w_off;                                              \
	__global const char *qs = (__global const char *)(wsbase + q_off);                    \
	__global const float *sv = (__global const float *)(wsbase + s_off);                  \
	int acc0[TT], acc1[TT];                                                               \
	uint j;                                                                               \
	if (32 * tile >= rows)                                                                \
		return;                                                                       \
	for (j = 0; j < (TT); j++)                                                            \
		acc0[j] = acc1[j] = 0

#define TILE_EPILOGUE(TT)                                                                \
	{                                                                                     \
		float scale = int_dots ? 0.0f : load_f32_le(w + data_bytes);                  \
		for (j = 0; j < (TT); j++) {                                                  \
			if (r0 < rows)                                                        \
				put(outbase, out_off, rows, r0, t0 + j, acc0[j], int_dots, sv, scale); \
			if (r1 < rows)                                                        \
				put(outbase, out_off, rows, r1, t0 + j, acc1[j], int_dots, sv, scale); \
		}                                                                             \
	}

/* TL1: tile t is cols_pad * 8 bytes; pair p is the 16 bytes at 16 p. */
#define DEFINE_TL1(NAME, TT)                                                             \
	__kernel void NAME(DOT_ARGS)                                                          \
	{                                                                                     \
		TILE_PROLOGUE(TT);                                                            \
		__global const uchar *wt = w + (size_t)tile * ((size_t)cols_pad * 8) + jr;    \
		for (uint p = 0; p < cols_pad / 2; p++) {                                     \
			uint b = wt[16 * (size_t)p];                                          \
			int2 a = tl1_trits(b & 15), c = tl1_trits(b >> 4);                    \
			for (j = 0; j < (TT); j++) {                                          \
				char2 qv = vload2(p, qs + (size_t)(t0 + j) * cols_pad);       \
				acc0[j] += a.x * qv.x + a.y * qv.y;                           \
				acc1[j] += c.x * qv.x + c.y * qv.y;                           \
			}                                                                     \
		}                                                                             \
		TILE_EPILOGUE(TT);                                                            \
	}

/* TL2: tile t is cols_pad / 96 groups of 640 bytes; triple i of a group has
 * its magnitudes in the 16 bytes at 16 i and its signs in the little-endian
 * word at 512 + 4 i (bit j for row j of the tile). */
#define DEFINE_TL2(NAME, TT)                                                             \
	__kernel void NAME(DOT_ARGS)                                                          \
	{                                                                                     \
		TILE_PROLOGUE(TT);                                                            \
		const uint ngroups = cols_pad / 96;                                           \
		__global const uchar *wt = w + (size_t)tile * ((size_t)ngroups * 640);        \
		for (uint G = 0; G < ngroups; G++) {                                          \
			__global const uchar *gp = wt + (size_t)G * 640;                      \
			for (uint i = 0; i < 32; i++) {                                       \
				uint b = gp[16 * i + jr];                                     \
				__global const uchar *sp = gp + 512 + 4 * i;                  \
				uint sw = (uint)sp[0] | ((uint)sp[1] << 8) |                  \
				          ((uint)sp[2] << 16) | ((uint)sp[3] << 24);          \
				int4 a = tl2_trits(b & 15, (sw >> jr) & 1);                   \
				int4 c = tl2_trits(b >> 4, (sw >> (jr + 16)) & 1);            \
				for (j = 0; j < (TT); j++) {                                  \
					__global const char *q = qs +                         \
					        (size_t)(t0 + j) * cols_pad + 96 * G + 3 * i; \
					int q0 = q[0], q1 = q[1], q2 = q[2];                  \
					acc0[j] += a.x * q0 + a.y * q1 + a.z * q2;            \
					acc1[j] += c.x * q0 + c.y * q1 + c.z * q2;            \
				}                                                             \
			}                                                                     \
		}                                                                             \
		TILE_EPILOGUE(TT);                                                            \
	}

DEFINE_I2S(trit_i2s_t1, 1)
DEFINE_I2S(trit_i2s_tt, TRIT_TT)
DEFINE_TL1(trit_tl1_t1, 1)
DEFINE_TL1(trit_tl1_tt, TRIT_TT)
DEFINE_TL2(trit_tl2_t1, 1)
DEFINE_TL2(trit_tl2_tt, TRIT_TT)

/*
 * Vector variants for CPU devices, whose compilers vectorise inside a
 * work-item, not across: a work-item takes a whole 32-row tile, its 16 lanes
 * the 16 rows of one nibble.
 */
inline void tl2_digits16(short16 m, short16 neg, short16 *d0, short16 *d1, short16 *d2)
{
	short16 v = select(m, (short16)0, m > (short16)13);
	short16 e2 = (v + (short16)1) % (short16)3 - (short16)1;
	short16 v1 = (v - e2) / (short16)3;
	short16 e1 = (v1 + (short16)1) % (short16)3 - (short16)1;
	short16 e0 = (v1 - e1) / (short16)3;
	short16 sgn = (short16)1 - (short16)2 * neg;
	*d0 = e0 * sgn;
	*d1 = e1 * sgn;
	*d2 = e2 * sgn;
}

/* Bit k of a 16-bit sign word into lane k. */
inline short16 sign_bits16(short word, short16 lane)
{
	return as_short16(as_ushort16((short16)word) >> as_ushort16(lane)) & (short16)1;
}

inline void tl1_trits16(short16 idx, short16 *a, short16 *b)
{
	short16 ok = idx <= (short16)8;
	*a = select((short16)0, idx / (short16)3 - (short16)1, ok);
	*b = select((short16)0, idx % (short16)3 - (short16)1, ok);
}

#define VTILE_PROLOGUE(TT)                                                               \
	const uint tile = get_global_id(0);                                                   \
	const uint t0 = t_base + (uint)get_global_id(1) * (TT);                               \
	__global const uchar *w = wbase + w_off;                                              \
	__global const char *qs = (__global const char *)(wsbase + q_off);                    \
	__global const float *sv = (__global const float *)(wsbase + s_off);                  \
	int16 acc0[TT], acc1[TT];                                                             \
	uint j;                                                                               \
	if (32 * tile >= rows)                                                                \
		return;                                                                       \
	for (j = 0; j < (TT); j++)                                                            \
		acc0[j] = acc1[j] = (int16)0

#define VTILE_EPILOGUE(TT)                                                               \
	{                                                                                     \
		float scale = int_dots ? 0.0f : load_f32_le(w + data_bytes);                  \
		for (j = 0; j < (TT); j++) {                                                  \
			int a0[16], a1[16];                                                   \
			vstore16(acc0[j], 0, a0);                                             \
			vstore16(acc1[j], 0, a1);                                             \
			for (uint k = 0; k < 16; k++) {                                       \
				if (32 * tile + k < rows)                                     \
					put(outbase, out_off, rows, 32 * tile + k, t0 + j,    \
					    a0[k], int_dots, sv, scale);                      \
				if (32 * tile + 16 + k < rows)                                \
					put(outbase, out_off, rows, 32 * tile + 16 + k,       \
					    t0 + j, a1[k], int_dots, sv, scale);              \
			}                                                                     \
		}                                                                             \
	}

/* Products are summed in shorts over a block (64 columns: at most 64 x 128)
 * and widened once per block. */
#define DEFINE_TL1V(NAME, TT)                                                            \
	__kernel void NAME(DOT_ARGS)                                                          \
	{                                                                                     \
		VTILE_PROLOGUE(TT);                                                           \
		__global const uchar *wt = w + (size_t)tile * ((size_t)cols_pad * 8);         \
		for (uint blk = 0; blk < cols_pad / 64; blk++) {                              \
			short16 s0[TT], s1[TT];                                               \
			for (j = 0; j < (TT); j++)                                            \
				s0[j] = s1[j] = (short16)0;                                   \
			for (uint p = 32 * blk; p < 32 * blk + 32; p++) {                     \
				short16 b = convert_short16(vload16(p, wt));                  \
				short16 a0, b0, a1, b1;                                       \
				tl1_trits16(b & (short16)15, &a0, &b0);                       \
				tl1_trits16(b >> (short16)4, &a1, &b1);                       \
				for (j = 0; j < (TT); j++) {                                  \
					char2 qv = vload2(p, qs + (size_t)(t0 + j) * cols_pad); \
					short16 x = (short16)qv.x, y = (short16)qv.y;         \
					s0[j] += a0 * x + b0 * y;                             \
					s1[j] += a1 * x + b1 * y;                             \
				}                                                             \
			}                                                                     \
			for (j = 0; j < (TT); j++) {                                          \
				acc0[j] += convert_int16(s0[j]);                              \
				acc1[j] += convert_int16(s1[j]);                              \
			}                                                                     \
		}                                                                             \
		VTILE_EPILOGUE(TT);                                                           \
	}

/* Products are summed in shorts over a group (96 columns: at most 96 x 128)
 * and widened once per group. */
#define DEFINE_TL2V(NAME, TT)                                                            \
	__kernel void NAME(DOT_ARGS)                                                          \
	{                                                                                     \
		VTILE_PROLOGUE(TT);                                                           \
		const uint ngroups = cols_pad / 96;                                           \
		const short16 lane = (short16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
		__global const uchar *wt = w + (size_t)tile * ((size_t)ngroups * 640);        \
		for (uint G = 0; G < ngroups; G++) {                                          \
			__global const uchar *gp = wt + (size_t)G * 640;                      \
			short16 s0[TT], s1[TT];                                               \
			for (j = 0; j < (TT); j++)                                            \
				s0[j] = s1[j] = (short16)0;                                   \
			for (uint i = 0; i < 32; i++) {                                       \
				short16 b = convert_short16(vload16(i, gp));                  \
				__global const uchar *sp = gp + 512 + 4 * i;                  \
				short lw = (short)((ushort)sp[0] | ((ushort)sp[1] << 8));     \
				short hw = (short)((ushort)sp[2] | ((ushort)sp[3] << 8));     \
				short16 n0 = sign_bits16(lw, lane);                           \
				short16 n1 = sign_bits16(hw, lane);                           \
				short16 x0, x1, x2, y0, y1, y2;                               \
				tl2_digits16(b & (short16)15, n0, &x0, &x1, &x2);             \
				tl2_digits16(b >> (short16)4, n1, &y0, &y1, &y2);             \
				for (j = 0; j < (TT); j++) {                                  \
					__global const char *q = qs +                         \
					        (size_t)(t0 + j) * cols_pad + 96 * G + 3 * i; \
					short16 q0 = (short16)q[0], q1 = (short16)q[1],       \
					        q2 = (short16)q[2];                           \
					s0[j] += x0 * q0 + x1 * q1 + x2 * q2;                 \
					s1[j] += y0 * q0 + y1 * q1 + y2 * q2;                 \
				}                                                             \
			}                                                                     \
			for (j = 0; j < (TT); j++) {                                          \
				acc0[j] += convert_int16(s0[j]);                              \
				acc1[j] += convert_int16(s1[j]);                              \
			}                                                                     \
		}                                                                             \
		VTILE_EPILOGUE(TT);                                                           \
	}

DEFINE_TL1V(trit_tl1v_t1, 1)
DEFINE_TL1V(trit_tl1v_tt, TRIT_TT)
DEFINE_TL2V(trit_tl2v_t1, 1)
DEFINE_TL2V(trit_tl2v_tt, TRIT_TT)
