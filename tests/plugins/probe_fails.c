/* probe_fails.c - a backend whose probe fails (as a GPU backend does on a
 * machine without the driver); the host must report why and carry on. */
#include <stdio.h>

#include <trit/backend.h>

static int fail_init(const struct trit_host *h, void **s, char *err, size_t n)
{
	snprintf(err, n, "no test device present (simulated driver failure)");
	return TRIT_ENODEV;
}
static void fail_shutdown(void *s) { }
static uint32_t fail_count(void *s) { return 0; }
static const struct trit_device *fail_get(void *s, uint32_t i) { return NULL; }

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_probe_fails",
	.init = fail_init,
	.shutdown = fail_shutdown,
	.device_count = fail_count,
	.device_get = fail_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
