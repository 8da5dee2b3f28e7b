#!/bin/sh
# Fuzz the SafeTensors reader (tests/fuzz/fuzz_safetensors) from a seed corpus
# of small valid files written here. `make check` runs a short bounded run;
# `make fuzz-safetensors` passes a larger run count. Speaks TAP.
#   usage: fuzz-safetensors.sh [RUNS [SECONDS]]   (SECONDS 0 = no time limit)
runs=${1:-20000}
secs=${2:-30}
build=${top_builddir:-.}
bin=$build/tests/fuzz/fuzz_safetensors
work=$build/tests/fuzz/safetensors-work
corpus=$work/corpus

if test ! -x "$bin"; then
	echo "1..0 # SKIP $bin not built (needs clang with libFuzzer)"
	exit 0
fi
rm -rf "$work"
mkdir -p "$corpus" "$work/artifacts" || exit 1

# seed NAME JSON [DATA_BYTES]: a SafeTensors file, 8-byte little-endian length
# first, then the header, then DATA_BYTES bytes of 0x01.
seed() {
	n=${#2}
	{
		i=0
		while test $i -lt 8; do
			printf "\\$(printf '%03o' $((n % 256)))"
			n=$((n / 256))
			i=$((i + 1))
		done
		printf '%s' "$2"
		i=0
		while test $i -lt "${3:-0}"; do printf '\001'; i=$((i + 1)); done
	} > "$corpus/$1"
}
seed empty '{}'
seed one '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' 8
seed meta '{"__metadata__":{"format":"pt"},"w":{"dtype":"U8","shape":[2,3],"data_offsets":[0,6]},"s":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]}}' 8
seed scalar '{"x":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"e":{"dtype":"I16","shape":[0,4],"data_offsets":[8,8]}}  ' 8
seed order '{"b":{"dtype":"I8","shape":[2],"data_offsets":[2,4]},"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]},"c":{"dtype":"F8_E4M3","shape":[1,1,1],"data_offsets":[4,5]}}' 5
seed bitnet '{"model.layers.0.mlp.down_proj.weight":{"dtype":"U8","shape":[2,16],"data_offsets":[0,32]},"model.layers.0.mlp.down_proj.weight_scale":{"dtype":"BF16","shape":[1],"data_offsets":[32,34]}}' 34

# Words the parser looks for, so mutations reach the checks behind them.
cat > "$work/dict" <<'DICT'
"\"dtype\""
"\"shape\""
"\"data_offsets\""
"\"__metadata__\""
"\"F64\""
"\"F32\""
"\"F16\""
"\"BF16\""
"\"I64\""
"\"U8\""
"\"BOOL\""
"\"F8_E5M2\""
"9007199254740991"
"9007199254740992"
"-1"
"1.5"
"1e308"
"\\u0000"
DICT

echo "1..2"
if "$bin" "$corpus"/* > "$work/seeds.log" 2>&1; then
	echo "ok 1 - every seed file runs clean"
else
	echo "not ok 1 - a seed file crashed the reader"
	sed 's/^/# /' "$work/seeds.log" | tail -n 40
fi
if "$bin" -runs="$runs" -max_total_time="$secs" -seed=1 -dict="$work/dict" \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$corpus" > "$work/fuzz.log" 2>&1; then
	if test "$secs" = 0; then limit="no time limit"; else limit="at most ${secs}s"; fi
	echo "ok 2 - $runs runs ($limit) found nothing"
	grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb' \
		"$work/fuzz.log" | sed 's/^/# /'
else
	echo "not ok 2 - the fuzzer found an input the reader mishandles (see $work/artifacts)"
	sed 's/^/# /' "$work/fuzz.log" | tail -n 60
fi
