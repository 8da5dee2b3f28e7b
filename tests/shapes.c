/*
 * shapes.c - the table of published model shapes and the enumeration of
 * their tensors in GGUF (llama.cpp) and Hugging Face naming. Hyper-parameters
 * come from each model's config.json; counts from its card or paper (cited
 * per entry). Writing files from these lists is genmodel.c's business.
 */
#include <build-config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shapes.h"

#define K1 UINT64_C(1000)
#define M1 UINT64_C(1000000)
#define G1 UINT64_C(1000000000)

/* ------------------------------------------------------------ the table */

const struct shape shapes[] = {
	/* huggingface.co/meta-llama/Llama-3.1-8B config.json (rope_scaling
	 * llama3: factor 8, original_max_position_embeddings 8192); 8B on the
	 * model card, 8.03B on its model page (safetensors count). */
	{ .name = "Llama-3.1-8B", .gguf_arch = "llama", .hf_model_type = "llama",
	  .hf_arch = "LlamaForCausalLM", .family = SHAPE_LLAMA,
	  .n_layer = 32, .n_embd = 4096, .n_head = 32, .n_head_kv = 8,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 14336, .n_vocab = 128256,
	  .n_ctx_train = 131072, .n_rot = 128, .rope_base = 500000, .norm_eps = 1e-5,
	  .llama3_rope = true, .rope_scale = 8, .rope_orig_ctx = 8192,
	  .tok_model = "gpt2", .tok_pre = "llama-bpe", .n_merges = 280147,
	  .bos_id = 128000, .eos_id = 128001,
	  .claims = { { SCOPE_TOTAL, 8030 * M1, 10 * M1, "Hugging Face model page: 8.03B params" } },
	  .source = "huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json" },

	/* huggingface.co/meta-llama/Llama-3.1-70B config.json (80 layers, 64
	 * heads, 8 KV heads, intermediate 28672, rope_scaling llama3 factor 8
	 * over 8192); its model page: 70.6B params. The tensor- and
	 * pipeline-parallel plans are tested on it (tests/parallel.sh). */
	{ .name = "Llama-3.1-70B", .gguf_arch = "llama", .hf_model_type = "llama",
	  .hf_arch = "LlamaForCausalLM", .family = SHAPE_LLAMA,
	  .n_layer = 80, .n_embd = 8192, .n_head = 64, .n_head_kv = 8,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 28672, .n_vocab = 128256,
	  .n_ctx_train = 131072, .n_rot = 128, .rope_base = 500000, .norm_eps = 1e-5,
	  .llama3_rope = true, .rope_scale = 8, .rope_orig_ctx = 8192,
	  .tok_model = "gpt2", .tok_pre = "llama-bpe", .n_merges = 280147,
	  .bos_id = 128000, .eos_id = 128001,
	  .claims = { { SCOPE_TOTAL, 70600 * M1, 100 * M1, "Hugging Face model page: 70.6B params" } },
	  .source = "huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json" },

	/* meta-llama/Llama-3.2-1B config.json (head_dim 64, tied, rope_scaling
	 * llama3 factor 32); the model card's table says "1B (1.23B)". */
	{ .name = "Llama-3.2-1B", .gguf_arch = "llama", .hf_model_type = "llama",
	  .hf_arch = "LlamaForCausalLM", .family = SHAPE_LLAMA,
	  .n_layer = 16, .n_embd = 2048, .n_head = 32, .n_head_kv = 8,
	  .head_dim_k = 64, .head_dim_v = 64, .n_ff = 8192, .n_vocab = 128256,
	  .n_ctx_train = 131072, .n_rot = 64, .rope_base = 500000, .norm_eps = 1e-5,
	  .tied = true, .llama3_rope = true, .rope_scale = 32, .rope_orig_ctx = 8192,
	  .tok_model = "gpt2", .tok_pre = "llama-bpe", .n_merges = 280147,
	  .bos_id = 128000, .eos_id = 128001,
	  .claims = { { SCOPE_TOTAL, 1230 * M1, 10 * M1, "model card: 1B (1.23B)" } },
	  .source = "huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json" },

	/* Qwen/Qwen2.5-7B config.json (q/k/v biases, untied); model card:
	 * "Number of Parameters: 7.61B; Non-Embedding: 6.53B". */
	{ .name = "Qwen2.5-7B", .gguf_arch = "qwen2", .hf_model_type = "qwen2",
	  .hf_arch = "Qwen2ForCausalLM", .family = SHAPE_QWEN2,
	  .n_layer = 28, .n_embd = 3584, .n_head = 28, .n_head_kv = 4,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 18944, .n_vocab = 152064,
	  .n_ctx_train = 131072, .n_rot = 128, .rope_base = 1000000, .norm_eps = 1e-6,
	  .qkv_bias = true,
	  .tok_model = "gpt2", .tok_pre = "qwen2", .n_merges = 151387,
	  .bos_id = 151643, .eos_id = 151643,
	  .claims = { { SCOPE_TOTAL, 7610 * M1, 10 * M1, "model card: 7.61B" },
	              { SCOPE_NON_EMBEDDING, 6530 * M1, 10 * M1, "model card: 6.53B non-embedding" } },
	  .source = "huggingface.co/Qwen/Qwen2.5-7B/blob/main/config.json" },

	/* mistralai/Mixtral-8x7B-v0.1 config.json (8 local experts, 2 per
	 * token); mistral.ai/news/mixtral-of-experts: "46.7B total parameters
	 * but only uses 12.9B parameters per token". llama.cpp: arch llama. */
	{ .name = "Mixtral-8x7B", .gguf_arch = "llama", .hf_model_type = "mixtral",
	  .hf_arch = "MixtralForCausalLM", .family = SHAPE_LLAMA,
	  .n_layer = 32, .n_embd = 4096, .n_head = 32, .n_head_kv = 8,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 14336, .n_vocab = 32000,
	  .n_ctx_train = 32768, .n_rot = 128, .rope_base = 1000000, .norm_eps = 1e-5,
	  .n_expert = 8, .n_expert_used = 2, .n_ff_exp = 14336,
	  .tok_model = "llama", .tok_pre = "default", .bos_id = 1, .eos_id = 2,
	  .claims = { { SCOPE_TOTAL, 46700 * M1, 100 * M1, "mistral.ai: 46.7B total" },
	              { SCOPE_ACTIVE, 12900 * M1, 100 * M1, "mistral.ai: 12.9B per token" } },
	  .source = "huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json" },

	/* deepseek-ai/DeepSeek-V2-Lite config.json: q_lora_rank null,
	 * kv_lora_rank 512, qk_rope_head_dim 64, qk_nope_head_dim 128,
	 * v_head_dim 128, 64 routed + 2 shared experts (1408), 6 per token,
	 * first_k_dense_replace 1, yarn factor 40 over 4096. Paper and card:
	 * 15.7B total. (Its "2.4B activated" counts the embedding but not the
	 * output head, a convention this table does not model.) */
	{ .name = "DeepSeek-V2-Lite", .gguf_arch = "deepseek2", .hf_model_type = "deepseek_v2",
	  .hf_arch = "DeepseekV2ForCausalLM", .family = SHAPE_DEEPSEEK2,
	  .n_layer = 27, .n_embd = 2048, .n_head = 16, .n_head_kv = 16,
	  .head_dim_k = 192, .head_dim_v = 128, .n_ff = 10944, .n_vocab = 102400,
	  .n_ctx_train = 163840, .n_rot = 64, .rope_base = 10000, .norm_eps = 1e-6,
	  .rope_scale = 40, .rope_orig_ctx = 4096,
	  .n_expert = 64, .n_expert_used = 6, .n_expert_shared = 2, .n_ff_exp = 1408,
	  .n_dense_lead = 1,
	  .q_lora_rank = 0, .kv_lora_rank = 512, .qk_rope_dim = 64, .qk_nope_dim = 128,
	  .v_head_dim = 128,
	  .tok_model = "gpt2", .tok_pre = "deepseek-llm", .n_merges = 99757,
	  .bos_id = 100000, .eos_id = 100001,
	  .claims = { { SCOPE_TOTAL, 15700 * M1, 100 * M1, "DeepSeek-V2 paper / card: 15.7B" } },
	  .source = "huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json" },

	/* google/gemma-2-9b config.json (head_dim 256, sliding_window 4096 on
	 * even layers, softcaps 50/30, tied); Gemma 2 report (arXiv:2408.00118)
	 * Table 2: 8,324,201,984 non-embedding parameters. Its embedding count
	 * uses a padded 256,128-row table, so it is not claimed here. */
	{ .name = "Gemma-2-9B", .gguf_arch = "gemma2", .hf_model_type = "gemma2",
	  .hf_arch = "Gemma2ForCausalLM", .family = SHAPE_GEMMA2,
	  .n_layer = 42, .n_embd = 3584, .n_head = 16, .n_head_kv = 8,
	  .head_dim_k = 256, .head_dim_v = 256, .n_ff = 14336, .n_vocab = 256000,
	  .n_ctx_train = 8192, .n_rot = 256, .rope_base = 10000, .norm_eps = 1e-6,
	  .tied = true, .sliding_window = 4096, .swa_period = 2,
	  .attn_softcap = 50, .final_softcap = 30,
	  .tok_model = "llama", .tok_pre = "default", .bos_id = 2, .eos_id = 1,
	  .claims = { { SCOPE_NON_EMBEDDING, UINT64_C(8324201984), 0, "Gemma 2 report, Table 2" } },
	  .source = "huggingface.co/google/gemma-2-9b/blob/main/config.json" },

	/* microsoft/bitnet-b1.58-2B-4T config.json (relu2, tied, subln; packed
	 * U8 weights with weight_scale, quantization_config bitnet offline);
	 * model card: "Parameters: ~2 Billion". bitnet.cpp GGUF arch string. */
	{ .name = "BitNet-b1.58-2B-4T", .gguf_arch = "bitnet-b1.58", .hf_model_type = "bitnet",
	  .hf_arch = "BitNetForCausalLM", .family = SHAPE_BITNET,
	  .n_layer = 30, .n_embd = 2560, .n_head = 20, .n_head_kv = 5,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 6912, .n_vocab = 128256,
	  .n_ctx_train = 4096, .n_rot = 128, .rope_base = 500000, .norm_eps = 1e-5,
	  .tied = true, .ternary_packed = true,
	  .tok_model = "gpt2", .tok_pre = "llama-bpe", .n_merges = 280147,
	  .bos_id = 128000, .eos_id = 128001,
	  .claims = { { SCOPE_TOTAL, 2 * G1, G1, "model card: ~2 Billion" } },
	  .source = "huggingface.co/microsoft/bitnet-b1.58-2B-4T/blob/main/config.json" },

	/* tiiuae/Falcon3-10B-Instruct-1.58bit: the Falcon3-10B shape
	 * (config.json: 40 layers, 3072, 12 heads, 4 KV, head_dim 256, FFN
	 * 23040, vocab 131072, rope_theta 1000042, untied) as a llama model
	 * with BitLinear layers: packed U8 weights, quantization_config bitnet.
	 * Falcon3 card: 10B. */
	{ .name = "Falcon3-10B-1.58bit", .gguf_arch = "llama", .hf_model_type = "llama",
	  .hf_arch = "LlamaForCausalLM", .family = SHAPE_LLAMA,
	  .n_layer = 40, .n_embd = 3072, .n_head = 12, .n_head_kv = 4,
	  .head_dim_k = 256, .head_dim_v = 256, .n_ff = 23040, .n_vocab = 131072,
	  .n_ctx_train = 32768, .n_rot = 256, .rope_base = 1000042, .norm_eps = 1e-6,
	  .ternary_packed = true,
	  .tok_model = "gpt2", .tok_pre = "falcon3", .bos_id = 11, .eos_id = 11,
	  .claims = { { SCOPE_TOTAL, 10 * G1, G1, "Falcon3 model card: 10B" } },
	  .source = "huggingface.co/tiiuae/Falcon3-10B-Instruct-1.58bit/blob/main/config.json" },

	/* mistralai/Mistral-7B-v0.3 config.json (vocab 32768); Mistral's
	 * announcement of Mistral 7B: 7.3B (v0.1; v0.3 adds 768 vocabulary rows). */
	{ .name = "Mistral-7B-v0.3", .gguf_arch = "llama", .hf_model_type = "mistral",
	  .hf_arch = "MistralForCausalLM", .family = SHAPE_LLAMA,
	  .n_layer = 32, .n_embd = 4096, .n_head = 32, .n_head_kv = 8,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 14336, .n_vocab = 32768,
	  .n_ctx_train = 32768, .n_rot = 128, .rope_base = 1000000, .norm_eps = 1e-5,
	  .tok_model = "llama", .tok_pre = "default", .bos_id = 1, .eos_id = 2,
	  .claims = { { SCOPE_TOTAL, 7300 * M1, 100 * M1, "mistral.ai: 7.3B" } },
	  .source = "huggingface.co/mistralai/Mistral-7B-v0.3/blob/main/config.json" },

	/* Qwen/Qwen3-8B config.json (q/k norms, untied); card: 8.2B total,
	 * 6.95B non-embedding. */
	{ .name = "Qwen3-8B", .gguf_arch = "qwen3", .hf_model_type = "qwen3",
	  .hf_arch = "Qwen3ForCausalLM", .family = SHAPE_QWEN3,
	  .n_layer = 36, .n_embd = 4096, .n_head = 32, .n_head_kv = 8,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 12288, .n_vocab = 151936,
	  .n_ctx_train = 40960, .n_rot = 128, .rope_base = 1000000, .norm_eps = 1e-6,
	  .tok_model = "gpt2", .tok_pre = "qwen2", .n_merges = 151387,
	  .bos_id = 151643, .eos_id = 151645,
	  .claims = { { SCOPE_TOTAL, 8200 * M1, 100 * M1, "model card: 8.2B" },
	              { SCOPE_NON_EMBEDDING, 6950 * M1, 10 * M1, "model card: 6.95B non-embedding" } },
	  .source = "huggingface.co/Qwen/Qwen3-8B/blob/main/config.json" },

	/* Qwen/Qwen3-30B-A3B config.json (128 experts of 768, 8 per token,
	 * norm_topk_prob, no shared experts); card: 30.5B total, 3.3B
	 * activated, 29.9B non-embedding. */
	{ .name = "Qwen3-30B-A3B", .gguf_arch = "qwen3moe", .hf_model_type = "qwen3_moe",
	  .hf_arch = "Qwen3MoeForCausalLM", .family = SHAPE_QWEN3MOE,
	  .n_layer = 48, .n_embd = 2048, .n_head = 32, .n_head_kv = 4,
	  .head_dim_k = 128, .head_dim_v = 128, .n_ff = 6144, .n_vocab = 151936,
	  .n_ctx_train = 40960, .n_rot = 128, .rope_base = 1000000, .norm_eps = 1e-6,
	  .n_expert = 128, .n_expert_used = 8, .n_ff_exp = 768, .norm_topk = true,
	  .tok_model = "gpt2", .tok_pre = "qwen2", .n_merges = 151387,
	  .bos_id = 151643, .eos_id = 151645,
	  .claims = { { SCOPE_TOTAL, 30500 * M1, 100 * M1, "model card: 30.5B" },
	              { SCOPE_ACTIVE, 3300 * M1, 100 * M1, "model card: 3.3B activated" },
	              { SCOPE_NON_EMBEDDING, 29900 * M1, 100 * M1, "model card: 29.9B non-embedding" } },
	  .source = "huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json" },

	/* microsoft/Phi-3-mini-4k-instruct config.json (fused qkv and gate_up,
	 * sliding_window 2047, untied); Phi-3 report (arXiv:2404.14219): 3.8B. */
	{ .name = "Phi-3-mini-4k", .gguf_arch = "phi3", .hf_model_type = "phi3",
	  .hf_arch = "Phi3ForCausalLM", .family = SHAPE_PHI3,
	  .n_layer = 32, .n_embd = 3072, .n_head = 32, .n_head_kv = 32,
	  .head_dim_k = 96, .head_dim_v = 96, .n_ff = 8192, .n_vocab = 32064,
	  .n_ctx_train = 4096, .n_rot = 96, .rope_base = 10000, .norm_eps = 1e-5,
	  .sliding_window = 2047, .rope_orig_ctx = 4096,
	  .tok_model = "llama", .tok_pre = "default", .bos_id = 1, .eos_id = 32000,
	  .claims = { { SCOPE_TOTAL, 3800 * M1, 100 * M1, "Phi-3 report: 3.8B" } },
	  .source = "huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json" },

	/* tiiuae/falcon-7b config.json (multi_query, parallel_attn, 71 heads of
	 * 64, LayerNorm with bias, no linear biases, tied); card: 7B. */
	{ .name = "Falcon-7B", .gguf_arch = "falcon", .hf_model_type = "falcon",
	  .hf_arch = "FalconForCausalLM", .family = SHAPE_FALCON,
	  .n_layer = 32, .n_embd = 4544, .n_head = 71, .n_head_kv = 1,
	  .head_dim_k = 64, .head_dim_v = 64, .n_ff = 18176, .n_vocab = 65024,
	  .n_ctx_train = 2048, .n_rot = 64, .rope_base = 10000, .norm_eps = 1e-5,
	  .layer_norm = true, .tied = true,
	  .tok_model = "gpt2", .tok_pre = "falcon", .n_merges = 64784,
	  .bos_id = 11, .eos_id = 11,
	  .claims = { { SCOPE_TOTAL, 7 * G1, G1, "model card: 7B" } },
	  .source = "huggingface.co/tiiuae/falcon-7b/blob/main/config.json" },

	/* openai-community/gpt2 config.json (n_embd 768, n_layer 12, n_ctx
	 * 1024, vocab 50257, tied); card: 124M. merges.txt: 50000 merges. */
	{ .name = "GPT-2", .gguf_arch = "gpt2", .hf_model_type = "gpt2",
	  .hf_arch = "GPT2LMHeadModel", .family = SHAPE_GPT2,
	  .n_layer = 12, .n_embd = 768, .n_head = 12, .n_head_kv = 12,
	  .head_dim_k = 64, .head_dim_v = 64, .n_ff = 3072, .n_vocab = 50257,
	  .n_ctx_train = 1024, .n_rot = 0, .norm_eps = 1e-5, .layer_norm = true, .tied = true,
	  .tok_model = "gpt2", .tok_pre = "gpt-2", .n_merges = 50000,
	  .bos_id = 50256, .eos_id = 50256,
	  .claims = { { SCOPE_TOTAL, 124 * M1, M1, "model card: 124M" } },
	  .source = "huggingface.co/openai-community/gpt2/blob/main/config.json" },

	/* google/gemma-3-1b-pt config.json (gemma3_text: head_dim 256, 1 KV
	 * head, sliding_window 512 with every 6th layer global, rope_theta 1e6
	 * global / 10000 local, tied); Gemma 3 report (arXiv:2503.19786)
	 * Table 1: 302M embedding, 698M non-embedding. */
	{ .name = "Gemma-3-1B", .gguf_arch = "gemma3", .hf_model_type = "gemma3_text",
	  .hf_arch = "Gemma3ForCausalLM", .family = SHAPE_GEMMA3,
	  .n_layer = 26, .n_embd = 1152, .n_head = 4, .n_head_kv = 1,
	  .head_dim_k = 256, .head_dim_v = 256, .n_ff = 6912, .n_vocab = 262144,
	  .n_ctx_train = 32768, .n_rot = 256, .rope_base = 1000000, .rope_base_local = 10000,
	  .norm_eps = 1e-6, .tied = true, .sliding_window = 512, .swa_period = 6,
	  .tok_model = "llama", .tok_pre = "default", .bos_id = 2, .eos_id = 1,
	  .claims = { { SCOPE_NON_EMBEDDING, 698 * M1, M1, "Gemma 3 report, Table 1: 698M" },
	              { SCOPE_EMBEDDING, 302 * M1, M1, "Gemma 3 report, Table 1: 302M" } },
	  .source = "huggingface.co/google/gemma-3-1b-pt/blob/main/config.json" },

	/* ---- tiny synthetic shapes of the same layouts (no publication) ---- */
#define TINY(nm, arch, mt, ha, fam) .name = nm, .gguf_arch = arch, .hf_model_type = mt, \
	.hf_arch = ha, .family = fam, .tiny = true, .n_vocab = 256, \
	.n_ctx_train = 256, .norm_eps = 1e-5, .rope_base = 10000, .n_merges = 64
	{ TINY("tiny-llama", "llama", "llama", "LlamaForCausalLM", SHAPE_LLAMA),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .head_dim_k = 16,
	  .head_dim_v = 16, .n_ff = 128, .n_rot = 16, .tok_model = "gpt2", .tok_pre = "llama-bpe" },
	{ TINY("tiny-mixtral", "llama", "mixtral", "MixtralForCausalLM", SHAPE_LLAMA),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .head_dim_k = 16, .head_dim_v = 16,
	  .n_ff = 128, .n_rot = 16, .n_expert = 4, .n_expert_used = 2, .n_ff_exp = 128,
	  .tok_model = "llama", .tok_pre = "default" },
	{ TINY("tiny-qwen2", "qwen2", "qwen2", "Qwen2ForCausalLM", SHAPE_QWEN2),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .head_dim_k = 16, .head_dim_v = 16,
	  .n_ff = 128, .n_rot = 16, .qkv_bias = true, .tok_model = "gpt2", .tok_pre = "qwen2" },
	{ TINY("tiny-qwen3", "qwen3", "qwen3", "Qwen3ForCausalLM", SHAPE_QWEN3),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .head_dim_k = 32, .head_dim_v = 32,
	  .n_ff = 128, .n_rot = 32, .tied = true, .tok_model = "gpt2", .tok_pre = "qwen2" },
	{ TINY("tiny-qwen3moe", "qwen3moe", "qwen3_moe", "Qwen3MoeForCausalLM", SHAPE_QWEN3MOE),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .head_dim_k = 32, .head_dim_v = 32,
	  .n_ff = 128, .n_rot = 32, .n_expert = 8, .n_expert_used = 2, .n_ff_exp = 32,
	  .norm_topk = true, .tok_model = "gpt2", .tok_pre = "qwen2" },
	{ TINY("tiny-gemma2", "gemma2", "gemma2", "Gemma2ForCausalLM", SHAPE_GEMMA2),
	  .n_layer = 2, .n_embd = 64, .n_head = 2, .n_head_kv = 1, .head_dim_k = 64, .head_dim_v = 64,
	  .n_ff = 128, .n_rot = 64, .tied = true, .sliding_window = 32, .swa_period = 2,
	  .attn_softcap = 50, .final_softcap = 30, .tok_model = "llama", .tok_pre = "default" },
	{ TINY("tiny-gemma3", "gemma3", "gemma3_text", "Gemma3ForCausalLM", SHAPE_GEMMA3),
	  .n_layer = 2, .n_embd = 64, .n_head = 2, .n_head_kv = 1, .head_dim_k = 32, .head_dim_v = 32,
	  .n_ff = 128, .n_rot = 32, .rope_base_local = 10000, .tied = true,
	  .sliding_window = 32, .swa_period = 6, .tok_model = "llama", .tok_pre = "default" },
	{ TINY("tiny-deepseek2", "deepseek2", "deepseek_v2", "DeepseekV2ForCausalLM", SHAPE_DEEPSEEK2),
	  .n_layer = 3, .n_embd = 64, .n_head = 2, .n_head_kv = 2, .head_dim_k = 48,
	  .head_dim_v = 32, .n_ff = 128, .n_rot = 16, .n_expert = 4, .n_expert_used = 2,
	  .n_expert_shared = 1, .n_ff_exp = 32, .n_dense_lead = 1, .kv_lora_rank = 64,
	  .qk_rope_dim = 16, .qk_nope_dim = 32, .v_head_dim = 32,
	  .tok_model = "gpt2", .tok_pre = "deepseek-llm" },
	{ TINY("tiny-phi3", "phi3", "phi3", "Phi3ForCausalLM", SHAPE_PHI3),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 4, .head_dim_k = 16, .head_dim_v = 16,
	  .n_ff = 128, .n_rot = 16, .sliding_window = 63, .rope_orig_ctx = 256,
	  .tok_model = "llama", .tok_pre = "default" },
	{ TINY("tiny-falcon", "falcon", "falcon", "FalconForCausalLM", SHAPE_FALCON),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 1, .head_dim_k = 16, .head_dim_v = 16,
	  .n_ff = 256, .n_rot = 16, .layer_norm = true, .tied = true,
	  .tok_model = "gpt2", .tok_pre = "falcon" },
	{ TINY("tiny-gpt2", "gpt2", "gpt2", "GPT2LMHeadModel", SHAPE_GPT2),
	  .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 4, .head_dim_k = 16, .head_dim_v = 16,
	  .n_ff = 256, .layer_norm = true, .tied = true, .tok_model = "gpt2", .tok_pre = "gpt-2" },
	/* rows of 256 so that I2_S (128) and TL2 (>= 256) apply */
	{ TINY("tiny-bitnet", "bitnet-b1.58", "bitnet", "BitNetForCausalLM", SHAPE_BITNET),
	  .n_layer = 2, .n_embd = 256, .n_head = 4, .n_head_kv = 2, .head_dim_k = 64, .head_dim_v = 64,
	  .n_ff = 512, .n_rot = 64, .tied = true, .ternary_packed = true,
	  .tok_model = "gpt2", .tok_pre = "llama-bpe" },
#undef TINY
};

