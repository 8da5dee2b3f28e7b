# bitnetcpp: the manual comparison with bitnet.cpp (docs/bitnetcpp.md). Not
# in TESTS: it needs bitnet.cpp's sources and a build of them, which trit
# does not vendor; shipped so a tarball can run it.
EXTRA_DIST += tests/bitnetcpp-compare.sh tests/bitnetcpp-rearch.py tests/bitnetcpp-logits.c
