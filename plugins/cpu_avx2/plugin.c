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
	.description = "x86-64 CPU with AVX2 / AVX-512: I2_S, TL1 and TL2 ternary kernels",
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
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
