#!/bin/sh
# plan-proof.sh - the plan proved: for three models (a tiny generated llama
# with TQ2_0 weights, the bundled BitNet-b1.58-2B-4T-shaped I2_S file, a
# GQA llama (ref-llama shape with Q8_0 matrices and an F16 head)), run the
# model and assert its peak resident set (VmHWM) is within 3% of what the plan
# counted on the CPU device (headroom left out), plus 1.5 MiB of pages a
# running process touches that the planning one had not (compare()). Twice
# per model:
#
# - the forward pass alone (tests/trit-forward, or MEASURE): its weights, KV
#   and arena bytes equal the plan's, and its peak is within 3% of `trit
#   plan`'s total less the host buffers it does not hold (HOST_NOT_HELD, a
#   regex over buffer names: trit-forward loads no tokenizer and no sampler);
# - `trit run --json`, the product (and a fourth model, BitNet float
#   weights the plan and the loader ternarise at load time): the same exact components from its
#   memory.components[], its planned_bytes equal to `trit plan`'s total with
#   every buffer, and memory.measured_peak_bytes within 3% of it.
#
# The prompt of the forward pass is one full ubatch; trit run's is short,
# which proves the arena and the KV cache are resident from setup (both are
# cleared at allocation: exec/kvcache.c, exec/forward.c), as the plan counts
# them. The comparison is compare() below, nothing else. TAP output.
set -u
: "${top_builddir:=.}"
: "${MEASURE:=$top_builddir/tests/trit-forward}"
: "${HOST_NOT_HELD:=^host\.(tokenizer|sampler)$}"
: "${TOLERANCE:=0.03}"
trit=$top_builddir/trit
gen=$top_builddir/tests/trit-genmodel
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trit-planproof-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
CTX=256

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }

# planned MODEL UBATCH [SKIP]: "component bytes" per line for the CPU
# device's buffers (from --explain's Buffers table), buffers whose name
# matches SKIP (default HOST_NOT_HELD) left out, then "total BYTES".
planned() {
	"$trit" plan "$1" --ctx "$CTX" --batch "$2" --strategy cpu --explain > "$tmp/plan.txt" ||
		return 1
	awk -v skip="${3:-$HOST_NOT_HELD}" '
		/^Buffers/ { on = 1; next }
		on && NF == 0 { on = 0 }
		on && $NF == "cpu0" {
			name = $1; comp = $2; bytes = $(NF - 2)
			if (name ~ skip) next
			sum[comp] += bytes; total += bytes
		}
		END { for (c in sum) print c, sum[c]; print "total", total }' "$tmp/plan.txt"
}

# field NAME: a number from the measuring command's JSON
field() { sed -n "s/.*\"$1\": \([0-9][0-9]*\).*/\1/p" "$tmp/run.json" | head -n 1; }

# exact COMPONENT FIELD: the plan's bytes of COMPONENT equal MEASURE's FIELD
# (what the forward pass says it allocated)
exact() {
	want=$(awk -v c="$2" '$1 == c { print $2 }' "$tmp/planned")
	got=$(field "$3")
	if [ -n "$got" ] && [ "${want:-0}" = "$got" ]; then
		ok "$1: planned $2 = $3 = $got bytes"
	else
		not_ok "$1: planned $2 ${want:-0} bytes, $3 ${got:-missing}"
	fi
}

# compare NAME PLANNED MEASURED: within TOLERANCE of the plan, plus FIXED
# bytes? FIXED (1.5 MiB) is what a process pages in while it runs that the
# plan cannot see from the planning process, whose resident set it counts
# as the baseline: the code and read-only tables of what the forward pass
# calls first (libm's, the plugin's kernels), worker thread stacks, the
# mapped pages of the model's header. Measured on the tiny models below at
# 0.25-1.5 MiB over an exact plan; on BitNet-2B it is 0.1% and TOLERANCE
# bounds. (It was hidden while every process also held the OpenCL
# platform's compiler, 70 MB, until the probe cache left it unloaded.)
: "${FIXED:=1572864}"
compare() {
	awk -v p="$2" -v m="$3" -v tol="$TOLERANCE" -v fixed="$FIXED" 'BEGIN {
		r = m / p; printf "%.4f", r
		exit !(m >= p * (1 - tol) && m <= p * (1 + tol) + fixed) }'
}

