# safetensors: build rules (sources added to libtrit, tests, fuzz target).

runtime_libtrit_internal_la_SOURCES += runtime/model/safetensors.c runtime/model/safetensors.h
check_PROGRAMS += tests/check_safetensors
TESTS += tests/check_safetensors
tests_check_safetensors_SOURCES = tests/check_safetensors.c
tests_check_safetensors_CFLAGS = $(TEST_CFLAGS) $(CJSON_CFLAGS)
tests_check_safetensors_LDADD = $(TEST_LIBS) $(CJSON_LIBS)

# libFuzzer target: a plain rule (libtool has no notion of -fsanitize=fuzzer
# programs), built with clang whatever CC is. `make check` runs it briefly
# through tests/fuzz-safetensors.sh; `make fuzz-safetensors` runs 1,000,000
# inputs.
FUZZ_SAFETENSORS_SRC = $(srcdir)/tests/fuzz/fuzz_safetensors.c \
	$(srcdir)/runtime/model/safetensors.c $(srcdir)/runtime/core/common.c \
	$(srcdir)/runtime/core/log.c $(srcdir)/runtime/core/safeopen.c $(srcdir)/runtime/core/textsafe.c
EXTRA_DIST += tests/fuzz/fuzz_safetensors.c tests/fuzz-safetensors.sh
CLEANFILES += tests/fuzz/fuzz_safetensors
.PHONY: fuzz-safetensors clean-fuzz-safetensors
clean-local: clean-fuzz-safetensors
clean-fuzz-safetensors:
	-rm -rf tests/fuzz/safetensors-work

if HAVE_LIBFUZZER
TESTS += tests/fuzz-safetensors.sh
tests/fuzz/fuzz_safetensors: $(FUZZ_SAFETENSORS_SRC) \
		$(srcdir)/runtime/model/safetensors.h build-config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		$(AM_CPPFLAGS) $(DEFAULT_INCLUDES) $(CJSON_CFLAGS) -std=c11 \
		-o $@ $(FUZZ_SAFETENSORS_SRC) $(CJSON_LIBS) $(LIBS)
# The test runs the binary, so it must exist first.
tests/fuzz-safetensors.log: tests/fuzz/fuzz_safetensors
fuzz-safetensors: tests/fuzz/fuzz_safetensors
	top_builddir='$(abs_top_builddir)' $(SHELL) $(srcdir)/tests/fuzz-safetensors.sh 1000000 0
else
fuzz-safetensors:
	@echo "fuzz-safetensors: configure found no clang with libFuzzer (set FUZZ_CC)" >&2; exit 1
endif
