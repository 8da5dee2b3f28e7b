/*
 * fuzz_ternary.c - libFuzzer target for the ternary packer: the first four
 * bytes choose the source type, the destination format and the shape, the
 * rest is the source tensor (floats, TQ2_0 blocks, bitnet.cpp I2_S, or a
 * trit layout). A packed tensor must decode to the same trits after a
 * second repack into another format; anything else is a finding.
 */
#include <build-config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/ternary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t srcs[] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_BF16, TRIT_TYPE_TQ2_0,
	                                 TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2, TRIT_TYPE_I8,
	                                 TRIT_TERNARY_SRC_I2S_BITNET };
	static const uint32_t dsts[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	struct trit_ternary_geometry g1, g2;
	char err[512];

	if (size < 4)
		return 0;
	uint32_t src = srcs[data[0] % 9], dst = dsts[data[1] % 3], dst2 = dsts[(data[1] / 3) % 3];
	uint64_t rows = 1 + data[2] % 40, cols = 1 + (uint64_t)data[3] * 3;
	if (trit_ternary_geometry(dst, rows, cols, &g1) || trit_ternary_geometry(dst2, rows, cols, &g2))
		__builtin_trap();
	/* exact-size allocations, so any overrun is an ASan report */
	unsigned char *a = malloc(g1.total_bytes), *b = malloc(g2.total_bytes);
	if (a && b &&
	    trit_ternary_pack(dst, a, g1.total_bytes, src, data + 4, size - 4, rows, cols, err, sizeof err) == 0) {
		if (trit_ternary_pack(dst2, b, g2.total_bytes, dst, a, g1.total_bytes, rows, cols, err, sizeof err))
			__builtin_trap(); /* trit's own output must always repack */
		for (uint64_t r = 0; r < g1.rows_pad; r++)
			for (uint64_t k = 0; k < g1.cols_pad; k++) {
				int t1 = trit_ternary_get(dst, &g1, a, r, k);
				if (r >= rows || k >= cols ? t1 != 0 :
				    t1 != trit_ternary_get(dst2, &g2, b, r, k))
					__builtin_trap();
			}
	}
	free(a);
	free(b);
	return 0;
}
