# tests/support: helpers several Check suites share, linked into every suite
# through TEST_LIBS (tests/local.mk). A check-only convenience library (no
# -rpath): built by `make check` with the suites, never installed.

check_LTLIBRARIES += tests/support/libtestsupport.la
tests_support_libtestsupport_la_SOURCES = tests/support/support.h tests/support/env.c \
	tests/support/models.c tests/support/fakehost.c tests/support/suite.c
tests_support_libtestsupport_la_CFLAGS = $(TEST_CFLAGS)
