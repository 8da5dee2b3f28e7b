/*
 * plugin.c - the cuda module's entry point and backend table, the one symbol
 * the module exports. It does nothing but return the static table: the
 * runtime calls it before checking the ABI, and before any driver is loaded.
 * Everything else lives in libtritcuda (probe.c and friends).
 */
#include <build-config.h>

#include "internal.h"

#define trit_backend_entry cuda_LTX_trit_backend_entry

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "cuda",
	.version = PACKAGE_VERSION,
#ifdef TRIT_CUDA_ARCHS
	.description = "NVIDIA GPUs through the CUDA driver API (the forward pass's ops and "
	               "I2_S, TL1, TL2 kernels for " TRIT_CUDA_ARCHS ")",
#else
	.description = "NVIDIA GPUs through the CUDA driver API (probe only: built without "
	               "kernels, " TRIT_CUDA_NO_KERNELS_WHY ")",
#endif
	.init = cuda_init,
	.shutdown = cuda_shutdown,
	.device_count = cuda_device_count,
	.device_get = cuda_device_get,
	.device_update = cuda_device_update,
	.buffer_alloc = cuda_buffer_alloc,
	.buffer_free = cuda_buffer_free,
	.buffer_write = cuda_buffer_write,
	.buffer_read = cuda_buffer_read,
	.matmul_workspace = cuda_matmul_workspace,
	.matmul = cuda_matmul,
	.get_memory = cuda_get_memory,
	.supports_op = cuda_supports_op,
	.graph_workspace = cuda_graph_workspace,
	.graph_compute = cuda_graph_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
