/* exit_init.c - a backend whose init() calls exit(0), as a library that
 * "handles" a missing driver by ending the program does. trit must not end
 * with status 0 and no output: it names the plugin and fails. */
#include <stdlib.h>

#include <trit/backend.h>

static int exit_init(const struct trit_host *h, void **s, char *err, size_t n)
{
	exit(0);
}
static void exit_shutdown(void *s) { }
static uint32_t exit_count(void *s) { return 0; }
static const struct trit_device *exit_get(void *s, uint32_t i) { return NULL; }

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_exit_init",
	.init = exit_init,
	.shutdown = exit_shutdown,
	.device_count = exit_count,
	.device_get = exit_get,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void) { return &table; }
