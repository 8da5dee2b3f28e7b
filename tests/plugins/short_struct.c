/* short_struct.c - a backend table too short to hold even init(); the host
 * must refuse it from struct_size alone, without reading past it. */
#include <trit/backend.h>

static const struct {
	uint32_t abi_version;
	uint32_t struct_size;
} table = { TRIT_BACKEND_ABI_VERSION, sizeof table };

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return (const struct trit_backend *)(const void *)&table;
}
