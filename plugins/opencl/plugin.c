/*
 * plugin.c - the opencl module's entry point and backend table, the one
 * symbol the module exports. It does nothing but return the static table:
 * the runtime calls it before checking the ABI. Everything else lives in
 * libopencl_core (backend.c and friends).
 */
#include <build-config.h>

#include "ocl.h"

#define trit_backend_entry opencl_LTX_trit_backend_entry

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "opencl",
	.version = PACKAGE_VERSION,
	.description = "OpenCL devices through the ICD loader (the forward-pass ops; I2_S, TL1, TL2 kernels)",
	.init = ocl_init,
	.shutdown = ocl_shutdown,
	.device_count = ocl_device_count,
	.device_get = ocl_device_get,
	.device_update = ocl_device_update,
	.buffer_alloc = ocl_buffer_alloc,
	.buffer_free = ocl_buffer_free,
	.buffer_write = ocl_buffer_write,
	.buffer_read = ocl_buffer_read,
	.matmul_workspace = ocl_matmul_workspace,
	.matmul = ocl_matmul,
	.get_memory = ocl_get_memory,
	.supports_op = ocl_supports_op,
	.graph_workspace = ocl_graph_workspace,
	.graph_compute = ocl_graph_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
