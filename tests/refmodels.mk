# refmodels: the seeded reference models (trit-genmodel --weights ternary,
# ref-llama / ref-bitnet / ref-bitnet-b1.58 as F32, F16, TQ2_0 and I2_S)
# checked to hold the same trits, and llama.cpp's logits and greedy
# continuations on them (tests/llamacpp-logits.mjs; skipped without
# node-llama-cpp). The files and JSON stay in tests/refmodels/ as data for
# forward-pass comparisons.
TESTS += tests/refmodels.sh
EXTRA_DIST += tests/refmodels.sh tests/refmodels.mjs tests/refmodels.md tests/llamacpp-logits.mjs
tests/refmodels.log: tests/trit-genmodel$(EXEEXT)
.PHONY: clean-refmodels
clean-local: clean-refmodels
clean-refmodels:
	-rm -rf tests/refmodels
