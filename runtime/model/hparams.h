/*
 * hparams.h - the records a model is described by: its hyper-parameters and
 * one classified entry per tensor. model.h builds a model of them; they stand
 * alone so that modules model.c relies on (validate.c) can read them without
 * depending on model.c.
 */
#ifndef TRIT_MODEL_HPARAMS_H
#define TRIT_MODEL_HPARAMS_H

#include <stdint.h>

struct trit_model_tensor {
	char *name;
	int32_t layer;          /* -1: not in a layer */
	int32_t expert;         /* one expert's tensor (SafeTensors naming), else -1 */
	uint16_t role;          /* enum trit_role */
	uint8_t part;           /* enum trit_part */
	uint8_t ternary;        /* weights are ternary (I2_S, TL1, TL2, TQ*, BitNet-packed) */
	uint32_t n_dims;
	uint64_t ne[8];         /* GGML order: ne[0] is the row length (input features) */
	const char *type_name;  /* "Q4_0", "BF16", "I2_S", ... */
	int32_t ggml_type;      /* GGUF type id, -1 for SafeTensors */
	int32_t st_dtype;       /* SafeTensors dtype, -1 for GGUF */
	uint64_t n_params;      /* learned parameters: elements (4 per byte for BitNet-packed
	                         * U8); 0 for RoPE frequency tables */
	uint64_t n_bytes;       /* exact bytes in the file */
	uint64_t offset;        /* absolute file offset of the data */
	uint32_t file;          /* index into trit_model.files */
};

/* Hyper-parameters. A value the file does not state is 0 (and listed in
 * trit_model.missing); per-layer arrays have n_layer entries. */
struct trit_hparams {
	char arch[64];           /* as the file names it: "llama", "bitnet-b1.58", "LlamaForCausalLM" */
	char family[64];         /* trit's name for the graph: "llama", "bitnet", "deepseek2", ... */
	uint32_t n_layer, n_embd, n_vocab, n_ctx_train;
	uint32_t *n_head, *n_head_kv, *n_ff;  /* per layer */
	uint32_t head_dim_k, head_dim_v;       /* per head */
	uint32_t n_rot;                        /* RoPE dimensions */
	double rope_freq_base, norm_eps;
	double rope_freq_scale;                /* 1 / {arch}.rope.scaling.factor (linear
	                                        * scaling); 0 when the file states none */
	char hidden_act[16];                   /* {arch}.hidden_activation ("relu2",
	                                        * "silu", ...); "" when absent */
	uint32_t n_expert, n_expert_used, n_expert_shared, n_layer_dense_lead;
	uint32_t n_ff_exp, n_ff_shexp;         /* expert / shared-expert FFN sizes */
	uint32_t q_lora_rank, kv_lora_rank, rope_head_dim_mla; /* MLA; 0 when absent */
	uint32_t sliding_window;               /* tokens; 0 = none */
	uint8_t *swa;                          /* per layer: 1 if it uses the window */
	uint32_t sliding_window_ignored;       /* a window the file states but no layer uses */
	int tied_embeddings;                   /* no separate output matrix */
	uint32_t file_type;                    /* GGUF general.file_type, 0 when absent */
};

#endif