const size_t shapes_count = sizeof shapes / sizeof shapes[0];

const struct shape *shape_find(const char *name)
{
	for (size_t i = 0; i < shapes_count; i++)
		if (strcmp(shapes[i].name, name) == 0)
			return &shapes[i];
	return NULL;
}

bool shape_layer_swa(const struct shape *s, uint32_t il)
{
	if (!s->sliding_window)
		return false;
	switch (s->swa_period) {
	case 0: return true;
	case 2: return il % 2 == 0;                 /* gemma2: even layers local */
	default: return (il + 1) % s->swa_period != 0; /* gemma3: every Nth global */
	}
}

/* ------------------------------------------------------ tensor lists */

struct list {
	struct shape_tensor *v;
	size_t n, cap;
	int oom;
	enum shape_naming naming;
};

static struct shape_tensor *add(struct list *l, int layer, const char *role, unsigned flags,
                                uint32_t n_dims, uint64_t a, uint64_t b, uint64_t c,
                                const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* Append a tensor with dims (a, b, c) in the naming's own order. */
static struct shape_tensor *add(struct list *l, int layer, const char *role, unsigned flags,
                                uint32_t n_dims, uint64_t a, uint64_t b, uint64_t c,
                                const char *fmt, ...)
{
	struct shape_tensor *t;
	va_list ap;

	if (l->oom)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		void *p = realloc(l->v, cap * sizeof *l->v);
		if (!p) {
			l->oom = 1;
			return NULL;
		}
		l->v = p;
		l->cap = cap;
	}
	t = &l->v[l->n++];
	memset(t, 0, sizeof *t);
	va_start(ap, fmt);
	vsnprintf(t->name, sizeof t->name, fmt, ap);
	va_end(ap);
	t->n_dims = n_dims;
	t->ne[0] = a;
	t->ne[1] = n_dims > 1 ? b : 1;
	t->ne[2] = n_dims > 2 ? c : 1;
	t->ne[3] = 1;
	t->layer = layer;
	t->role = role;
	t->flags = flags;
	t->params = flags & ST_NOT_PARAM ? 0 : t->ne[0] * t->ne[1] * t->ne[2];
	return t;
}

