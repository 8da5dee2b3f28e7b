/*
 * ops_elem.c - the row-wise ops of the CPU graph: GET_ROWS, RMS_NORM, ADD,
 * MUL, SCALE, ROPE, RELU2, SILU, GELU, GLU, QUANTIZE_ACT, CPY and KV_WRITE,
 * their shape rules, and the conversions between F32, F16, BF16 and Q8_0
 * (through trit/quant.h). Rows are split over the plugin's threads; the
 * inner loops that matter (norms, scaling) go through the kernel table.
 * Ids and positions are checked before anything is written.
 */
#include <build-config.h>

#include <math.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "ops_internal.h"

typedef unsigned long long ull;

#define NEED(cond, ...)                                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			return cpu_common_errf(err, errlen, TRIT_EINVAL, __VA_ARGS__); \
	} while (0)

#define F32 TRIT_TYPE_F32
#define I32 TRIT_TYPE_I32

/* ------------------------------------------------------------------------ */
/* Conversions                                                               */

static void to_f32(uint32_t t, const unsigned char *s, float *y, uint64_t n)
{
	if (t == TRIT_TYPE_F32)
		memcpy(y, s, n * 4);
	else if (t == TRIT_TYPE_F16)
		for (uint64_t i = 0; i < n; i++)
			y[i] = trit_f16_to_f32(trit_rd16(s + 2 * i));
	else if (t == TRIT_TYPE_BF16)
		for (uint64_t i = 0; i < n; i++)
			y[i] = trit_bf16_to_f32(trit_rd16(s + 2 * i));
	else
		for (uint64_t b = 0; b < n / 32; b++)
			trit_q8_0_dequantize_block(s + 34 * b, y + 32 * b);
}

static void put16(unsigned char *d, uint16_t h)
{
	d[0] = (unsigned char)(h & 0xff);
	d[1] = (unsigned char)(h >> 8);
}

static void from_f32(uint32_t t, const float *x, unsigned char *d, uint64_t n)
{
	if (t == TRIT_TYPE_F32)
		memcpy(d, x, n * 4);
	else if (t == TRIT_TYPE_F16)
		for (uint64_t i = 0; i < n; i++)
			put16(d + 2 * i, trit_f32_to_f16(x[i]));
	else if (t == TRIT_TYPE_BF16)
		for (uint64_t i = 0; i < n; i++)
			put16(d + 2 * i, trit_f32_to_bf16(x[i]));
	else
		for (uint64_t b = 0; b < n / 32; b++)
			trit_q8_0_quantize_block(x + 32 * b, d + 34 * b);
}

/* Bytes of n elements of a convertible type (n % 32 == 0 for Q8_0). */
static uint64_t bytes_of(uint32_t t, uint64_t n)
{
	return t == TRIT_TYPE_Q8_0 ? n / 32 * 34 : n * trit_type_traits(t)->block_bytes;
}

void ops_convert(uint32_t st, const unsigned char *s, uint32_t dt, unsigned char *d, uint64_t n)
{
	float tmp[256];

	if (st == dt) {
		memcpy(d, s, bytes_of(st, n));
		return;
	}
	for (uint64_t i = 0; i < n; i += 256) {
		uint64_t c = n - i < 256 ? n - i : 256;
		to_f32(st, s + bytes_of(st, i), tmp, c);
		from_f32(dt, tmp, d + bytes_of(dt, i), c);
	}
}

/* ------------------------------------------------------------------------ */
/* Shape rules                                                               */

static int is_conv(uint32_t t)
{
	return t == TRIT_TYPE_F32 || t == TRIT_TYPE_F16 || t == TRIT_TYPE_BF16 ||
	       t == TRIT_TYPE_Q8_0;
}

/* A vector of n I32 or F32 elements: [n, 1, 1, 1]. */
static int vec_of(const struct ops_view *v, uint32_t type, uint64_t n)
{
	return v->type == type && v->ne[0] == n && v->rows == 1;
}

