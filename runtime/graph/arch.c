/*
 * graph/arch.c - the forward pass of each architecture trit runs, written
 * with graph.c's builder:
 *   llama         RMS norm, Q/K/V, RoPE in normal mode (adjacent pairs, as
 *                 llama.cpp's LLM_ARCH_LLAMA), GQA attention over the KV
 *                 cache, output projection, residual; SiLU-gated FFN; final
 *                 norm and the output head (token_embd when tied).
 *   bitnet-b1.58  bitnet.cpp's graph for BitNet-b1.58-2B-4T: as llama with
 *                 NeoX RoPE, attn_sub_norm before attn_output, ReLU^2-gated
 *                 FFN with ffn_sub_norm before ffn_down; output or tied.
 *   bitnet        llama.cpp's LLM_ARCH_BITNET: the same graph with SiLU unless
 *                 {arch}.hidden_activation says otherwise, the head always
 *                 token_embd.
 * RoPE modes as llama.cpp assigns them (llama_model_rope_type): LLM_ARCH_LLAMA
 * is in its normal group, LLM_ARCH_BITNET in its NeoX group ("pairs offset by
 * n_rot/2"); bitnet.cpp's bitnet-b1.58 runs NeoX too. Both
 * BitNet graphs multiply a matmul's result by the optional F32 [1]
 * tensor "<weight base>.scale" when the file has one. Ternary weights
 * (I2_S, TL1, TL2) take int8 activations from QUANTIZE_ACT; every other
 * type takes F32.
 */
#include <build-config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "graph/graph.h"

struct bctx {
	struct trit_nodelist *g;
	const struct trit_graph_params *p;
	const struct trit_graph_inputs *in;
	enum trit_arch arch;
	uint32_t T;
	char *err;
	size_t errlen;
	int rc;
};

static const struct trit_gref ABSENT = { .slot = -1 };