/*
 * A linear layer in each naming: GGUF {in, out} (ne[0] = in); HF [out, in].
 * In HF a ternary-packed layer is a U8 [out/4, in] weight plus a one-element
 * weight_scale, as transformers' BitLinear stores it.
 */
static void linear(struct list *l, const struct shape *s, int layer, const char *role,
                   unsigned flags, uint64_t in, uint64_t out, const char *name)
{
	struct shape_tensor *t;

	if (l->naming == SHAPE_GGUF) {
		add(l, layer, role, flags | ST_MATRIX, 2, in, out, 0, "%s", name);
		return;
	}
	if (s->ternary_packed && !(flags & (ST_TOKEN_EMB | ST_OUTPUT))) {
		t = add(l, layer, role, flags | ST_MATRIX | ST_PACKED, 2, out / 4, in, 0,
		        "%s.weight", name);
		if (t)
			t->params = in * out;
		add(l, layer, role, ST_NOT_PARAM | ST_SCALE, 1, 1, 0, 0, "%s.weight_scale", name);
		return;
	}
	add(l, layer, role, flags | ST_MATRIX, 2, out, in, 0, "%s.weight", name);
}

/* A 1-D vector (norm weight or bias), same in both namings. */
static void vec(struct list *l, int layer, const char *role, uint64_t n, const char *name)
{
	add(l, layer, role, 0, 1, n, 0, 0, "%s", name);
}

