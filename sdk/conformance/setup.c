/*
 * setup.c - the operands of each op (what backend.h says the op reads and
 * writes), filled from the seeded PRNG, and the tolerance each output is
 * held to, with the reason (docs/conformance.md has the same table).
 * Shapes come from cases.c; running and comparing are run.c's and compare.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "conformance.h"
#include "internal.h"

#define U (1.0 / 8388608.0) /* 2^-23: one F32 ulp at 1.0 */

/* Tolerances (see docs/conformance.md). NMSE_EPS: a few ulps per element
 * give an NMSE near 1e-13; 1e-9 leaves room for reordered sums and fast
 * transcendental functions, while one wrong element among 10^4 gives >1e-5. */
#define NMSE_EPS 1e-9

int cf_near_tie(float v)
{
	float a = fabsf(v), f = a - floorf(a);
	return fabsf(f - 0.5f) <= 8.0f * (nextafterf(a, INFINITY) - a) + 1e-6f;
}

static struct cf_operand *operand(struct cf_setup *s, int slot)
{
	return &s->o[slot];
}

static int in(struct cf_setup *s, int slot, uint32_t type, uint64_t a, uint64_t b, uint64_t c,
              int view, struct cf_rng *rng, float lo, float hi)
{
	uint64_t ne[4] = { a, b, c, 1 };
	int rc = cf_operand_shape(operand(s, slot), type, ne, view);
	return rc ? rc : cf_operand_random(operand(s, slot), rng, lo, hi);
}

static int out(struct cf_setup *s, int slot, uint32_t type, uint64_t a, uint64_t b, uint64_t c,
               int view, int kind, const char *why)
{
	uint64_t ne[4] = { a, b, c, 1 };
	struct cf_operand *o = operand(s, slot);
	int rc = cf_operand_shape(o, type, ne, view);

	o->output = 1;
	o->tol_kind = kind;
	o->eps = NMSE_EPS;
	o->why = why;
	if (!rc && kind == CF_TOL_ELEM && !(o->tol = calloc((size_t)o->n, sizeof *o->tol)))
		rc = TRIT_ENOMEM;
	return rc;
}

/* dst is src[0] itself (in-place forms). */
static void alias_dst(struct cf_setup *s, int kind, const char *why)
{
	s->o[0] = s->o[1];
	s->o[0].init = NULL; /* owned by src[0] */
	s->o[0].val = NULL;
	s->o[0].alias = 1;
	s->o[0].output = 1;
	s->o[0].tol_kind = kind;
	s->o[0].eps = NMSE_EPS;
	s->o[0].why = why;
}

