/* future_abi.c - a backend built "for ABI 3", newer than any trit yet: it
 * must be refused with the versions named, and init must never run. */
#include <stdlib.h>

#include <trit/backend.h>

static int never(const struct trit_host *h, void **s, char *e, size_t n) { abort(); }
static void never_shutdown(void *s) { abort(); }
static uint32_t never_count(void *s) { abort(); }
static const struct trit_device *never_get(void *s, uint32_t i) { abort(); }

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION + 1,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_future_abi",
	.init = never,
	.shutdown = never_shutdown,
	.device_count = never_count,
	.device_get = never_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