/* Routed experts: GGUF stacks them into one 3-D tensor per projection;
 * HF keeps one 2-D tensor per expert. */
static void experts(struct list *l, const struct shape *s, int il, const char *hf_prefix,
                    const char *const hf_names[3])
{
	uint64_t d = s->n_embd, f = s->n_ff_exp, e = s->n_expert;
	struct shape_tensor *t;

	if (l->naming == SHAPE_GGUF) {
		static const char *const roles[3] = { "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps" };
		for (int k = 0; k < 3; k++) {
			t = add(l, il, roles[k], ST_MATRIX | ST_EXPERT, 3, k == 2 ? f : d,
			        k == 2 ? d : f, e, "blk.%d.%s.weight", il, roles[k]);
			if (t)
				t->per_expert = d * f;
		}
		return;
	}
	for (uint64_t x = 0; x < e; x++) {
		static const char *const roles[3] = { "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps" };
		for (int k = 0; k < 3; k++) {
			t = add(l, il, roles[k], ST_MATRIX | ST_EXPERT, 2, k == 2 ? d : f, k == 2 ? f : d,
			        0, "%s.%llu.%s.weight", hf_prefix, (unsigned long long)x, hf_names[k]);
			if (t)
				t->per_expert = d * f;
		}
	}
}

