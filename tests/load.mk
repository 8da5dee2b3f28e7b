# The loader (runtime/load): generated and hand-written models put on the ref
# backend and on in-test backends (in place, copied, repacked, failures).
check_PROGRAMS += tests/check_load
TESTS += tests/check_load
tests_check_load_SOURCES = tests/check_load.c
tests_check_load_CFLAGS = $(TEST_CFLAGS)
tests_check_load_LDADD = $(TEST_LIBS)
EXTRA_tests_check_load_DEPENDENCIES = tests/trit-genmodel