/* Integer operand (ids, positions) from explicit values. */
static int ints(struct cf_setup *s, int slot, const float *v, uint64_t n)
{
	uint64_t ne[4] = { n, 1, 1, 1 };
	int rc = cf_operand_shape(operand(s, slot), TRIT_TYPE_I32, ne, 0);
	if (!rc)
		cf_operand_fill(operand(s, slot), v);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Weights / tables of every type: val holds the weight values [M][K].      */

static int ternary_blocks(struct cf_operand *o, uint32_t type, struct cf_rng *rng)
{
	int8_t t[TRIT_QK_K];
	uint64_t blocks = o->n / TRIT_QK_K, bb = trit_type_traits(type)->block_bytes;
	uint64_t per_row = o->t.ne[0] / TRIT_QK_K;

	for (uint64_t b = 0; b < blocks; b++) {
		float d = trit_f16_to_f32(trit_f32_to_f16(cf_rng_uniform(rng, 0.01f, 0.1f))), d2;
		unsigned char *p = o->init + o->t.offset + (b / per_row) * o->t.nb[1] + (b % per_row) * bb;
		int8_t back[TRIT_QK_K];
		for (int e = 0; e < TRIT_QK_K; e++)
			t[e] = (int8_t)((int)(cf_rng_next(rng) % 3) - 1);
		if (type == TRIT_TYPE_TQ2_0) {
			cf_pack_tq2_0(t, d, p);
			d2 = trit_tq2_0_block(p, back);
		} else {
			cf_pack_tq1_0(t, d, p);
			d2 = trit_tq1_0_block(p, back);
		}
		if (d2 != d || memcmp(t, back, sizeof t))
			return TRIT_EINTERNAL;
		for (int e = 0; e < TRIT_QK_K; e++)
			o->val[b * TRIT_QK_K + e] = (float)t[e] * d;
	}
	return 0;
}

static int ternary_tensor(struct cf_operand *o, uint32_t type, struct cf_rng *rng)
{
	uint64_t k = o->t.ne[0], m = o->t.ne[1];
	int8_t *t = malloc((size_t)(k * m));
	float scale = cf_rng_uniform(rng, 0.5f, 2.0f);
	int rc = 0;

	if (!t)
		return TRIT_ENOMEM;
	for (uint64_t i = 0; i < k * m; i++)
		t[i] = (int8_t)((int)(cf_rng_next(rng) % 3) - 1);
	cf_pack_ternary(type, t, m, k, scale, o->init + o->t.offset);
	if (cf_check_ternary(type, t, m, k, o->init + o->t.offset))
		rc = TRIT_EINTERNAL;
	for (uint64_t i = 0; i < k * m; i++)
		o->val[i] = (float)t[i] * scale;
	free(t);
	return rc;
}

static int weights(struct cf_setup *s, int slot, uint32_t type, uint64_t k, uint64_t m,
                   struct cf_rng *rng, char *err, size_t errlen)
{
	uint64_t ne[4] = { k, m, 1, 1 };
	struct cf_operand *o = operand(s, slot);
	int rc = cf_operand_shape(o, type, ne, 0);

	if (rc)
		return rc;
	if (type == TRIT_TYPE_I2_S || type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2)
		rc = ternary_tensor(o, type, rng);
	else if (type == TRIT_TYPE_TQ1_0 || type == TRIT_TYPE_TQ2_0)
		rc = ternary_blocks(o, type, rng);
	else
		return cf_operand_random(o, rng, -1.0f, 1.0f);
	if (rc == TRIT_EINTERNAL)
		snprintf(err, errlen, "the suite's %s encoder disagrees with the SDK header's decoder",
		         trit_type_traits(type)->name);
	if (!trit_type_traits(type)->block_elems) /* TL1/TL2 have no row geometry */
		memset(o->t.nb, 0, sizeof o->t.nb);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Ops                                                                       */

static int setup_get_rows(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng,
                          char *err, size_t errlen)
{
	uint64_t k = c->d[0], m = c->d[1], t = c->d[2];
	float ids[64];
	int rc;

	for (uint64_t i = 0; i < t; i++) /* first and last row, then any */
		ids[i] = (float)(i == 0 ? m - 1 : i == 1 ? 0 : cf_rng_next(rng) % m);
	if ((rc = weights(s, 1, c->t0, k, m, rng, err, errlen)) || (rc = ints(s, 2, ids, t)))
		return rc;
	return out(s, 0, TRIT_TYPE_F32, k, t, 1, (c->flags & CF_VIEW) != 0, CF_TOL_EXACT,
	           "decoding a stored value is exact in F32");
}

static int setup_unary(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng,
                       int kind, const char *why, float lo, float hi)
{
	int view = (c->flags & CF_VIEW) != 0;
	int rc = in(s, 1, TRIT_TYPE_F32, c->d[0], c->d[1], c->d[2] ? c->d[2] : 1, view, rng, lo, hi);

	if (rc)
		return rc;
	if (c->flags & CF_INPLACE) {
		alias_dst(s, kind, why);
		return 0;
	}
	return out(s, 0, TRIT_TYPE_F32, c->d[0], c->d[1], c->d[2] ? c->d[2] : 1, view, kind, why);
}

static int setup_rms_norm(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	int rc = setup_unary(c, s, rng, CF_TOL_NMSE, "a reduction: any summation order", -2, 2);

	s->node.fparams[0] = 1e-6f;
	if (!rc && !(c->flags & CF_NOGAMMA))
		rc = in(s, 2, TRIT_TYPE_F32, c->d[0], 1, 1, 0, rng, 0.5f, 1.5f);
	return rc;
}

static int setup_binary(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	int rc = setup_unary(c, s, rng, CF_TOL_EXACT, "one correctly rounded F32 operation", -2, 2);
	uint64_t y0 = c->d[0], y1 = c->d[1], y2 = c->d[2] ? c->d[2] : 1;

	if (c->flags & CF_BCAST)
		y1 = y2 = 1;
	if (c->flags & CF_SCALAR)
		y0 = y1 = y2 = 1;
	return rc ? rc : in(s, 2, TRIT_TYPE_F32, y0, y1, y2, 0, rng, -2, 2);
}

static int setup_glu(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	int rc = setup_unary(c, s, rng, CF_TOL_NMSE, "an activation function of the C library or device", -4, 4);

	s->node.iparams[0] = c->ip[0];
	return rc ? rc : in(s, 2, TRIT_TYPE_F32, c->d[0], c->d[1], 1, 0, rng, -2, 2);
}

static int setup_rope(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	float pos[64];
	int rc = setup_unary(c, s, rng, CF_TOL_NMSE, "sin/cos/pow of the C library or device", -1, 1);

	for (uint64_t t = 0; t < c->d[2]; t++)
		pos[t] = (float)(c->d[3] + 3 * t);
	memcpy(s->node.iparams, c->ip, sizeof c->ip);
	memcpy(s->node.fparams, c->fp, sizeof c->fp);
	return rc ? rc : ints(s, 2, pos, c->d[2]);
}

static int setup_attention(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	uint64_t d = c->d[0], hq = c->d[1], t = c->d[2], hkv = c->d[3], n_kv = (uint64_t)c->ip[0];
	float pos[64];
	int view = (c->flags & CF_VIEW) != 0, rc;

	for (uint64_t i = 0; i < t; i++) /* the last T positions: causal, not starting at 0 */
		pos[i] = (float)(n_kv - t + i);
	if ((rc = in(s, 1, TRIT_TYPE_F32, d, hq, t, view, rng, -1, 1)) ||
	    (rc = in(s, 2, c->t0, d, hkv, n_kv + 5, 0, rng, -1, 1)) ||
	    (rc = in(s, 3, c->t0, d, hkv, n_kv + 5, 0, rng, -1, 1)) || (rc = ints(s, 4, pos, t)))
		return rc;
	s->node.iparams[0] = c->ip[0];
	s->node.fparams[0] = 1.0f / sqrtf((float)d);
	return out(s, 0, TRIT_TYPE_F32, d, hq, t, view, CF_TOL_NMSE, "dot products, exp and a softmax sum");
}

static int setup_quantize_act(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	int view = (c->flags & CF_VIEW) != 0;
	int rc = in(s, 1, TRIT_TYPE_F32, c->d[0], c->d[1], 1, view, rng, -3, 3);

	if (!rc)
		rc = out(s, 2, TRIT_TYPE_F32, c->d[1], 1, 1, 0, CF_TOL_EXACT,
		         "trit/ternary.h fixes every float operation of the scale");
	return rc ? rc : out(s, 0, TRIT_TYPE_I8, c->d[0], c->d[1], 1, view, CF_TOL_EXACT,
	                     "trit/ternary.h: every backend produces the same q");
}

/* Per-block activation step and tie flags: `step[k]` is the value of one
 * quantisation step of x[k] when x[k] lies at a rounding tie, else 0. */
static void act_ties(uint32_t type, const float *x, uint64_t k, float *step)
{
	uint64_t blk = type == TRIT_TYPE_Q8_0 ? TRIT_Q8_0_BLOCK
	             : type == TRIT_TYPE_TQ1_0 || type == TRIT_TYPE_TQ2_0 ? TRIT_QK_K : k;

	for (uint64_t b = 0; b < k; b += blk) {
		float amax = 0.0f, m = 0.0f, mul;
		for (uint64_t i = b; i < b + blk; i++)
			if (fabsf(x[i]) > amax) {
				amax = fabsf(x[i]);
				m = x[i];
			}
		if (type == TRIT_TYPE_Q8_0)
			mul = amax > 0 ? 127.0f / amax : 0.0f;
		else if (blk == TRIT_QK_K)
			mul = amax > 0 ? -127.0f / m : 0.0f;
		else
			mul = TRIT_ACT_QMAX / (amax > TRIT_ACT_EPS ? amax : TRIT_ACT_EPS);
		for (uint64_t i = b; i < b + blk; i++)
			step[i] = mul != 0.0f && cf_near_tie(x[i] * mul) ? fabsf(1.0f / mul) : 0.0f;
	}
}

/* The relative accumulation bound of a matmul of `type` over k (docs). */
static double matmul_gamma(uint32_t type, uint64_t k, int i8)
{
	switch (type) {
	case TRIT_TYPE_F32: return (double)(k + 2) * U;
	case TRIT_TYPE_F16: return (double)(k + 2) * U + 1.0 / 2048;  /* x may be rounded to F16 */
	case TRIT_TYPE_BF16: return (double)(k + 2) * U + 1.0 / 256;  /* x may be rounded to BF16 */
	case TRIT_TYPE_Q8_0: return (double)(k / 32 + 4) * 2 * U;
	case TRIT_TYPE_TQ1_0: case TRIT_TYPE_TQ2_0: return (double)(k / 256 + 4) * 2 * U;
	default: return i8 ? 4 * U : 8 * U; /* exact integer dots, then d / s * scale */
	}
}

static void matmul_tol(const struct cf_case *c, struct cf_setup *s, float *step)
{
	uint64_t k = c->d[0], m = c->d[1], t = c->d[2];
	const float *w = s->o[1].val, *x = s->o[2].val;
	double g = matmul_gamma(c->t0, k, (c->flags & CF_I8) != 0);

	for (uint64_t j = 0; j < t; j++) {
		if (!(c->flags & CF_I8) && c->t0 != TRIT_TYPE_F32 && c->t0 != TRIT_TYPE_F16 &&
		    c->t0 != TRIT_TYPE_BF16)
			act_ties(c->t0, x + j * k, k, step);
		for (uint64_t r = 0; r < m; r++) {
			double mag = 0, ties = 0;
			for (uint64_t i = 0; i < k; i++) {
				double wx = fabs((double)w[r * k + i] * x[j * k + i]);
				mag += c->flags & CF_I8 ? wx / s->o[3].val[j] : wx; /* y = d / s * scale */
				ties += fabs(w[r * k + i]) * step[i];
			}
			s->o[0].tol[j * m + r] = (float)(g * mag + ties);
		}
	}
}

static int setup_matmul(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng,
                        char *err, size_t errlen)
{
	uint64_t k = c->d[0], m = c->d[1], t = c->d[2];
	int view = (c->flags & CF_VIEW) != 0, rc;
	float *step = calloc((size_t)k, sizeof *step);

	if (!step)
		return TRIT_ENOMEM;
	if (!(rc = weights(s, 1, c->t0, k, m, rng, err, errlen))) {
		if (c->flags & CF_I8) {
			rc = in(s, 2, TRIT_TYPE_I8, k, t, 1, view, rng, 0, 0);
			if (!rc)
				rc = in(s, 3, TRIT_TYPE_F32, t, 1, 1, 0, rng, 20, 200);
		} else {
			rc = in(s, 2, TRIT_TYPE_F32, k, t, 1, view, rng, -1, 1);
		}
	}
	if (!rc)
		rc = out(s, 0, TRIT_TYPE_F32, m, t, 1, view, CF_TOL_ELEM,
		         "sum|w x| times the type's accumulation bound, plus one step per activation at a rounding tie");
	if (!rc)
		matmul_tol(c, s, step);
	free(step);
	return rc;
}

/* One quantisation step of a Q8_0 dst at each element whose source lies at
 * a rounding tie; exact elsewhere. idx maps element i of x to dst. */
static void q8_ties(const float *x, uint64_t n, float *tol, const uint64_t *idx)
{
	for (uint64_t b = 0; b < n; b += TRIT_Q8_0_BLOCK) {
		float amax = 0.0f, d;
		for (uint64_t i = b; i < b + TRIT_Q8_0_BLOCK; i++)
			amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
		d = amax / 127.0f;
		for (uint64_t i = b; i < b + TRIT_Q8_0_BLOCK; i++)
			if (d > 0 && cf_near_tie(x[i] / d))
				tol[idx ? idx[i] : i] = trit_f16_to_f32(trit_f32_to_f16(d)) * 1.001f;
	}
}

static int setup_cpy(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	int view = (c->flags & CF_VIEW) != 0, q8 = c->t1 == TRIT_TYPE_Q8_0 && c->t0 != TRIT_TYPE_Q8_0;
	int rc = in(s, 1, c->t0, c->d[0], c->d[1], 1, view, rng, -2, 2);

	if (!rc)
		rc = out(s, 0, c->t1, c->d[0], c->d[1], 1, view, q8 ? CF_TOL_ELEM : CF_TOL_EXACT,
		         q8 ? "one Q8_0 step where x / d lies at a rounding tie (x * (1/d) is as legal)"
		            : "conversions round to nearest even, as trit/quant.h");
	if (!rc && q8)
		q8_ties(s->o[1].val, s->o[1].n, s->o[0].tol, NULL);
	return rc;
}

static int setup_kv_write(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng)
{
	uint64_t d = c->d[0], h = c->d[1], t = c->d[2], n_ctx = c->d[3];
	float pos[64];
	int view = (c->flags & CF_VIEW) != 0, q8 = c->t0 == TRIT_TYPE_Q8_0, rc;
	uint64_t *idx;

	for (uint64_t i = 0; i < t; i++) /* distinct, not in order, not from 0 */
		pos[i] = (float)((n_ctx - 1 - 2 * i) % n_ctx);
	if ((rc = in(s, 1, TRIT_TYPE_F32, d, h, t, view, rng, -2, 2)) || (rc = ints(s, 2, pos, t)) ||
	    (rc = in(s, 0, c->t0, d, h, n_ctx, 0, rng, -2, 2)))
		return rc;
	s->o[0].output = 1;
	s->o[0].tol_kind = q8 ? CF_TOL_ELEM : CF_TOL_EXACT;
	s->o[0].why = q8 ? "one Q8_0 step where x / d lies at a rounding tie" : "conversion rounds to nearest even";
	if (!q8)
		return 0;
	if (!(s->o[0].tol = calloc((size_t)s->o[0].n, sizeof(float))) ||
	    !(idx = malloc((size_t)(d * h * t) * sizeof *idx)))
		return TRIT_ENOMEM;
	for (uint64_t i = 0; i < d * h * t; i++)
		idx[i] = ((uint64_t)pos[i / (d * h)] * h + i / d % h) * d + i % d;
	q8_ties(s->o[1].val, d * h * t, s->o[0].tol, idx);
	free(idx);
	return 0;
}

static int setup_op(const struct cf_case *c, struct cf_setup *s, struct cf_rng *rng,
                    char *err, size_t errlen)
{
	switch (c->op) {
	case TRIT_OP_GET_ROWS: return setup_get_rows(c, s, rng, err, errlen);
	case TRIT_OP_RMS_NORM: return setup_rms_norm(c, s, rng);
	case TRIT_OP_ADD: case TRIT_OP_MUL: return setup_binary(c, s, rng);
	case TRIT_OP_SCALE:
		s->node.fparams[0] = c->fp[0];
		return setup_unary(c, s, rng, CF_TOL_EXACT, "one correctly rounded F32 product", -2, 2);
	case TRIT_OP_ROPE: return setup_rope(c, s, rng);
	case TRIT_OP_ATTENTION: return setup_attention(c, s, rng);
	case TRIT_OP_RELU2: case TRIT_OP_SILU: case TRIT_OP_GELU:
		return setup_unary(c, s, rng, CF_TOL_NMSE, "an activation function of the C library or device", -4, 4);
	case TRIT_OP_GLU: return setup_glu(c, s, rng);
	case TRIT_OP_QUANTIZE_ACT: return setup_quantize_act(c, s, rng);
	case TRIT_OP_MATMUL: return setup_matmul(c, s, rng, err, errlen);
	case TRIT_OP_CPY: return setup_cpy(c, s, rng);
	case TRIT_OP_KV_WRITE: return setup_kv_write(c, s, rng);
	case CF_OP_BUFFER: {
		int rc = in(s, 1, TRIT_TYPE_I8, c->d[0], 1, 1, 1, rng, 0, 0);
		return rc ? rc : out(s, 0, TRIT_TYPE_I8, c->d[0], 1, 1, 1, CF_TOL_EXACT, "bytes are copied");
	}
	default: return TRIT_EINVAL;
	}
}

int cf_setup(const struct cf_case *c, uint64_t seed, struct cf_setup *s, char *err, size_t errlen)
{
	struct cf_rng rng = { seed };
	int rc;

	memset(s, 0, sizeof *s);
	s->node.struct_size = sizeof s->node;
	s->node.op = c->op;
	s->node.name = "conformance";
	if (err && errlen)
		err[0] = '\0';
	rc = setup_op(c, s, &rng, err, errlen);
	if (rc && err && errlen && !err[0])
		snprintf(err, errlen, "cannot set up the case's inputs (error %d)", rc);
	return rc;
}
