# trit run re-planning at load when a device has less memory than at the
# probe: the test_shrink plugin (tests/plugins/shrink.c) and tests/replan.sh.

check_LTLIBRARIES += tests/plugins/shrink.la
tests_plugins_shrink_la_SOURCES = tests/plugins/shrink.c tests/plugins/hostmem.h
tests_plugins_shrink_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_shrink_la_LIBADD = -lm

TESTS += tests/replan.sh
EXTRA_DIST += tests/replan.sh
tests/replan.log: trit$(EXEEXT) tests/trit-genmodel$(EXEEXT) tests/plugins/shrink.la

# Hybrid and multi-device plans end to end (test_shrink, opencl on pocl).
TESTS += tests/hybrid.sh
EXTRA_DIST += tests/strategy-speeds.sh
EXTRA_DIST += tests/hybrid.sh
tests/hybrid.log: trit$(EXEEXT) tests/trit-genmodel$(EXEEXT) tests/plugins/shrink.la
