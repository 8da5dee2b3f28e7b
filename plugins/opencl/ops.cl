/*
 * ops.cl - the ABI v2 graph ops of trit/backend.h (enum trit_op) besides
 * the ternary dots, in OpenCL C 1.2: GET_ROWS, RMS_NORM, ADD, MUL, SCALE,
 * ROPE, ATTENTION, RELU2, SILU, GELU, GLU, QUANTIZE_ACT, F32/F16 MATMUL, CPY
 * and KV_WRITE. The host (plugins/opencl/graph.c) checks every node before
 * it enqueues one of these; the kernels check only what depends on data
 * (row ids, positions) and report it through the error words instead of
 * reading or writing out of bounds. Built after ternary.cl, in the same
 * program (it uses div_rn and the build options from there).
 *
 * A tensor's geometry is one ulong8: s0 the byte offset of element
 * [0,0,0,0] in its buffer, s1..s3 the strides nb[1..3] in bytes, s4..s7
 * ne[0..3]. Row r (dims 1..3 flattened in order) starts at ROW(g, r).
 */

#define ROW(g, r) ((g).s0 + ((r) % (g).s5) * (g).s1 + (((r) / (g).s5) % (g).s6) * (g).s2 + \
                   ((r) / ((g).s5 * (g).s6)) * (g).s3)

/* Op codes (enum trit_op) and cache/table types (enum trit_type) the
 * kernels switch on; graph.c passes the same numbers. */
#define OP_RELU2 8
#define OP_SILU 9
#define OP_GELU 10
#define OP_ADD 3
#define OP_MUL 4
#define OP_SCALE 5
#define T_F32 0
#define T_F16 1
#define T_BF16 2
#define T_Q8_0 10

/*
 * The error words: e[0] = 1 + the index of the first node that met a bad
 * id or position (0: none), e[1] the value, e[2] where it was. The host
 * zeroes them before a graph and reads them after it.
 */
inline void flag_error(__global int *e, int node, int value, int where)
{
	if (atomic_cmpxchg(&e[0], 0, node + 1) == 0) {
		e[1] = value;
		e[2] = where;
	}
}

inline float load_elem(__global const uchar *row, uint type, ulong k)
{
	if (type == T_F32)
		return ((__global const float *)row)[k];
	if (type == T_F16)
		return vload_half(k, (__global const half *)row);
	if (type == T_BF16)
		return as_float((uint)((__global const ushort *)row)[k] << 16);
	/* Q8_0: blocks of an F16 scale and 32 int8 */
	{
		__global const uchar *b = row + (k / 32) * 34;
		return vload_half(0, (__global const half *)b) * (float)((__global const char *)b)[2 + k % 32];
	}
}

/* trit_f32_to_bf16: round to nearest even; NaN stays NaN. */
inline ushort to_bf16(float f)
{
	uint x = as_uint(f);
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (ushort)((x >> 16) | 0x40u);
	x += 0x7fffu + ((x >> 16) & 1u);
	return (ushort)(x >> 16);
}

/* Q8_0 block of the 32 floats x, as trit_q8_0_quantize_block (trit/quant.h):
 * d = amax / 127 and 1 / d both correctly rounded, round half away. */
inline void store_q8_0(const float *x, __global uchar *b)
{
	float amax = 0.0f, d, id;
	int i;

	for (i = 0; i < 32; i++)
		amax = fabs(x[i]) > amax ? fabs(x[i]) : amax;
	d = div_rn(amax, 127.0f);
	id = d != 0.0f ? div_rn(1.0f, d) : 0.0f;
	vstore_half_rte(d, 0, (__global half *)b);
	for (i = 0; i < 32; i++)
		((__global char *)b)[2 + i] = (char)(int)round(x[i] * id);
}

