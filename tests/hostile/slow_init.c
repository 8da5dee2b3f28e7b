/* slow_init.c - a backend whose init() takes `sleep_ms` milliseconds (its
 * setting; 1500 unless set) before it succeeds with no devices, as a driver
 * waiting on hardware does. trit warns, naming it, and keeps waiting. */
#include <build-config.h>

#include <stdlib.h>
#include <time.h>

#include <trit/backend.h>

static int slow_init(const struct trit_host *h, void **s, char *err, size_t n)
{
	const char *ms = h->config_get(h->ctx, "sleep_ms");
	long v = ms ? strtol(ms, NULL, 10) : 1500;
	struct timespec t = { v / 1000, (v % 1000) * 1000000L };

	while (nanosleep(&t, &t) != 0)
		;
	*s = NULL;
	return 0;
}
static void slow_shutdown(void *s) { }
static uint32_t slow_count(void *s) { return 0; }
static const struct trit_device *slow_get(void *s, uint32_t i) { return NULL; }

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_slow_init",
	.init = slow_init,
	.shutdown = slow_shutdown,
	.device_count = slow_count,
	.device_get = slow_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
