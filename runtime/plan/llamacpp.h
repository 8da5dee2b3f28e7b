/*
 * llamacpp.h - the engine profile of llama.cpp: the memory llama.cpp itself
 * allocates to run a GGUF model on the CPU (its model buffer, KV cache and
 * compute buffer), predicted from the model and the context settings, so a
 * deployment that runs on llama.cpp is planned with llama.cpp's numbers, not
 * trit's. tests/llamacpp-profile.sh holds it to the prebuilt llama.cpp that
 * node-llama-cpp ships (docs/llamacpp-memory.md states the rules and the
 * version).
 */
#ifndef TRIT_LLAMACPP_H
#define TRIT_LLAMACPP_H

#include <stdint.h>

#include <trit/trit.h> /* enum trit_kv_type */

#include "model/model.h"

enum trit_fa_mode { TRIT_FA_AUTO = 0, TRIT_FA_ON, TRIT_FA_OFF };

struct trit_llamacpp_opts {
	uint32_t n_ctx;        /* as requested (llama.cpp pads its cache to 256) */
	uint32_t n_ubatch;     /* 0 = llama.cpp's default, 512 */
	uint32_t n_seq;        /* sequences (streams); 0 = 1 */
	enum trit_kv_type kv_type;
	enum trit_fa_mode fa;  /* AUTO resolves to on, as llama.cpp does on the CPU */
};

struct trit_llamacpp_mem {
	uint32_t n_ctx;              /* cells of the full-context cache */
	uint32_t n_tokens;           /* the reserved graph's tokens: min(n_ctx asked, ubatch) */
	int flash_attn;              /* what it runs with */
	uint64_t model;              /* the mapped tensor data: first tensor's offset to last's end */
	uint64_t kv;                 /* K and V of every layer */
	uint64_t compute;            /* the CPU compute buffer; 0 when not predicted */
	/* the compute buffer is the largest of three moments of the graph */
	uint64_t logits_phase, attention_phase, ffn_phase;
	char compute_why[256];       /* when compute is 0: why not predicted */
};

/* Predict m's buffers; TRIT_EINVAL with a sentence when llama.cpp would not
 * load it so (not a GGUF file, a quantized V cache without flash attention). */
int trit_llamacpp_predict(const struct trit_model *m, const struct trit_llamacpp_opts *o,
                          struct trit_llamacpp_mem *out, char *err, size_t errlen);

#endif
