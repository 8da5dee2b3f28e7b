/*
 * ops_matmul.c - TRIT_OP_MATMUL on the CPU plugins: F32, F16 and BF16
 * weights against F32 activations (weights widened), Q8_0 against
 * activations quantised to Q8_0 blocks, TQ1_0/TQ2_0 against Q8_K blocks
 * (trit/quant.h; integer block dots), each split over weight rows; I2_S,
 * TL1 and TL2 go to the plugin's own kernels (env->ternary). The quantised
 * activations live in the graph's workspace.
 */
#include <build-config.h>

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

#define TQ_TOKENS 16u

static int is_ternary(uint32_t t)
{
	return t == TRIT_TYPE_I2_S || t == TRIT_TYPE_TL1 || t == TRIT_TYPE_TL2;
}

int ops_check_matmul(const struct cpu_ops_env *env, const struct trit_node *n,
                     const struct ops_view *v, char *err, size_t errlen)
{
	const struct ops_view *d = &v[0], *w = &v[1], *x = &v[2], *s = &v[3];
	uint32_t wt = w->type;

	(void)n;
	NEED(wt != TRIT_TYPE_I8 && wt != TRIT_TYPE_I32, "the weights' type is not a weight type");
	NEED(w->ne[2] == 1 && w->ne[3] == 1, "the weights must be 2-D [K, M]");
	NEED(x->ne[0] == w->ne[0], "x has ne[0] = %llu but the weights have K = %llu",
	     (ull)x->ne[0], (ull)w->ne[0]);
	NEED(x->type == TRIT_TYPE_F32 || (x->type == TRIT_TYPE_I8 && is_ternary(wt)),
	     "x must be F32 (or I8 from QUANTIZE_ACT for I2_S, TL1, TL2)");
	NEED((x->type == TRIT_TYPE_I8) == (s->type != OPS_ABSENT),
	     "the scales (src[2]) come with I8 activations and only with them");
	NEED(s->type == OPS_ABSENT || (s->type == TRIT_TYPE_F32 && s->ne[0] == x->rows &&
	                               s->rows == 1), "the scales must be F32 [%llu]",
	     (ull)x->rows);
	NEED(d->type == TRIT_TYPE_F32 && d->ne[0] == w->ne[1] && d->ne[1] == x->ne[1] &&
	     d->ne[2] == x->ne[2] && d->ne[3] == x->ne[3],
	     "dst must be F32 [%llu, %llu, %llu, %llu]", (ull)w->ne[1], (ull)x->ne[1],
	     (ull)x->ne[2], (ull)x->ne[3]);
	if (!is_ternary(wt))
		return 0;
	if (!env->ternary)
		return cpu_common_errf(err, errlen, TRIT_EUNSUPPORTED,
		                       "no %s kernel can run on this CPU",
		                       trit_type_traits(wt)->name);
	NEED(ops_is_contiguous(x) && ops_is_contiguous(d),
	     "the ternary kernels take contiguous x and dst");
	NEED(w->ne[0] < (UINT64_C(1) << 31) && w->ne[1] < (UINT64_C(1) << 31) &&
	     x->rows < (UINT64_C(1) << 31), "the ternary kernels take K, M and T below 2^31");
	return 0;
}

/* Bytes of one token's quantised activations (Q8_0 blocks, or Q8_K: K int8
 * then one float per 256). */
static uint64_t act_bytes(uint32_t wt, uint64_t k)
{
	if (wt == TRIT_TYPE_Q8_0)
		return k / 32 * 34;
	if (wt == TRIT_TYPE_TQ1_0 || wt == TRIT_TYPE_TQ2_0)
		return k + k / TRIT_QK_K * 4;
	return 0;
}

