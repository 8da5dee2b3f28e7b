/*
 * ref_move.c - the reference kernels that move and convert rows: GET_ROWS
 * (every weight type decoded to F32), CPY between F32, F16, BF16 and Q8_0,
 * and KV_WRITE into a cache. Decoding and rounding follow trit/quant.h and
 * trit/ternary.h; ids and positions are bound-checked before any write.
 */
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "ref_node.h"

/* Byte offset of element i (a multiple of 32 for Q8_0) in a row. */
static uint64_t elem_at(uint32_t type, uint64_t i)
{
	if (type == TRIT_TYPE_Q8_0)
		return i / TRIT_Q8_0_BLOCK * TRIT_Q8_0_BYTES;
	return i * trit_type_traits(type)->block_bytes;
}

void ref_row_to_f32(uint32_t type, const unsigned char *src, uint64_t n, float *dst)
{
	for (uint64_t i = 0; i < n; i++)
		switch (type) {
		case TRIT_TYPE_F32:
			memcpy(&dst[i], src + 4 * i, 4);
			break;
		case TRIT_TYPE_F16:
			dst[i] = trit_f16_to_f32(trit_rd16(src + 2 * i));
			break;
		case TRIT_TYPE_BF16:
			dst[i] = trit_bf16_to_f32(trit_rd16(src + 2 * i));
			break;
		default: /* Q8_0, a block at a time */
			if (i % TRIT_Q8_0_BLOCK == 0)
				trit_q8_0_dequantize_block(src + elem_at(type, i), dst + i);
		}
}

static void wr16(unsigned char *p, uint16_t h)
{
	p[0] = (unsigned char)(h & 0xff);
	p[1] = (unsigned char)(h >> 8);
}

/* n (<= 32) F32 values into a row of `type` at element i. */
static void store_chunk(uint32_t type, unsigned char *dst, const float *x, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		switch (type) {
		case TRIT_TYPE_F32:
			memcpy(dst + 4 * i, &x[i], 4);
			break;
		case TRIT_TYPE_F16:
			wr16(dst + 2 * i, trit_f32_to_f16(x[i]));
			break;
		case TRIT_TYPE_BF16:
			wr16(dst + 2 * i, trit_f32_to_bf16(x[i]));
			break;
		default: /* Q8_0: n is a whole block */
			if (i == 0)
				trit_q8_0_quantize_block(x, dst);
		}
}

void ref_row_convert(uint32_t dst_type, unsigned char *dst, uint32_t src_type,
                     const unsigned char *src, uint64_t n)
{
	float chunk[TRIT_Q8_0_BLOCK];

	for (uint64_t i = 0; i < n; i += TRIT_Q8_0_BLOCK) {
		uint64_t m = n - i < TRIT_Q8_0_BLOCK ? n - i : TRIT_Q8_0_BLOCK;
		ref_row_to_f32(src_type, src + elem_at(src_type, i), m, chunk);
		store_chunk(dst_type, dst + elem_at(dst_type, i), chunk, m);
	}
}

/* ------------------------------------------------------------------------ */
/* GET_ROWS                                                                  */

/* A TQ1_0/TQ2_0 row of n weights: trit * the block's d. */
static void tq_row_to_f32(uint32_t type, const unsigned char *row, uint64_t n, float *dst)
{
	int tq1 = type == TRIT_TYPE_TQ1_0;
	uint64_t bytes = tq1 ? TRIT_TQ1_0_BYTES : TRIT_TQ2_0_BYTES;
	int8_t t[TRIT_QK_K];

	for (uint64_t b = 0; b < n / TRIT_QK_K; b++) {
		const unsigned char *blk = row + b * bytes;
		float d = tq1 ? trit_tq1_0_block(blk, t) : trit_tq2_0_block(blk, t);
		for (int e = 0; e < TRIT_QK_K; e++)
			dst[b * TRIT_QK_K + e] = (float)t[e] * d;
	}
}