static int check_unary(const struct ops_view *v, char *err, size_t errlen)
{
	NEED(v[1].type == F32 && v[0].type == F32, "x and dst must be F32");
	NEED(ops_same_shape(&v[0], &v[1]), "dst must have x's shape");
	return 0;
}

static int check_binary(const struct trit_node *n, const struct ops_view *v, char *err,
                        size_t errlen)
{
	int rc = check_unary(v, err, errlen);
	if (rc)
		return rc;
	NEED(v[2].type == F32, "y must be F32");
	for (int d = 0; d < 4; d++)
		NEED(v[2].ne[d] == 1 || v[2].ne[d] == v[1].ne[d], "y.ne[%d] = %llu must be 1 or x.ne[%d] = %llu",
		     d, (ull)v[2].ne[d], d, (ull)v[1].ne[d]);
	if (n->op == TRIT_OP_GLU) {
		NEED(ops_same_shape(&v[1], &v[2]), "GLU's y must have x's shape");
		NEED(n->iparams[0] == TRIT_OP_RELU2 || n->iparams[0] == TRIT_OP_SILU ||
		     n->iparams[0] == TRIT_OP_GELU, "iparams[0] = %d is not RELU2, SILU or GELU",
		     (int)n->iparams[0]);
	}
	return 0;
}

static int check_rms_rope(const struct trit_node *n, const struct ops_view *v, char *err,
                          size_t errlen)
{
	int rc = check_unary(v, err, errlen);
	if (rc)
		return rc;
	if (n->op == TRIT_OP_RMS_NORM) {
		NEED(v[2].type == OPS_ABSENT || vec_of(&v[2], F32, v[1].ne[0]),
		     "the weight (src[1]) must be F32 [%llu]", (ull)v[1].ne[0]);
		NEED(n->fparams[0] >= 0.0f && isfinite(n->fparams[0]),
		     "eps (fparams[0]) must be finite and >= 0");
		return 0;
	}
	NEED(v[1].ne[3] == 1 && vec_of(&v[2], I32, v[1].ne[2]),
	     "ROPE takes x [D, H, T] and I32 positions [T]");
	NEED(n->iparams[0] == TRIT_ROPE_NORMAL || n->iparams[0] == TRIT_ROPE_NEOX,
	     "mode (iparams[0]) %d is neither NORMAL (0) nor NEOX (2)", (int)n->iparams[0]);
	NEED(n->iparams[1] > 0 && n->iparams[1] % 2 == 0 && (uint64_t)n->iparams[1] <= v[1].ne[0],
	     "n_rot (iparams[1]) = %d must be even, > 0 and <= head_dim %llu",
	     (int)n->iparams[1], (ull)v[1].ne[0]);
	NEED(n->fparams[0] > 0.0f && isfinite(n->fparams[0]) && isfinite(n->fparams[1]),
	     "freq_base (fparams[0]) must be > 0 and freq_scale finite");
	return 0;
}

static int check_get_rows(const struct ops_view *v, char *err, size_t errlen)
{
	uint32_t t = v[1].type;
	NEED(t != TRIT_TYPE_I8 && t != TRIT_TYPE_I32, "the table's type is not a weight type");
	NEED(v[1].ne[2] == 1 && v[1].ne[3] == 1, "the table must be 2-D [ne0, rows]");
	NEED(v[2].type == I32 && v[2].rows == 1, "ids (src[1]) must be I32 [T]");
	NEED(v[0].type == F32 && v[0].ne[0] == v[1].ne[0] && v[0].ne[1] == v[2].ne[0] &&
	     v[0].ne[2] == 1 && v[0].ne[3] == 1, "dst must be F32 [%llu, %llu]",
	     (ull)v[1].ne[0], (ull)v[2].ne[0]);
	return 0;
}

