/*
 * support.h - helpers the Check suites share (tests/support/): a clean
 * TRIT_* environment, removing a test's temporary directory, running
 * trit-genmodel, fake hosts' settings tables and the ref backend's minimal
 * host, and a suite's main loop. What each suite asserts stays in it.
 */
#ifndef TRIT_TESTS_SUPPORT_H
#define TRIT_TESTS_SUPPORT_H

#include <check.h>
#include <stdint.h>

#include <trit/backend.h>

/* Unset every TRIT_* variable except the harness's TRIT_TEST_* ones, so a
 * developer's own settings cannot change what the tests see. */
void test_clear_trit_env(void);

/* Remove DIR and everything below it (links are removed, not followed).
 * Returns 0, or -1 when something could not be removed. */
int test_remove_tree(const char *dir);

/* Run $top_builddir/tests/trit-genmodel with ARGS (shell words, may
 * redirect); returns its exit status, -1 when it did not exit. */
int test_genmodel(const char *args);

/* Write model file OUT of SHAPE in FORMAT ("gguf" or "safetensors"); TYPE
 * (may be NULL) is the GGUF --type or SafeTensors --dtype. Fails the test
 * when trit-genmodel fails. */
void test_genmodel_file(const char *shape, const char *format, const char *type,
                        const char *out);

/* A fake host's [plugin.*] settings: key, value and where it was set. The
 * suites fill test_settings (test_setting_add or their own rule) and point
 * their host table's config_get/key/where at test_cfg_get/key/where. */
#define TEST_MAX_SETTINGS 8
struct test_setting {
	const char *key, *value, *where;
};
extern struct test_setting test_settings[TEST_MAX_SETTINGS];
extern unsigned test_n_settings;

/* Append a setting; fails the test when the table is full. */
void test_setting_add(const char *key, const char *value, const char *where);
const char *test_cfg_get(void *ctx, const char *key);
const char *test_cfg_key(void *ctx, uint32_t index);
const char *test_cfg_where(void *ctx, const char *key);

/* The smallest v2 host table a backend accepts: no logging callback. */
struct trit_host test_minimal_host(void);

/* Run every case of S, free it; EXIT_SUCCESS when none failed. */
int test_run_suite(Suite *s);

#endif
