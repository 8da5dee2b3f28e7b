/*
 * names.h - what a tensor is for (its role, role group and part) and the
 * classification of tensor names (GGUF and Hugging Face schemes) into layer,
 * role, part and expert index. Used by model.c; knows names only, never a
 * model (model.h builds on this, not the reverse).
 */
#ifndef TRIT_MODEL_NAMES_H
#define TRIT_MODEL_NAMES_H

#include <stdint.h>

/* The most layers a model may have: a name with a larger layer index is
 * not a layer's tensor. */
#define TRIT_MODEL_MAX_LAYERS 4096u

/* What a tensor is for. Grouped by trit_role_group() for summaries. */
enum trit_role {
	TRIT_ROLE_OTHER = 0,
	/* outside the layers */
	TRIT_ROLE_TOKEN_EMBD, TRIT_ROLE_POS_EMBD, TRIT_ROLE_TOKEN_TYPES, TRIT_ROLE_EMBD_NORM,
	TRIT_ROLE_OUTPUT, TRIT_ROLE_OUTPUT_NORM, TRIT_ROLE_ROPE_FREQS,
	/* attention */
	TRIT_ROLE_ATTN_NORM, TRIT_ROLE_ATTN_NORM_2, TRIT_ROLE_ATTN_Q, TRIT_ROLE_ATTN_K,
	TRIT_ROLE_ATTN_V, TRIT_ROLE_ATTN_QKV, TRIT_ROLE_ATTN_OUT, TRIT_ROLE_ATTN_Q_NORM,
	TRIT_ROLE_ATTN_K_NORM, TRIT_ROLE_ATTN_SUB_NORM, TRIT_ROLE_ATTN_POST_NORM,
	/* multi-head latent attention (DeepSeek-V2/V3) */
	TRIT_ROLE_ATTN_Q_A, TRIT_ROLE_ATTN_Q_A_NORM, TRIT_ROLE_ATTN_Q_B,
	TRIT_ROLE_ATTN_KV_A_MQA, TRIT_ROLE_ATTN_KV_A_NORM, TRIT_ROLE_ATTN_KV_B,
	TRIT_ROLE_ATTN_K_B, TRIT_ROLE_ATTN_V_B,
	/* feed-forward */
	TRIT_ROLE_FFN_NORM, TRIT_ROLE_FFN_POST_NORM, TRIT_ROLE_FFN_GATE, TRIT_ROLE_FFN_UP,
	TRIT_ROLE_FFN_GATE_UP, TRIT_ROLE_FFN_DOWN, TRIT_ROLE_FFN_SUB_NORM,
	/* mixture of experts */
	TRIT_ROLE_FFN_ROUTER, TRIT_ROLE_FFN_EXP_PROBS_BIAS, TRIT_ROLE_FFN_GATE_EXPS,
	TRIT_ROLE_FFN_UP_EXPS, TRIT_ROLE_FFN_DOWN_EXPS, TRIT_ROLE_FFN_GATE_SHEXP,
	TRIT_ROLE_FFN_UP_SHEXP, TRIT_ROLE_FFN_DOWN_SHEXP, TRIT_ROLE_FFN_ROUTER_SHEXP,
	TRIT_ROLE_COUNT
};

enum trit_role_group {
	TRIT_GROUP_EMBEDDING, TRIT_GROUP_ATTENTION, TRIT_GROUP_FFN, TRIT_GROUP_EXPERTS,
	TRIT_GROUP_NORM, TRIT_GROUP_OUTPUT, TRIT_GROUP_OTHER, TRIT_GROUP_COUNT
};

enum trit_part { TRIT_PART_WEIGHT = 0, TRIT_PART_BIAS = 1, TRIT_PART_SCALE = 2 };

enum trit_naming { TRIT_NAMING_GGUF, TRIT_NAMING_HF };

struct trit_name_class {
	int32_t layer;   /* -1 outside layers */
	int32_t expert;  /* -1 unless one expert's tensor */
	enum trit_role role;
	enum trit_part part;
};

/* 0 when the name is recognised, -1 otherwise (c then holds what could be
 * read: layer, part, role OTHER). post_attn_is_ffn_norm: in Hugging Face
 * Llama-style models "post_attention_layernorm" is the FFN's input norm; in
 * Gemma 2/3 it normalises the attention output (pass 0 there). */
int trit_names_classify(const char *name, enum trit_naming naming, int post_attn_is_ffn_norm,
                        struct trit_name_class *c);

const char *trit_role_name(enum trit_role r);
enum trit_role_group trit_role_group(enum trit_role r);
const char *trit_role_group_name(enum trit_role_group g);

/* Attention, FFN and expert weight matrices (the ones kernels multiply by). */
int trit_role_is_matrix(enum trit_role r);

#endif