inline float act(int op, float x)
{
	if (op == OP_RELU2)
		return x > 0.0f ? x * x : 0.0f;
	if (op == OP_SILU)
		return x / (1.0f + exp(-x));
	return 0.5f * x * (1.0f + tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

/* ------------------------------------------------------------------------ */
/* Element-wise: work-item (k, row).                                          */

__kernel void op_unary(__global const uchar *xb, ulong8 xg, __global uchar *db, ulong8 dg,
                       int op, float f)
{
	const size_t k = get_global_id(0), r = get_global_id(1);
	float x = ((__global const float *)(xb + ROW(xg, r)))[k];
	((__global float *)(db + ROW(dg, r)))[k] = op == OP_SCALE ? x * f : act(op, x);
}

/* ADD, MUL (y broadcasts where its ne is 1) and GLU (act(x) * y, act = glu). */
__kernel void op_binary(__global const uchar *xb, ulong8 xg, __global const uchar *yb, ulong8 yg,
                        __global uchar *db, ulong8 dg, int op, int glu)
{
	const size_t k = get_global_id(0), r = get_global_id(1);
	const ulong i1 = r % xg.s5, i2 = r / xg.s5 % xg.s6, i3 = r / (xg.s5 * xg.s6);
	const ulong yo = yg.s0 + (yg.s5 == 1 ? 0 : i1 * yg.s1) + (yg.s6 == 1 ? 0 : i2 * yg.s2) +
	                 (yg.s7 == 1 ? 0 : i3 * yg.s3);
	float x = ((__global const float *)(xb + ROW(xg, r)))[k];
	float y = ((__global const float *)(yb + yo))[yg.s4 == 1 ? 0 : k];
	float v = op == OP_ADD ? x + y : op == OP_MUL ? x * y : act(glu, x) * y;
	((__global float *)(db + ROW(dg, r)))[k] = v;
}

/* ------------------------------------------------------------------------ */
/* Row reductions: a work-group per row, local size a power of two.          */

inline float sum_local(__local float *red, float v)
{
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	uint step;

	red[lid] = v;
	barrier(CLK_LOCAL_MEM_FENCE);
	for (step = lsz / 2; step > 0; step /= 2) {
		if (lid < step)
			red[lid] += red[lid + step];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	v = red[0];
	barrier(CLK_LOCAL_MEM_FENCE);
	return v;
}

inline float max_local(__local float *red, float v)
{
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	uint step;

	red[lid] = v;
	barrier(CLK_LOCAL_MEM_FENCE);
	for (step = lsz / 2; step > 0; step /= 2) {
		if (lid < step && red[lid + step] > red[lid])
			red[lid] = red[lid + step];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	v = red[0];
	barrier(CLK_LOCAL_MEM_FENCE);
	return v;
}

/* x / sqrt(mean(x^2) + eps), times w when has_w. In place is safe: every
 * element is read before the barrier and written by the item that read it. */
__kernel void op_rms_norm(__global const uchar *xb, ulong8 xg, __global const uchar *wb,
                          ulong w_off, int has_w, __global uchar *db, ulong8 dg, float eps,
                          __local float *red)
{
	const size_t r = get_group_id(0);
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	const ulong n = xg.s4;
	__global const float *x = (__global const float *)(xb + ROW(xg, r));
	__global float *y = (__global float *)(db + ROW(dg, r));
	__global const float *w = (__global const float *)(wb + w_off);
	float ss = 0.0f, a;
	ulong k;

	for (k = lid; k < n; k += lsz)
		ss += x[k] * x[k];
	ss = sum_local(red, ss);
	a = 1.0f / sqrt(ss / (float)n + eps);
	for (k = lid; k < n; k += lsz)
		y[k] = has_w ? x[k] * a * w[k] : x[k] * a;
}

/* trit_quantize_act of trit/ternary.h to the bit, per row: q into dst (I8),
 * the multiplier s into s[row]. */
__kernel void op_quantize(__global const uchar *xb, ulong8 xg, __global uchar *db, ulong8 dg,
                          __global uchar *sb, ulong s_off, __local float *red)
{
	const size_t r = get_group_id(0);
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	const ulong n = xg.s4;
	__global const float *x = (__global const float *)(xb + ROW(xg, r));
	__global char *q = (__global char *)(db + ROW(dg, r));
	float amax = 0.0f, s;
	ulong k;

	for (k = lid; k < n; k += lsz) {
		float a = fabs(x[k]);
		if (a > amax) /* a NaN never becomes the maximum */
			amax = a;
	}
	amax = max_local(red, amax);
	s = div_rn(TRIT_ACT_QMAX, amax > TRIT_ACT_EPS ? amax : TRIT_ACT_EPS);
	for (k = lid; k < n; k += lsz) {
		float v = rint(x[k] * s);
		q[k] = isnan(v) ? (char)0 : v > 127.0f ? (char)127 : v < -128.0f ? (char)-128
		                                                                : (char)(int)v;
	}
	if (lid == 0)
		((__global float *)(sb + s_off))[r] = s;
}

/* ------------------------------------------------------------------------ */
/* ROPE: work-item (i, row) with i < half a pair, past it a copied element.  */

__kernel void op_rope(__global const uchar *xb, ulong8 xg, __global const uchar *pb, ulong p_off,
                      __global uchar *db, ulong8 dg, int neox, uint n_rot, float base,
                      float fscale)
{
	const size_t i = get_global_id(0), r = get_global_id(1);
	const uint half_ = n_rot / 2;
	const ulong t = r / xg.s5;
	__global const float *x = (__global const float *)(xb + ROW(xg, r));
	__global float *y = (__global float *)(db + ROW(dg, r));
	int pos = ((__global const int *)(pb + p_off))[t];
	float c, s, x0, x1;
	uint a, b;

	if (i >= half_) {
		ulong k = n_rot + (i - half_);
		y[k] = x[k];
		return;
	}
#ifdef cl_khr_fp64
	{
		double p = (double)pos * (double)fscale;
		double th = p * pow((double)base, -(double)(2 * i) / (double)n_rot);
		c = (float)cos(th);
		s = (float)sin(th);
	}
#else
	{
		float th = ((float)pos * fscale) * pow(base, -(float)(2 * i) / (float)n_rot);
		c = cos(th);
		s = sin(th);
	}
#endif
	a = neox ? (uint)i : 2 * (uint)i;
	b = neox ? (uint)i + half_ : 2 * (uint)i + 1;
	x0 = x[a];
	x1 = x[b];
	y[a] = x0 * c - x1 * s;
	y[b] = x0 * s + x1 * c;
}

/* ------------------------------------------------------------------------ */
/* GET_ROWS, CPY, KV_WRITE                                                   */

/* work-item (k, t): dst[k, t] = table[k, ids[t]] as F32. */
__kernel void op_get_rows(__global const uchar *tb, ulong8 tg, uint ttype, __global const uchar *ib,
                          ulong i_off, __global uchar *db, ulong8 dg, __global int *e, int node)
{
	const size_t k = get_global_id(0), t = get_global_id(1);
	int id = ((__global const int *)(ib + i_off))[t];

	if (id < 0 || (ulong)id >= tg.s5) {
		flag_error(e, node, id, (int)t);
		return;
	}
	((__global float *)(db + ROW(dg, t)))[k] = load_elem(tb + tg.s0 + (ulong)id * tg.s1, ttype, k);
}

/* work-item (k, row): element k of F32, F16 and BF16 (round to nearest even), or
 * block k when dst is Q8_0 (quantised as trit/quant.h; Q8_0 to Q8_0 is a
 * copy of the bytes, as the reference's). */
__kernel void op_cpy(__global const uchar *xb, ulong8 xg, uint xtype, __global uchar *db, ulong8 dg,
                     uint dtype)
{
	const size_t k = get_global_id(0), r = get_global_id(1);
	__global const uchar *x = xb + ROW(xg, r);
	__global uchar *d = db + ROW(dg, r);

	if (dtype == T_Q8_0) {
		float v[32];
		int i;
		if (xtype == T_Q8_0) {
			for (i = 0; i < 34; i++)
				d[k * 34 + i] = x[k * 34 + i];
			return;
		}
		for (i = 0; i < 32; i++)
			v[i] = load_elem(x, xtype, k * 32 + i);
		store_q8_0(v, d + k * 34);
	} else if (xtype == dtype && dtype != T_F32) {
		((__global ushort *)d)[k] = ((__global const ushort *)x)[k];
	} else if (dtype == T_BF16) {
		((__global ushort *)d)[k] = to_bf16(load_elem(x, xtype, k));
	} else if (dtype == T_F16) {
		vstore_half_rte(load_elem(x, xtype, k), k, (__global half *)d);
	} else {
		((__global float *)d)[k] = load_elem(x, xtype, k);
	}
}

/* work-item (k, head): the tokens in order, so a repeated position keeps the
 * last token's value, as the reference. x [D, Hkv, T], cache [D, Hkv, n_ctx].
 * k is an element, or for a Q8_0 cache a block of 32. */
__kernel void op_kv_write(__global const uchar *xb, ulong8 xg, __global const uchar *pb,
                          ulong p_off, __global uchar *cb, ulong8 cg, uint ctype,
                          __global int *e, int node)
{
	const size_t k = get_global_id(0), h = get_global_id(1);
	__global const int *pos = (__global const int *)(pb + p_off);
	ulong t;

	for (t = 0; t < xg.s6; t++) {
		int p = pos[t];
		float v;
		__global uchar *row;
		if (p < 0 || (ulong)p >= cg.s6) {
			flag_error(e, node, p, (int)t);
			continue;
		}
		row = cb + cg.s0 + h * cg.s1 + (ulong)p * cg.s2;
		if (ctype == T_Q8_0) {
			__global const float *xr =
				(__global const float *)(xb + xg.s0 + h * xg.s1 + t * xg.s2) + k * 32;
			float b[32];
			int i;
			for (i = 0; i < 32; i++)
				b[i] = xr[i];
			store_q8_0(b, row + k * 34);
			continue;
		}
		v = ((__global const float *)(xb + xg.s0 + h * xg.s1 + t * xg.s2))[k];
		if (ctype == T_F16)
			vstore_half_rte(v, k, (__global half *)row);
		else
			((__global float *)row)[k] = v;
	}
}

/* ------------------------------------------------------------------------ */
/* MATMUL with F32, F16 or BF16 weights: work-item (r, t), dst[r, t] = W[:, r] . x[:, t]. */

__kernel void op_matmul_f(__global const uchar *wb, ulong8 wg, uint wtype, __global const uchar *xb,
                          ulong8 xg, __global uchar *db, ulong8 dg)
{
	const size_t r = get_global_id(0), t = get_global_id(1);
	__global const uchar *w = wb + wg.s0 + r * wg.s1;
	__global const float *x = (__global const float *)(xb + ROW(xg, t));
	const ulong K = wg.s4;
	float acc = 0.0f;
	ulong k;

	/* eight lanes within the work-item (what a CPU device's compiler
	 * vectorises), then the lanes, then the tail */
	if (wtype == T_F32 || wtype == T_F16) {
		float8 a8 = (float8)(0.0f);
		float4 a4;
		for (k = 0; k + 8 <= K; k += 8)
			a8 += (wtype == T_F32 ? vload8(k / 8, (__global const float *)w)
			                      : vload_half8(k / 8, (__global const half *)w)) *
			      vload8(k / 8, x);
		a4 = a8.lo + a8.hi;
		acc = (a4.x + a4.y) + (a4.z + a4.w);
		for (; k < K; k++)
			acc += load_elem(w, wtype, k) * x[k];
	} else {
		for (k = 0; k < K; k++)
			acc += load_elem(w, T_BF16, k) * x[k];
	}
	((__global float *)(db + ROW(dg, t)))[r] = acc;
}

/* MATMUL with Q8_0 weights, as the reference: x quantised per 32-block into
 * the workspace (op_quant_q8, work-item (block, token)), then per block the
 * integer dot times both scales (op_matmul_q8, work-item (r, t)). */
__kernel void op_quant_q8(__global const uchar *xb, ulong8 xg, __global uchar *wsb, ulong ws_off)
{
	const size_t b = get_global_id(0), t = get_global_id(1), nb = get_global_size(0);
	__global const float *x = (__global const float *)(xb + ROW(xg, t)) + b * 32;
	float v[32];
	int i;

	for (i = 0; i < 32; i++)
		v[i] = x[i];
	store_q8_0(v, wsb + ws_off + (t * nb + b) * 34);
}

__kernel void op_matmul_q8(__global const uchar *wb, ulong8 wg, __global const uchar *wsb,
                           ulong ws_off, __global uchar *db, ulong8 dg)
{
	const size_t r = get_global_id(0), t = get_global_id(1);
	const ulong nb = wg.s4 / 32;
	__global const uchar *w = wb + wg.s0 + r * wg.s1;
	__global const uchar *a = wsb + ws_off + t * nb * 34;
	float acc = 0.0f;
	ulong b;

	for (b = 0; b < nb; b++, w += 34, a += 34) {
		int dot = 0, i;
		for (i = 0; i < 32; i++)
			dot += (int)((__global const char *)w)[2 + i] * (int)((__global const char *)a)[2 + i];
		acc += (float)dot * (vload_half(0, (__global const half *)w) *
		                     vload_half(0, (__global const half *)a));
	}
	((__global float *)(db + ROW(dg, t)))[r] = acc;
}

/* ------------------------------------------------------------------------ */
/* ATTENTION: a work-group per (query head, token); keys in blocks of the    */
/* local size, one key's score per work-item, an online softmax, and each   */
/* work-item owning the output dimensions lid, lid + lsz, ...                */

__kernel void op_attention(__global const uchar *qb, ulong8 qg, __global const uchar *kb,
                           ulong8 kg, uint ktype, __global const uchar *vb, ulong8 vg, uint vtype,
                           __global const uchar *pb, ulong p_off, __global uchar *db, ulong8 dg,
                           uint n_kv, float scale, __global int *e, int node,
                           __local float *qs, __local float *acc, __local float *sc,
                           __local float *red)
{
	const size_t h = get_group_id(0), t = get_group_id(1);
	const uint lid = get_local_id(0), lsz = get_local_size(0);
	const ulong D = qg.s4, group = qg.s5 / kg.s5, kh = h / group;
	__global const float *q = (__global const float *)(qb + qg.s0 + h * qg.s1 + t * qg.s2);
	__global float *y = (__global float *)(db + dg.s0 + h * dg.s1 + t * dg.s2);
	int pos = ((__global const int *)(pb + p_off))[t];
	float m = -INFINITY, l = 0.0f;
	ulong d, j0, limit;

	if (pos < 0) {
		if (lid == 0)
			flag_error(e, node, pos, (int)t);
		return;
	}
	limit = (ulong)pos + 1 < (ulong)n_kv ? (ulong)pos + 1 : (ulong)n_kv;
	for (d = lid; d < D; d += lsz) {
		qs[d] = q[d];
		acc[d] = 0.0f;
	}
	barrier(CLK_LOCAL_MEM_FENCE);
	for (j0 = 0; j0 < limit; j0 += lsz) {
		ulong nj = limit - j0 < lsz ? limit - j0 : lsz, j;
		float s = -INFINITY, bm, c;
		if (lid < nj) {
			__global const uchar *kr = kb + kg.s0 + kh * kg.s1 + (j0 + lid) * kg.s2;
			s = 0.0f;
			for (d = 0; d < D; d++)
				s += load_elem(kr, ktype, d) * qs[d];
			s *= scale;
		}
		sc[lid] = s;
		bm = max_local(red, s);
		/* max_local's barriers also publish sc[] */
		if (bm > m) {
			c = exp(m - bm);
			for (d = lid; d < D; d += lsz)
				acc[d] *= c;
			l *= c;
			m = bm;
		}
		for (j = 0; j < nj; j++) {
			float p = exp(sc[j] - m);
			__global const uchar *vr = vb + vg.s0 + kh * vg.s1 + (j0 + j) * vg.s2;
			l += p;
			for (d = lid; d < D; d += lsz)
				acc[d] += p * load_elem(vr, vtype, d);
		}
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	for (d = lid; d < D; d += lsz)
		y[d] = acc[d] / l;
}
