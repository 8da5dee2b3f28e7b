# llamacpp: real llama.cpp (node-llama-cpp's prebuilt CPU binary, installed
# by .ci/deps) run on trit-genmodel's GGUF files; its KV cache and model
# buffer sizes checked against docs/llamacpp-memory.md and `trit plan`.
# Skips when node-llama-cpp is absent.

TESTS += tests/llamacpp-crosscheck.sh
EXTRA_DIST += tests/llamacpp-crosscheck.sh tests/llamacpp-crosscheck.mjs
CLEANFILES += tests/llamacpp-crosscheck.jsonl

# The llama.cpp engine profile (trit plan --engine llama.cpp) against
# llama.cpp's own model, KV and compute buffers on six published shapes.
TESTS += tests/llamacpp-profile.sh
EXTRA_DIST += tests/llamacpp-profile.sh tests/llamacpp-profile.mjs tests/nlc.sh