static int check_cpy(const struct ops_view *v, char *err, size_t errlen)
{
	NEED(is_conv(v[0].type) && is_conv(v[1].type),
	     "CPY converts between F32, F16, BF16 and Q8_0 only");
	NEED(ops_nelem(&v[0]) == ops_nelem(&v[1]), "dst has %llu elements, x %llu",
	     (ull)ops_nelem(&v[0]), (ull)ops_nelem(&v[1]));
	NEED(ops_same_shape(&v[0], &v[1]) || (ops_is_contiguous(&v[0]) &&
	                                      ops_is_contiguous(&v[1])),
	     "shapes differ, so both tensors must be contiguous");
	return 0;
}

static int check_kv_write(const struct ops_view *v, char *err, size_t errlen)
{
	uint32_t t = v[0].type;
	NEED(t == F32 || t == TRIT_TYPE_F16 || t == TRIT_TYPE_Q8_0,
	     "the cache must be F32, F16 or Q8_0");
	NEED(v[1].type == F32 && v[1].ne[0] == v[0].ne[0] && v[1].ne[1] == v[0].ne[1] &&
	     v[1].ne[3] == 1 && v[0].ne[3] == 1, "x must be F32 [%llu, %llu, T]",
	     (ull)v[0].ne[0], (ull)v[0].ne[1]);
	NEED(vec_of(&v[2], I32, v[1].ne[2]), "positions must be I32 [%llu]", (ull)v[1].ne[2]);
	return 0;
}

int ops_check_elem(const struct cpu_ops_env *env, const struct trit_node *n,
                   const struct ops_view *v, char *err, size_t errlen)
{
	(void)env;
	switch (n->op) {
	case TRIT_OP_SCALE:
		NEED(isfinite(n->fparams[0]), "the scale (fparams[0]) must be finite");
		/* fall through */
	case TRIT_OP_RELU2:
	case TRIT_OP_SILU:
	case TRIT_OP_GELU:
		return check_unary(v, err, errlen);
	case TRIT_OP_ADD:
	case TRIT_OP_MUL:
	case TRIT_OP_GLU:
		return check_binary(n, v, err, errlen);
	case TRIT_OP_RMS_NORM:
	case TRIT_OP_ROPE:
		return check_rms_rope(n, v, err, errlen);
	case TRIT_OP_QUANTIZE_ACT:
		NEED(v[1].type == F32 && v[0].type == TRIT_TYPE_I8 && ops_same_shape(&v[0], &v[1]),
		     "QUANTIZE_ACT takes x F32 and writes dst I8 of x's shape");
		NEED(vec_of(&v[2], F32, v[1].rows), "the scales (src[1]) must be F32 [%llu]",
		     (ull)v[1].rows);
		return 0;
	case TRIT_OP_GET_ROWS:
		return check_get_rows(v, err, errlen);
	case TRIT_OP_CPY:
		return check_cpy(v, err, errlen);
	case TRIT_OP_KV_WRITE:
		return check_kv_write(v, err, errlen);
	default:
		return cpu_common_errf(err, errlen, TRIT_EUNSUPPORTED, "op %u is not row-wise",
		                       (unsigned)n->op);
	}
}

/* ------------------------------------------------------------------------ */
/* Splitting rows over threads                                               */

typedef void (*row_fn)(const struct ops_node *o, uint64_t i);

struct rows_job {
	const struct ops_node *o;
	row_fn fn;
	uint64_t rows;
};

static void rows_part(void *arg, unsigned part, unsigned nparts)
{
	const struct rows_job *j = arg;
	uint64_t r1 = ops_split(j->rows, part + 1, nparts);
	for (uint64_t r = ops_split(j->rows, part, nparts); r < r1; r++)
		j->fn(j->o, r);
}

static void for_rows(const struct ops_node *o, uint64_t rows, uint64_t cost, row_fn fn)
{
	struct rows_job j = { o, fn, rows };
	unsigned n = ops_parts(o->env, rows, cost);
	if (n <= 1)
		rows_part(&j, 0, 1);
	else
		o->env->run(o->env->ctx, n, rows_part, &j);
}

