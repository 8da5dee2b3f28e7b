/*
 * ops_attn.c - TRIT_OP_ATTENTION on the CPU plugins: softmax(scale * q.k^T)
 * over the cached positions a query may see (j <= pos[t], j < n_kv), times
 * v, with grouped-query heads, for F32, F16 and Q8_0 caches. One (token,
 * head) pair is one unit of work on the plugin's threads; each runs an
 * online softmax over blocks of keys (scores of a block, its maximum, the
 * running sum rescaled when the maximum grows), accumulating v straight
 * into dst, so it needs no workspace. The dot products and the weighted
 * sums are the kernel table's.
 */
#include <build-config.h>

#include <math.h>
#include <string.h>

#include "ops_internal.h"

typedef unsigned long long ull;

#define NEED(cond, ...)                                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			return cpu_common_errf(err, errlen, TRIT_EINVAL, __VA_ARGS__); \
	} while (0)

#define KEY_BLOCK 64

static int cache_type(uint32_t t)
{
	return t == TRIT_TYPE_F32 || t == TRIT_TYPE_F16 || t == TRIT_TYPE_Q8_0;
}

int ops_check_attention(const struct trit_node *n, const struct ops_view *v, char *err,
                        size_t errlen)
{
	const struct ops_view *d = &v[0], *q = &v[1], *k = &v[2], *c = &v[3], *p = &v[4];

	NEED(q->type == TRIT_TYPE_F32 && q->ne[3] == 1, "q must be F32 [D, Hq, T]");
	NEED(cache_type(k->type) && cache_type(c->type), "the caches must be F32, F16 or Q8_0");
	NEED(ops_same_shape(k, c) && k->ne[3] == 1 && k->ne[0] == q->ne[0],
	     "k and v must both be [%llu, Hkv, n_ctx]", (ull)q->ne[0]);
	NEED(q->ne[1] % k->ne[1] == 0, "Hq = %llu is not a multiple of Hkv = %llu",
	     (ull)q->ne[1], (ull)k->ne[1]);
	NEED(p->type == TRIT_TYPE_I32 && p->ne[0] == q->ne[2] && p->rows == 1,
	     "positions (src[3]) must be I32 [%llu]", (ull)q->ne[2]);
	NEED(n->iparams[0] > 0 && (uint64_t)n->iparams[0] <= k->ne[2],
	     "n_kv (iparams[0]) = %d must be 1 .. n_ctx = %llu", (int)n->iparams[0],
	     (ull)k->ne[2]);
	NEED(isfinite(n->fparams[0]), "the scale (fparams[0]) must be finite");
	NEED(d->type == TRIT_TYPE_F32 && ops_same_shape(d, q), "dst must be F32 of q's shape");
	return 0;
}

static float key_dot(const struct cpu_ops_kernels *k, uint32_t t, const unsigned char *row,
                     const float *q, uint64_t n)
{
	if (t == TRIT_TYPE_F32)
		return k->dot_f32((const float *)row, q, n);
	if (t == TRIT_TYPE_F16)
		return k->dot_f16((const uint16_t *)row, q, n);
	return k->dot_q8_0_f32(row, q, n / 32);
}

static void value_add(const struct cpu_ops_kernels *k, uint32_t t, float *y, float a,
                      const unsigned char *row, uint64_t n)
{
	if (t == TRIT_TYPE_F32)
		k->axpy_f32(y, a, (const float *)row, n);
	else if (t == TRIT_TYPE_F16)
		k->axpy_f16(y, a, (const uint16_t *)row, n);
	else
		k->axpy_q8_0(y, a, row, n / 32);
}

struct attn {
	const struct ops_node *o;
	uint64_t units;
};

/* Running state of one query: maximum, sum of weights, the output row. */
struct softmax {
	float m, l;
	float *y;
};

static void key_block(const struct ops_node *o, const unsigned char *kb,
                      const unsigned char *vb, const float *q, uint64_t j0, uint64_t nj,
                      struct softmax *sm)
{
	const struct cpu_ops_kernels *k = o->env->k;
	const struct ops_view *kc = &o->src[1], *vc = &o->src[2];
	uint64_t D = o->dst.ne[0];
	float s[KEY_BLOCK], bm = -INFINITY;

	for (uint64_t j = 0; j < nj; j++) {
		s[j] = o->n->fparams[0] * key_dot(k, kc->type, kb + (j0 + j) * kc->nb[2], q, D);
		bm = s[j] > bm ? s[j] : bm;
	}
	if (bm > sm->m) {
		float c = expf(sm->m - bm);
		if (sm->l > 0.0f)
			k->scale(sm->y, sm->y, c, D);
		sm->l *= c;
		sm->m = bm;
	}
	for (uint64_t j = 0; j < nj; j++) {
		float p = expf(s[j] - sm->m);
		sm->l += p;
		value_add(k, vc->type, sm->y, p, vb + (j0 + j) * vc->nb[2], D);
	}
}

static void attn_part(void *arg, unsigned part, unsigned nparts)
{
	const struct attn *a = arg;
	const struct ops_node *o = a->o;
	const struct ops_view *q = &o->src[0], *kc = &o->src[1], *vc = &o->src[2];
	uint64_t hq = q->ne[1], group = hq / kc->ne[1], D = q->ne[0];
	uint64_t u1 = ops_split(a->units, part + 1, nparts);

	for (uint64_t u = ops_split(a->units, part, nparts); u < u1; u++) {
		uint64_t t = u / hq, h = u % hq, kh = h / group, limit;
		struct softmax sm = { -INFINITY, 0.0f,
			              (float *)(o->dst.data + h * o->dst.nb[1] + t * o->dst.nb[2]) };
		const float *qr = (const float *)(q->data + h * q->nb[1] + t * q->nb[2]);
		int32_t pos;

		memcpy(&pos, o->src[3].data + 4 * t, 4);
		limit = (uint64_t)pos + 1 < (uint64_t)o->n->iparams[0] ? (uint64_t)pos + 1
		                                                      : (uint64_t)o->n->iparams[0];
		memset(sm.y, 0, D * sizeof *sm.y);
		for (uint64_t j0 = 0; j0 < limit; j0 += KEY_BLOCK)
			key_block(o, kc->data + kh * kc->nb[1], vc->data + kh * vc->nb[1], qr, j0,
			          limit - j0 < KEY_BLOCK ? limit - j0 : KEY_BLOCK, &sm);
		o->env->k->scale(sm.y, sm.y, 1.0f / sm.l, D);
	}
}

int ops_run_attention(struct ops_node *o, char *err, size_t errlen)
{
	struct attn a = { o, o->src[0].ne[1] * o->src[0].ne[2] };
	uint64_t n_kv = (uint64_t)o->n->iparams[0];
	unsigned n;

	for (uint64_t t = 0; t < o->src[3].ne[0]; t++) {
		int32_t pos;
		memcpy(&pos, o->src[3].data + 4 * t, 4);
		if (pos < 0)
			return cpu_common_errf(err, errlen, TRIT_ERANGE,
			                       "position %d of query %llu is negative: it would see "
			                       "no key", (int)pos, (ull)t);
	}
	n = ops_parts(o->env, a.units, o->src[0].ne[0] * n_kv * 4);
	if (n <= 1)
		attn_part(&a, 0, 1);
	else
		o->env->run(o->env->ctx, n, attn_part, &a);
	return 0;
}
