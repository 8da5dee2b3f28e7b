/*
 * image.c - the names of the kernels in kernels.cu (and ops.cuh) and, when the plugin was
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
	[CUDA_K_OP_UNARY] = "op_unary",
	[CUDA_K_OP_BINARY] = "op_binary",
	[CUDA_K_OP_RMS_NORM] = "op_rms_norm",
	[CUDA_K_OP_QUANTIZE] = "op_quantize",
	[CUDA_K_OP_ROPE] = "op_rope",
	[CUDA_K_OP_GET_ROWS] = "op_get_rows",
	[CUDA_K_OP_CPY] = "op_cpy",
	[CUDA_K_OP_KV_WRITE] = "op_kv_write",
	[CUDA_K_OP_ATTENTION] = "op_attention",
	[CUDA_K_OP_MATMUL_F] = "op_matmul_f",
	[CUDA_K_OP_QUANT_Q8] = "op_quant_q8",
	[CUDA_K_OP_MATMUL_Q8] = "op_matmul_q8",
};

#ifndef TRIT_CUDA_ARCHS
const unsigned char *cuda_kernel_image(size_t *bytes, const char **why)
{
	*bytes = 0;
	*why = "the plugin was built without kernels (configure: " TRIT_CUDA_NO_KERNELS_WHY ")";
	return NULL;
}
#endif
