/*
 * parallel.c - what one rank of a tensor-, pipeline- or expert-parallel
 * deployment holds, by vLLM's rules: column-parallel projections (q, k, v,
 * gate, up) and row-parallel ones (o, down) split over tp, k and v by whole
 * KV heads (replicated when there are fewer KV heads than ranks), the
 * vocabulary padded to 64 rows and split, norms and routers whole; routed
 * experts split by whole experts over ep; layers over stages as
 * get_pp_indices splits them. docs/memory.md cites each rule's source.
 */
#include <build-config.h>

#include "core/common.h"
#include "model/names.h"
#include "plan/parallel.h"

const char *trit_shard_rule_name(enum trit_shard_rule r)
{
	static const char *const names[TRIT_SHARD_RULE_COUNT] = {
		"replicated", "heads/tp", "kv-heads/tp", "ffn/tp", "vocab/tp", "experts/ep"
	};
	return (unsigned)r < TRIT_SHARD_RULE_COUNT ? names[r] : "?";
}

uint32_t trit_parallel_stage_ranks(const struct trit_parallel *par)
{
	uint32_t tp = par->tp ? par->tp : 1, ep = par->ep ? par->ep : 1;
	return ep > tp ? ep : tp;
}

void trit_parallel_stage_layers(uint32_t n_layer, uint32_t pp, uint32_t stage, uint32_t *first,
                                uint32_t *count)
{
	uint32_t base, extra, start = 0;

	if (!pp)
		pp = 1;
	base = n_layer / pp;
	extra = n_layer % pp;
	/* stages pp-1-extra .. pp-2 take one more layer each */
	for (uint32_t s = 0; s < stage && s < pp; s++)
		start += base + (s + 1 + extra >= pp && s + 1 < pp);
	*first = start;
	*count = stage < pp ? base + (stage + 1 + extra >= pp && stage + 1 < pp) : 0;
}

int trit_parallel_routed_expert(enum trit_role r)
{
	return r == TRIT_ROLE_FFN_GATE_EXPS || r == TRIT_ROLE_FFN_UP_EXPS ||
	       r == TRIT_ROLE_FFN_DOWN_EXPS;
}

/* Whether a role is a matrix whose output features (rows) are split:
 * column-parallel. Row-parallel ones (o, down) split their input features. */
static enum trit_shard_rule weight_rule(enum trit_role r, uint32_t ep)
{
	switch (r) {
	case TRIT_ROLE_TOKEN_EMBD: case TRIT_ROLE_OUTPUT:
		return TRIT_SHARD_VOCAB;
	case TRIT_ROLE_ATTN_Q: case TRIT_ROLE_ATTN_OUT: case TRIT_ROLE_ATTN_QKV:
	case TRIT_ROLE_ATTN_Q_B: case TRIT_ROLE_ATTN_KV_B: case TRIT_ROLE_ATTN_K_B:
	case TRIT_ROLE_ATTN_V_B:
		return TRIT_SHARD_HEADS;
	case TRIT_ROLE_ATTN_K: case TRIT_ROLE_ATTN_V:
		return TRIT_SHARD_KV_HEADS;
	case TRIT_ROLE_FFN_GATE: case TRIT_ROLE_FFN_UP: case TRIT_ROLE_FFN_GATE_UP:
	case TRIT_ROLE_FFN_DOWN: case TRIT_ROLE_FFN_GATE_SHEXP: case TRIT_ROLE_FFN_UP_SHEXP:
	case TRIT_ROLE_FFN_DOWN_SHEXP:
		return TRIT_SHARD_FFN;
	default:
		if (trit_parallel_routed_expert(r))
			return ep > 1 ? TRIT_SHARD_EXPERTS : TRIT_SHARD_FFN;
		return TRIT_SHARD_REPLICATED; /* norms, routers, MLA's q_a and kv_a, ... */
	}
}

/* A row-parallel layer's bias is added once, whole, on every rank. */
static int row_parallel(enum trit_role r)
{
	return r == TRIT_ROLE_ATTN_OUT || r == TRIT_ROLE_FFN_DOWN || r == TRIT_ROLE_FFN_DOWN_SHEXP ||
	       r == TRIT_ROLE_FFN_DOWN_EXPS;
}

static uint32_t layer_value(const uint32_t *v, const struct trit_model *m, int32_t layer)
{
	return v && layer >= 0 && (uint32_t)layer < m->hp.n_layer ? v[layer] : 0;
}

/* KV heads one rank holds: max(1, kv / tp). */
static uint64_t kv_per_rank(uint32_t kv, uint32_t tp)
{
	return kv / tp ? kv / tp : 1;
}

uint64_t trit_parallel_tensor_bytes(const struct trit_model *m, const struct trit_model_tensor *t,
                                    uint64_t bytes, uint32_t tp, uint32_t ep,
                                    enum trit_shard_rule *rule)
{
	enum trit_shard_rule r = weight_rule((enum trit_role)t->role, ep);
	uint32_t nh = layer_value(m->hp.n_head, m, t->layer);
	uint32_t kv = layer_value(m->hp.n_head_kv, m, t->layer);
	uint64_t rows = t->n_dims >= 2 ? t->ne[1] : t->ne[0], out = bytes;

