# xval: the cross-validation against llama.cpp on ref-llama with real
# vocabularies (Mistral's SentencePiece, Llama 3's BPE), the same trits as
# F32, TQ2_0 and I2_S: prompt tokens, logits, greedy continuations, trit's
# ternary kernels against its F32 path and seeded sampling across threads
# (docs/crosscheck.md). Skips without node-llama-cpp or the vocabularies.
TESTS += tests/xval.sh
EXTRA_DIST += tests/xval.sh tests/xval.mjs
tests/xval.log: tests/trit-genmodel$(EXEEXT) tests/trit-genvocab$(EXEEXT) tests/trit-forward$(EXEEXT) trit$(EXEEXT)
.PHONY: clean-xval
clean-local: clean-xval
clean-xval:
	-rm -rf tests/xval
