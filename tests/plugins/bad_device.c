/* bad_device.c - a backend that reports more free memory than total; the
 * host must refuse the report (and shut the backend down) rather than plan
 * with it. */
#include <trit/backend.h>

static struct trit_device dev = {
	.struct_size = sizeof(struct trit_device),
	.kind = TRIT_DEVICE_GPU,
	.id = "liar0",
	.name = "inconsistent device",
	.mem_total = { 1000, TRIT_VALUE_MEASURED, 0, "test" },
	.mem_free = { 2000, TRIT_VALUE_MEASURED, 0, "test" },
};
static int shut_down;

static int bd_init(const struct trit_host *h, void **s, char *e, size_t n) { *s = &dev; return 0; }
static void bd_shutdown(void *s) { shut_down++; }
static uint32_t bd_count(void *s) { return 1; }
static const struct trit_device *bd_get(void *s, uint32_t i) { return &dev; }

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_bad_device",
	.init = bd_init,
	.shutdown = bd_shutdown,
	.device_count = bd_count,
	.device_get = bd_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
