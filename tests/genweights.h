/*
 * genweights.h - real, seeded weights for trit-genmodel (--weights ternary):
 * the reference shapes (small models that run in milliseconds), every
 * tensor's values as a function of (seed, tensor name) only, encoders into
 * the GGML types the reference files use, the tokenizer copied from another
 * GGUF (--tokenizer-from), and --verify, which decodes a written file back
 * and compares every tensor with what its seed says. Test-side only.
 */
#ifndef TRIT_TESTS_GENWEIGHTS_H
#define TRIT_TESTS_GENWEIGHTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/ggml_types.h"
#include "shapes.h"

/* GGUF keys a weighted file carries, so --verify needs nothing but the file. */
#define GW_KEY_SEED    "trit.genmodel.seed"
#define GW_KEY_WEIGHTS "trit.genmodel.weights"

/* The reference shapes (ref-llama, ref-bitnet-b1.58, ref-bitnet): i-th or
 * NULL past the end; by name or NULL. */
const struct shape *gw_ref_shape(size_t i);
const struct shape *gw_shape_find(const char *name);

/* What a tensor holds, decided from its name and rank alone (so a file can
 * be checked without knowing its shape): */
enum gw_kind {
	GW_TERNARY, /* attention/FFN matrices: trit * one f16-exact scale */
	GW_EMBED,   /* token_embd, output, position_embd: normal-ish, sd 3/sqrt(ne[0]) */
	GW_NORM,    /* 1-D *.weight: 1 + small noise */
	GW_BIAS,    /* 1-D *.bias: small noise */
	GW_ONES     /* rope_freqs: 1 (no frequency scaling) */
};

const char *gw_kind_name(enum gw_kind k);

struct gw_tensor {
	enum gw_kind kind;
	uint64_t rows, cols; /* cols = ne[0]; rows = the other dims' product */
	float scale;         /* GW_TERNARY: the tensor's scale, exact in f16 */
	int8_t *trit;        /* GW_TERNARY: rows * cols trits, else NULL */
	float *value;        /* rows * cols values (ternary: trit * scale) */
};

/* The values of tensor `name` for `seed`. Returns 0, or TRIT_ENOMEM /
 * TRIT_ERANGE (too large to hold) with a sentence in err. */
int gw_generate(const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t seed,
                struct gw_tensor *t, char *err, size_t errlen);
void gw_tensor_free(struct gw_tensor *t);

/* Whether a GGML type can hold tensors of this kind exactly as generated
 * (ternary: F32, F16, Q8_0 (scale rounded), TQ2_0, I2_S; others F32, F16). */
int gw_type_fits(enum gw_kind k, uint32_t ggml_type);

/* Encode t as `type` into out (size bytes: the type's exact tensor size). */
int gw_encode(const struct gw_tensor *t, uint32_t type, void *out, uint64_t size, char *err,
              size_t errlen);

/* One copied GGUF metadata pair: key, value type, value bytes as stored
 * after the type word, and the value as JSON (arrays: {"count": N}). */
struct gw_kv {
	char *key, *json;
	uint32_t type;
	unsigned char *val;
	size_t len;
};

/* Every tokenizer.* pair of the GGUF at path, in file order, and the
 * vocabulary size (tokenizer.ggml.tokens' length). */
int gw_tokenizer_load(const char *path, struct gw_kv **kv, size_t *n, uint32_t *n_vocab,
                      char *err, size_t errlen);
void gw_kv_free(struct gw_kv *kv, size_t n);

/*
 * Decode every tensor of the GGUF at path, compare it with what its seed
 * (GW_KEY_SEED) generates, and print one digest line per tensor to out:
 *   NAME KIND TYPE scale=S n-=A n0=B n+=C fnv=H      (ternary)
 *   NAME KIND TYPE fnv=H                              (others)
 * fnv hashes the decoded trits (ternary) or the decoded values as F32, so
 * files of different types from one seed give the same lines but for TYPE.
 * Returns 0 when every tensor matches, TRIT_EFORMAT naming the first
 * difference, or the error that kept the file from being read.
 */
int gw_verify(const char *path, FILE *out, char *err, size_t errlen);

#endif
