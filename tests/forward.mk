# The forward pass (graph/, exec/alloc, kvcache, forward) against a naive
# implementation in the suite, on ref and (where built) the cpu_avx2 plugin;
# and trit-forward, the program the llama.cpp cross-validation drives.
check_PROGRAMS += tests/check_forward
TESTS += tests/check_forward
tests_check_forward_SOURCES = tests/check_forward.c
tests_check_forward_CFLAGS = $(TEST_CFLAGS)
tests_check_forward_LDADD = $(TEST_LIBS) -lm
FORWARD_TEST_DEFS =
if BUILD_CPU_AVX2
FORWARD_TEST_DEFS += -DFORWARD_TEST_CPU_AVX2=1
endif
tests_check_forward_CPPFLAGS = $(AM_CPPFLAGS) $(FORWARD_TEST_DEFS)
# the files case runs the generator
EXTRA_tests_check_forward_DEPENDENCIES = tests/trit-genmodel

noinst_PROGRAMS += tests/trit-forward
tests_trit_forward_SOURCES = tests/trit-forward.c
tests_trit_forward_LDADD = runtime/libtrit-internal.la -lm

# trit-forward against llama.cpp's recorded outputs on the reference models
# (tests/refmodels.sh writes both; skipped without node-llama-cpp).
TESTS += tests/forward-llamacpp.sh
EXTRA_DIST += tests/forward-llamacpp.sh tests/forward-llamacpp.mjs
tests/forward-llamacpp.log: tests/refmodels.log tests/trit-forward$(EXEEXT)
.PHONY: clean-forward-llamacpp
clean-local: clean-forward-llamacpp
clean-forward-llamacpp:
	-rm -rf tests/forward-llamacpp
