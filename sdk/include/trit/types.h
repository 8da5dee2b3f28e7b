/*
 * trit/types.h - the tensor element types trit's kernels and buffers speak about.
 *
 * This header names the weight and activation formats that cross the plugin
 * boundary (a kernel is asked to multiply "an I2_S matrix by F32 activations"),
 * together with their block geometry. It does not describe model-file type ids:
 * GGUF and SafeTensors readers in the runtime map their own ids onto these.
 *
 * Part of the trit SDK; stable under TRIT_BACKEND_ABI_VERSION (see backend.h).
 */
#ifndef TRIT_TYPES_H
#define TRIT_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Element types. The numeric values are trit's own and are part of the ABI:
 * new types are appended, values are never reused. They deliberately do not
 * follow GGML's ids, which collide between forks (bitnet.cpp's TL2 and
 * mainline's MXFP4 are both 39).
 */
enum trit_type {
	TRIT_TYPE_F32   = 0,  /* IEEE binary32 */
	TRIT_TYPE_F16   = 1,  /* IEEE binary16 */
	TRIT_TYPE_BF16  = 2,  /* bfloat16 */
	TRIT_TYPE_I8    = 3,  /* int8, e.g. quantised activations */
	TRIT_TYPE_I32   = 4,  /* int32, e.g. integer accumulators */
	TRIT_TYPE_I2_S  = 5,  /* ternary, 2 bits/weight, one F32 scale per tensor */
	TRIT_TYPE_TL1   = 6,  /* ternary lookup-table format, weight pairs */
	TRIT_TYPE_TL2   = 7,  /* ternary lookup-table format, weight triples + sign */
	TRIT_TYPE_TQ1_0 = 8,  /* ternary, 256 weights in 54 bytes (base-3 packed) */
	TRIT_TYPE_TQ2_0 = 9,  /* ternary, 256 weights in 66 bytes (2-bit codes) */
	TRIT_TYPE_Q8_0  = 10, /* ggml's Q8_0: 32 int8 in 34 bytes (F16 scale first); ABI v2 */
	TRIT_TYPE_COUNT
};

/*
 * Block geometry of a type: a row of n elements (n a multiple of block_elems)
 * occupies n / block_elems * block_bytes bytes. Per-tensor trailers (the I2_S
 * scale) are not part of the row and are described in docs/formats.md.
 *
 * TL1 and TL2 tile rows in groups of 32, so their size is not a per-row
 * quantity: their block_elems is 0 ("no fixed row geometry") and
 * trit_ternary_bytes() in trit/ternary.h gives the size of a whole tensor
 * (use it for I2_S too: it adds the row padding and the scale trailer).
 */
struct trit_type_traits {
	const char *name;     /* "F32", "I2_S", ... as printed by trit */
	uint32_t block_elems; /* elements per block; 0 = no fixed geometry */
	uint32_t block_bytes; /* bytes per block */
	uint32_t is_ternary;  /* weights are in {-1, 0, +1} times a scale */
};

/* Traits of a type, or NULL for a value outside the enum. Defined inline so a
 * plugin needs no symbol from libtrit to use it. */
static inline const struct trit_type_traits *trit_type_traits(uint32_t type)
{
	static const struct trit_type_traits traits[TRIT_TYPE_COUNT] = {
		[TRIT_TYPE_F32]   = { "F32",   1,   4,  0 },
		[TRIT_TYPE_F16]   = { "F16",   1,   2,  0 },
		[TRIT_TYPE_BF16]  = { "BF16",  1,   2,  0 },
		[TRIT_TYPE_I8]    = { "I8",    1,   1,  0 },
		[TRIT_TYPE_I32]   = { "I32",   1,   4,  0 },
		[TRIT_TYPE_I2_S]  = { "I2_S",  128, 32, 1 },
		[TRIT_TYPE_TL1]   = { "TL1",   0,   0,  1 },
		[TRIT_TYPE_TL2]   = { "TL2",   0,   0,  1 },
		[TRIT_TYPE_TQ1_0] = { "TQ1_0", 256, 54, 1 },
		[TRIT_TYPE_TQ2_0] = { "TQ2_0", 256, 66, 1 },
		[TRIT_TYPE_Q8_0]  = { "Q8_0",  32,  34, 0 },
	};
	return type < TRIT_TYPE_COUNT ? &traits[type] : (const struct trit_type_traits *)0;
}

#ifdef __cplusplus
}
#endif

#endif /* TRIT_TYPES_H */
