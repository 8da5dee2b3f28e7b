/*
 * ref_ops.c - the reference kernels of the row-wise F32 ops: RMS_NORM,
 * ADD/MUL with broadcasting, SCALE, ROPE, RELU2/SILU/GELU, GLU and
 * QUANTIZE_ACT. Reductions and transcendental functions are evaluated in
 * double and rounded once to F32, so the oracle adds as little rounding of
 * its own as it can. Operands arrive checked and resolved (ref_node.c).
 */
#include <math.h>

#include <trit/ternary.h>

#include "ref_node.h"

/* Rows of a tensor (ne[1] * ne[2] * ne[3]) and the indices of row r. */
static uint64_t n_rows(const struct trit_tensor *t)
{
	return t->ne[1] * t->ne[2] * t->ne[3];
}

static void row_index(const struct trit_tensor *t, uint64_t r, uint64_t i[3])
{
	i[0] = r % t->ne[1];
	i[1] = r / t->ne[1] % t->ne[2];
	i[2] = r / t->ne[1] / t->ne[2];
}

static float *f32_row(const struct ref_t *a, const uint64_t i[3])
{
	return (float *)(void *)ref_row(a, i[0], i[1], i[2]);
}

int ref_op_rms_norm(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                    size_t errlen)
{
	const struct trit_tensor *x = o[1].t;
	const float *w = o[2].t ? (const float *)(void *)o[2].p : NULL;
	uint64_t i[3], ne0 = x->ne[0];

	for (uint64_t r = 0; r < n_rows(x); r++) {
		const float *xr;
		float *yr, inv;
		double ss = 0.0;
		row_index(x, r, i);
		xr = f32_row(&o[1], i);
		yr = f32_row(&o[0], i);
		for (uint64_t k = 0; k < ne0; k++)
			ss += (double)xr[k] * xr[k];
		inv = (float)(1.0 / sqrt(ss / (double)ne0 + (double)n->fparams[0]));
		for (uint64_t k = 0; k < ne0; k++)
			yr[k] = w ? xr[k] * inv * w[k] : xr[k] * inv;
	}
	return 0;
}

/* ADD and MUL; y's index in each dimension is 0 where y.ne is 1. */
int ref_op_binary(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                  size_t errlen)
{
	const struct trit_tensor *x = o[1].t, *y = o[2].t;
	uint64_t i[3], j[3];

	for (uint64_t r = 0; r < n_rows(x); r++) {
		const float *xr, *yr;
		float *dr;
		row_index(x, r, i);
		for (int d = 0; d < 3; d++)
			j[d] = i[d] % y->ne[d + 1];
		xr = f32_row(&o[1], i);
		yr = f32_row(&o[2], j);
		dr = f32_row(&o[0], i);
		for (uint64_t k = 0; k < x->ne[0]; k++) {
			float b = yr[k % y->ne[0]];
			dr[k] = n->op == TRIT_OP_ADD ? xr[k] + b : xr[k] * b;
		}
	}
	return 0;
}

int ref_op_scale(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                 size_t errlen)
{
	const struct trit_tensor *x = o[1].t;
	uint64_t i[3];

	for (uint64_t r = 0; r < n_rows(x); r++) {
		const float *xr;
		float *dr;
		row_index(x, r, i);
		xr = f32_row(&o[1], i);
		dr = f32_row(&o[0], i);
		for (uint64_t k = 0; k < x->ne[0]; k++)
			dr[k] = xr[k] * n->fparams[0];
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ROPE                                                                      */

/* Rotates one row of head_dim values at position p; the angle of pair i is
 * p * freq_scale * freq_base^(-2i / n_rot), evaluated in double. */
static void rope_row(const struct trit_node *n, const float *x, float *y, uint64_t head_dim,
                     int32_t p)
{
	int neox = n->iparams[0] == TRIT_ROPE_NEOX;
	uint64_t n_rot = (uint64_t)n->iparams[1], half = n_rot / 2;

	for (uint64_t k = n_rot; k < head_dim; k++)
		y[k] = x[k];
	for (uint64_t i = 0; i < half; i++) {
		uint64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
		double th = (double)p * n->fparams[1] *
		            pow((double)n->fparams[0], -2.0 * (double)i / (double)n_rot);
		float c = (float)cos(th), s = (float)sin(th), xa = x[a], xb = x[b];
		y[a] = xa * c - xb * s;
		y[b] = xa * s + xb * c;
	}
}

int ref_op_rope(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                size_t errlen)
{
	const struct trit_tensor *x = o[1].t;
	const int32_t *pos = (const int32_t *)(void *)o[2].p;

	for (uint64_t t = 0; t < x->ne[2]; t++)
		for (uint64_t h = 0; h < x->ne[1]; h++)
			rope_row(n, (const float *)(void *)ref_row(&o[1], h, t, 0),
			         (float *)(void *)ref_row(&o[0], h, t, 0), x->ne[0], pos[t]);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Activations                                                               */

static double activate(int op, double x)
{
	switch (op) {
	case TRIT_OP_RELU2:
		return x > 0.0 ? x * x : 0.0;
	case TRIT_OP_SILU:
		return x / (1.0 + exp(-x));
	default: /* GELU, tanh form */
		return 0.5 * x * (1.0 + tanh(sqrt(2.0 / acos(-1.0)) * (x + 0.044715 * x * x * x)));
	}
}

/* RELU2, SILU, GELU (act = the node's op) and GLU (act = iparams[0], times y). */
static void act_rows(const struct trit_node *n, const struct ref_t *o, int act, int gated)
{
	const struct trit_tensor *x = o[1].t;
	uint64_t i[3];

	for (uint64_t r = 0; r < n_rows(x); r++) {
		const float *xr, *yr;
		float *dr;
		row_index(x, r, i);
		xr = f32_row(&o[1], i);
		yr = gated ? f32_row(&o[2], i) : NULL;
		dr = f32_row(&o[0], i);
		for (uint64_t k = 0; k < x->ne[0]; k++)
			dr[k] = (float)(gated ? activate(act, xr[k]) * yr[k] : activate(act, xr[k]));
	}
}

int ref_op_unary(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                 size_t errlen)
{
	act_rows(n, o, (int)n->op, 0);
	return 0;
}

int ref_op_glu(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
               size_t errlen)
{
	act_rows(n, o, n->iparams[0], 1);
	return 0;
}

/* BitNet's per-token absmax int8 quantisation, exactly trit_quantize_act(). */
int ref_op_quantize_act(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                        size_t errlen)
{
	const struct trit_tensor *x = o[1].t;
	float *s = (float *)(void *)o[2].p;

	for (uint64_t t = 0; t < x->ne[1]; t++)
		s[t] = trit_quantize_act((const float *)(void *)ref_row(&o[1], t, 0, 0), x->ne[0],
		                         (int8_t *)ref_row(&o[0], t, 0, 0));
	return 0;
}