/* Names of the pieces of one block, per naming. */
struct names {
	const char *attn_norm, *q, *k, *v, *o, *ffn_norm, *gate, *up, *down;
};

static const struct names gguf_names = {
	"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
	"ffn_gate", "ffn_up", "ffn_down"
};

static const struct names hf_names = {
	"input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
	"self_attn.o_proj", "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj",
	"mlp.down_proj"
};

/* "blk.3.attn_q" / "model.layers.3.self_attn.q_proj" (+ suffix) */
static const char *nm(const struct list *l, int il, const char *part, const char *suffix)
{
	static char buf[96];
	if (l->naming == SHAPE_GGUF)
		snprintf(buf, sizeof buf, "blk.%d.%s%s", il, part, suffix);
	else
		snprintf(buf, sizeof buf, "model.layers.%d.%s%s", il, part, suffix);
	return buf;
}

#define PICK(l, g, h) ((l)->naming == SHAPE_GGUF ? (g) : (h))

/* Attention of the llama-like families (all but MLA, fused qkv, gpt2). */
static void attention(struct list *l, const struct shape *s, int il)
{
	const struct names *N = PICK(l, &gguf_names, &hf_names);
	uint64_t d = s->n_embd, q = (uint64_t)s->n_head * s->head_dim_k;
	uint64_t k = (uint64_t)s->n_head_kv * s->head_dim_k;
	uint64_t v = (uint64_t)s->n_head_kv * s->head_dim_v;
	uint64_t o = (uint64_t)s->n_head * s->head_dim_v;
	const char *w = PICK(l, ".weight", "");

	linear(l, s, il, "attn_q", 0, d, q, nm(l, il, N->q, w));
	if (s->qkv_bias)
		vec(l, il, "attn_q_bias", q, nm(l, il, N->q, ".bias"));
	linear(l, s, il, "attn_k", 0, d, k, nm(l, il, N->k, w));
	if (s->qkv_bias)
		vec(l, il, "attn_k_bias", k, nm(l, il, N->k, ".bias"));
	linear(l, s, il, "attn_v", 0, d, v, nm(l, il, N->v, w));
	if (s->qkv_bias)
		vec(l, il, "attn_v_bias", v, nm(l, il, N->v, ".bias"));
	if (s->family == SHAPE_QWEN3 || s->family == SHAPE_QWEN3MOE || s->family == SHAPE_GEMMA3) {
		vec(l, il, "attn_q_norm", s->head_dim_k,
		    nm(l, il, PICK(l, "attn_q_norm", "self_attn.q_norm"), ".weight"));
		vec(l, il, "attn_k_norm", s->head_dim_k,
		    nm(l, il, PICK(l, "attn_k_norm", "self_attn.k_norm"), ".weight"));
	}
	if (s->family == SHAPE_BITNET)
		vec(l, il, "attn_sub_norm", d,
		    nm(l, il, PICK(l, "attn_sub_norm", "self_attn.attn_sub_norm"), ".weight"));
	linear(l, s, il, "attn_output", 0, o, d, nm(l, il, N->o, w));
}

