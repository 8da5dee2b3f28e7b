/* bad_abi.c - declares an ABI version no trit speaks; init must never run. */
#include <stdlib.h>

#include <trit/backend.h>

static int never(const struct trit_host *h, void **s, char *e, size_t n) { abort(); }
static void never_shutdown(void *s) { abort(); }
static uint32_t never_count(void *s) { abort(); }
static const struct trit_device *never_get(void *s, uint32_t i) { abort(); }

static const struct trit_backend table = {
	.abi_version = 999,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_bad_abi",
	.init = never,
	.shutdown = never_shutdown,
	.device_count = never_count,
	.device_get = never_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
