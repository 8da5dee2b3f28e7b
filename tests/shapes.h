/*
 * shapes.h - real published model shapes as data, and the tensors each one
 * has, named both as llama.cpp's GGUF files name them (GGML dims, ne[0] = row
 * length) and as the Hugging Face checkpoints do (row-major shapes as stored).
 * Test-side only: the generator and the suites use it; libtrit does not.
 */
#ifndef TRIT_TESTS_SHAPES_H
#define TRIT_TESTS_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The tensor layouts this table knows; one per block structure. */
enum shape_family {
	SHAPE_LLAMA,     /* llama, mistral, mixtral (MoE when n_expert > 0), falcon3 */
	SHAPE_BITNET,    /* llama + attn_sub_norm/ffn_sub_norm, relu2 FFN */
	SHAPE_QWEN2,     /* llama + q/k/v biases */
	SHAPE_QWEN3,     /* llama + per-head q/k RMS norms */
	SHAPE_QWEN3MOE,  /* qwen3 with routed experts only */
	SHAPE_GEMMA2,    /* pre+post norms around attention and FFN, alternating SWA */
	SHAPE_GEMMA3,    /* gemma2 + q/k norms, 5 local : 1 global layers */
	SHAPE_DEEPSEEK2, /* MLA attention, leading dense layers, routed + shared experts */
	SHAPE_PHI3,      /* fused qkv and gate_up */
	SHAPE_FALCON,    /* fused qkv, parallel attention/MLP, LayerNorm with bias */
	SHAPE_GPT2       /* learned positions, LayerNorm and biases everywhere */
};

/* What a published parameter count counts. */
enum shape_scope {
	SCOPE_NONE = 0,
	SCOPE_TOTAL,         /* every parameter, a tied output once */
	SCOPE_NON_EMBEDDING, /* total less token/position embeddings and output */
	SCOPE_EMBEDDING,     /* token (+ position) embeddings and an untied output */
	SCOPE_ACTIVE         /* per token: all but the routed experts not chosen */
};

/* A published count. unit 0: exact. Otherwise the unit of the last digit
 * published ("7.61B": 10M), and the count must agree within 0.1% or one such
 * unit, whichever is larger (publications round and truncate). */
struct shape_claim {
	enum shape_scope scope;
	uint64_t value;
	uint64_t unit;
	const char *where;
};

#define SHAPE_MAX_CLAIMS 3

struct shape {
	const char *name;          /* "Llama-3.1-8B" */
	const char *gguf_arch;     /* general.architecture */
	const char *hf_model_type; /* config.json model_type */
	const char *hf_arch;       /* config.json architectures[0] */
	enum shape_family family;
	bool tiny;                 /* synthetic small shape for fast tests */

	uint32_t n_layer, n_embd, n_head, n_head_kv;
	uint32_t head_dim_k, head_dim_v; /* per head; MLA: see below */
	uint32_t n_ff;             /* dense FFN (leading dense layers for MoE) */
	uint32_t n_vocab, n_ctx_train;
	uint32_t n_rot;            /* RoPE dimensions (0: none, learned positions) */
	double rope_base, rope_base_local; /* local: gemma3's sliding layers */
	double norm_eps;
	bool layer_norm;           /* LayerNorm (eps key layer_norm_epsilon) */
	bool tied;                 /* output shares token_embd */
	bool qkv_bias;
	bool llama3_rope;          /* rope_freqs.weight (llama3 rope scaling) */
	double rope_scale;         /* rope_scaling.factor (0: none) */
	uint32_t rope_orig_ctx;

	/* MoE: n_expert 0 for dense models */
	uint32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp, n_dense_lead;
	bool norm_topk;

	/* MLA (DeepSeek-V2): q_lora_rank 0 means a plain q projection */
	uint32_t q_lora_rank, kv_lora_rank, qk_rope_dim, qk_nope_dim, v_head_dim;

	/* Sliding window: size, and which layers use it (see shape_layer_swa) */
	uint32_t sliding_window;
	uint32_t swa_period;       /* 0: all layers; 2: even layers; 6: all but every 6th */
	double attn_softcap, final_softcap;

	/* BitNet b1.58 checkpoints: packed U8 weights + weight_scale in HF */
	bool ternary_packed;

	/* tokenizer: tokenizer.ggml.model, .pre, merges count (gpt2 BPE) */
	const char *tok_model, *tok_pre;
	uint32_t n_merges, bos_id, eos_id;

	struct shape_claim claims[SHAPE_MAX_CLAIMS];
	const char *source;        /* where the hyper-parameters come from */
};

enum shape_naming { SHAPE_GGUF, SHAPE_HF };

/* flags of a tensor */
#define ST_MATRIX    1u   /* a weight matrix: quantisable (2-D or 3-D) */
#define ST_NOT_PARAM 2u   /* not a model parameter (rope_freqs, weight_scale) */
#define ST_TOKEN_EMB 4u
#define ST_POS_EMB   8u
#define ST_OUTPUT    16u
#define ST_ROUTER    32u  /* MoE gate: kept F32 by llama.cpp */
#define ST_EXPERT    64u  /* routed experts */
#define ST_PACKED    128u /* HF: 4 ternary weights per U8 along the rows */
#define ST_SCALE     256u /* HF: BitLinear weight_scale */
#define ST_TRANSPOSED 512u /* HF GPT-2 Conv1D: stored [in, out] */

struct shape_tensor {
	char name[96];
	uint32_t n_dims;
	uint64_t ne[4];       /* GGUF: GGML order; HF: row-major as stored */
	int layer;            /* -1 for none */
	const char *role;     /* "attn_q", "ffn_down_exps", "norm", ... */
	unsigned flags;
	uint64_t params;      /* model parameters it holds (packed: unpacked count) */
	uint64_t per_expert;  /* ST_EXPERT: parameters of one expert in it */
};

extern const struct shape shapes[];
extern const size_t shapes_count;

const struct shape *shape_find(const char *name);

/* Whether layer il uses the sliding window. */
bool shape_layer_swa(const struct shape *s, uint32_t il);

/* The tensors of s in naming n, in file order; *count set. NULL on
 * allocation failure. Free with free(). */
struct shape_tensor *shape_tensors(const struct shape *s, enum shape_naming n, size_t *count);

/* Parameter counts summed over the tensors of naming n. */
uint64_t shape_count(const struct shape *s, enum shape_naming n, enum shape_scope scope);

/* Whether computed agrees with claim c (see struct shape_claim). */
bool shape_claim_holds(const struct shape_claim *c, uint64_t computed);

/* Name of a scope, for messages ("total", "non-embedding"...). */
const char *shape_scope_name(enum shape_scope scope);

#endif
