# The plan proved against the forward pass: planned weights, KV cache and
# activation arena equal what trit-forward allocates, and its peak RSS is
# within 3% of the plan's CPU total (tests/plan-proof.sh; docs/memory.md).
TESTS += tests/plan-proof.sh
EXTRA_DIST += tests/plan-proof.sh
tests/plan-proof.log: trit$(EXEEXT) tests/trit-forward$(EXEEXT) tests/trit-genmodel$(EXEEXT) \
	models/bitnet-b1.58-2B-4T-I2_S.gguf

# The estimate's side of it, machine-independent (tests/check_plan_proof.c).
check_PROGRAMS += tests/check_plan_proof
TESTS += tests/check_plan_proof
tests_check_plan_proof_SOURCES = tests/check_plan_proof.c
tests_check_plan_proof_CFLAGS = $(TEST_CFLAGS)
tests_check_plan_proof_LDADD = $(TEST_LIBS)
EXTRA_tests_check_plan_proof_DEPENDENCIES = tests/trit-genmodel$(EXEEXT)
