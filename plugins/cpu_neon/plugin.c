/*
 * plugin.c - the cpu_neon module's entry point and backend table, the one
 * symbol the module exports. It does nothing but return the static table:
 * the runtime calls it before checking the ABI. Everything else lives in
 * libcpu_neon_impl (backend.c, kernels.c and friends).
 */
#include <build-config.h>

#include "neon.h"

#define trit_backend_entry cpu_neon_LTX_trit_backend_entry

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "cpu_neon",
	.version = PACKAGE_VERSION,
	.description = "aarch64 CPU with NEON (and the dot-product extension when present): "
	               "the forward pass's ops; I2_S, TL1, TL2, TQ1_0, TQ2_0, Q8_0, F16, BF16, F32 "
	               "matmul",
	.init = cpu_neon_init,
	.shutdown = cpu_neon_shutdown,
	.device_count = cpu_neon_device_count,
	.device_get = cpu_neon_device_get,
	.device_update = cpu_neon_device_update,
	.buffer_alloc = cpu_neon_buffer_alloc,
	.buffer_free = cpu_neon_buffer_free,
	.buffer_write = cpu_neon_buffer_write,
	.buffer_read = cpu_neon_buffer_read,
	.matmul_workspace = cpu_neon_matmul_workspace,
	.matmul = cpu_neon_matmul,
	.get_memory = cpu_neon_get_memory,
	.buffer_limits = cpu_neon_buffer_limits,
	.buffer_from_host_ptr = cpu_neon_buffer_from_host_ptr,
	.buffer_host_ptr = cpu_neon_buffer_host_ptr,
	.buffer_copy = cpu_neon_buffer_copy,
	.supports_op = cpu_neon_supports_op,
	.graph_workspace = cpu_neon_graph_workspace,
	.graph_compute = cpu_neon_graph_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
