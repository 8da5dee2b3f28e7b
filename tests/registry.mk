# Test plugins (shared objects built only for `make check`; -rpath makes
# libtool build them shared although they are never installed) and the
# registry's Check suite.

TEST_PLUGIN_LDFLAGS = -module -avoid-version -no-undefined -rpath /nowhere
check_LTLIBRARIES += tests/plugins/good.la tests/plugins/old_abi_subset.la \
	tests/plugins/bad_abi.la tests/plugins/short_struct.la tests/plugins/no_entry.la \
	tests/plugins/probe_fails.la tests/plugins/bad_device.la \
	tests/plugins/v1_matmul.la tests/plugins/future_abi.la tests/plugins/big_table.la \
	tests/plugins/partial.la
tests_plugins_good_la_SOURCES = tests/plugins/good.c
tests_plugins_good_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_old_abi_subset_la_SOURCES = tests/plugins/old_abi_subset.c
tests_plugins_old_abi_subset_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_abi_la_SOURCES = tests/plugins/bad_abi.c
tests_plugins_bad_abi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_short_struct_la_SOURCES = tests/plugins/short_struct.c
tests_plugins_short_struct_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_no_entry_la_SOURCES = tests/plugins/no_entry.c
tests_plugins_no_entry_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_probe_fails_la_SOURCES = tests/plugins/probe_fails.c
tests_plugins_probe_fails_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_device_la_SOURCES = tests/plugins/bad_device.c
tests_plugins_bad_device_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_v1_matmul_la_SOURCES = tests/plugins/v1_matmul.c tests/plugins/hostmem.h
tests_plugins_v1_matmul_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_future_abi_la_SOURCES = tests/plugins/future_abi.c
tests_plugins_future_abi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_big_table_la_SOURCES = tests/plugins/big_table.c
tests_plugins_big_table_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_partial_la_SOURCES = tests/plugins/partial.c tests/plugins/hostmem.h
tests_plugins_partial_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

check_PROGRAMS += tests/check_registry
TESTS += tests/check_registry
tests_check_registry_SOURCES = tests/check_registry.c
tests_check_registry_CFLAGS = $(TEST_CFLAGS)
tests_check_registry_LDADD = $(TEST_LIBS)

# The scheduler: a partial device plus the ref fallback (tests/plugins/partial.c).
check_PROGRAMS += tests/check_sched
TESTS += tests/check_sched
tests_check_sched_SOURCES = tests/check_sched.c
tests_check_sched_CFLAGS = $(TEST_CFLAGS)
tests_check_sched_LDADD = $(TEST_LIBS)
