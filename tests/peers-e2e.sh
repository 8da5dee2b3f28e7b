#!/bin/sh
# peers-e2e.sh - decode tokens/s end to end: `trit run` against ik_llama.cpp's
# llama-bench on the same trits and the same shape (issue 17, item 6; the
# comparison with bitnet.cpp's llama-bench is tests/bitnetcpp-compare.sh's
# step (d)). A manual benchmark, not part of `make check`: it needs a build
# of ik_llama.cpp, which trit does not vendor: `tests/peers-bench.py
# --ik-tools` builds one at the pinned commit into BUILD/ik (docs/bench.md).
#
# It writes two models of BitNet-b1.58-2B-4T's shape with tests/trit-genmodel
# (--weights ternary, one seed: the same trits whatever the type; token
# embeddings F16 and tied to the output, as the published I2_S file): I2_S
# for trit, and F16 that ik_llama.cpp's llama-quantize turns into IQ2_BN
# (ik_llama.cpp's 2-bit ternary type) with the token embeddings kept F16, so
# both engines read the same head and 2 bits per ternary weight. Then, per
# thread count, RUNS interleaved rounds of
#     trit run MODEL -n N --threads T --temp 0 --json   (decode_tokens_per_s)
#     llama-bench -m MODEL -p 0 -n N -t T -r 1 -o json   (avg_ts)
# and prints the medians and their ratio (> 1: trit is faster).
#
#   tests/peers-e2e.sh --ik-build DIR [--work DIR] [--threads "1 2"]
#                      [--runs N] [-n TOKENS]
# DIR holds bin/llama-bench and bin/llama-quantize. --work (default
# /tmp/trit-peers-e2e) keeps the two models (6 GB) between runs; they are
# written again only when missing. Run from trit's build directory.
set -eu
top_builddir=${top_builddir:-.}
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
ik="" work=/tmp/trit-peers-e2e threads="1 2" runs=3 n=32 seed=1
die() { echo "peers-e2e.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--ik-build) ik=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-n) n=$2; shift 2 ;;
	-h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (--help)" ;;
	esac
done
[ -n "$ik" ] || die "--ik-build DIR is required (--help)"
for b in "$ik/bin/llama-bench" "$ik/bin/llama-quantize" "$trit" "$gen"; do
	[ -x "$b" ] || die "$b is not built"
done
command -v jq >/dev/null || die "needs jq"
mkdir -p "$work"
i2s="$work/bitnet-2b4t-ternary-I2_S.gguf" f16="$work/bitnet-2b4t-ternary-F16.gguf"
iq2="$work/bitnet-2b4t-ternary-IQ2_BN.gguf"
shape="--shape BitNet-b1.58-2B-4T --format gguf --weights ternary --seed $seed --embd-type F16 --vocab-strings"
if [ ! -s "$i2s" ]; then
	echo "peers-e2e.sh: writing $i2s" >&2
	"$gen" $shape --type I2_S -o "$i2s" >/dev/null
fi
if [ ! -s "$iq2" ]; then
	echo "peers-e2e.sh: writing $f16, quantising it to $iq2" >&2
	[ -s "$f16" ] || "$gen" $shape --type F16 -o "$f16" >/dev/null
	"$ik/bin/llama-quantize" --token-embedding-type f16 --output-tensor-type f16 \
		"$f16" "$iq2" IQ2_BN >"$work/quantize.log" 2>&1 ||
		{ tail -20 "$work/quantize.log" >&2; die "llama-quantize failed ($work/quantize.log)"; }
fi

runs_of() { awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "# decode tokens/s, $n tokens, median of $runs interleaved rounds; $cpu, $(nproc) CPUs"
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| threads | trit run (I2_S) | ik_llama.cpp llama-bench (IQ2_BN) | trit / ik | trit runs | ik runs |"
echo "|---|---|---|---|---|---|"
for t in $threads; do
	: >"$work/trit.$t" && : >"$work/ik.$t"
	for r in $(seq 1 "$runs"); do
		"$trit" run "$i2s" -p "The ternary weights" -n "$n" --temp 0 --threads "$t" --json \
			>"$work/run.json" 2>"$work/run.err" || { cat "$work/run.err" >&2; die "trit run failed"; }
		jq .decode_tokens_per_s "$work/run.json" >>"$work/trit.$t"
		"$ik/bin/llama-bench" -m "$iq2" -p 0 -n "$n" -t "$t" -r 1 -o json \
			>"$work/bench.json" 2>"$work/bench.err" || { tail -20 "$work/bench.err" >&2; die "llama-bench failed"; }
		jq '.[0].avg_ts' "$work/bench.json" >>"$work/ik.$t"
	done
	tm=$(median <"$work/trit.$t") im=$(median <"$work/ik.$t")
	printf '| %s | %.2f | %.2f | %.2f | %s | %s |\n' "$t" "$tm" "$im" \
		"$(echo "$tm $im" | awk '{ print $1 / $2 }')" \
		"$(runs_of "$work/trit.$t")" "$(runs_of "$work/ik.$t")"
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