# peak_within NAME PLANNED PEAK: the peak within TOLERANCE of the plan; not
# checked (TAP SKIP) in a sanitizer build (configure's TRIT_SANITIZER), whose
# quarantine and shadow memory are resident too and counted by no plan
peak_within() {
	r=$(compare "$1" "$2" "$3"); within=$?
	if [ -n "${TRIT_TEST_SANITIZER:-}" ]; then
		n=$((n + 1))
		echo "ok $n - $1: peak RSS $3 is $r x the planned $2 # SKIP $TRIT_TEST_SANITIZER-sanitized build"
	elif [ $within -eq 0 ]; then
		ok "$1: peak RSS $3 is $r x the planned $2"
	else
		not_ok "$1: peak RSS $3 is $r x the planned $2 (tolerance $TOLERANCE, plus $FIXED bytes)"
	fi
}

# prove NAME MODEL UBATCH: the forward pass alone
prove_forward() {
	name=$1 model=$2 ub=$3
	if ! planned "$model" "$ub" > "$tmp/planned"; then
		not_ok "$name: trit plan fails"
		return
	fi
	toks=$(seq -s, 1 "$ub")
	if ! "$MEASURE" "$model" --tokens "$toks" --ctx "$CTX" --ubatch "$ub" --n-predict 4 \
		> "$tmp/run.json" 2> "$tmp/run.err"; then
		not_ok "$name: $MEASURE fails: $(cat "$tmp/run.err")"
		return
	fi
	peak=$(field rss_peak_bytes)
	total=$(awk '$1 == "total" { print $2 }' "$tmp/planned")
	echo "# $name: planned $(grep -v '^total' "$tmp/planned" | sort | tr '\n' ' ')"
	echo "# $name: measured $(sed -n 's/.*"memory": \(.*\),$/\1/p' "$tmp/run.json")"
	echo "# $name: plan decode $(sed -n 's/^  decode *//p' "$tmp/plan.txt"); measured" \
		"$(sed -n 's/.*"tokens_per_second": \(.*\),$/\1/p' "$tmp/run.json")"
	exact "$name" weights weights_loaded_bytes
	exact "$name" kv kv_bytes
	exact "$name" activations arena_bytes
	peak_within "$name" "$total" "$peak"
}

