/*
 * fakehost.c - the host table the suites hand to the built-in ref backend
 * when they drive it through the ABI directly, without the registry. What
 * the backend is then asked to do is left to each suite.
 */
#include <build-config.h>

#include <stddef.h>

#include "support.h"

struct trit_host test_minimal_host(void)
{
	struct trit_host host = { .abi_version = TRIT_BACKEND_ABI_VERSION,
	                          .struct_size = offsetof(struct trit_host, log) };
	return host;
}
