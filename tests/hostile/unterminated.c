/* unterminated.c - a backend that hands trit text without a terminating NUL,
 * chosen by TRIT_TEST_UNTERMINATED (read by its entry point):
 *   init         init() fills its whole error buffer with 'X' and fails;
 *   update       loads one device; device_update() fills the whole error
 *                buffer with 'X' and fails;
 *   name         its device's name is 5000 'N' with no NUL after them;
 *   property     its device's one text property is 5000 'P', no NUL;
 *   description  its table's description is 5000 'D', no NUL.
 * Unset, it loads one well-formed device. trit must read none of these
 * past the bytes it bounds them to. */
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#define LONG 5000

static const char *mode = "";
static char long_text[LONG];    /* filled, never terminated */
static struct trit_property prop;
static struct trit_device dev;

static int u_init(const struct trit_host *h, void **s, char *err, size_t n)
{
	if (strcmp(mode, "init") == 0) {
		memset(err, 'X', n);
		return TRIT_EIO;
	}
	dev.struct_size = sizeof dev;
	dev.kind = TRIT_DEVICE_ACCELERATOR;
	dev.id = "u0";
	dev.name = "Unterminated test device";
	prop.key = "test.text";
	prop.text = "terminated";
	if (strcmp(mode, "name") == 0) {
		memset(long_text, 'N', LONG);
		dev.name = long_text;
	} else if (strcmp(mode, "property") == 0) {
		memset(long_text, 'P', LONG);
		prop.text = long_text;
	}
	dev.props = &prop;
	dev.n_props = 1;
	*s = &dev;
	return 0;
}
static void u_shutdown(void *s) { }
static uint32_t u_count(void *s) { return 1; }
static const struct trit_device *u_get(void *s, uint32_t i) { return i == 0 ? &dev : NULL; }

static int u_update(void *s, uint32_t i, char *err, size_t n)
{
	if (strcmp(mode, "update") != 0)
		return 0;
	memset(err, 'X', n);
	return TRIT_EIO;
}

static struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_unterminated",
	.version = "1",
	.description = "a backend that leaves its text unterminated when told to",
	.init = u_init,
	.shutdown = u_shutdown,
	.device_count = u_count,
	.device_get = u_get,
	.device_update = u_update,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	const char *m = getenv("TRIT_TEST_UNTERMINATED");

	mode = m ? m : "";
	if (strcmp(mode, "description") == 0) {
		memset(long_text, 'D', LONG);
		table.description = long_text;
	}
	return &table;
}
