/*
 * tensors.c - operands of a case as host bytes: the seeded PRNG, tensor
 * geometry (contiguous or with strided rows), writing logical values into a
 * tensor's layout and reading them back. Allocation on a device is run.c's;
 * which values an op gets is setup.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "conformance.h"
#include "internal.h"

uint64_t cf_rng_next(struct cf_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

float cf_rng_uniform(struct cf_rng *r, float lo, float hi)
{
	return lo + (hi - lo) * (float)((double)(cf_rng_next(r) >> 40) / (double)(UINT64_C(1) << 24));
}

/* Bytes of a row of ne0 elements of `type` (block types: whole blocks). */
uint64_t cf_row_bytes(uint32_t type, uint64_t ne0)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	return ne0 / tt->block_elems * tt->block_bytes;
}

uint64_t cf_tensor_span(const struct trit_tensor *t)
{
	const struct trit_type_traits *tt = trit_type_traits(t->type);
	uint64_t last = 0;

	if (!tt->block_elems) /* TL1/TL2: the whole packed tensor */
		return trit_ternary_bytes(t->type, t->ne[1], t->ne[0]);
	if (t->type == TRIT_TYPE_I2_S)
		return trit_ternary_bytes(t->type, t->ne[1], t->ne[0]);
	for (int i = 1; i < TRIT_MAX_DIMS; i++)
		last += (t->ne[i] - 1) * t->nb[i];
	return last + cf_row_bytes(t->type, t->ne[0]);
}

/* Describe operand o as a tensor of `type` and shape ne; with `view`, rows
 * are strided (a gap of one 16-byte unit or block after each) and the tensor
 * starts 64 bytes into its buffer. Allocates init (poisoned) and val. */
int cf_operand_shape(struct cf_operand *o, uint32_t type, const uint64_t ne[4], int view)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	uint64_t gap = 0;

	memset(o, 0, sizeof *o);
	o->used = 1;
	o->t.type = type;
	memcpy(o->t.ne, ne, sizeof o->t.ne);
	o->n = ne[0] * ne[1] * ne[2] * ne[3];
	if (tt->block_elems) {
		if (view)
			gap = tt->block_elems == 1 ? 16 : tt->block_bytes;
		o->t.nb[0] = tt->block_bytes;
		o->t.nb[1] = type == TRIT_TYPE_I2_S ? trit_round_up_u64(ne[0], TRIT_I2S_BLOCK_COLS) / 4
		                                    : cf_row_bytes(type, ne[0]) + gap;
		o->t.nb[2] = o->t.nb[1] * ne[1];
		o->t.nb[3] = o->t.nb[2] * ne[2];
	}
	o->t.offset = view ? 64 : 0;
	o->bytes = o->t.offset + cf_tensor_span(&o->t);
	o->init = malloc((size_t)o->bytes);
	o->val = calloc((size_t)o->n, sizeof *o->val);
	if (!o->init || !o->val)
		return TRIT_ENOMEM;
	for (uint64_t i = 0; i < o->bytes; i++) /* a pattern no kernel writes by chance */
		o->init[i] = (unsigned char)(0xa5 ^ (i * 7));
	return 0;
}

