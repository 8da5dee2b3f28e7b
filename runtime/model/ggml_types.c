/*
 * ggml_types.c - the table of GGML tensor types and exact tensor sizes.
 * Facts from the ggml sources (mainline ggml.h/ggml-common.h and the
 * bitnet.cpp fork's ggml.c); see docs/formats.md for the ternary layouts.
 */
#include <build-config.h>

#include <stdio.h>

#include <trit/backend.h>

#include "core/common.h"
#include "model/ggml_types.h"

#define T(id_, name_, blck_, size_, flags_) { id_, name_, blck_, size_, flags_ }

/* Ids 0-35, shared by both dialects (NULL name: removed from the format). */
static const struct trit_ggml_type common_types[] = {
	T(0, "F32", 1, 4, TRIT_GGML_FLOAT),
	T(1, "F16", 1, 2, TRIT_GGML_FLOAT),
	T(2, "Q4_0", 32, 18, 0),
	T(3, "Q4_1", 32, 20, 0),
	T(4, NULL, 0, 0, 0), /* Q4_2, removed */
	T(5, NULL, 0, 0, 0), /* Q4_3, removed */
	T(6, "Q5_0", 32, 22, 0),
	T(7, "Q5_1", 32, 24, 0),
	T(8, "Q8_0", 32, 34, 0),
	T(9, "Q8_1", 32, 36, 0),
	T(10, "Q2_K", 256, 84, 0),
	T(11, "Q3_K", 256, 110, 0),
	T(12, "Q4_K", 256, 144, 0),
	T(13, "Q5_K", 256, 176, 0),
	T(14, "Q6_K", 256, 210, 0),
	T(15, "Q8_K", 256, 292, 0),
	T(16, "IQ2_XXS", 256, 66, 0),
	T(17, "IQ2_XS", 256, 74, 0),
	T(18, "IQ3_XXS", 256, 98, 0),
	T(19, "IQ1_S", 256, 50, 0),
	T(20, "IQ4_NL", 32, 18, 0),
	T(21, "IQ3_S", 256, 110, 0),
	T(22, "IQ2_S", 256, 82, 0),
	T(23, "IQ4_XS", 256, 136, 0),
	T(24, "I8", 1, 1, TRIT_GGML_INT),
	T(25, "I16", 1, 2, TRIT_GGML_INT),
	T(26, "I32", 1, 4, TRIT_GGML_INT),
	T(27, "I64", 1, 8, TRIT_GGML_INT),
	T(28, "F64", 1, 8, TRIT_GGML_FLOAT),
	T(29, "IQ1_M", 256, 56, 0),
	T(30, "BF16", 1, 2, TRIT_GGML_FLOAT),
	T(31, NULL, 0, 0, 0), /* Q4_0_4_4, removed from files */
	T(32, NULL, 0, 0, 0), /* Q4_0_4_8 */
	T(33, NULL, 0, 0, 0), /* Q4_0_8_8 */
	T(34, "TQ1_0", 256, 54, TRIT_GGML_TERNARY),
	T(35, "TQ2_0", 256, 66, TRIT_GGML_TERNARY),
};

static const struct trit_ggml_type mainline_types[] = {
	T(36, NULL, 0, 0, 0), /* IQ4_NL_4_4, removed */
	T(37, NULL, 0, 0, 0), /* IQ4_NL_4_8 */
	T(38, NULL, 0, 0, 0), /* IQ4_NL_8_8 */
	T(39, "MXFP4", 32, 17, 0),
};

static const struct trit_ggml_type bitnet_types[] = {
	T(36, "I2_S", 1, 1, TRIT_GGML_TERNARY | TRIT_GGML_SPECIAL),
	T(37, "I8_S", 1, 1, TRIT_GGML_INT),
	T(38, "TL1", 1, 1, TRIT_GGML_TERNARY | TRIT_GGML_SPECIAL),
	T(39, "TL2", 1, 1, TRIT_GGML_TERNARY | TRIT_GGML_SPECIAL),
};

const struct trit_ggml_type *trit_ggml_type(uint32_t id, enum trit_ggml_dialect d)
{
	const struct trit_ggml_type *t = NULL;

	if (id < TRIT_ARRAY_LEN(common_types))
		t = &common_types[id];
	else if (id - 36 < 4)
		t = d == TRIT_GGML_BITNET ? &bitnet_types[id - 36] : &mainline_types[id - 36];
	return t && t->name ? t : NULL;
}

/* a * b, or 0 with *overflow set. */
static uint64_t mul(uint64_t a, uint64_t b, int *overflow)
{
	if (a && b > UINT64_MAX / a) {
		*overflow = 1;
		return 0;
	}
	return a * b;
}

int trit_ggml_nbytes(const struct trit_ggml_type *t, uint32_t n_dims, const uint64_t *ne,
                     uint64_t *bytes, char *err, size_t errlen)
{
	uint64_t n = 1, rows = 1;
	int overflow = 0;

	if (n_dims < 1 || n_dims > 4)
		return trit_errf(err, errlen, TRIT_EFORMAT, "%u dimensions (GGML allows 1 to 4)",
		                 n_dims);
	for (uint32_t i = 0; i < n_dims; i++) {
		if (ne[i] == 0)
			return trit_errf(err, errlen, TRIT_EFORMAT, "dimension %u is 0", i);
		n = mul(n, ne[i], &overflow);
		if (i > 0)
			rows = mul(rows, ne[i], &overflow);
	}
	if (overflow || n > (UINT64_C(1) << 56))
		return trit_errf(err, errlen, TRIT_ERANGE, "the element count overflows");

	switch (t->flags & TRIT_GGML_SPECIAL ? t->id : UINT32_MAX) {
	case TRIT_GGML_I2_S:
	case TRIT_GGML_TL1:
		*bytes = n / 4 + 32;
		return 0;
	case TRIT_GGML_TL2: {
		uint64_t k = ne[0], m = n_dims > 1 ? ne[1] : 1, b;
		if (k < 256 || rows != m)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "TL2 needs a 2-D tensor with rows of at least 256 elements "
			                 "(bitnet.cpp's size rule is undefined otherwise)");
		b = (k - 256) * m / 3 * 5 / 8 + 256 * m / 2 * 4 / 8;
		if (b % 32)
			b += 32 - b % 32;
		*bytes = b + 32;
		return 0;
	}
	default:
		break;
	}
	if (ne[0] % t->blck)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "row length %llu is not a multiple of %s's block of %u",
		                 (unsigned long long)ne[0], t->name, t->blck);
	*bytes = mul(mul(ne[0] / t->blck, t->size, &overflow), rows, &overflow);
	if (overflow)
		return trit_errf(err, errlen, TRIT_ERANGE, "the byte size overflows");
	return 0;
}
