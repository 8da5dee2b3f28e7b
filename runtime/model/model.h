/*
 * model.h - what a model file says, exactly: its architecture, the
 * hyper-parameters the planner needs, and every tensor classified (layer,
 * role, type, shape, bytes), with per-layer totals and a quantisation summary.
 *
 * Built from the GGUF or SafeTensors readers' output; never reads weights.
 * Memory estimates (estimate.c) are computed from this and nothing else, so
 * every number here is exact or explicitly absent.
 */
#ifndef TRIT_MODEL_MODEL_H
#define TRIT_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <trit/trit.h>

#include "model/names.h" /* roles and parts of tensors */

enum trit_model_format {
	TRIT_MODEL_GGUF = 1,
	TRIT_MODEL_SAFETENSORS = 2
};

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

struct trit_type_summary {
	const char *type_name;
	uint64_t n_tensors, n_params, n_bytes;
	uint64_t matrix_bytes;            /* of which in attention/FFN weight matrices */
	int ternary;
};

struct trit_quant_summary {
	struct trit_type_summary *types;  /* by bytes, largest first */
	size_t n_types;
	const char *primary;              /* type holding most bytes of 2-D weight matrices */
	int mixed;                        /* 2-D weight matrices use more than one type */
	double bits_per_weight;           /* all bytes * 8 / all params */
	int ternary_kernels;              /* every attention/FFN matrix is ternary */
	char ternary_why[192];            /* why not, when ternary_kernels is 0 */
};

struct trit_model {
	enum trit_model_format format;
	char *path;
	char **files;                     /* the files the tensors live in */
	uint32_t n_files;
	uint64_t file_bytes;              /* sum of file sizes */
	struct trit_hparams hp;
	struct trit_model_tensor *tensors;
	size_t n_tensors;
	char *names;                      /* one block holding every tensor's name */
	uint64_t n_params, n_bytes;       /* all tensors */
	uint64_t *layer_bytes;            /* n_layer entries */
	uint64_t *layer_params;
	uint64_t nonlayer_bytes, nonlayer_params;
	uint64_t group_bytes[TRIT_GROUP_COUNT], group_params[TRIT_GROUP_COUNT];
	struct trit_quant_summary quant;
	char **warnings;                  /* e.g. unclassified tensors, missing keys */
	size_t n_warnings;
};

/* trit_model_open and trit_model_close are declared in <trit/trit.h>. */

#endif