/* Row r of a packed I2_S/TL1/TL2 tensor [K, M]: trit * the tensor's scale. */
static void packed_row_to_f32(const struct trit_tensor *tab, const unsigned char *p, uint64_t r,
                              float *dst)
{
	struct trit_ternary_geometry g;
	float scale;

	trit_ternary_geometry(tab->type, tab->ne[1], tab->ne[0], &g);
	scale = trit_ternary_scale(p, g.data_bytes);
	for (uint64_t k = 0; k < tab->ne[0]; k++)
		dst[k] = (float)trit_ternary_get(tab->type, &g, p, r, k) * scale;
}

static int ids_in_range(const char *what, const int32_t *ids, uint64_t n, uint64_t limit,
                        char *err, size_t errlen)
{
	for (uint64_t t = 0; t < n; t++)
		if (ids[t] < 0 || (uint64_t)ids[t] >= limit)
			return ref_errf(err, errlen, TRIT_ERANGE,
			                "%s %d (entry %llu) is outside 0..%llu", what, (int)ids[t],
			                (unsigned long long)t, (unsigned long long)(limit - 1));
	return 0;
}

int ref_op_get_rows(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                    size_t errlen)
{
	const struct trit_tensor *tab = o[1].t;
	const int32_t *ids = (const int32_t *)(void *)o[2].p;
	uint64_t T = o[2].t->ne[0];
	int rc = ids_in_range("GET_ROWS: row id", ids, T, tab->ne[1], err, errlen);

	for (uint64_t t = 0; !rc && t < T; t++) {
		float *dst = (float *)(void *)ref_row(&o[0], t, 0, 0);
		uint64_t id = (uint64_t)ids[t];
		if (tab->type == TRIT_TYPE_TQ1_0 || tab->type == TRIT_TYPE_TQ2_0)
			tq_row_to_f32(tab->type, ref_row(&o[1], id, 0, 0), tab->ne[0], dst);
		else if (trit_type_traits(tab->type)->is_ternary)
			packed_row_to_f32(tab, o[1].p, id, dst);
		else
			ref_row_to_f32(tab->type, ref_row(&o[1], id, 0, 0), tab->ne[0], dst);
	}
	return rc;
}

/* ------------------------------------------------------------------------ */
/* CPY and KV_WRITE                                                          */

int ref_op_cpy(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
               size_t errlen)
{
	const struct trit_tensor *x = o[1].t, *d = o[0].t;
	int same = memcmp(x->ne, d->ne, sizeof x->ne) == 0;

	if (!same) { /* both contiguous (checked): one long row each */
		uint64_t total = x->ne[0] * x->ne[1] * x->ne[2] * x->ne[3];
		ref_row_convert(d->type, o[0].p, x->type, o[1].p, total);
		return 0;
	}
	for (uint64_t i3 = 0; i3 < x->ne[3]; i3++)
		for (uint64_t i2 = 0; i2 < x->ne[2]; i2++)
			for (uint64_t i1 = 0; i1 < x->ne[1]; i1++)
				ref_row_convert(d->type, ref_row(&o[0], i1, i2, i3), x->type,
				                ref_row(&o[1], i1, i2, i3), x->ne[0]);
	return 0;
}

int ref_op_kv_write(const struct trit_node *n, const struct ref_t *o, void *ws, char *err,
                    size_t errlen)
{
	const struct trit_tensor *x = o[1].t, *c = o[0].t;
	const int32_t *pos = (const int32_t *)(void *)o[2].p;
	int rc = ids_in_range("KV_WRITE: position", pos, x->ne[2], c->ne[2], err, errlen);

	for (uint64_t t = 0; !rc && t < x->ne[2]; t++)
		for (uint64_t h = 0; h < x->ne[1]; h++)
			ref_row_convert(c->type, ref_row(&o[0], h, (uint64_t)pos[t], 0), TRIT_TYPE_F32,
			                ref_row(&o[1], h, t, 0), x->ne[0]);
	return rc;
}
