/*
 * validate.h - refuse hyper-parameters no model can have (zero heads, a KV
 * head count that does not divide the head count, an embedding that does
 * not split into heads) and tensor shapes that contradict them, before the
 * planner divides by them or sizes buffers with them. The messages name the
 * key the value came from: "model.gguf: llama.attention.head_count = 0:
 * must be > 0".
 */
#ifndef TRIT_MODEL_VALIDATE_H
#define TRIT_MODEL_VALIDATE_H

#include <stddef.h>

#include "model/hparams.h"

/* Where each checked hyper-parameter came from: the GGUF key
 * ("llama.attention.head_count") or config.json key ("config.json
 * num_attention_heads"); "" when the file does not state it, which leaves
 * the value unchecked (0, and listed among the warnings). */
#define TRIT_HP_KEY_LEN 96
struct trit_hp_keys {
	char n_embd[TRIT_HP_KEY_LEN], n_head[TRIT_HP_KEY_LEN], n_head_kv[TRIT_HP_KEY_LEN];
	char n_ff[TRIT_HP_KEY_LEN], n_ctx_train[TRIT_HP_KEY_LEN], n_vocab[TRIT_HP_KEY_LEN];
	char head_dim_k[TRIT_HP_KEY_LEN], head_dim_v[TRIT_HP_KEY_LEN];
};

/* What is checked: the model model.c is building (this module sits below
 * it, so it takes the parts rather than the model). */
struct trit_validate_in {
	const char *path;                        /* for messages */
	int hf_layout;                           /* SafeTensors: GPT-2's Conv1D matrices are
	                                          * stored [in, out] */
	const struct trit_hparams *hp;
	const struct trit_model_tensor *tensors; /* classified: layer, role, part */
	size_t n_tensors;
	const struct trit_hp_keys *keys;
};

/* 0, or TRIT_EFORMAT with err naming the file, the key, the value and
 * what it must be. */
int trit_model_validate(const struct trit_validate_in *in, char *err, size_t errlen);

#endif
