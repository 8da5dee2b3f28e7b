#!/bin/sh
# bitnetcpp-compare.sh - trit against bitnet.cpp on one model of the
# BitNet-b1.58-2B-4T shape (docs/bitnetcpp.md has the method and numbers).
# A manual script, not part of `make check`: it needs bitnet.cpp, which
# trit does not vendor. It
#   (a) writes the model with tests/trit-genmodel (seeded random trits with
#       one f16-exact scale per matrix, normal-ish F16 embeddings, norms
#       1 +- noise, a synthetic 128256-token BPE vocabulary) as I2_S, and
#       renames its architecture to "bitnet" with tests/bitnetcpp-rearch.py
#       (bitnet.cpp's Oct 2024 llama.cpp fork has no "bitnet-b1.58");
#   (b) compares the last position's logits of tests/trit-forward with
#       tests/bitnetcpp-logits (compiled here against bitnet.cpp's llama.h)
#       on fixed prompts: max |diff| / max |logit|, against bitnet.cpp's
#       own batched-prompt vs one-token-at-a-time spread;
#   (c) greedy 32 tokens from both; at a first divergence, both engines'
#       logits of the two candidates on the common prefix;
#   (d) decode tokens/s at 1 and 2 threads, medians of 3 runs: `trit run
#       --json` vs bitnet.cpp's llama-bench, and tests/trit-forward vs
#       tests/bitnetcpp-logits (one greedy loop each through the library).
# Prints a report; exits 1 when (b) exceeds the tolerance or a step fails.
#
#   tests/bitnetcpp-compare.sh --build BITNET_BUILD_DIR --src BITNET_SRC_DIR
#   tests/bitnetcpp-compare.sh --src BITNET_SRC_DIR [--llama-src LLAMA_SRC_DIR]
#        [--build DIR]   (configures and builds bitnet.cpp into DIR first)
#   options: --work DIR (default /tmp/bitnetcpp-work), --runs N (default 3),
#            --skip-speed
# BITNET_SRC_DIR is a BitNet checkout whose 3rdparty/llama.cpp holds the
# fork (or give that with --llama-src). Run from trit's build directory.
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
fwd="$top_builddir/tests/trit-forward"
work=/tmp/bitnetcpp-work build="" src="" llsrc="" runs=3 speed=1
# (b)'s tolerance: trit's distance from bitnet.cpp may be this many times
# the larger of the two engines' own batch-vs-single spreads (see below)
TOL_FACTOR=3
TOL_FLOOR=0.002

