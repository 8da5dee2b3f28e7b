# The built-in ref backend's ABI v2 op set (the conformance oracle).
check_PROGRAMS += tests/check_ref_ops
TESTS += tests/check_ref_ops
tests_check_ref_ops_SOURCES = tests/check_ref_ops.c
tests_check_ref_ops_CFLAGS = $(TEST_CFLAGS)
tests_check_ref_ops_LDADD = $(TEST_LIBS)
