/*
 * llamacpp.c - llama.cpp's own buffers for a GGUF model on the CPU.
 *
 * Model: llama.cpp maps the file and its CPU buffer spans the tensor data,
 * from the first tensor's offset to the last one's end. KV cache: each
 * sequence its own stream of pad256(pad256(n_ctx) / n_seq) cells, K and V
 * rows of every layer (sliding-window layers of gemma2/3 capped at
 * pad256(window + tokens)). Compute buffer: llama.cpp reserves the graph of
 * T = min(n_ctx, n_ubatch) tokens, every one of them producing logits, in one
 * buffer that ggml-alloc reuses as tensors die, so its size is the largest
 * set of tensors alive at one moment. Three moments decide it (measured in
 * tests/llamacpp-profile.sh; docs/llamacpp-memory.md):
 *   logits:    n_vocab x T f32, the final norm's input and output (2E)
 *   attention: without flash attention, the scores n_head x n_kv x T f32
 *              with the mask, the cache's row indices, and the layer's
 *              q, k, v and residual (3E + 2Q; phi3's fused qkv 3E, gpt2 6E)
 *   FFN:       gate, up and their product (3F) with the layer's input,
 *              residual and norms (4E; phi3 3E), the mask and indices
 * plus T x 3 i32 inputs (tokens, positions, output ids), E = n_embd x T f32,
 * Q = n_head x head_dim x T f32, F = n_ff x T f32 (MoE: the used experts').
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "plan/estimate.h"
#include "plan/llamacpp.h"

#define PAD(x, n) (((x) + (n) - 1) / (n) * (n))

/* The architectures whose graph the compute formula was measured on. */
static const char *const measured[] = { "llama", "qwen2", "qwen3", "qwen3moe", "gemma2", "phi3",
                                        "gpt2" };

static int is_measured(const char *arch)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(measured); i++)
		if (strcmp(arch, measured[i]) == 0)
			return 1;
	return 0;
}

static uint64_t model_span(const struct trit_model *m)
{
	uint64_t sum = 0;

	for (uint32_t f = 0; f < m->n_files; f++) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (size_t i = 0; i < m->n_tensors; i++) {
			const struct trit_model_tensor *t = &m->tensors[i];
			if (t->file != f)
				continue;
			if (t->offset < lo)
				lo = t->offset;
			if (t->offset + t->n_bytes > hi)
				hi = t->offset + t->n_bytes;
		}
		if (hi > lo)
			sum += hi - lo;
	}
	return sum;
}

/* Layers llama.cpp gives a sliding window: gemma2's and gemma3's pattern. */
static int swa_layer(const struct trit_model *m, uint32_t il)
{
	const struct trit_hparams *hp = &m->hp;

	return hp->sliding_window && hp->swa && hp->swa[il] &&
	       (strcmp(hp->arch, "gemma2") == 0 || strcmp(hp->arch, "gemma3") == 0);
}

static int refuse_kv(const struct trit_model *m, const struct trit_llamacpp_opts *o, int fa,
                     char *err, size_t errlen)
{
	if (o->kv_type != TRIT_KV_Q8_0)
		return 0;
	if (!fa)
		return trit_errf(err, errlen, TRIT_EINVAL, "llama.cpp refuses a quantized V cache "
		                 "without flash attention");
	if (m->hp.head_dim_k % 32 || m->hp.head_dim_v % 32)
		return trit_errf(err, errlen, TRIT_EINVAL, "llama.cpp refuses a q8_0 cache for head "
		                 "sizes %u/%u that are not whole blocks of 32", m->hp.head_dim_k,
		                 m->hp.head_dim_v);
	return 0;
}

