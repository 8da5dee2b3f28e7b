/*
 * old_abi_subset.c - a backend built when the tables were shorter: its
 * backend table ends at device_get (TRIT_BACKEND_MIN_STRUCT_SIZE) and its
 * device struct at matmul_types (TRIT_DEVICE_MIN_STRUCT_SIZE). The bytes after
 * each declared size are poisoned: the host must accept the plugin, answer
 * "unsupported" for every later entry, and read none of the poison.
 */
#include <string.h>

#include <trit/backend.h>

static union {
	struct trit_device d;
	unsigned char bytes[sizeof(struct trit_device)];
} dev;

static union {
	struct trit_backend t;
	unsigned char bytes[sizeof(struct trit_backend)];
} table;

static int old_init(const struct trit_host *h, void **s, char *e, size_t n)
{
	memset(dev.bytes, 0xA5, sizeof dev.bytes);
	memset(dev.bytes, 0, TRIT_DEVICE_MIN_STRUCT_SIZE);
	dev.d.struct_size = (uint32_t)TRIT_DEVICE_MIN_STRUCT_SIZE;
	dev.d.kind = TRIT_DEVICE_CPU;
	dev.d.id = "old0";
	dev.d.name = "old device";
	*s = &dev;
	return 0;
}
static void old_shutdown(void *s) { }
static uint32_t old_count(void *s) { return 1; }
static const struct trit_device *old_get(void *s, uint32_t i) { return i == 0 ? &dev.d : NULL; }

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	memset(table.bytes, 0xA5, sizeof table.bytes);
	table.t.abi_version = TRIT_BACKEND_ABI_VERSION;
	table.t.struct_size = (uint32_t)TRIT_BACKEND_MIN_STRUCT_SIZE;
	table.t.name = "test_old";
	table.t.version = "0.0.1";
	table.t.description = "backend with the minimal table";
	table.t.init = old_init;
	table.t.shutdown = old_shutdown;
	table.t.device_count = old_count;
	table.t.device_get = old_get;
	return &table.t;
}