/* Record the first error; later calls see b->rc and do nothing. */
static void fail(struct bctx *b, int rc, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void fail(struct bctx *b, int rc, const char *fmt, ...)
{
	va_list ap;

	if (b->rc)
		return;
	b->rc = rc;
	if (b->err && b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
}

/* The tensor "blk.<il>.<what>" (il >= 0) or "<what>". */
static const struct trit_tensor *weight(struct bctx *b, int required, const char *what, int il)
{
	char name[96];
	const struct trit_tensor *t;

	if (il >= 0)
		snprintf(name, sizeof name, "blk.%d.%s", il, what);
	else
		snprintf(name, sizeof name, "%s", what);
	t = b->in->weight(b->in->weight_ctx, name);
	if (!t && required)
		fail(b, TRIT_EFORMAT, "the model has no tensor %s, which the %s graph needs", name,
		     trit_graph_arch_name(b->arch));
	return t;
}

static struct trit_gref act(struct bctx *b, uint32_t type, uint64_t ne0, uint64_t ne1,
                            const char *name)
{
	int rc = 0;
	struct trit_gref r = ABSENT;

	if (b->rc)
		return r;
	r = trit_graph_new(b->g, type, ne0, ne1, 1, name, &rc);
	if (rc)
		fail(b, rc, "graph: cannot make the %llu x %llu activation %s",
		     (unsigned long long)ne0, (unsigned long long)ne1, name);
	return r;
}

static void node(struct bctx *b, uint32_t op, struct trit_gref dst, const struct trit_gref *src,
                 unsigned n_src, const int32_t *ip, const float *fp, const char *name)
{
	if (!b->rc)
		b->rc = trit_graph_add(b->g, op, dst, src, n_src, ip, fp, name, b->err, b->errlen);
}

static const char *lname(char *buf, size_t len, const char *what, int il)
{
	if (il < 0)
		snprintf(buf, len, "%s", what);
	else
		snprintf(buf, len, "blk.%d.%s", il, what);
	return buf;
}

/* y = rms_norm(x) * w, w the F32 tensor `wname` of layer il. */
static struct trit_gref norm(struct bctx *b, struct trit_gref x, const char *wname, int il,
                             const char *name)
{
	const struct trit_tensor *w = weight(b, 1, wname, il);
	struct trit_gref y = act(b, TRIT_TYPE_F32, x.t.ne[0], x.t.ne[1], name);
	float fp[4] = { (float)b->p->hp->norm_eps };
	char nm[64];

	if (b->rc)
		return y;
	if (w->type != TRIT_TYPE_F32 || w->ne[0] != x.t.ne[0] || w->ne[1] != 1)
		fail(b, TRIT_EFORMAT, "%s is %s [%llu x %llu]; a norm weight is F32 [%llu]",
		     lname(nm, sizeof nm, name, il), trit_type_traits(w->type) ?
		     trit_type_traits(w->type)->name : "of an unknown type",
		     (unsigned long long)w->ne[0], (unsigned long long)w->ne[1],
		     (unsigned long long)x.t.ne[0]);
	{
		struct trit_gref src[2] = { x, trit_gref_ext(w) };
		node(b, TRIT_OP_RMS_NORM, y, src, 2, NULL, fp, lname(nm, sizeof nm, name, il));
	}
	return y;
}

static int is_ternary_act(uint32_t type)
{
	return type == TRIT_TYPE_I2_S || type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2;
}

/* y = W x for the weight "<base>.weight" of layer il, times "<base>.scale"
 * when the file has it (BitNet graphs). */
/* x times the matrix base.weight of layer il (or w itself when not NULL),
 * and by base.scale when the model has one. */
static struct trit_gref matmul_w(struct bctx *b, const char *base, const struct trit_tensor *w,
                                 int il, struct trit_gref x, const char *name)
{
	char fmt[80], nm[64];
	const struct trit_tensor *s = NULL;
	struct trit_gref y = ABSENT;

	snprintf(fmt, sizeof fmt, "%s.weight", base);
	if (!w)
		w = weight(b, 1, fmt, il);
	if (b->arch != TRIT_ARCH_LLAMA) {
		snprintf(fmt, sizeof fmt, "%s.scale", base);
		s = weight(b, 0, fmt, il);
	}
	if (b->rc)
		return y;
	lname(nm, sizeof nm, name, il);
	if (w->ne[0] != x.t.ne[0] || w->ne[2] != 1 || w->ne[3] != 1) {
		fail(b, TRIT_EFORMAT, "%s: the weight is [%llu x %llu] but its input has %llu "
		     "features", nm, (unsigned long long)w->ne[0], (unsigned long long)w->ne[1],
		     (unsigned long long)x.t.ne[0]);
		return y;
	}
	y = act(b, TRIT_TYPE_F32, w->ne[1], x.t.ne[1], name);
	if (is_ternary_act(w->type)) {
		struct trit_gref q = act(b, TRIT_TYPE_I8, x.t.ne[0], x.t.ne[1], "act_q8");
		struct trit_gref sc = act(b, TRIT_TYPE_F32, x.t.ne[1], 1, "act_scale");
		struct trit_gref qs[2] = { x, sc };
		struct trit_gref ms[3] = { trit_gref_ext(w), q, sc };
		node(b, TRIT_OP_QUANTIZE_ACT, q, qs, 2, NULL, NULL, nm);
		node(b, TRIT_OP_MATMUL, y, ms, 3, NULL, NULL, nm);
	} else {
		struct trit_gref ms[2] = { trit_gref_ext(w), x };
		node(b, TRIT_OP_MATMUL, y, ms, 2, NULL, NULL, nm);
	}
	if (s && !b->rc) {
		struct trit_gref src[2] = { y, trit_gref_ext(s) };
		if (s->type != TRIT_TYPE_F32 || s->ne[0] * s->ne[1] * s->ne[2] * s->ne[3] != 1)
			fail(b, TRIT_EFORMAT, "%s: %s.scale must be one F32 value", nm, base);
		node(b, TRIT_OP_MUL, y, src, 2, NULL, NULL, nm);
	}
	return y;
}

static struct trit_gref matmul(struct bctx *b, const char *base, int il, struct trit_gref x,
                               const char *name)
{
	return matmul_w(b, base, NULL, il, x, name);
}

static struct trit_gref add(struct bctx *b, struct trit_gref x, struct trit_gref y, int il,
                            const char *name)
{
	struct trit_gref d = act(b, TRIT_TYPE_F32, x.t.ne[0], x.t.ne[1], name);
	struct trit_gref src[2] = { x, y };
	char nm[64];

	node(b, TRIT_OP_ADD, d, src, 2, NULL, NULL, lname(nm, sizeof nm, name, il));
	return d;
}

static int rope_mode(enum trit_arch a)
{
	return a == TRIT_ARCH_LLAMA ? TRIT_ROPE_NORMAL : TRIT_ROPE_NEOX;
}

/* RoPE in place on x [D, H, T]. */
static void rope(struct bctx *b, struct trit_gref x, struct trit_gref pos, int il,
                 const char *name)
{
	const struct trit_hparams *hp = b->p->hp;
	int32_t ip[4] = { rope_mode(b->arch), (int32_t)hp->n_rot };
	float fp[4] = { (float)(hp->rope_freq_base ? hp->rope_freq_base : 10000.0),
	                (float)(hp->rope_freq_scale ? hp->rope_freq_scale : 1.0) };
	struct trit_gref src[2] = { x, pos };
	char nm[64];

	node(b, TRIT_OP_ROPE, x, src, 2, ip, fp, lname(nm, sizeof nm, name, il));
}

/* The layer's cache tensor (k or v). */
static struct trit_gref cache(struct bctx *b, int v, int il, uint64_t D, uint64_t Hkv)
{
	const struct trit_tensor *c = v ? b->in->v_cache : b->in->k_cache;
	struct trit_tensor t;

	if (c) {
		t = c[il];
		if (t.ne[0] != D || t.ne[1] != Hkv)
			fail(b, TRIT_EINTERNAL, "layer %d: the KV cache is [%llu x %llu], the graph "
			     "needs [%llu x %llu]", il, (unsigned long long)t.ne[0],
			     (unsigned long long)t.ne[1], (unsigned long long)D, (unsigned long long)Hkv);
		return trit_gref_ext(&t);
	}
	memset(&t, 0, sizeof t);
	t.type = b->in->kv_type;
	t.ne[0] = D, t.ne[1] = Hkv, t.ne[2] = b->in->n_ctx, t.ne[3] = 1;
	t.nb[0] = trit_type_traits(t.type)->block_bytes;
	t.nb[1] = trit_graph_bytes(t.type, D, 1, 1);
	t.nb[2] = t.nb[1] * Hkv;
	t.nb[3] = t.nb[2] * t.ne[2];
	return trit_gref_ext(&t);
}

/* The last token of x [D, H, T] and of positions [T]. */
static struct trit_gref last_token(struct trit_gref x)
{
	x.t.offset += (x.t.ne[2] - 1) * x.t.nb[2];
	x.t.ne[2] = 1;
	x.t.nb[3] = x.t.nb[2];
	return x;
}

static struct trit_gref last_pos(struct trit_gref pos)
{
	pos.t.offset += (pos.t.ne[0] - 1) * pos.t.nb[0];
	pos.t.ne[0] = 1;
	pos.t.nb[1] = pos.t.nb[2] = pos.t.nb[3] = pos.t.nb[0];
	return pos;
}

/* Self-attention of layer il; with `last` only the last token's output
 * (every token's K and V still go to the cache). */
static struct trit_gref attention(struct bctx *b, struct trit_gref cur, struct trit_gref pos,
                                  int il, int last)
{
	const struct trit_hparams *hp = b->p->hp;
	uint64_t D = hp->head_dim_k, Hq = hp->n_head[il], Hkv = hp->n_head_kv[il], T = b->T;
	struct trit_gref q, k, v, kc, vc, o;
	int32_t ip[4] = { (int32_t)b->p->n_kv };
	float fp[4] = { (float)(1.0 / sqrt((double)D)) };
	char nm[64];

	q = matmul(b, "attn_q", il, cur, "q");
	k = matmul(b, "attn_k", il, cur, "k");
	v = matmul(b, "attn_v", il, cur, "v");
	if (!b->rc && (q.t.ne[0] != Hq * D || k.t.ne[0] != Hkv * D || v.t.ne[0] != Hkv * D))
		fail(b, TRIT_EFORMAT, "layer %d: Q/K/V give %llu/%llu/%llu features; %llu heads "
		     "(%llu KV heads) of %llu need %llu/%llu/%llu", il,
		     (unsigned long long)q.t.ne[0], (unsigned long long)k.t.ne[0],
		     (unsigned long long)v.t.ne[0], (unsigned long long)Hq, (unsigned long long)Hkv,
		     (unsigned long long)D, (unsigned long long)(Hq * D),
		     (unsigned long long)(Hkv * D), (unsigned long long)(Hkv * D));
	q = trit_gref_reshape(q, D, Hq, T);
	k = trit_gref_reshape(k, D, Hkv, T);
	v = trit_gref_reshape(v, D, Hkv, T);
	rope(b, q, pos, il, "rope_q");
	rope(b, k, pos, il, "rope_k");
	kc = cache(b, 0, il, D, Hkv);
	vc = cache(b, 1, il, D, Hkv);
	{
		struct trit_gref ks[2] = { k, pos }, vs[2] = { v, pos };
		node(b, TRIT_OP_KV_WRITE, kc, ks, 2, NULL, NULL, lname(nm, sizeof nm, "k_cache", il));
		node(b, TRIT_OP_KV_WRITE, vc, vs, 2, NULL, NULL, lname(nm, sizeof nm, "v_cache", il));
	}
	if (last) {
		q = last_token(q);
		pos = last_pos(pos);
		T = 1;
	}
	o = act(b, TRIT_TYPE_F32, D * Hq, T, "attn");
	{
		struct trit_gref src[4] = { q, kc, vc, pos };
		node(b, TRIT_OP_ATTENTION, trit_gref_reshape(o, D, Hq, T), src, 4, ip, fp,
		     lname(nm, sizeof nm, "attn", il));
	}
	return o;
}

static int32_t ffn_act(const struct bctx *b)
{
	const char *a = b->p->hp->hidden_act;

	if (b->arch == TRIT_ARCH_BITNET_B158)
		return TRIT_OP_RELU2;
	if (b->arch == TRIT_ARCH_BITNET && (!strcmp(a, "relu2") || !strcmp(a, "relu_sqr")))
		return TRIT_OP_RELU2;
	if (b->arch == TRIT_ARCH_BITNET && (!strcmp(a, "gelu") || !strcmp(a, "gelu_pytorch_tanh")))
		return TRIT_OP_GELU;
	return TRIT_OP_SILU;
}

static struct trit_gref layer(struct bctx *b, struct trit_gref inp, struct trit_gref pos, int il)
{
	int bitnet = b->arch != TRIT_ARCH_LLAMA;
	/* the last layer computes only what the head reads (as llama.cpp) */
	int last = !b->p->all_logits && (uint32_t)il + 1 == b->p->hp->n_layer;
	uint32_t n_ff = b->p->hp->n_ff[il];
	struct trit_gref cur, ffn_inp, gate, up, h;
	int32_t ip[4] = { ffn_act(b) };
	char nm[64];

	b->g->cur_layer = il;
	cur = norm(b, inp, "attn_norm.weight", il, "attn_norm");
	cur = attention(b, cur, pos, il, last);
	if (last)
		inp = trit_gref_rows(inp, b->T - 1, 1);
	if (bitnet)
		cur = norm(b, cur, "attn_sub_norm.weight", il, "attn_sub_norm");
	cur = matmul(b, "attn_output", il, cur, "attn_output");
	ffn_inp = add(b, cur, inp, il, "ffn_inp");
	cur = norm(b, ffn_inp, "ffn_norm.weight", il, "ffn_norm");
	gate = matmul(b, "ffn_gate", il, cur, "ffn_gate");
	up = matmul(b, "ffn_up", il, cur, "ffn_up");
	if (!b->rc && (gate.t.ne[0] != up.t.ne[0] || (n_ff && gate.t.ne[0] != n_ff)))
		fail(b, TRIT_EFORMAT, "layer %d: ffn_gate gives %llu features, ffn_up %llu, "
		     "feed_forward_length is %u", il, (unsigned long long)gate.t.ne[0],
		     (unsigned long long)up.t.ne[0], n_ff);
	h = act(b, TRIT_TYPE_F32, gate.t.ne[0], gate.t.ne[1], "ffn_act");
	{
		struct trit_gref src[2] = { gate, up };
		node(b, TRIT_OP_GLU, h, src, 2, ip, NULL, lname(nm, sizeof nm, "ffn_glu", il));
	}
	if (bitnet)
		h = norm(b, h, "ffn_sub_norm.weight", il, "ffn_sub_norm");
	cur = matmul(b, "ffn_down", il, h, "ffn_down");
	return add(b, cur, ffn_inp, il, "l_out");
}

/* The head: "output.weight", or token_embd when tied (always for llama.cpp's
 * bitnet). */
static struct trit_gref head(struct bctx *b, struct trit_gref x)
{
	int tied = b->arch == TRIT_ARCH_BITNET || !b->in->weight(b->in->weight_ctx, "output.weight");

	return matmul_w(b, tied ? "token_embd" : "output", tied ? b->in->head : NULL, -1, x,
	                "output");
}

int trit_graph_head_is_tied(const struct trit_hparams *hp, int has_output)
{
	enum trit_arch a;
	char e[8];

	return !has_output || (trit_graph_arch(hp, &a, e, sizeof e) == 0 && a == TRIT_ARCH_BITNET);
}

static int check_hparams(const struct trit_hparams *hp, char *err, size_t errlen)
{
	if (!hp->n_layer || !hp->n_embd || !hp->head_dim_k || !hp->n_vocab)
		return trit_errf(err, errlen, TRIT_EFORMAT, "the model states no layer count, "
		                 "embedding length, head size or vocabulary size");
	if (hp->head_dim_v != hp->head_dim_k || !hp->n_rot || hp->n_rot > hp->head_dim_k ||
	    hp->n_rot % 2)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "head sizes K %u / V %u with %u "
		                 "RoPE dimensions: trit's attention needs equal K and V sizes and an "
		                 "even RoPE count no larger", hp->head_dim_k, hp->head_dim_v, hp->n_rot);
	if (!(hp->norm_eps > 0))
		return trit_errf(err, errlen, TRIT_EFORMAT, "%s.attention.layer_norm_rms_epsilon is "
		                 "missing; the RMS norms need it", hp->arch);
	for (uint32_t il = 0; il < hp->n_layer; il++)
		if (!hp->n_head[il] || !hp->n_head_kv[il] || hp->n_head[il] % hp->n_head_kv[il])
			return trit_errf(err, errlen, TRIT_EFORMAT, "layer %u has %u heads and %u KV "
			                 "heads; the heads must be a multiple of the KV heads", il,
			                 hp->n_head[il], hp->n_head_kv[il]);
	return 0;
}

/* Tensors llama.cpp's llama graph would use and this one would silently
 * ignore: refuse them rather than compute something else. */
static int check_unsupported(struct bctx *b)
{
	static const char *const names[] = { "rope_freqs.weight", "blk.0.attn_q.bias",
	                                     "blk.0.attn_output.bias", "blk.0.ffn_gate_inp.weight" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (b->in->weight(b->in->weight_ctx, names[i]))
			return trit_errf(b->err, b->errlen, TRIT_EUNSUPPORTED, "the model has %s "
			                 "(RoPE frequency factors, biases or experts), which trit's %s "
			                 "graph does not run yet", names[i], trit_graph_arch_name(b->arch));
	return 0;
}

int trit_graph_build(const struct trit_graph_params *p, const struct trit_graph_inputs *in,
                     struct trit_nodelist *g, char *err, size_t errlen)
{
	struct bctx b = { g, p, in, 0, p->n_tokens, err, errlen, 0 };
	const struct trit_hparams *hp = p->hp;
	struct trit_gref tok, pos, x;
	int rc;

	if ((rc = trit_graph_arch(hp, &b.arch, err, errlen)) || (rc = check_hparams(hp, err, errlen)) ||
	    (rc = check_unsupported(&b)))
		return rc;
	if (p->n_tokens == 0 || p->n_kv < p->n_tokens)
		return trit_errf(err, errlen, TRIT_EINVAL, "graph of %u tokens over %u cache positions",
		                 p->n_tokens, p->n_kv);
	g->cur_layer = -1;
	tok = act(&b, TRIT_TYPE_I32, p->n_tokens, 1, "tokens");
	pos = act(&b, TRIT_TYPE_I32, p->n_tokens, 1, "positions");
	x = act(&b, TRIT_TYPE_F32, hp->n_embd, p->n_tokens, "inp_embd");
	if (!b.rc) {
		const struct trit_tensor *emb = weight(&b, 1, "token_embd.weight", -1);
		if (emb && (emb->ne[0] != hp->n_embd || emb->ne[1] < hp->n_vocab))
			fail(&b, TRIT_EFORMAT, "token_embd.weight is [%llu x %llu]; expected [%u x %u]",
			     (unsigned long long)emb->ne[0], (unsigned long long)emb->ne[1], hp->n_embd,
			     hp->n_vocab);
		if (!b.rc) {
			struct trit_gref src[2] = { trit_gref_ext(emb), tok };
			node(&b, TRIT_OP_GET_ROWS, x, src, 2, NULL, NULL, "token_embd");
		}
	}
	for (uint32_t il = 0; il < hp->n_layer && !b.rc; il++)
		x = layer(&b, x, pos, (int)il);
	g->cur_layer = (int32_t)hp->n_layer;
	x = norm(&b, x, "output_norm.weight", -1, "output_norm");
	x = head(&b, x);
	if (!b.rc && x.t.ne[0] != hp->n_vocab)
		fail(&b, TRIT_EFORMAT, "the output head gives %llu logits for a vocabulary of %u",
		     (unsigned long long)x.t.ne[0], hp->n_vocab);
	if (b.rc)
		return b.rc;
	g->in_tokens = tok.slot;
	g->in_pos = pos.slot;
	g->out_logits = x.slot;
	g->n_tokens = p->n_tokens;
	g->n_outputs = p->all_logits ? p->n_tokens : 1;
	g->n_vocab = hp->n_vocab;
	trit_graph_mark_input(g, tok.slot);
	trit_graph_mark_input(g, pos.slot);
	trit_graph_mark_output(g, x.slot);
	return 0;
}

/* ------------------------------------------------------------------------ */

int trit_graph_arch(const struct trit_hparams *hp, enum trit_arch *out, char *err, size_t errlen)
{
	if (!strcmp(hp->family, "llama"))
		*out = TRIT_ARCH_LLAMA;
	else if (!strcmp(hp->arch, "bitnet"))
		*out = TRIT_ARCH_BITNET;
	else if (!strcmp(hp->family, "bitnet"))
		*out = TRIT_ARCH_BITNET_B158;
	else
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "architecture '%s' (family %s) has "
		                 "no forward pass in trit yet; it runs llama, bitnet and bitnet-b1.58",
		                 hp->arch, hp->family);
	return 0;
}

const char *trit_graph_arch_name(enum trit_arch a)
{
	switch (a) {
	case TRIT_ARCH_LLAMA: return "llama";
	case TRIT_ARCH_BITNET_B158: return "bitnet-b1.58";
	case TRIT_ARCH_BITNET: return "bitnet";
	}
	return "unknown";
}
