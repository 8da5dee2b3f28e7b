/*
 * names.h - classify tensor names (GGUF and Hugging Face schemes) into
 * layer, role, part and expert index. Used by model.c; knows names only.
 */
#ifndef TRIT_MODEL_NAMES_H
#define TRIT_MODEL_NAMES_H

#include <stdint.h>

#include "model/model.h"

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

/* Attention, FFN and expert weight matrices (the ones kernels multiply by). */
int trit_role_is_matrix(enum trit_role r);

#endif
