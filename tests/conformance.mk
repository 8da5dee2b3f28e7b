# trit-conformance's own test: the suite run on the plugins built in the
# tree, and on a deliberately wrong plugin it must fail. The wrong plugin
# lives in a directory of its own so the registry tests' plugin counts and
# the build-tree search never meet it.

check_LTLIBRARIES += tests/wrongplug/wrong_ops.la
tests_wrongplug_wrong_ops_la_SOURCES = tests/wrongplug/wrong_ops.c
tests_wrongplug_wrong_ops_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

TESTS += tests/conformance.sh
EXTRA_DIST += tests/conformance.sh
