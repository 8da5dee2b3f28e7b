# gguf: build rules (sources added to libtrit, tests, fuzz target).

runtime_libtrit_internal_la_SOURCES += runtime/model/gguf.c runtime/model/gguf.h

check_PROGRAMS += tests/check_gguf
TESTS += tests/check_gguf
tests_check_gguf_SOURCES = tests/check_gguf.c
tests_check_gguf_CFLAGS = $(TEST_CFLAGS)
tests_check_gguf_LDADD = $(TEST_LIBS)

# The libFuzzer target is built by clang (FUZZ_CC) whatever CC is, so outside
# libtool. `make check` fuzzes briefly (tests/fuzz-gguf.sh, seeds written by
# check_gguf); `make fuzz-gguf` runs a million executions on a corpus kept in
# tests/fuzz/gguf-corpus; crash inputs are kept as tests/fuzz/gguf-crash-*.
EXTRA_DIST += tests/fuzz/fuzz_gguf.c tests/fuzz-gguf.sh
gguf_fuzz_src = $(srcdir)/tests/fuzz/fuzz_gguf.c $(srcdir)/runtime/model/gguf.c \
	$(srcdir)/runtime/model/ggml_types.c $(srcdir)/runtime/core/common.c $(srcdir)/runtime/core/log.c \
	$(srcdir)/runtime/core/safeopen.c $(srcdir)/runtime/core/textsafe.c
gguf_fuzz_deps = $(srcdir)/runtime/model/gguf.h $(srcdir)/runtime/model/ggml_types.h \
	$(srcdir)/runtime/core/common.h $(srcdir)/runtime/core/log.h $(srcdir)/sdk/include/trit/backend.h \
	$(srcdir)/runtime/core/safeopen.h $(srcdir)/runtime/core/textsafe.h \
	build-config.h
gguf_fuzz_run = $(AM_TESTS_ENVIRONMENT) FUZZ_GGUF_RUNS=1000000 FUZZ_GGUF_SECONDS=3600 \
	FUZZ_GGUF_CORPUS=tests/fuzz/gguf-corpus $(SHELL) $(srcdir)/tests/fuzz-gguf.sh

if HAVE_LIBFUZZER
TESTS += tests/fuzz-gguf.sh
tests/fuzz-gguf.log: tests/fuzz/fuzz_gguf tests/check_gguf$(EXEEXT)

tests/fuzz/fuzz_gguf: $(gguf_fuzz_src) $(gguf_fuzz_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all $(AM_CPPFLAGS) \
	  $(DEFAULT_INCLUDES) -std=c11 -o $@ $(gguf_fuzz_src)

fuzz-gguf: tests/fuzz/fuzz_gguf tests/check_gguf$(EXEEXT)
	$(gguf_fuzz_run)
else
fuzz-gguf:
	@echo "fuzz-gguf: no clang with libFuzzer was found by configure (set FUZZ_CC)"; exit 1
endif

fuzz: fuzz-gguf
clean-local: clean-local-gguf
clean-local-gguf:
	-rm -rf tests/fuzz/fuzz_gguf tests/fuzz/gguf-corpus tests/fuzz/gguf-crash-* \
	  tests/fuzz/gguf-leak-* tests/fuzz/gguf-timeout-* tests/fuzz/gguf-oom-*
.PHONY: fuzz fuzz-gguf clean-local-gguf
