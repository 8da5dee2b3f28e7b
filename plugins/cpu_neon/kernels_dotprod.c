/*
 * kernels_dotprod.c - the I2_S kernel for CPUs with the Armv8.2 dot-product
 * extension (SDOT: four int8 products summed into each int32 lane). This
 * file alone is compiled with -march=armv8.2-a+dotprod; kernels.c calls it
 * only when getauxval(AT_HWCAP) has HWCAP_ASIMDDP, so the plugin still runs
 * on CPUs without it. TL1 and TL2 are table lookups and stay in kernels.c.
 */
#include <build-config.h>

#include <arm_neon.h>

#include "neon.h"
#include "kernels_i2s.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "kernels_dotprod.c must be compiled with -march=armv8.2-a+dotprod"
#endif

static void i2s_dotprod(const struct cpu_neon_job *job, uint64_t r0, uint64_t r1)
{
	const uint64_t nblk = job->cols_pad / 128, row_bytes = job->cols_pad / 4;

	for (uint64_t r = r0; r < r1; r++) {
		const uint8_t *wr = job->w + r * row_bytes;
		for (uint64_t t0 = 0; t0 < job->tokens; t0 += CPU_NEON_I2S_TOKENS) {
			unsigned nt = job->tokens - t0 < CPU_NEON_I2S_TOKENS
			                      ? (unsigned)(job->tokens - t0)
			                      : CPU_NEON_I2S_TOKENS;
			int32x4_t acc[CPU_NEON_I2S_TOKENS];

			for (unsigned t = 0; t < nt; t++)
				acc[t] = vdupq_n_s32(0);
			for (uint64_t b = 0; b < nblk; b++) {
				int8x16_t v[8];
				cpu_neon_i2s_decode(wr + 32 * b, v);
				for (unsigned t = 0; t < nt; t++) {
					const int8_t *q = cpu_neon_job_q(job, t0 + t) + 128 * b;
					int32x4_t a = acc[t];
					for (unsigned i = 0; i < 8; i++)
						a = vdotq_s32(a, v[i], vld1q_s8(q + 16 * i));
					acc[t] = a;
				}
			}
			for (unsigned t = 0; t < nt; t++) {
				int32_t d = vaddvq_s32(acc[t]);
				cpu_neon_emit(job, t0 + t, r, &d, 1);
			}
		}
	}
}

const struct cpu_neon_kernels cpu_neon_kernels_dotprod = {
	.name = "dotprod",
	.i2s_how = "dot-product extension: table-decoded trits, vdotq_s32 into int32",
	.i2s = i2s_dotprod,
};
