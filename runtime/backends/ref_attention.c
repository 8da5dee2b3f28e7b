/*
 * ref_attention.c - the reference ATTENTION kernel: for each query token and
 * head, softmax(scale * q . k^T) over the cache positions it may see (j <=
 * pos[t], j < n_kv), maximum subtracted, then the weighted sum of v, with
 * query head h reading cache head h / (Hq / Hkv). Dots and sums are taken in
 * double and rounded to F32. The workspace holds one weight per position.
 */
#include <math.h>
#include <string.h>

#include <trit/quant.h>

#include "ref_node.h"

/* The F32 value of element i of a cache row (F32, F16 or Q8_0), decoded as
 * trit/quant.h does. */
static float kv_at(uint32_t type, const unsigned char *row, uint64_t i)
{
	const unsigned char *blk = row + i / TRIT_Q8_0_BLOCK * TRIT_Q8_0_BYTES;
	float f;

	switch (type) {
	case TRIT_TYPE_F32:
		memcpy(&f, row + 4 * i, sizeof f);
		return f;
	case TRIT_TYPE_F16:
		return trit_f16_to_f32(trit_rd16(row + 2 * i));
	default: /* Q8_0 */
		return trit_f16_to_f32(trit_rd16(blk)) * (float)(int8_t)blk[2 + i % TRIT_Q8_0_BLOCK];
	}
}

/* Softmax weights of one query row over positions 0..n-1, into w[]. */
static void softmax_weights(const struct ref_t *k, const float *q, uint64_t head, uint64_t n,
                            float scale, double *w)
{
	uint64_t D = k->t->ne[0];
	float max = -INFINITY;
	double sum = 0.0;

	for (uint64_t j = 0; j < n; j++) {
		const unsigned char *row = ref_row(k, head, j, 0);
		double dot = 0.0;
		for (uint64_t i = 0; i < D; i++)
			dot += (double)q[i] * kv_at(k->t->type, row, i);
		w[j] = (float)(scale * dot);
		if (w[j] > max)
			max = (float)w[j];
	}
	for (uint64_t j = 0; j < n; j++)
		sum += (w[j] = exp((double)((float)w[j] - max)));
	for (uint64_t j = 0; j < n; j++)
		w[j] /= sum;
}

static void attend_row(const struct ref_t *o, uint64_t t, uint64_t h, uint64_t n, float scale,
                       double *w)
{
	const struct ref_t *v = &o[3];
	uint64_t D = v->t->ne[0], group = o[1].t->ne[1] / v->t->ne[1], kvh = h / group;
	const float *q = (const float *)(void *)ref_row(&o[1], h, t, 0);
	float *y = (float *)(void *)ref_row(&o[0], h, t, 0);

	softmax_weights(&o[2], q, kvh, n, scale, w);
	for (uint64_t i = 0; i < D; i++) {
		double acc = 0.0;
		for (uint64_t j = 0; j < n; j++)
			acc += w[j] * kv_at(v->t->type, ref_row(v, kvh, j, 0), i);
		y[i] = (float)acc;
	}
}

int ref_op_attention(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                     size_t errlen)
{
	const int32_t *pos = (const int32_t *)(void *)o[4].p;
	uint64_t T = o[1].t->ne[2], Hq = o[1].t->ne[1], n_ctx = o[2].t->ne[2];
	int32_t n_kv = n->iparams[0];

	if (n_kv < 1 || (uint64_t)n_kv > n_ctx)
		return ref_errf(err, errlen, TRIT_ERANGE, "ATTENTION: n_kv %d is outside 1..%llu (n_ctx)",
		                (int)n_kv, (unsigned long long)n_ctx);
	for (uint64_t t = 0; t < T; t++)
		if (pos[t] < 0)
			return ref_errf(err, errlen, TRIT_ERANGE,
			                "ATTENTION: position %d of query %llu sees no cache position",
			                (int)pos[t], (unsigned long long)t);
	for (uint64_t t = 0; t < T; t++) {
		uint64_t seen = (uint64_t)pos[t] + 1 < (uint64_t)n_kv ? (uint64_t)pos[t] + 1 : (uint64_t)n_kv;
		for (uint64_t h = 0; h < Hq; h++)
			attend_row(o, t, h, seen, n->fparams[0], ws);
	}
	return 0;
}
