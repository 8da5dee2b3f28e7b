# `trit convert` end to end (tests/convert.sh): a Hugging Face BitNet b1.58
# directory written by trit-genhf, and ternary GGUFs of trit-genmodel
# re-typed both ways, plus hostile sources.

noinst_PROGRAMS += tests/trit-genhf
tests_trit_genhf_SOURCES = tests/genhf.c

TESTS += tests/convert.sh
EXTRA_DIST += tests/convert.sh
tests/convert.log: trit$(EXEEXT) tests/trit-genhf$(EXEEXT) tests/trit-genmodel$(EXEEXT) \
	tests/trit-forward$(EXEEXT)

# The streaming GGUF writer read back through gguf.c.
check_PROGRAMS += tests/check_gguf_write
TESTS += tests/check_gguf_write
tests_check_gguf_write_SOURCES = tests/check_gguf_write.c
tests_check_gguf_write_CFLAGS = $(TEST_CFLAGS)
tests_check_gguf_write_LDADD = $(TEST_LIBS)