/* ------------------------------------------------------------------------ */
/* Activations                                                               */

static float act(int op, float x)
{
	if (op == TRIT_OP_RELU2)
		return x > 0.0f ? x * x : 0.0f;
	if (op == TRIT_OP_SILU)
		return x / (1.0f + expf(-x));
	return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

static void row_unary(const struct ops_node *o, uint64_t i)
{
	const float *x = (const float *)ops_row(&o->src[0], i);
	float *y = (float *)ops_row(&o->dst, i);
	uint64_t n = o->dst.ne[0];

	if (o->n->op == TRIT_OP_SCALE) {
		o->env->k->scale(y, x, o->n->fparams[0], n);
		return;
	}
	for (uint64_t k = 0; k < n; k++)
		y[k] = act((int)o->n->op, x[k]);
}

/* The row of y that row i of x meets (y broadcasts where its ne is 1). */
static const float *bcast_row(const struct ops_view *x, const struct ops_view *y, uint64_t i)
{
	uint64_t i1 = i % x->ne[1], i2 = i / x->ne[1] % x->ne[2], i3 = i / x->ne[1] / x->ne[2];
	return (const float *)(y->data + (y->ne[1] == 1 ? 0 : i1 * y->nb[1]) +
	                       (y->ne[2] == 1 ? 0 : i2 * y->nb[2]) +
	                       (y->ne[3] == 1 ? 0 : i3 * y->nb[3]));
}

static void row_binary(const struct ops_node *o, uint64_t i)
{
	const float *x = (const float *)ops_row(&o->src[0], i);
	const float *y = bcast_row(&o->src[0], &o->src[1], i);
	float *d = (float *)ops_row(&o->dst, i);
	uint64_t n = o->dst.ne[0], ys = o->src[1].ne[0] == 1 ? 0 : 1;
	int op = (int)o->n->op;

	if (op == TRIT_OP_GLU)
		for (uint64_t k = 0; k < n; k++)
			d[k] = act(o->n->iparams[0], x[k]) * y[k];
	else if (op == TRIT_OP_ADD)
		for (uint64_t k = 0; k < n; k++)
			d[k] = x[k] + y[k * ys];
	else
		for (uint64_t k = 0; k < n; k++)
			d[k] = x[k] * y[k * ys];
}

/* ------------------------------------------------------------------------ */
/* RMS norm, ROPE, QUANTIZE_ACT                                              */

static void row_rms(const struct ops_node *o, uint64_t i)
{
	const float *x = (const float *)ops_row(&o->src[0], i);
	float *y = (float *)ops_row(&o->dst, i);
	uint64_t n = o->dst.ne[0];
	float ss = o->env->k->sumsq(x, n);
	float a = 1.0f / sqrtf(ss / (float)n + o->n->fparams[0]);

	if (o->src[1].type != OPS_ABSENT)
		o->env->k->scale_mul(y, x, a, (const float *)o->src[1].data, n);
	else
		o->env->k->scale(y, x, a, n);
}

/* The cos and sin of every pair's angle at one position. The rows of a
 * token (its heads) share them and a thread runs consecutive rows, so each
 * thread keeps the last table it computed: in decode that is one table per
 * token and layer instead of one per head (pow, cos and sin took 1.7 % of
 * a decode step). The same doubles as computing them per row, so the same
 * floats. */
#define ROPE_CACHE_PAIRS 256
struct rope_table {
	double p, base;
	uint64_t half;
	int valid;
	float c[ROPE_CACHE_PAIRS], s[ROPE_CACHE_PAIRS];
};
static _Thread_local struct rope_table rope_tls;

static void rope_angles(double p, double base, uint64_t half, uint64_t k, float *c, float *s)
{
	double th = p * pow(base, -(double)(2 * k) / (double)(2 * half));
	*c = (float)cos(th);
	*s = (float)sin(th);
}

static const struct rope_table *rope_table_for(double p, double base, uint64_t half)
{
	struct rope_table *t = &rope_tls;

	if (half > ROPE_CACHE_PAIRS)
		return NULL;
	if (!t->valid || t->p != p || t->base != base || t->half != half) {
		for (uint64_t k = 0; k < half; k++)
			rope_angles(p, base, half, k, &t->c[k], &t->s[k]);
		t->p = p, t->base = base, t->half = half, t->valid = 1;
	}
	return t;
}

static void row_rope(const struct ops_node *o, uint64_t i)
{
	const float *x = (const float *)ops_row(&o->src[0], i);
	float *y = (float *)ops_row(&o->dst, i);
	uint64_t D = o->dst.ne[0], half = (uint64_t)o->n->iparams[1] / 2, t = i / o->dst.ne[1];
	int32_t pos;
	int neox = o->n->iparams[0] == TRIT_ROPE_NEOX;
	double p, base = o->n->fparams[0];
	const struct rope_table *tab;

	memcpy(&pos, o->src[1].data + 4 * t, 4);
	p = (double)pos * o->n->fparams[1];
	tab = rope_table_for(p, base, half);
	for (uint64_t k = 0; k < half; k++) {
		float c, s;
		uint64_t a = neox ? k : 2 * k, b = neox ? k + half : 2 * k + 1;
		float x0 = x[a], x1 = x[b];
		if (tab)
			c = tab->c[k], s = tab->s[k];
		else
			rope_angles(p, base, half, k, &c, &s);
		y[a] = x0 * c - x1 * s;
		y[b] = x0 * s + x1 * c;
	}
	if (y != x)
		for (uint64_t k = 2 * half; k < D; k++)
			y[k] = x[k];
}

static void row_quant(const struct ops_node *o, uint64_t i)
{
	float s = o->env->k->quant_act((const float *)ops_row(&o->src[0], i), o->dst.ne[0],
	                               (int8_t *)ops_row(&o->dst, i));
	memcpy(o->src[1].data + 4 * i, &s, 4);
}

/* ------------------------------------------------------------------------ */
/* CPY, KV_WRITE, GET_ROWS                                                    */

static void row_cpy(const struct ops_node *o, uint64_t i)
{
	ops_convert(o->src[0].type, ops_row(&o->src[0], i), o->dst.type, ops_row(&o->dst, i),
	            o->dst.ne[0]);
}

/* Both contiguous with different shapes: 256-element chunks of the whole. */
static void chunk_cpy(const struct ops_node *o, uint64_t c)
{
	uint64_t n = ops_nelem(&o->dst), e0 = 256 * c, cnt = n - e0 < 256 ? n - e0 : 256;
	ops_convert(o->src[0].type, o->src[0].data + bytes_of(o->src[0].type, e0),
	            o->dst.type, o->dst.data + bytes_of(o->dst.type, e0), cnt);
}

/* KV_WRITE: head h of every token, in token order (a repeated position is
 * written by one thread, the last token winning). */
static void head_kv(const struct ops_node *o, uint64_t h)
{
	const struct ops_view *x = &o->src[0], *c = &o->dst;
	for (uint64_t t = 0; t < x->ne[2]; t++) {
		int32_t pos;
		memcpy(&pos, o->src[1].data + 4 * t, 4);
		ops_convert(TRIT_TYPE_F32, x->data + h * x->nb[1] + t * x->nb[2], c->type,
		            c->data + h * c->nb[1] + (uint64_t)pos * c->nb[2], c->ne[0]);
	}
}

static void ternary_row(const struct ops_view *tb, uint64_t r, float *y)
{
	struct trit_ternary_geometry g;
	float scale;

	trit_ternary_geometry(tb->type, tb->ne[1], tb->ne[0], &g);
	scale = trit_ternary_scale(tb->data, g.data_bytes);
	for (uint64_t k = 0; k < tb->ne[0]; k++)
		y[k] = (float)trit_ternary_get(tb->type, &g, tb->data, r, k) * scale;
}

static void row_get(const struct ops_node *o, uint64_t t)
{
	const struct ops_view *tb = &o->src[0];
	float *y = (float *)ops_row(&o->dst, t);
	int32_t id;
	int8_t q[TRIT_QK_K];

	memcpy(&id, o->src[1].data + 4 * t, 4);
	if (is_conv(tb->type)) {
		ops_convert(tb->type, ops_row(tb, (uint64_t)id), TRIT_TYPE_F32, (unsigned char *)y,
		            tb->ne[0]);
	} else if (tb->type == TRIT_TYPE_TQ1_0 || tb->type == TRIT_TYPE_TQ2_0) {
		const unsigned char *row = ops_row(tb, (uint64_t)id);
		for (uint64_t b = 0; b < tb->ne[0] / TRIT_QK_K; b++) {
			float d = tb->type == TRIT_TYPE_TQ1_0
			                  ? trit_tq1_0_block(row + b * TRIT_TQ1_0_BYTES, q)
			                  : trit_tq2_0_block(row + b * TRIT_TQ2_0_BYTES, q);
			for (int k = 0; k < TRIT_QK_K; k++)
				y[b * TRIT_QK_K + (uint64_t)k] = (float)q[k] * d;
		}
	} else {
		ternary_row(tb, (uint64_t)id, y);
	}
}

/* Every id (GET_ROWS) or position (KV_WRITE) below `limit`. */
static int check_ids(const struct ops_view *ids, uint64_t limit, const char *what,
                     char *err, size_t errlen)
{
	for (uint64_t t = 0; t < ids->ne[0]; t++) {
		int32_t id;
		memcpy(&id, ids->data + 4 * t, 4);
		if (id < 0 || (uint64_t)id >= limit)
			return cpu_common_errf(err, errlen, TRIT_ERANGE,
			                       "%s %d at [%llu] is outside 0 .. %llu", what, (int)id,
			                       (ull)t, (ull)limit - 1);
	}
	return 0;
}

int ops_run_elem(struct ops_node *o, char *err, size_t errlen)
{
	uint64_t rows = o->dst.rows, ne0 = o->dst.ne[0];
	int rc;

	switch (o->n->op) {
	case TRIT_OP_SCALE: case TRIT_OP_RELU2: case TRIT_OP_SILU: case TRIT_OP_GELU:
		for_rows(o, rows, ne0 * 8, row_unary);
		return 0;
	case TRIT_OP_ADD: case TRIT_OP_MUL: case TRIT_OP_GLU:
		for_rows(o, rows, ne0 * 8, row_binary);
		return 0;
	case TRIT_OP_RMS_NORM:
		for_rows(o, rows, ne0 * 2, row_rms);
		return 0;
	case TRIT_OP_ROPE:
		for_rows(o, rows, ne0 * 40, row_rope);
		return 0;
	case TRIT_OP_QUANTIZE_ACT:
		for_rows(o, rows, ne0 * 4, row_quant);
		return 0;
	case TRIT_OP_CPY:
		if (ops_same_shape(&o->dst, &o->src[0]))
			for_rows(o, rows, ne0 * 4, row_cpy);
		else
			for_rows(o, (ops_nelem(&o->dst) + 255) / 256, 1024, chunk_cpy);
		return 0;
	case TRIT_OP_KV_WRITE:
		if ((rc = check_ids(&o->src[1], o->dst.ne[2], "position", err, errlen)) != 0)
			return rc;
		for_rows(o, o->dst.ne[1], ne0 * o->src[0].ne[2] * 4, head_kv);
		return 0;
	case TRIT_OP_GET_ROWS:
		if ((rc = check_ids(&o->src[1], o->src[0].ne[1], "row id", err, errlen)) != 0)
			return rc;
		for_rows(o, o->dst.ne[1], ne0 * 8, row_get);
		return 0;
	default:
		return cpu_common_errf(err, errlen, TRIT_EINTERNAL, "op %u reached the row-wise "
		                       "runner", (unsigned)o->n->op);
	}
}
