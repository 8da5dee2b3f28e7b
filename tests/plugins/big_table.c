/* big_table.c - a table of the current ABI but larger than the host's
 * struct trit_backend (built against a newer header that grew it): refused
 * before init runs, the reason naming both sizes. */
#include <stdlib.h>

#include <trit/backend.h>

#define EXTRA 64

static int never(const struct trit_host *h, void **s, char *e, size_t n) { abort(); }
static void never_shutdown(void *s) { abort(); }
static uint32_t never_count(void *s) { abort(); }
static const struct trit_device *never_get(void *s, uint32_t i) { abort(); }

static union {
	struct trit_backend t;
	unsigned char bytes[sizeof(struct trit_backend) + EXTRA];
} table;

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	table.t.abi_version = TRIT_BACKEND_ABI_VERSION;
	table.t.struct_size = (uint32_t)(sizeof(struct trit_backend) + EXTRA);
	table.t.name = "test_big_table";
	table.t.init = never;
	table.t.shutdown = never_shutdown;
	table.t.device_count = never_count;
	table.t.device_get = never_get;
	return &table.t;
}
