# The ternary formats, the packer, the reference kernels and ref's ternary matmul.
check_PROGRAMS += tests/check_ternary
TESTS += tests/check_ternary
tests_check_ternary_SOURCES = tests/check_ternary.c
tests_check_ternary_CFLAGS = $(TEST_CFLAGS)
tests_check_ternary_LDADD = $(TEST_LIBS)

# libFuzzer target for the packer (see runtime/model/safetensors.mk for why a
# plain rule): `make check` runs it briefly, `make fuzz-ternary` for 1,000,000.
FUZZ_TERNARY_SRC = $(srcdir)/tests/fuzz/fuzz_ternary.c $(srcdir)/runtime/formats/ternary.c \
	$(srcdir)/runtime/core/common.c $(srcdir)/runtime/core/textsafe.c $(srcdir)/runtime/core/log.c
EXTRA_DIST += tests/fuzz/fuzz_ternary.c tests/fuzz-ternary.sh
CLEANFILES += tests/fuzz/fuzz_ternary
.PHONY: fuzz-ternary clean-fuzz-ternary
clean-local: clean-fuzz-ternary
clean-fuzz-ternary:
	-rm -rf tests/fuzz/ternary-work
fuzz: fuzz-ternary

if HAVE_LIBFUZZER
TESTS += tests/fuzz-ternary.sh
tests/fuzz/fuzz_ternary: $(FUZZ_TERNARY_SRC) $(srcdir)/runtime/formats/ternary.h \
		$(srcdir)/sdk/include/trit/ternary.h build-config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		$(AM_CPPFLAGS) $(DEFAULT_INCLUDES) -std=c11 -o $@ $(FUZZ_TERNARY_SRC) $(LIBS)
tests/fuzz-ternary.log: tests/fuzz/fuzz_ternary
fuzz-ternary: tests/fuzz/fuzz_ternary
	top_builddir='$(abs_top_builddir)' $(SHELL) $(srcdir)/tests/fuzz-ternary.sh 1000000 0
else
fuzz-ternary:
	@echo "fuzz-ternary: configure found no clang with libFuzzer (set FUZZ_CC)" >&2; exit 1
endif