/* Multi-head latent attention (DeepSeek-V2). GGUF follows llama.cpp's
 * converter since MLA absorption: kv_b is split into a transposed k_b
 * {nope, kv_lora, heads} and v_b {kv_lora, v, heads}. */
static void mla(struct list *l, const struct shape *s, int il)
{
	uint64_t d = s->n_embd, h = s->n_head, r = s->kv_lora_rank;
	uint64_t qk = s->qk_nope_dim + s->qk_rope_dim;
	const char *w = PICK(l, ".weight", "");

	if (s->q_lora_rank) {
		linear(l, s, il, "attn_q_a", 0, d, s->q_lora_rank,
		       nm(l, il, PICK(l, "attn_q_a", "self_attn.q_a_proj"), w));
		vec(l, il, "attn_q_a_norm", s->q_lora_rank,
		    nm(l, il, PICK(l, "attn_q_a_norm", "self_attn.q_a_layernorm"), ".weight"));
		linear(l, s, il, "attn_q_b", 0, s->q_lora_rank, h * qk,
		       nm(l, il, PICK(l, "attn_q_b", "self_attn.q_b_proj"), w));
	} else {
		linear(l, s, il, "attn_q", 0, d, h * qk,
		       nm(l, il, PICK(l, "attn_q", "self_attn.q_proj"), w));
	}
	linear(l, s, il, "attn_kv_a_mqa", 0, d, r + s->qk_rope_dim,
	       nm(l, il, PICK(l, "attn_kv_a_mqa", "self_attn.kv_a_proj_with_mqa"), w));
	vec(l, il, "attn_kv_a_norm", r,
	    nm(l, il, PICK(l, "attn_kv_a_norm", "self_attn.kv_a_layernorm"), ".weight"));
	if (l->naming == SHAPE_GGUF) {
		add(l, il, "attn_k_b", ST_MATRIX, 3, s->qk_nope_dim, r, h, "blk.%d.attn_k_b.weight", il);
		add(l, il, "attn_v_b", ST_MATRIX, 3, r, s->v_head_dim, h, "blk.%d.attn_v_b.weight", il);
	} else {
		linear(l, s, il, "attn_kv_b", 0, r, h * (s->qk_nope_dim + s->v_head_dim),
		       nm(l, il, "self_attn.kv_b_proj", ""));
	}
	linear(l, s, il, "attn_output", 0, h * s->v_head_dim, d,
	       nm(l, il, PICK(l, "attn_output", "self_attn.o_proj"), w));
}

/* Dense gated FFN of size f. */
static void ffn(struct list *l, const struct shape *s, int il, uint64_t f)
{
	const struct names *N = PICK(l, &gguf_names, &hf_names);
	const char *w = PICK(l, ".weight", "");

	linear(l, s, il, "ffn_gate", 0, s->n_embd, f, nm(l, il, N->gate, w));
	linear(l, s, il, "ffn_up", 0, s->n_embd, f, nm(l, il, N->up, w));
	if (s->family == SHAPE_BITNET)
		vec(l, il, "ffn_sub_norm", f,
		    nm(l, il, PICK(l, "ffn_sub_norm", "mlp.ffn_sub_norm"), ".weight"));
	linear(l, s, il, "ffn_down", 0, f, s->n_embd, nm(l, il, N->down, w));
}

static void moe(struct list *l, const struct shape *s, int il)
{
	static const char *const mixtral[3] = { "w1", "w3", "w2" };
	static const char *const hf[3] = { "gate_proj", "up_proj", "down_proj" };
	bool is_mixtral = s->family == SHAPE_LLAMA;
	const char *router = is_mixtral ? "block_sparse_moe.gate" : "mlp.gate";
	char prefix[96];

	if (l->naming == SHAPE_GGUF)
		add(l, il, "ffn_gate_inp", ST_MATRIX | ST_ROUTER, 2, s->n_embd, s->n_expert, 0,
		    "blk.%d.ffn_gate_inp.weight", il);
	else
		add(l, il, "ffn_gate_inp", ST_MATRIX | ST_ROUTER, 2, s->n_expert, s->n_embd, 0,
		    "model.layers.%d.%s.weight", il, router);
	snprintf(prefix, sizeof prefix, "model.layers.%d.%s", il,
	         is_mixtral ? "block_sparse_moe.experts" : "mlp.experts");
	experts(l, s, il, prefix, is_mixtral ? mixtral : hf);
	if (s->n_expert_shared) {
		uint64_t f = (uint64_t)s->n_ff_exp * s->n_expert_shared;
		const char *w = PICK(l, ".weight", "");
		linear(l, s, il, "ffn_gate_shexp", 0, s->n_embd, f,
		       nm(l, il, PICK(l, "ffn_gate_shexp", "mlp.shared_experts.gate_proj"), w));
		linear(l, s, il, "ffn_up_shexp", 0, s->n_embd, f,
		       nm(l, il, PICK(l, "ffn_up_shexp", "mlp.shared_experts.up_proj"), w));
		linear(l, s, il, "ffn_down_shexp", 0, f, s->n_embd,
		       nm(l, il, PICK(l, "ffn_down_shexp", "mlp.shared_experts.down_proj"), w));
	}
}

