/* crash_init.c - a backend whose init() crashes: with a write to a read-only
 * page (SIGSEGV, a fault no sanitizer stops first), or with abort() when its
 * setting `how` is "abort". trit must name the plugin before it dies. */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <trit/backend.h>

static int crash_init(const struct trit_host *h, void **s, char *err, size_t n)
{
	const char *how = h->config_get(h->ctx, "how");
	volatile char *page;

	if (how && strcmp(how, "abort") == 0)
		abort();
	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page != MAP_FAILED)
		page[0] = 1;
	return TRIT_EINTERNAL; /* not reached */
}
static void crash_shutdown(void *s) { }
static uint32_t crash_count(void *s) { return 0; }
static const struct trit_device *crash_get(void *s, uint32_t i) { return NULL; }

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_crash_init",
	.init = crash_init,
	.shutdown = crash_shutdown,
	.device_count = crash_count,
	.device_get = crash_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
