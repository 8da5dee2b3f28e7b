/*
 * image.c - the names of the kernels in kernels.cu and, when the plugin was
 * built without nvcc, the absent kernel image with the reason. With nvcc the
 * image is the generated kernels-fatbin.c (see local.mk).
 */
#include <build-config.h>

#include "internal.h"

const char *const cuda_kernel_names[CUDA_K_COUNT] = {
	[CUDA_K_QUANTIZE] = "trit_quantize",
	[CUDA_K_PAD_I8] = "trit_pad_i8",
	[CUDA_K_I2S_GEMV] = "trit_i2s_gemv",
	[CUDA_K_I2S_GEMM] = "trit_i2s_gemm",
	[CUDA_K_TL1_GEMV] = "trit_tl1_gemv",
	[CUDA_K_TL1_GEMM] = "trit_tl1_gemm",
	[CUDA_K_TL2_GEMV] = "trit_tl2_gemv",
	[CUDA_K_TL2_GEMM] = "trit_tl2_gemm",
};

#ifndef TRIT_CUDA_ARCHS
const unsigned char *cuda_kernel_image(size_t *bytes, const char **why)
{
	*bytes = 0;
	*why = "the plugin was built without kernels (configure: " TRIT_CUDA_NO_KERNELS_WHY ")";
	return NULL;
}
#endif