/* One block of the llama-like families (llama, bitnet, qwen, gemma, deepseek2). */
static void llama_block(struct list *l, const struct shape *s, int il)
{
	bool gemma = s->family == SHAPE_GEMMA2 || s->family == SHAPE_GEMMA3;
	const char *w = ".weight";

	vec(l, il, "attn_norm", s->n_embd, nm(l, il, PICK(l, "attn_norm", "input_layernorm"), w));
	if (s->family == SHAPE_DEEPSEEK2)
		mla(l, s, il);
	else
		attention(l, s, il);
	if (gemma) {
		vec(l, il, "post_attention_norm", s->n_embd,
		    nm(l, il, PICK(l, "post_attention_norm", "post_attention_layernorm"), w));
		vec(l, il, "ffn_norm", s->n_embd,
		    nm(l, il, PICK(l, "ffn_norm", "pre_feedforward_layernorm"), w));
	} else {
		vec(l, il, "ffn_norm", s->n_embd,
		    nm(l, il, PICK(l, "ffn_norm", "post_attention_layernorm"), w));
	}
	if (s->n_expert && (uint32_t)il >= s->n_dense_lead)
		moe(l, s, il);
	else
		ffn(l, s, il, s->n_ff);
	if (gemma)
		vec(l, il, "post_ffw_norm", s->n_embd,
		    nm(l, il, PICK(l, "post_ffw_norm", "post_feedforward_layernorm"), w));
}

static void phi3_block(struct list *l, const struct shape *s, int il)
{
	uint64_t d = s->n_embd, f = s->n_ff;
	uint64_t qkv = (uint64_t)s->n_head * s->head_dim_k + 2ull * s->n_head_kv * s->head_dim_k;
	const char *w = PICK(l, ".weight", "");

	vec(l, il, "attn_norm", d, nm(l, il, PICK(l, "attn_norm", "input_layernorm"), ".weight"));
	linear(l, s, il, "attn_qkv", 0, d, qkv, nm(l, il, PICK(l, "attn_qkv", "self_attn.qkv_proj"), w));
	linear(l, s, il, "attn_output", 0, d, d, nm(l, il, PICK(l, "attn_output", "self_attn.o_proj"), w));
	vec(l, il, "ffn_norm", d,
	    nm(l, il, PICK(l, "ffn_norm", "post_attention_layernorm"), ".weight"));
	/* gate and up fused: llama.cpp keeps them as one ffn_up of 2 * n_ff */
	linear(l, s, il, "ffn_up", 0, d, 2 * f, nm(l, il, PICK(l, "ffn_up", "mlp.gate_up_proj"), w));
	linear(l, s, il, "ffn_down", 0, f, d, nm(l, il, PICK(l, "ffn_down", "mlp.down_proj"), w));
}

static void falcon_block(struct list *l, const struct shape *s, int il)
{
	uint64_t d = s->n_embd, f = s->n_ff;
	uint64_t qkv = d + 2ull * s->n_head_kv * s->head_dim_k;
	char p[64];

	if (l->naming == SHAPE_GGUF) {
		vec(l, il, "attn_norm", d, nm(l, il, "attn_norm", ".weight"));
		vec(l, il, "attn_norm_bias", d, nm(l, il, "attn_norm", ".bias"));
		linear(l, s, il, "attn_qkv", 0, d, qkv, nm(l, il, "attn_qkv", ".weight"));
		linear(l, s, il, "attn_output", 0, d, d, nm(l, il, "attn_output", ".weight"));
		linear(l, s, il, "ffn_up", 0, d, f, nm(l, il, "ffn_up", ".weight"));
		linear(l, s, il, "ffn_down", 0, f, d, nm(l, il, "ffn_down", ".weight"));
		return;
	}
	snprintf(p, sizeof p, "transformer.h.%d.", il);
	add(l, il, "attn_norm", 0, 1, d, 0, 0, "%sinput_layernorm.weight", p);
	add(l, il, "attn_norm_bias", 0, 1, d, 0, 0, "%sinput_layernorm.bias", p);
	add(l, il, "attn_qkv", ST_MATRIX, 2, qkv, d, 0, "%sself_attention.query_key_value.weight", p);
	add(l, il, "attn_output", ST_MATRIX, 2, d, d, 0, "%sself_attention.dense.weight", p);
	add(l, il, "ffn_up", ST_MATRIX, 2, f, d, 0, "%smlp.dense_h_to_4h.weight", p);
	add(l, il, "ffn_down", ST_MATRIX, 2, d, f, 0, "%smlp.dense_4h_to_h.weight", p);
}

/* GPT-2: HF stores Conv1D weights as [in, out]; llama.cpp's converter
 * transposes them, so GGUF dims are the usual {in, out}. */
