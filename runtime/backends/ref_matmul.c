/*
 * ref_matmul.c - the reference MATMUL for every weight type, one token at a
 * time, with each type's activation rule of backend.h: F32 products for
 * F32/F16/BF16 weights (widened exactly); Q8_0 activations per 32-block and
 * Q8_K per 256-block (trit/quant.h) with integer block dots; BitNet's
 * per-token int8 (trit/ternary.h) and exact integer dots for I2_S/TL1/TL2.
 * Sums over blocks are taken in double. Fast kernels are the plugins' job.
 */
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "ref_node.h"

/* A TQ activation block in the workspace: Q8_K's d, then its 256 q. */
#define Q8K_REC (sizeof(float) + TRIT_QK_K)

uint64_t trit_ref_matmul_ws(uint32_t type, uint64_t cols)
{
	switch (type) {
	case TRIT_TYPE_Q8_0:
		return cols / TRIT_Q8_0_BLOCK * TRIT_Q8_0_BYTES;
	case TRIT_TYPE_TQ1_0:
	case TRIT_TYPE_TQ2_0:
		return cols / TRIT_QK_K * Q8K_REC;
	case TRIT_TYPE_I2_S:
	case TRIT_TYPE_TL1:
	case TRIT_TYPE_TL2:
		return cols; /* the token's int8 activations */
	default:
		return 0;
	}
}

static float float_at(uint32_t type, const unsigned char *row, uint64_t k)
{
	float f;

	switch (type) {
	case TRIT_TYPE_F16:
		return trit_f16_to_f32(trit_rd16(row + 2 * k));
	case TRIT_TYPE_BF16:
		return trit_bf16_to_f32(trit_rd16(row + 2 * k));
	default:
		memcpy(&f, row + 4 * k, sizeof f);
		return f;
	}
}

static void float_rows(uint32_t type, const unsigned char *w, uint64_t nb1, uint64_t rows,
                       uint64_t cols, const float *x, float *y)
{
	for (uint64_t r = 0; r < rows; r++) {
		double acc = 0.0;
		for (uint64_t k = 0; k < cols; k++)
			acc += (double)float_at(type, w + r * nb1, k) * x[k];
		y[r] = (float)acc;
	}
}

/* Q8_0 x Q8_0: sum over blocks of d_w * d_x * (integer dot of the q). */
static void q8_0_rows(const unsigned char *w, uint64_t nb1, uint64_t rows, uint64_t cols,
                      const float *x, float *y, unsigned char *xq)
{
	uint64_t nblk = cols / TRIT_Q8_0_BLOCK;

	for (uint64_t b = 0; b < nblk; b++)
		trit_q8_0_quantize_block(x + b * TRIT_Q8_0_BLOCK, xq + b * TRIT_Q8_0_BYTES);
	for (uint64_t r = 0; r < rows; r++) {
		double acc = 0.0;
		for (uint64_t b = 0; b < nblk; b++) {
			const unsigned char *wb = w + r * nb1 + b * TRIT_Q8_0_BYTES;
			const unsigned char *xb = xq + b * TRIT_Q8_0_BYTES;
			int32_t isum = 0;
			for (int i = 0; i < TRIT_Q8_0_BLOCK; i++)
				isum += (int8_t)wb[2 + i] * (int8_t)xb[2 + i];
			acc += (double)trit_f16_to_f32(trit_rd16(wb)) *
			       trit_f16_to_f32(trit_rd16(xb)) * isum;
		}
		y[r] = (float)acc;
	}
}

/* TQ1_0/TQ2_0 x Q8_K: sum over blocks of d_w * d_x * (integer dot). */
static void tq_rows(uint32_t type, const unsigned char *w, uint64_t nb1, uint64_t rows,
                    uint64_t cols, const float *x, float *y, unsigned char *xq)
{
	int tq1 = type == TRIT_TYPE_TQ1_0;
	uint64_t nblk = cols / TRIT_QK_K, bytes = tq1 ? TRIT_TQ1_0_BYTES : TRIT_TQ2_0_BYTES;
	int8_t t[TRIT_QK_K];

	for (uint64_t b = 0; b < nblk; b++) {
		float d = trit_q8_k_quantize_block(x + b * TRIT_QK_K, (int8_t *)(xq + b * Q8K_REC + 4));
		memcpy(xq + b * Q8K_REC, &d, sizeof d);
	}
	for (uint64_t r = 0; r < rows; r++) {
		double acc = 0.0;
		for (uint64_t b = 0; b < nblk; b++) {
			const unsigned char *wb = w + r * nb1 + b * bytes, *xb = xq + b * Q8K_REC;
			float dw = tq1 ? trit_tq1_0_block(wb, t) : trit_tq2_0_block(wb, t), dx;
			int32_t isum = 0;
			memcpy(&dx, xb, sizeof dx);
			for (int e = 0; e < TRIT_QK_K; e++)
				isum += t[e] * (int8_t)xb[4 + e];
			acc += (double)dw * dx * isum;
		}
		y[r] = (float)acc;
	}
}

void trit_ref_matmul_token_i8(uint32_t type, const unsigned char *w, uint64_t rows,
                              uint64_t cols, const int8_t *q, float s, float *y)
{
	struct trit_ternary_geometry g;
	float scale;

	if (trit_ternary_geometry(type, rows, cols, &g))
		return;
	scale = trit_ternary_scale(w, g.data_bytes);
	for (uint64_t r = 0; r < rows; r++) {
		int64_t dot = 0;
		for (uint64_t k = 0; k < cols; k++)
			dot += trit_ternary_get(type, &g, w, r, k) * q[k];
		y[r] = trit_ternary_output((int32_t)dot, s, scale);
	}
}

void trit_ref_matmul_token(uint32_t type, const unsigned char *w, uint64_t nb1, uint64_t rows,
                           uint64_t cols, const float *x, float *y, void *ws)
{
	switch (type) {
	case TRIT_TYPE_Q8_0:
		q8_0_rows(w, nb1, rows, cols, x, y, ws);
		break;
	case TRIT_TYPE_TQ1_0:
	case TRIT_TYPE_TQ2_0:
		tq_rows(type, w, nb1, rows, cols, x, y, ws);
		break;
	case TRIT_TYPE_I2_S:
	case TRIT_TYPE_TL1:
	case TRIT_TYPE_TL2: {
		float s = trit_quantize_act(x, cols, ws);
		trit_ref_matmul_token_i8(type, w, rows, cols, ws, s, y);
		break;
	}
	default:
		float_rows(type, w, nb1, rows, cols, x, y);
	}
}

int ref_op_matmul(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                  size_t errlen)
{
	const struct trit_tensor *w = o[1].t, *x = o[2].t;
	const float *s = o[3].t ? (const float *)(void *)o[3].p : NULL;

	for (uint64_t t = 0; t < x->ne[1]; t++) {
		const unsigned char *xr = ref_row(&o[2], t, 0, 0);
		float *y = (float *)(void *)ref_row(&o[0], t, 0, 0);
		if (s)
			trit_ref_matmul_token_i8(w->type, o[1].p, w->ne[1], w->ne[0], (const int8_t *)xr,
			                         s[t], y);
		else
			trit_ref_matmul_token(w->type, o[1].p, w->nb[1], w->ne[1], w->ne[0],
			                      (const float *)(const void *)xr, y, ws);
	}
	return 0;
}
