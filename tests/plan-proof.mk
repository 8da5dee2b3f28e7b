# The plan proved against the forward pass and trit run: planned weights, KV
# cache, activation arena, workspace and host buffers equal what they
# allocate, and the peak RSS is within 3% of the plan (tests/plan-proof.sh;
# docs/memory.md).
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

# The speed side, a benchmark and not a test (timings are the machine's):
# decode tokens/s against streaming read rate / bytes read per token, both
# measured in the same run (tests/decode-bound.sh; docs/run.md).
EXTRA_DIST += tests/decode-bound.sh