# run_exact NAME COMPONENT: trit run's planned and measured bytes of COMPONENT agree
run_exact() {
	got=$(jq -r --arg c "$2" \
		'.memory.components[] | select(.component == $c) | "\(.planned_bytes) \(.measured_bytes)"' \
		"$tmp/run.json")
	set -- "$1" "$2" $got
	if [ $# -eq 4 ] && [ "$3" = "$4" ]; then ok "$1: trit run's $2: planned = measured = $3 bytes"
	else not_ok "$1: trit run's $2: planned ${3:-missing}, measured ${4:-missing}"; fi
}

# prove_run NAME MODEL UBATCH: the whole of `trit run`
prove_run() {
	name="$1 (trit run)" model=$2 ub=$3
	if ! planned "$model" "$ub" '^process\.baseline$' > "$tmp/planned"; then
		not_ok "$name: trit plan fails"
		return
	fi
	if ! "$trit" run "$model" -p "The plan proved" -n 4 --temp 0 --ctx "$CTX" --batch "$ub" \
		--json > "$tmp/run.json" 2> "$tmp/run.err"; then
		not_ok "$name: trit run fails: $(cat "$tmp/run.err")"
		return
	fi
	# the process's own resident memory before the load is measured by each
	# process (trit plan's and trit run's differ by a few pages): every other
	# buffer must be planned alike
	but_baseline=$(awk '$1 == "total" { print $2 }' "$tmp/planned")
	planned_run=$(jq .memory.planned_bytes "$tmp/run.json")
	baseline=$(jq '.memory.components[] | select(.component == "baseline") | .planned_bytes' \
		"$tmp/run.json")
	peak=$(jq .memory.measured_peak_bytes "$tmp/run.json")
	echo "# $name: $(jq -c '[.memory.components[] | [.component, .planned_bytes, .measured_bytes]]' \
		"$tmp/run.json")"
	echo "# $name: decode $(jq .decode_tokens_per_s "$tmp/run.json") tokens/s," \
		"plan estimated $(jq .estimate_tokens_per_s "$tmp/run.json")"
	if [ -n "$baseline" ] && [ $((planned_run - baseline)) = "$but_baseline" ]; then
		ok "$name: plans $but_baseline bytes besides the baseline, as trit plan does"
	else
		not_ok "$name: plans $planned_run bytes with a baseline of ${baseline:-?}," \
			"trit plan $but_baseline besides it"
	fi
	run_exact "$name" weights
	run_exact "$name" kv
	run_exact "$name" activations
	run_exact "$name" workspace
	run_exact "$name" host
	peak_within "$name" "$planned_run" "$peak"
}

prove() {
	prove_forward "$@"
	prove_run "$@"
}

# the comparison itself: a 5% miss fails, a 1% one passes
if compare planted 1000000 950000 > /dev/null; then not_ok "compare accepts a 5% miss"
else ok "compare rejects a 5% miss"; fi
if compare planted 1000000 1010000 > /dev/null; then ok "compare accepts a 1% miss"
else not_ok "compare rejects a 1% miss"; fi
if compare planted 1000000000 1050000000 > /dev/null; then not_ok "compare accepts 5% over a large plan"
else ok "compare rejects 5% over a large plan"; fi
if compare planted 6000000 7400000 > /dev/null; then ok "compare accepts 1.4 MB over a small plan"
else not_ok "compare rejects 1.4 MB over a small plan"; fi
if compare planted 6000000 7800000 > /dev/null; then not_ok "compare accepts 1.8 MB over a small plan"
else ok "compare rejects 1.8 MB over a small plan"; fi

"$gen" --shape ref-llama --format gguf --weights ternary --seed 7 --type TQ2_0 \
	--vocab-strings -o "$tmp/tiny.gguf" > /dev/null || { echo "Bail out! genmodel"; exit 1; }
# Warm the probe cache once per kind of process, results discarded: the
# opencl plugin's cache entry is stamped with its environment and options,
# and a process whose stamp has no entry yet brings pocl up in-process
# (77 MiB) to measure it. If that happened in the planning process and not
# the measuring one (or the reverse), their baselines would differ by it.
"$trit" plan "$tmp/tiny.gguf" --ctx "$CTX" --strategy cpu > /dev/null 2>&1
"$MEASURE" "$tmp/tiny.gguf" --tokens 1 --ctx "$CTX" --n-predict 1 > /dev/null 2>&1
"$trit" run "$tmp/tiny.gguf" -p x -n 1 --ctx "$CTX" -q > /dev/null 2>&1
prove "tiny ref-llama TQ2_0" "$tmp/tiny.gguf" 64

bitnet=$top_builddir/models/bitnet-b1.58-2B-4T-I2_S.gguf
if [ -f "$bitnet" ]; then
	prove "BitNet-b1.58-2B-4T I2_S" "$bitnet" 16
else
	n=$((n + 1)); echo "ok $n # SKIP $bitnet is not built"
fi

# The GQA llama: ref-llama's shape (8 heads over 2 KV heads) with Q8_0
# matrices and an F16 head. No larger llama shape of trit-genmodel runs in
# trit's graph yet: Llama-3.x carry rope_freqs, a Q8_0 Mistral-7B gets a Q6_K
# output matrix, and an F16 Mistral-7B would be 14.5 GB of page cache.
"$gen" --shape ref-llama --format gguf --weights ternary --seed 7 --type Q8_0 \
	--embd-type F16 --vocab-strings -o "$tmp/gqa.gguf" > /dev/null ||
	{ echo "Bail out! genmodel"; exit 1; }
prove "GQA ref-llama Q8_0, F16 head" "$tmp/gqa.gguf" 64

# BitNet's float weights: ref-bitnet-b1.58 stored as F16, which the plan and
# the loader both ternarise into I2_S at load time (bitnet_floats = ternary).
"$gen" --shape ref-bitnet-b1.58 --format gguf --weights ternary --seed 7 --type F16 \
	--vocab-strings -o "$tmp/bitnet-f16.gguf" > /dev/null ||
	{ echo "Bail out! genmodel"; exit 1; }
prove_run "ref-bitnet-b1.58 F16, ternarised at load" "$tmp/bitnet-f16.gguf" 64
jq_repacked=$(jq '.load.repacked_tensors' "$tmp/run.json")
if [ "$jq_repacked" = 28 ]; then ok "ref-bitnet-b1.58 F16: its 28 projection matrices were repacked"
else not_ok "ref-bitnet-b1.58 F16: ${jq_repacked:-no} matrices repacked, wanted 28"; fi

echo "1..$n"
exit $fail