die() { echo "bitnetcpp-compare: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--llama-src) llsrc=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--skip-speed) speed=0; shift ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
[ -n "$src" ] || die "--src BITNET_SRC_DIR is required (for llama.h and the kernels)"
[ -n "$llsrc" ] || llsrc=$src/3rdparty/llama.cpp
[ -n "$build" ] || build=$work/build
for p in "$trit" "$gen" "$fwd"; do [ -x "$p" ] || die "$p is not built (make first)"; done
for t in python3 jq cmake; do command -v $t >/dev/null || die "$t is not installed"; done
mkdir -p "$work" || exit 1
# the CPU plugin's bandwidth probe over 8 MiB, as make check runs it
TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_BYTES=8MiB
export TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_BYTES
unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG

# --- bitnet.cpp --------------------------------------------------------------
# I2_S only: no TL1/TL2 define, so the LUT kernel header is included but
# compiled out; bitnet.cpp's setup_env.py copies a preset one for the same
# reason. Clang is what bitnet.cpp's CMakeLists requires.
build_bitnetcpp() {
	[ -f "$src/CMakeLists.txt" ] && [ -f "$llsrc/include/llama.h" ] ||
		die "$src or $llsrc is not a BitNet / llama.cpp source tree"
	if [ ! -f "$src/3rdparty/llama.cpp/CMakeLists.txt" ]; then
		rm -rf "$src/3rdparty/llama.cpp" && cp -a "$llsrc" "$src/3rdparty/llama.cpp" || exit 1
	fi
	if [ ! -f "$src/include/bitnet-lut-kernels.h" ]; then
		h=$(ls "$src"/preset_kernels/*/bitnet-lut-kernels-tl2.h | head -n 1)
		cp "$h" "$src/include/bitnet-lut-kernels.h" || exit 1
	fi
	cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF >"$work/cmake.log" 2>&1 &&
		cmake --build "$build" -j2 --target llama llama-bench >>"$work/cmake.log" 2>&1 ||
		die "building bitnet.cpp failed: $(tail -n 5 "$work/cmake.log")"
}
[ -x "$build/bin/llama-bench" ] || build_bitnetcpp
lib=$build/3rdparty/llama.cpp
logits=$work/bitnetcpp-logits
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -I"$llsrc/include" -I"$llsrc/ggml/include" \
	"$top_srcdir/tests/bitnetcpp-logits.c" -o "$logits" -L"$lib/src" -L"$lib/ggml/src" \
	-lllama -lggml -lm -Wl,-rpath,"$lib/src:$lib/ggml/src" || die "cannot compile bitnetcpp-logits.c"

# --- (a) the model -----------------------------------------------------------
model=$work/bitnet-2B-4T-shape-I2_S.gguf
# the same file before the renaming: trit runs it as bitnet-b1.58 (ReLU^2
# FFN, the real 2B-4T graph), the negative control of (b)
relu2=$work/bitnet-b1.58-2B-4T-shape-I2_S.gguf
if [ ! -f "$model" ]; then
	"$gen" --shape BitNet-b1.58-2B-4T --format gguf --weights ternary --seed 7 --type I2_S \
		--embd-type F16 --vocab-strings -o "$work/b158.gguf" >"$work/gen.log" 2>&1 ||
		die "trit-genmodel failed: $(tail -n 3 "$work/gen.log")"
	python3 "$top_srcdir/tests/bitnetcpp-rearch.py" "$work/b158.gguf" "$model" bitnet ||
		die "bitnetcpp-rearch.py failed"
	mv "$work/b158.gguf" "$relu2" || exit 1
fi
[ -f "$relu2" ] || die "$relu2 is missing: remove $model to write both again"

echo "# trit vs bitnet.cpp on $(basename "$model")"
echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "# ISA: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
	grep -E '^(avx2|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16|fma|f16c)$' | tr '\n' ' ')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fail=0

# --- (b) last-position logits ------------------------------------------------
# NAME TOKENS: BOS, then ids across the vocabulary
prompts="p6:128000,1000,2000,3000,4000,5000
p17:128000,40,1093,311,1440,264,3446,922,264,3363,4907,47699,13,578,2035,374,320
p40:128000,$(seq -s, 11 3203 128000 | cut -d, -f1-39)"

# FILE ARGS...: trit-forward's JSON on $tmodel (its single path is
# --ubatch 1); bitnetcpp-logits' on $model
tmodel=$model
run_trit() { f=$1; shift; "$fwd" "$tmodel" "$@" >"$f" 2>"$f.err" || die "trit-forward: $(tail -n 3 "$f.err")"; }
run_bc() { f=$1; shift; "$logits" "$model" "$@" >"$f" 2>"$f.err" || die "bitnetcpp-logits: $(tail -n 3 "$f.err")"; }

# A.json B.json: "max|a-b|/max|a| rms(a-b)/rms(a) argmax-a argmax-b"
reldiff() {
	python3 - "$1" "$2" <<'PY'
import json, math, sys
a, b = (json.load(open(p))["logits"] for p in sys.argv[1:3])
d = max(abs(x - y) for x, y in zip(a, b))
m = max(abs(x) for x in a)
r = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / sum(x * x for x in a))
print("%.2e %.2e %d %d" % (d / m, r, a.index(max(a)), b.index(max(b))))
PY
}

echo "# (b) logits at the last prompt position, 2 threads; each cell:"
echo "#     max|diff|/max|logit|  rms(diff)/rms(logit)  argmax  argmax"
printf '# %-5s %-30s %-30s %-30s %-30s\n' prompt "trit-vs-bitnet.cpp(batch)" \
	"trit-vs-bitnet.cpp(single)" "bitnet.cpp batch-vs-single" "trit batch-vs-single"
worst=0 spread=0
for p in $prompts; do
	name=${p%%:*} toks=${p#*:}
	run_trit "$work/$name.trit.json" --tokens "$toks" --threads 2 --logits
	run_trit "$work/$name.trit1.json" --tokens "$toks" --threads 2 --logits --ubatch 1
	run_bc "$work/$name.bc.json" --tokens "$toks" --threads 2 --logits
	run_bc "$work/$name.bc1.json" --tokens "$toks" --threads 2 --logits --single
	tb=$(reldiff "$work/$name.trit.json" "$work/$name.bc.json")
	ts=$(reldiff "$work/$name.trit1.json" "$work/$name.bc1.json")
	bs=$(reldiff "$work/$name.bc.json" "$work/$name.bc1.json")
	tt=$(reldiff "$work/$name.trit.json" "$work/$name.trit1.json")
	printf '  %-5s %-30s %-30s %-30s %-30s\n' "$name" "$tb" "$ts" "$bs" "$tt"
	worst=$(python3 -c "print(max($worst, ${tb%% *}, ${ts%% *}))")
	spread=$(python3 -c "print(max($spread, ${bs%% *}, ${tt%% *}))")
done
# Both engines quantise every matmul's input to int8 per token with the same
# rule, so the integer dot products agree exactly when their float inputs do;
# what differs is float summation order (RMS norm, softmax, the f16 KV
# cache, the f16-rounded input of bitnet.cpp's F16 head), and one ulp there
# can move an activation across an int8 rounding boundary, a step of
# amax/127 that 30 layers carry on. Two paths of bitnet.cpp itself (batched
# prompt, one token per call) differ by exactly such effects, so trit may
# differ from bitnet.cpp by TOL_FACTOR times the largest such self-spread
# measured here (and at least TOL_FLOOR, the f16 head's rounding scale).
tol=$(python3 -c "print('%.3e' % max($TOL_FLOOR, $TOL_FACTOR * $spread))")
if python3 -c "import sys; sys.exit(0 if $worst <= $tol else 1)"; then
	echo "# PASS: worst trit-vs-bitnet.cpp $worst <= tolerance $tol ($TOL_FACTOR x largest self-spread $spread)"
else
	echo "# FAIL: worst trit-vs-bitnet.cpp $worst > tolerance $tol ($TOL_FACTOR x largest self-spread $spread)"
	fail=1
fi
# the negative control: the same weights through the ReLU^2 graph
tmodel=$relu2
run_trit "$work/p6.relu2.json" --tokens "$(echo "$prompts" | sed -n 1p | cut -d: -f2)" \
	--threads 2 --logits
tmodel=$model
neg=$(reldiff "$work/p6.relu2.json" "$work/p6.bc.json")
if python3 -c "import sys; sys.exit(0 if ${neg%% *} > $tol else 1)"; then
	echo "# PASS: negative control (trit's bitnet-b1.58 ReLU^2 graph vs bitnet.cpp's SiLU one, p6): $neg exceeds $tol"
else
	echo "# FAIL: negative control (ReLU^2 vs SiLU, p6): $neg is within $tol: the tolerance cannot tell graphs apart"
	fail=1
fi

# --- (c) greedy continuations ------------------------------------------------
toks=$(echo "$prompts" | sed -n 2p | cut -d: -f2)
run_trit "$work/greedy.trit.json" --tokens "$toks" --threads 2 --n-predict 32
run_bc "$work/greedy.bc.json" --tokens "$toks" --threads 2 --n-predict 32
gt=$(jq -c .generated "$work/greedy.trit.json")
gb=$(jq -c .generated "$work/greedy.bc.json")
echo "# (c) greedy 32 tokens after p17"
echo "  trit:       $gt"
echo "  bitnet.cpp: $gb"
k=$(python3 -c "
a, b = $gt, $gb
print(next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), -1))")
if [ "$k" -lt 0 ]; then
	echo "# identical (32/32)"
else
	# the common prefix through the divergence; each engine's logits there
	pre=$(python3 -c "print(','.join(map(str, [$toks] + ${gt}[:$k])))")
	run_trit "$work/div.trit.json" --tokens "$pre" --threads 2 --logits
	run_bc "$work/div.bc.json" --tokens "$pre" --threads 2 --logits
	python3 - "$work/div.trit.json" "$work/div.bc.json" "$k" "$gt" "$gb" <<'PY'
import json, sys
t, b = (json.load(open(p))["logits"] for p in sys.argv[1:3])
k, gt, gb = int(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
x, y = gt[k], gb[k]
m = max(abs(v) for v in b)
print("# first divergence at token %d/32: trit %d, bitnet.cpp %d" % (k, x, y))
print("#   trit's logits there:       %d: %.5f  %d: %.5f  (gap %.2e of max|logit|)"
      % (x, t[x], y, t[y], (t[x] - t[y]) / m))
print("#   bitnet.cpp's logits there: %d: %.5f  %d: %.5f  (gap %.2e of max|logit|)"
      % (x, b[x], y, b[y], (b[y] - b[x]) / m))
PY
fi

# --- (d) decode speed --------------------------------------------------------
median() { python3 -c "import statistics, sys; print('%.2f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
if [ "$speed" = 1 ]; then
	echo "# (d) decode tokens/s, 32 tokens, median of $runs runs (all runs listed)"
	for t in 1 2; do
		a="" b="" c="" d=""
		for _ in $(seq "$runs"); do
			"$trit" run "$model" -p "The quick brown fox" -n 32 --temp 0 --threads "$t" \
				--json >"$work/run.json" 2>/dev/null || die "trit run failed"
			a="$a $(jq '.decode_tokens_per_s * 1000 | round / 1000' "$work/run.json")"
			run_trit "$work/sp.json" --tokens "$toks" --threads "$t" --n-predict 32
			c="$c $(jq .tokens_per_second.decode "$work/sp.json")"
			run_bc "$work/sp.json" --tokens "$toks" --threads "$t" --n-predict 32
			d="$d $(jq .tokens_per_second.decode "$work/sp.json")"
		done
		"$build/bin/llama-bench" -m "$model" -p 0 -n 32 -t "$t" -r "$runs" -o jsonl \
			>"$work/bench.jsonl" 2>"$work/bench.err" || die "llama-bench: $(tail -n 3 "$work/bench.err")"
		b=$(jq -r '.samples_ts[]' "$work/bench.jsonl" | tr '\n' ' ')
		echo "  threads $t: trit run $(median $a) [$a ]  llama-bench $(median $b) [ $b]"
		echo "             trit-forward $(median $c) [$c ]  bitnetcpp-logits $(median $d) [$d ]"
	done
fi
exit $fail
