# peers: the manual kernel and end-to-end comparisons with bitnet.cpp and ik_llama.cpp
# (docs/bench.md, "Against bitnet.cpp and ik_llama.cpp"). Not in TESTS: it
# builds both peers from their public sources at pinned commits, which trit
# does not vendor, and runs for 15-30 minutes; shipped so a tarball can run it.
EXTRA_DIST += tests/peers-bench.py tests/peers-harness.c
EXTRA_DIST += tests/peers-e2e.sh
