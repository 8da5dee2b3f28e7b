# The ternary formats, the packer, the reference kernels and ref's ternary matmul.
check_PROGRAMS += tests/check_ternary
TESTS += tests/check_ternary
tests_check_ternary_SOURCES = tests/check_ternary.c
tests_check_ternary_CFLAGS = $(TEST_CFLAGS)
tests_check_ternary_LDADD = $(TEST_LIBS)
