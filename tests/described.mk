# Check suite for the built-in `described` backend (trit --devices FILE),
# runtime/backend/described.c, and the example machines in docs/machines.

check_PROGRAMS += tests/check_described
TESTS += tests/check_described
tests_check_described_SOURCES = tests/check_described.c
tests_check_described_CFLAGS = $(TEST_CFLAGS)
tests_check_described_LDADD = $(TEST_LIBS)