static void compute(const struct trit_model *m, uint32_t n_kv, uint32_t swa_cells,
                    int has_swa, struct trit_llamacpp_mem *out)
{
	const struct trit_hparams *hp = &m->hp;
	uint64_t t = out->n_tokens, e = (uint64_t)hp->n_embd * t * 4;
	uint64_t heads = hp->n_head[0], kv_heads = hp->n_head_kv[0];
	uint64_t q = heads * hp->head_dim_k * t * 4;
	uint64_t ff = hp->n_expert ? (uint64_t)(hp->n_ff_exp ? hp->n_ff_exp : hp->n_ff[0]) *
	              hp->n_expert_used : hp->n_ff[0];
	uint64_t f = ff * t * 4, small = 3 * t * 4, mask = 0, idx = 0, n_caches = has_swa ? 2 : 1;
	int phi3 = strcmp(hp->arch, "phi3") == 0, gpt2 = strcmp(hp->arch, "gpt2") == 0;

	mask = (uint64_t)n_kv * t * (out->flash_attn ? 2 : 4);
	if (has_swa)
		mask += (uint64_t)swa_cells * t * (out->flash_attn ? 2 : 4);
	idx = n_caches * (t * 8 + (out->flash_attn ? t * 8 : kv_heads * hp->head_dim_v * t * 8));
	out->logits_phase = (uint64_t)hp->n_vocab * t * 4 + 2 * e + small;
	out->attention_phase = out->flash_attn ? 0 :
	                       heads * n_kv * t * 4 + mask + idx + small +
	                       (phi3 ? 3 * e : gpt2 ? 6 * e : 3 * e + 2 * q);
	out->ffn_phase = 3 * f + (phi3 ? 3 * e : 4 * e) + mask + idx + small;
	out->compute = out->logits_phase;
	if (out->attention_phase > out->compute)
		out->compute = out->attention_phase;
	if (out->ffn_phase > out->compute)
		out->compute = out->ffn_phase;
}

int trit_llamacpp_predict(const struct trit_model *m, const struct trit_llamacpp_opts *o,
                          struct trit_llamacpp_mem *out, char *err, size_t errlen)
{
	const struct trit_hparams *hp = &m->hp;
	uint32_t seq = o->n_seq ? o->n_seq : 1, ub = o->n_ubatch ? o->n_ubatch : 512;
	uint32_t ctx = o->n_ctx ? o->n_ctx : hp->n_ctx_train, n_kv, swa_cells = 0;
	int has_swa = 0, rc;

	memset(out, 0, sizeof *out);
	if (m->format != TRIT_MODEL_GGUF)
		return trit_errf(err, errlen, TRIT_EINVAL, "llama.cpp runs GGUF files; %s is "
		                 "SafeTensors (convert it first)", m->path);
	if (!ctx || !hp->n_layer || !hp->n_head || !hp->n_head_kv || !hp->n_ff)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s does not state the context, heads and "
		                 "sizes llama.cpp's buffers are made from", m->path);
	out->flash_attn = o->fa != TRIT_FA_OFF;
	if ((rc = refuse_kv(m, o, out->flash_attn, err, errlen)))
		return rc;
	out->n_tokens = ctx < ub ? ctx : ub;
	n_kv = PAD(PAD(ctx, 256u) / seq, 256u);
	out->n_ctx = n_kv * seq;
	out->model = model_span(m);
	for (uint32_t il = 0; il < hp->n_layer; il++) {
		uint32_t cells = n_kv;
		if (swa_layer(m, il)) {
			swa_cells = PAD(hp->sliding_window + out->n_tokens, 256u);
			if (swa_cells > n_kv)
				swa_cells = n_kv;
			cells = swa_cells;
			has_swa = 1;
		}
		out->kv += trit_estimate_kv_layer(m, il, cells * seq, o->kv_type, 1);
	}
	if (!is_measured(hp->arch)) {
		snprintf(out->compute_why, sizeof out->compute_why, "the compute buffer is predicted "
		         "for the architectures measured against llama.cpp (llama, qwen2, qwen3, "
		         "qwen3moe, gemma2, phi3, gpt2), not %s", hp->arch);
		return 0;
	}
	compute(m, n_kv, swa_cells, has_swa, out);
	return 0;
}
