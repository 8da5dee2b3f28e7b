# The loader (runtime/load): generated and hand-written models put on the ref
# backend and on in-test backends (in place, copied, repacked, failures).
check_PROGRAMS += tests/check_load
TESTS += tests/check_load
tests_check_load_SOURCES = tests/check_load.c
tests_check_load_CFLAGS = $(TEST_CFLAGS)
tests_check_load_LDADD = $(TEST_LIBS)
EXTRA_tests_check_load_DEPENDENCIES = tests/trit-genmodel

# Full-size models (3.9 and 16 GB, sparse) in place and repacked to TL2 on
# cpu_avx2, with the peak RSS bounded; TAP skips without the disk or AVX2.
check_PROGRAMS += tests/check_load_big
TESTS += tests/check_load_big
tests_check_load_big_SOURCES = tests/check_load_big.c
tests_check_load_big_CFLAGS = $(TEST_CFLAGS)
tests_check_load_big_LDADD = $(TEST_LIBS)
EXTRA_tests_check_load_big_DEPENDENCIES = tests/trit-genmodel plugins/cpu_avx2/cpu_avx2.la
