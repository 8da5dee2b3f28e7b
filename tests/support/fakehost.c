/*
 * fakehost.c - what the suites' fake hosts share: the settings table a
 * plugin reads through config_get/key/where, and the minimal table for the
 * built-in ref backend driven without the registry. Logging, and what the
 * backend is then asked to do, are left to each suite.
 */
#include <build-config.h>

#include <stddef.h>
#include <string.h>

#include "support.h"

struct test_setting test_settings[TEST_MAX_SETTINGS];
unsigned test_n_settings;

void test_setting_add(const char *key, const char *value, const char *where)
{
	ck_assert_uint_lt(test_n_settings, TEST_MAX_SETTINGS);
	test_settings[test_n_settings++] = (struct test_setting){ key, value, where };
}

const char *test_cfg_get(void *ctx, const char *key)
{
	(void)ctx;
	for (unsigned i = 0; i < test_n_settings; i++)
		if (!strcmp(test_settings[i].key, key))
			return test_settings[i].value;
	return NULL;
}

const char *test_cfg_key(void *ctx, uint32_t index)
{
	(void)ctx;
	return index < test_n_settings ? test_settings[index].key : NULL;
}

const char *test_cfg_where(void *ctx, const char *key)
{
	(void)ctx;
	for (unsigned i = 0; i < test_n_settings; i++)
		if (!strcmp(test_settings[i].key, key))
			return test_settings[i].where;
	return NULL;
}

struct trit_host test_minimal_host(void)
{
	struct trit_host host = { .abi_version = TRIT_BACKEND_ABI_VERSION,
	                          .struct_size = offsetof(struct trit_host, log) };
	return host;
}