	tp = tp ? tp : 1;
	ep = ep ? ep : 1;
	if ((tp == 1 && r != TRIT_SHARD_EXPERTS) || (t->part != TRIT_PART_WEIGHT &&
	    (t->part != TRIT_PART_BIAS || row_parallel((enum trit_role)t->role))))
		r = TRIT_SHARD_REPLICATED;
	switch (r) {
	case TRIT_SHARD_VOCAB:
		if (rows) {
			uint64_t padded = (rows + TRIT_PARALLEL_VOCAB_PAD - 1) /
			                  TRIT_PARALLEL_VOCAB_PAD * TRIT_PARALLEL_VOCAB_PAD;
			out = bytes / rows * ((padded + tp - 1) / tp);
		}
		break;
	case TRIT_SHARD_HEADS:
		if (t->role == TRIT_ROLE_ATTN_QKV && nh && kv)
			out = bytes / (nh + 2ull * kv) * (nh / tp + 2 * kv_per_rank(kv, tp));
		else
			out = (bytes + tp - 1) / tp;
		break;
	case TRIT_SHARD_KV_HEADS:
		out = kv ? bytes / kv * kv_per_rank(kv, tp) : (bytes + tp - 1) / tp;
		break;
	case TRIT_SHARD_FFN:
		out = (bytes + tp - 1) / tp;
		break;
	case TRIT_SHARD_EXPERTS:
		out = (bytes + ep - 1) / ep;
		break;
	default:
		break;
	}
	if (rule)
		*rule = r;
	return out;
}

/* The FFN width a tensor splits over tp: rows of a column-parallel matrix
 * (half of a fused gate_up's), columns of a row-parallel one; 0 if none. */
static uint64_t ffn_width(const struct trit_model_tensor *t)
{
	if (t->part != TRIT_PART_WEIGHT || t->n_dims < 2)
		return 0;
	if (row_parallel((enum trit_role)t->role))
		return t->ne[0];
	return t->role == TRIT_ROLE_FFN_GATE_UP ? t->ne[1] / 2 : t->ne[1];
}

static int check_heads(const struct trit_model *m, uint32_t tp, char *err, size_t errlen)
{
	const struct trit_hparams *hp = &m->hp;

	for (uint32_t il = 0; tp > 1 && il < hp->n_layer; il++) {
		uint32_t nh = hp->n_head ? hp->n_head[il] : 0, kv = hp->n_head_kv ? hp->n_head_kv[il] : 0;
		if (!nh || nh % tp)
			return trit_errf(err, errlen, TRIT_EINVAL, "tensor parallelism %u does not "
			                 "divide the %u attention heads of layer %u of %s", tp, nh, il,
			                 m->path);
		if (!hp->kv_lora_rank && (!kv || (kv >= tp ? kv % tp : tp % kv)))
			return trit_errf(err, errlen, TRIT_EINVAL, "tensor parallelism %u does not "
			                 "suit the %u KV heads of layer %u of %s: the KV heads must be "
			                 "a multiple of tp (split) or divide it (replicated)", tp, kv,
			                 il, m->path);
	}
	return 0;
}

static int check_tensors(const struct trit_model *m, const struct trit_parallel *par, char *err,
                         size_t errlen)
{
	for (size_t i = 0; par->tp > 1 && i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		uint64_t w;
		if (weight_rule((enum trit_role)t->role, par->ep) != TRIT_SHARD_FFN ||
		    !(w = ffn_width(t)) || w % par->tp == 0)
			continue;
		return trit_errf(err, errlen, TRIT_EINVAL, "tensor parallelism %u does not divide "
		                 "the feed-forward width %llu of %s in %s", par->tp,
		                 (unsigned long long)w, t->name, m->path);
	}
	return 0;
}

static int check_experts(const struct trit_model *m, const struct trit_parallel *par, char *err,
                         size_t errlen)
{
	uint32_t ne = m->hp.n_expert;

	if (par->ep <= 1)
		return 0;
	if (!ne)
		return trit_errf(err, errlen, TRIT_EINVAL, "expert parallelism %u asks for experts, "
		                 "but %s is not a mixture of experts", par->ep, m->path);
	if (ne % par->ep)
		return trit_errf(err, errlen, TRIT_EINVAL, "expert parallelism %u does not divide "
		                 "the %u experts of %s", par->ep, ne, m->path);
	if (par->ep % par->tp)
		return trit_errf(err, errlen, TRIT_EINVAL, "expert parallelism %u is not a "
		                 "multiple of tensor parallelism %u: the expert-parallel ranks are "
		                 "the tensor-parallel ones, times data-parallel copies of the "
		                 "attention (vLLM's --enable-expert-parallel)", par->ep, par->tp);
	return 0;
}

int trit_parallel_check(const struct trit_model *m, const struct trit_parallel *par, char *err,
                        size_t errlen)
{
	const char *names[3] = { "tp", "pp", "ep" };
	uint32_t v[3] = { par->tp, par->pp, par->ep };
	int rc;

	for (int i = 0; i < 3; i++)
		if (v[i] < 1 || v[i] > TRIT_PARALLEL_MAX)
			return trit_errf(err, errlen, TRIT_EINVAL, "%s %u is outside 1..%u", names[i],
			                 v[i], TRIT_PARALLEL_MAX);
	if (par->pp > m->hp.n_layer)
		return trit_errf(err, errlen, TRIT_EINVAL, "pipeline parallelism %u asks for more "
		                 "stages than %s has layers (%u)", par->pp, m->path, m->hp.n_layer);
	if ((rc = check_heads(m, par->tp, err, errlen)) || (rc = check_experts(m, par, err, errlen)))
		return rc;
	return check_tensors(m, par, err, errlen);
}