int ops_matmul_ws(const struct cpu_ops_env *env, const struct trit_node *n,
                  const struct ops_view *v, uint64_t *bytes)
{
	uint32_t wt = v[1].type;

	(void)n;
	if (is_ternary(wt))
		return env->ternary_ws(env->ctx, wt, v[1].ne[1], v[1].ne[0], v[2].rows, bytes);
	*bytes = act_bytes(wt, v[1].ne[0]) * v[2].rows;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Running                                                                   */

struct mm {
	const struct ops_node *o;
	const struct ops_view *w, *x, *d;
	uint64_t k, m, tokens, abytes;
	unsigned char *act;        /* quantised activations, abytes per token */
};

static void quant_part(void *arg, unsigned part, unsigned nparts)
{
	const struct mm *j = arg;
	uint64_t t1 = ops_split(j->tokens, part + 1, nparts);

	for (uint64_t t = ops_split(j->tokens, part, nparts); t < t1; t++) {
		const float *x = (const float *)ops_row(j->x, t);
		unsigned char *a = j->act + t * j->abytes;
		if (j->w->type == TRIT_TYPE_Q8_0) {
			for (uint64_t b = 0; b < j->k / 32; b++)
				trit_q8_0_quantize_block(x + 32 * b, a + 34 * b);
		} else {
			for (uint64_t b = 0; b < j->k / TRIT_QK_K; b++) {
				float dv = trit_q8_k_quantize_block(x + TRIT_QK_K * b,
				                                    (int8_t *)a + TRIT_QK_K * b);
				memcpy(a + j->k + 4 * b, &dv, 4);
			}
		}
	}
}

/* Row r of TQ1_0/TQ2_0 weights against tokens [t0, t0 + nt). */
static void tq_row(const struct mm *j, uint64_t r, uint64_t t0, unsigned nt)
{
	const unsigned char *wr = ops_row(j->w, r);
	int tq1 = j->w->type == TRIT_TYPE_TQ1_0;
	float acc[TQ_TOKENS] = { 0 };
	int8_t tr[TRIT_QK_K];

	for (uint64_t b = 0; b < j->k / TRIT_QK_K; b++) {
		float dw = tq1 ? trit_tq1_0_block(wr + b * TRIT_TQ1_0_BYTES, tr)
		               : trit_tq2_0_block(wr + b * TRIT_TQ2_0_BYTES, tr);
		for (unsigned t = 0; t < nt; t++) {
			const unsigned char *a = j->act + (t0 + t) * j->abytes;
			float dx;
			memcpy(&dx, a + j->k + 4 * b, 4);
			acc[t] += (float)j->o->env->k->dot_i8(tr, (const int8_t *)a + TRIT_QK_K * b,
			                                       TRIT_QK_K) * (dw * dx);
		}
	}
	for (unsigned t = 0; t < nt; t++)
		((float *)ops_row(j->d, t0 + t))[r] = acc[t];
}

static float dot_one(const struct mm *j, const unsigned char *wr, uint64_t t)
{
	const struct cpu_ops_kernels *k = j->o->env->k;
	const float *x = j->act ? NULL : (const float *)ops_row(j->x, t);

	switch (j->w->type) {
	case TRIT_TYPE_F32: return k->dot_f32((const float *)wr, x, j->k);
	case TRIT_TYPE_F16: return k->dot_f16((const uint16_t *)wr, x, j->k);
	case TRIT_TYPE_BF16: return k->dot_bf16((const uint16_t *)wr, x, j->k);
	default: return k->dot_q8_0_q8_0(wr, j->act + t * j->abytes, j->k / 32);
	}
}

static void rows_part(void *arg, unsigned part, unsigned nparts)
{
	const struct mm *j = arg;
	uint64_t r1 = ops_split(j->m, part + 1, nparts);

	for (uint64_t r = ops_split(j->m, part, nparts); r < r1; r++) {
		if (j->w->type == TRIT_TYPE_TQ1_0 || j->w->type == TRIT_TYPE_TQ2_0) {
			for (uint64_t t = 0; t < j->tokens; t += TQ_TOKENS)
				tq_row(j, r, t, j->tokens - t < TQ_TOKENS ? (unsigned)(j->tokens - t)
				                                          : TQ_TOKENS);
			continue;
		}
		const unsigned char *wr = ops_row(j->w, r);
		for (uint64_t t = 0; t < j->tokens; t++)
			((float *)ops_row(j->d, t))[r] = dot_one(j, wr, t);
	}
}

static void run_ternary(struct ops_node *o)
{
	struct cpu_ops_ternary job = {
		.type = o->src[0].type,
		.rows = o->src[0].ne[1],
		.cols = o->src[0].ne[0],
		.tokens = o->src[1].rows,
		.w = o->src[0].data,
		.x = o->src[1].data,
		.scales = o->src[2].type == OPS_ABSENT ? NULL : (const float *)o->src[2].data,
		.y = (float *)o->dst.data,
		.ws = o->ws,
		.n_threads = o->env->n_threads,
	};
	o->env->ternary(o->env->ctx, &job);
}

int ops_run_matmul(struct ops_node *o, char *err, size_t errlen)
{
	const struct cpu_ops_env *env = o->env;
	struct mm j = { o, &o->src[0], &o->src[1], &o->dst, o->src[0].ne[0], o->src[0].ne[1],
		        o->src[1].rows, act_bytes(o->src[0].type, o->src[0].ne[0]), NULL };
	unsigned n;

	(void)err;
	(void)errlen;
	if (is_ternary(o->src[0].type)) {
		run_ternary(o);
		return 0;
	}
	if (j.abytes) {
		j.act = o->ws;
		n = ops_parts(env, j.tokens, j.k * 4);
		if (n <= 1)
			quant_part(&j, 0, 1);
		else
			env->run(env->ctx, n, quant_part, &j);
	}
	n = ops_parts(env, j.m, j.k * j.tokens);
	if (n <= 1)
		rows_part(&j, 0, 1);
	else
		env->run(env->ctx, n, rows_part, &j);
	return 0;
}
