/*
 * ggml_types.h - the GGML tensor types GGUF files use: id, name, block
 * geometry, and the exact byte size of a tensor of a given shape, including
 * the bitnet.cpp fork's I2_S, TL1 and TL2 whose sizes follow their own rules.
 *
 * Ids 36-39 mean different things in mainline ggml and in the bitnet.cpp
 * fork (39 is MXFP4 in one and TL2 in the other); the caller says which
 * dialect a file speaks. This file knows sizes, not what the bytes mean.
 */
#ifndef TRIT_MODEL_GGML_TYPES_H
#define TRIT_MODEL_GGML_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum trit_ggml_id {
	TRIT_GGML_F32 = 0, TRIT_GGML_F16 = 1, TRIT_GGML_Q4_0 = 2, TRIT_GGML_Q4_1 = 3,
	TRIT_GGML_Q5_0 = 6, TRIT_GGML_Q5_1 = 7, TRIT_GGML_Q8_0 = 8, TRIT_GGML_Q8_1 = 9,
	TRIT_GGML_Q2_K = 10, TRIT_GGML_Q3_K = 11, TRIT_GGML_Q4_K = 12, TRIT_GGML_Q5_K = 13,
	TRIT_GGML_Q6_K = 14, TRIT_GGML_Q8_K = 15, TRIT_GGML_IQ2_XXS = 16, TRIT_GGML_IQ2_XS = 17,
	TRIT_GGML_IQ3_XXS = 18, TRIT_GGML_IQ1_S = 19, TRIT_GGML_IQ4_NL = 20, TRIT_GGML_IQ3_S = 21,
	TRIT_GGML_IQ2_S = 22, TRIT_GGML_IQ4_XS = 23, TRIT_GGML_I8 = 24, TRIT_GGML_I16 = 25,
	TRIT_GGML_I32 = 26, TRIT_GGML_I64 = 27, TRIT_GGML_F64 = 28, TRIT_GGML_IQ1_M = 29,
	TRIT_GGML_BF16 = 30, TRIT_GGML_TQ1_0 = 34, TRIT_GGML_TQ2_0 = 35,
	/* mainline */
	TRIT_GGML_MXFP4 = 39,
	/* bitnet.cpp fork */
	TRIT_GGML_I2_S = 36, TRIT_GGML_I8_S = 37, TRIT_GGML_TL1 = 38, TRIT_GGML_TL2 = 39
};

enum trit_ggml_dialect {
	TRIT_GGML_MAINLINE = 0, /* ggml-org/ggml and llama.cpp */
	TRIT_GGML_BITNET = 1    /* microsoft/BitNet's fork: 36 I2_S, 37 I8_S, 38 TL1, 39 TL2 */
};

#define TRIT_GGML_TERNARY 1u  /* weights in {-1, 0, +1} x scale */
#define TRIT_GGML_FLOAT   2u  /* plain floating point */
#define TRIT_GGML_INT     4u  /* plain integers */
#define TRIT_GGML_SPECIAL 8u  /* size does not follow block geometry (see nbytes) */

struct trit_ggml_type {
	uint32_t id;
	const char *name;
	uint32_t blck;   /* elements per block (row length must be a multiple) */
	uint32_t size;   /* bytes per block */
	unsigned flags;
};

/* The type with this id in this dialect, or NULL when the id is unknown or
 * was removed from the format (e.g. mainline 4, 5, 31-33, 36-38). */
const struct trit_ggml_type *trit_ggml_type(uint32_t id, enum trit_ggml_dialect d);

/* Exact bytes of a tensor of type t with n_dims dimensions ne[0..n_dims-1]
 * (ne[0] is the row length, GGML order). Checks that the row length suits
 * the type's block, that no dimension is 0, and that nothing overflows;
 * returns 0 or TRIT_EFORMAT/TRIT_ERANGE with a sentence in err.
 *   - block types: ne[0] / blck * size * ne[1] * ... ;
 *   - I2_S and TL1 (bitnet.cpp): elements / 4 + 32 (packed 2-bit codes plus a
 *     32-byte trailer whose first 4 bytes are the F32 tensor scale);
 *   - TL2 (bitnet.cpp): a 2-D tensor with K = ne[0] >= 256, M = ne[1]:
 *     pad32((K - 256) * M / 3 * 5 / 8 + 256 * M / 2 * 4 / 8) + 32, in integer
 *     arithmetic evaluated left to right as the fork does; other shapes are
 *     refused (the fork's formula is undefined for them). */
int trit_ggml_nbytes(const struct trit_ggml_type *t, uint32_t n_dims, const uint64_t *ne,
                     uint64_t *bytes, char *err, size_t errlen);

#endif