static void gpt2_block(struct list *l, const struct shape *s, int il)
{
	uint64_t d = s->n_embd, f = s->n_ff;
	static const struct {
		const char *g, *h, *role;
		int in, out; /* 0: d, 1: f, 3: 3d */
	} w[] = {
		{ "attn_qkv", "attn.c_attn", "attn_qkv", 0, 3 },
		{ "attn_output", "attn.c_proj", "attn_output", 0, 0 },
		{ "ffn_up", "mlp.c_fc", "ffn_up", 0, 1 },
		{ "ffn_down", "mlp.c_proj", "ffn_down", 1, 0 },
	};
	uint64_t size[4] = { d, f, 0, 3 * d };
	bool g = l->naming == SHAPE_GGUF;

	if (g) {
		vec(l, il, "attn_norm", d, nm(l, il, "attn_norm", ".weight"));
		vec(l, il, "attn_norm_bias", d, nm(l, il, "attn_norm", ".bias"));
	} else {
		add(l, il, "attn_norm", 0, 1, d, 0, 0, "h.%d.ln_1.weight", il);
		add(l, il, "attn_norm_bias", 0, 1, d, 0, 0, "h.%d.ln_1.bias", il);
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t in = size[w[i].in], out = size[w[i].out];
		if (i == 2) { /* ffn_norm sits between attention and MLP */
			if (g) {
				vec(l, il, "ffn_norm", d, nm(l, il, "ffn_norm", ".weight"));
				vec(l, il, "ffn_norm_bias", d, nm(l, il, "ffn_norm", ".bias"));
			} else {
				add(l, il, "ffn_norm", 0, 1, d, 0, 0, "h.%d.ln_2.weight", il);
				add(l, il, "ffn_norm_bias", 0, 1, d, 0, 0, "h.%d.ln_2.bias", il);
			}
		}
		if (g) {
			add(l, il, w[i].role, ST_MATRIX, 2, in, out, 0, "blk.%d.%s.weight", il, w[i].g);
			add(l, il, "bias", 0, 1, out, 0, 0, "blk.%d.%s.bias", il, w[i].g);
		} else {
			add(l, il, w[i].role, ST_MATRIX | ST_TRANSPOSED, 2, in, out, 0,
			    "h.%d.%s.weight", il, w[i].h);
			add(l, il, "bias", 0, 1, out, 0, 0, "h.%d.%s.bias", il, w[i].h);
		}
	}
}

static void enumerate(struct list *l, const struct shape *s)
{
	bool g = l->naming == SHAPE_GGUF;
	uint64_t d = s->n_embd, V = s->n_vocab;
	const char *emb = "model.embed_tokens.weight", *norm = "model.norm.weight";

	if (s->family == SHAPE_FALCON)
		emb = "transformer.word_embeddings.weight", norm = "transformer.ln_f.weight";
	if (s->family == SHAPE_GPT2)
		emb = "wte.weight", norm = "ln_f.weight";

	/* the embedding is a lookup table: GGUF {d, V}, HF [V, d] */
	add(l, -1, "token_embd", ST_MATRIX | ST_TOKEN_EMB, 2, g ? d : V, g ? V : d, 0, "%s",
	    g ? "token_embd.weight" : emb);
	if (s->family == SHAPE_GPT2)
		add(l, -1, "position_embd", ST_MATRIX | ST_POS_EMB, 2, g ? d : s->n_ctx_train,
		    g ? s->n_ctx_train : d, 0, "%s", g ? "position_embd.weight" : "wpe.weight");
	/* llama3 rope scaling: llama.cpp's converter adds the frequency factors
	 * as a tensor (not a model parameter; absent from the HF checkpoint) */
	if (g && s->llama3_rope)
		add(l, -1, "rope_freqs", ST_NOT_PARAM, 1, s->n_rot / 2, 0, 0, "rope_freqs.weight");

	for (uint32_t il = 0; il < s->n_layer; il++) {
		switch (s->family) {
		case SHAPE_PHI3: phi3_block(l, s, (int)il); break;
		case SHAPE_FALCON: falcon_block(l, s, (int)il); break;
		case SHAPE_GPT2: gpt2_block(l, s, (int)il); break;
		default: llama_block(l, s, (int)il); break;
		}
	}

	add(l, -1, "output_norm", 0, 1, d, 0, 0, "%s", g ? "output_norm.weight" : norm);
	if (s->layer_norm) {
		char bias[64];
		snprintf(bias, sizeof bias, "%s", norm);
		memcpy(bias + strlen(bias) - strlen("weight"), "bias", 5);
		add(l, -1, "output_norm_bias", 0, 1, d, 0, 0, "%s", g ? "output_norm.bias" : bias);
	}
	if (!s->tied)
		add(l, -1, "output", ST_MATRIX | ST_OUTPUT, 2, g ? d : V, g ? V : d, 0, "%s",
		    g ? "output.weight" : "lm_head.weight");
}

struct shape_tensor *shape_tensors(const struct shape *s, enum shape_naming n, size_t *count)
{
	struct list l = { .naming = n };

	enumerate(&l, s);
	if (l.oom) {
		free(l.v);
		return NULL;
	}
	*count = l.n;
	return l.v;
}

static bool in_scope(const struct shape *s, const struct shape_tensor *t, enum shape_scope sc)
{
	bool emb = t->flags & (ST_TOKEN_EMB | ST_POS_EMB | ST_OUTPUT);
	(void)s;
	switch (sc) {
	case SCOPE_TOTAL: return true;
	case SCOPE_NON_EMBEDDING: return !emb;
	case SCOPE_EMBEDDING: return emb;
	case SCOPE_ACTIVE: return true;
	default: return false;
	}
}

uint64_t shape_count(const struct shape *s, enum shape_naming n, enum shape_scope scope)
{
	size_t count = 0;
	struct shape_tensor *t = shape_tensors(s, n, &count);
	uint64_t sum = 0;

	if (!t)
		return 0;
	for (size_t i = 0; i < count; i++) {
		if (!in_scope(s, &t[i], scope))
			continue;
		if (scope == SCOPE_ACTIVE && (t[i].flags & ST_EXPERT)) {
			/* GGUF: one tensor holds all experts; HF: one per expert */
			uint64_t share = n == SHAPE_GGUF ? t[i].per_expert * s->n_expert_used
			                                 : t[i].params * s->n_expert_used / s->n_expert;
			sum += share;
			continue;
		}
		sum += t[i].params;
	}
	free(t);
	return sum;
}

bool shape_claim_holds(const struct shape_claim *c, uint64_t computed)
{
	uint64_t diff = computed > c->value ? computed - c->value : c->value - computed;
	uint64_t tol = c->value / 1000;

	if (c->unit == 0)
		return diff == 0;
	if (c->unit > tol)
		tol = c->unit;
	return diff <= tol;
}

const char *shape_scope_name(enum shape_scope scope)
{
	switch (scope) {
	case SCOPE_TOTAL: return "total";
	case SCOPE_NON_EMBEDDING: return "non-embedding";
	case SCOPE_EMBEDDING: return "embedding";
	case SCOPE_ACTIVE: return "active";
	default: return "none";
	}
}
