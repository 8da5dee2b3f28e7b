/*
 * caps.c - the capability bits' names (see caps.h). Adding a TRIT_CAP_* bit
 * to <trit/backend.h> means adding its name here; nothing else.
 */
#include <build-config.h>

#include <trit/backend.h>

#include "core/caps.h"
#include "core/common.h"

static const struct {
	uint64_t bit;
	const char *name;
} cap_names[] = {
	{ TRIT_CAP_SSE42, "sse4.2" }, { TRIT_CAP_AVX, "avx" }, { TRIT_CAP_AVX2, "avx2" },
	{ TRIT_CAP_FMA, "fma" }, { TRIT_CAP_F16C, "f16c" }, { TRIT_CAP_AVX_VNNI, "avx_vnni" },
	{ TRIT_CAP_AVX512F, "avx512f" }, { TRIT_CAP_AVX512BW, "avx512bw" },
	{ TRIT_CAP_AVX512VL, "avx512vl" }, { TRIT_CAP_AVX512DQ, "avx512dq" },
	{ TRIT_CAP_AVX512VNNI, "avx512vnni" }, { TRIT_CAP_AVX512BF16, "avx512bf16" },
	{ TRIT_CAP_AVX512VBMI, "avx512vbmi" }, { TRIT_CAP_NEON, "neon" },
	{ TRIT_CAP_DOTPROD, "dotprod" }, { TRIT_CAP_I8MM, "i8mm" }, { TRIT_CAP_SVE, "sve" },
	{ TRIT_CAP_FP16, "fp16" }, { TRIT_CAP_BF16, "bf16" },
	{ TRIT_CAP_UNIFIED_MEM, "unified_memory" }, { TRIT_CAP_INTEGRATED, "integrated" },
};

const char *trit_cap_name(uint64_t bit)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(cap_names); i++)
		if (cap_names[i].bit == bit)
			return cap_names[i].name;
	return NULL;
}
