# `trit convert` end to end (tests/convert.sh): a Hugging Face BitNet b1.58
# directory written by trit-genhf, and ternary GGUFs of trit-genmodel
# re-typed both ways, plus hostile sources.

noinst_PROGRAMS += tests/trit-genhf
tests_trit_genhf_SOURCES = tests/genhf.c

TESTS += tests/convert.sh
EXTRA_DIST += tests/convert.sh
tests/convert.log: trit$(EXEEXT) tests/trit-genhf$(EXEEXT) tests/trit-genmodel$(EXEEXT) \
	tests/trit-forward$(EXEEXT)