static unsigned char *row_at(const struct trit_tensor *t, unsigned char *base, uint64_t row)
{
	uint64_t i1 = row % t->ne[1], i2 = row / t->ne[1] % t->ne[2], i3 = row / t->ne[1] / t->ne[2];
	return base + t->offset + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

static void encode_row(uint32_t type, const float *x, uint64_t n, unsigned char *p)
{
	for (uint64_t i = 0; i < n; i++) {
		switch (type) {
		case TRIT_TYPE_F32: memcpy(p + 4 * i, &x[i], 4); break;
		case TRIT_TYPE_F16: { uint16_t h = trit_f32_to_f16(x[i]); memcpy(p + 2 * i, &h, 2); break; }
		case TRIT_TYPE_BF16: { uint16_t h = trit_f32_to_bf16(x[i]); memcpy(p + 2 * i, &h, 2); break; }
		case TRIT_TYPE_I8: p[i] = (unsigned char)(int8_t)x[i]; break;
		case TRIT_TYPE_I32: { int32_t v = (int32_t)x[i]; memcpy(p + 4 * i, &v, 4); break; }
		case TRIT_TYPE_Q8_0:
			if (i % TRIT_Q8_0_BLOCK == 0)
				trit_q8_0_quantize_block(x + i, p + i / TRIT_Q8_0_BLOCK * TRIT_Q8_0_BYTES);
			break;
		default: break;
		}
	}
}

static void decode_row(uint32_t type, const unsigned char *p, uint64_t n, float *y)
{
	for (uint64_t i = 0; i < n; i++) {
		switch (type) {
		case TRIT_TYPE_F32: memcpy(&y[i], p + 4 * i, 4); break;
		case TRIT_TYPE_F16: y[i] = trit_f16_to_f32(trit_rd16(p + 2 * i)); break;
		case TRIT_TYPE_BF16: y[i] = trit_bf16_to_f32(trit_rd16(p + 2 * i)); break;
		case TRIT_TYPE_I8: y[i] = (float)(int8_t)p[i]; break;
		case TRIT_TYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); y[i] = (float)v; break; }
		case TRIT_TYPE_Q8_0:
			if (i % TRIT_Q8_0_BLOCK == 0)
				trit_q8_0_dequantize_block(p + i / TRIT_Q8_0_BLOCK * TRIT_Q8_0_BYTES, y + i);
			break;
		default: y[i] = NAN; break;
		}
	}
}

/* Write the logical values x[n] into o's init bytes, then keep in o->val
 * what the bytes now hold (a Q8_0 or F16 tensor holds rounded values). */
void cf_operand_fill(struct cf_operand *o, const float *x)
{
	uint64_t rows = o->n / o->t.ne[0];

	for (uint64_t r = 0; r < rows; r++)
		encode_row(o->t.type, x + r * o->t.ne[0], o->t.ne[0], row_at(&o->t, o->init, r));
	cf_decode(&o->t, o->init, o->val);
}

/* Fill with uniform values in [lo, hi]. */
int cf_operand_random(struct cf_operand *o, struct cf_rng *rng, float lo, float hi)
{
	float *x = malloc((size_t)o->n * sizeof *x);

	if (!x)
		return TRIT_ENOMEM;
	for (uint64_t i = 0; i < o->n; i++)
		x[i] = o->t.type == TRIT_TYPE_I8 ? (float)((int)(cf_rng_next(rng) % 256) - 128)
		                                 : cf_rng_uniform(rng, lo, hi);
	cf_operand_fill(o, x);
	free(x);
	return 0;
}

int cf_decode(const struct trit_tensor *t, const unsigned char *bytes, float *out)
{
	const struct trit_type_traits *tt = trit_type_traits(t->type);
	uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3];

	if (!tt || !tt->block_elems || tt->is_ternary)
		return TRIT_EUNSUPPORTED;
	for (uint64_t r = 0; r < rows; r++)
		decode_row(t->type, row_at(t, (unsigned char *)(uintptr_t)bytes, r), t->ne[0],
		           out + r * t->ne[0]);
	return 0;
}

/* Mark in mask[bytes] every byte that the rows of t cover. */
void cf_tensor_mask(const struct trit_tensor *t, unsigned char *mask)
{
	uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3], rb = cf_row_bytes(t->type, t->ne[0]);

	for (uint64_t r = 0; r < rows; r++)
		memset(row_at(t, mask, r), 1, (size_t)rb);
}

void cf_setup_free(struct cf_setup *s)
{
	for (int i = 0; i < CF_MAX_OPERANDS; i++) {
		free(s->o[i].init);
		free(s->o[i].val);
		free(s->o[i].tol);
	}
	memset(s, 0, sizeof *s);
}
