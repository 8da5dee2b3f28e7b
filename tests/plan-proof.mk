# The plan proved against the forward pass: planned weights, KV cache and
# activation arena equal what trit-forward allocates, and its peak RSS is
# within 3% of the plan's CPU total (tests/plan-proof.sh; docs/memory.md).
TESTS += tests/plan-proof.sh
EXTRA_DIST += tests/plan-proof.sh
tests/plan-proof.log: trit$(EXEEXT) tests/trit-forward$(EXEEXT) tests/trit-genmodel$(EXEEXT) \
	models/bitnet-b1.58-2B-4T-I2_S.gguf
