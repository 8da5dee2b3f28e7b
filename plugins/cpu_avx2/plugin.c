/*
 * plugin.c - the cpu_avx2 module's entry point and backend table, the one
 * symbol the module exports. It does nothing but return the static table:
 * the runtime calls it before checking the ABI. The probes live in
 * libcpu_avx2_probe (backend.c and friends).
 */
#include <build-config.h>

#include "kernels.h"
#include "probe.h"

#define trit_backend_entry cpu_avx2_LTX_trit_backend_entry

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "cpu_avx2",
	.version = PACKAGE_VERSION,
	.description = "x86-64 CPU with AVX2 / AVX-512: the forward pass's ops; I2_S, TL1, TL2, "
	               "TQ1_0, TQ2_0, Q8_0, F16, BF16 and F32 matmul",
	.init = cpu_avx2_init,
	.shutdown = cpu_avx2_shutdown,
	.device_count = cpu_avx2_device_count,
	.device_get = cpu_avx2_device_get,
	.device_update = cpu_avx2_device_update,
	.buffer_alloc = cpu_avx2_buffer_alloc,
	.buffer_free = cpu_avx2_buffer_free,
	.buffer_write = cpu_avx2_buffer_write,
	.buffer_read = cpu_avx2_buffer_read,
	.matmul_workspace = cpu_avx2_matmul_workspace,
	.matmul = cpu_avx2_matmul,
	.get_memory = cpu_avx2_get_memory,
	.buffer_limits = cpu_avx2_buffer_limits,
	.buffer_from_host_ptr = cpu_avx2_buffer_from_host_ptr,
	.buffer_host_ptr = cpu_avx2_buffer_host_ptr,
	.buffer_copy = cpu_avx2_buffer_copy,
	.supports_op = cpu_avx2_supports_op,
	.graph_workspace = cpu_avx2_graph_workspace,
	.graph_compute = cpu_avx2_graph_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
