#!/bin/sh
# Hybrid and multi-device plans run end to end (trit run): a device whose
# memory holds only part of the model gets the last layers, the CPU the rest,
# and the greedy tokens equal the CPU-only run's; each device's measured
# buffers (weights, KV cache, activation arena, workspace) are within 3% of
# what the plan said for it. Three ways: the test_shrink plugin (a GPU-kind
# test device, tests/plugins/shrink.c) given 12 MB; the opencl plugin on pocl
# given a budget in an INI ([plugin.opencl] memory), so the planner splits
# cpu_avx2 + opencl; and two pocl devices (POCL_DEVICES) standing in for two
# GPUs. The load-time fallback is tests/replan.sh's. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
so="$top_builddir/tests/plugins/.libs/shrink.so"
ocl="$top_builddir/plugins/opencl/.libs/opencl.so"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-hybrid-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_STRATEGY POCL_DEVICES
for v in $(env | sed -n 's/^\(TRIT_PLUGIN_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done

if [ ! -f "$top_builddir/plugins/cpu_avx2/cpu_avx2.la" ] || ! grep -qw avx2 /proc/cpuinfo; then
	skip "hybrid runs" "no AVX2: no CPU device with measured memory to split with"
	echo "1..$n"; exit 0
fi
m="$work/m.gguf"
"$gen" --shape ref-llama --format gguf --weights ternary --seed 7 --type F32 \
	--vocab-strings -o "$m" >/dev/null || not_ok "generate the model"
args="-p abc_def -n 8 --temp 0 --json"

# --- the reference: the same model on the CPU alone ----------------------------
mkdir "$work/none"
check "a CPU-only run" 0 "$trit" -P "$work/none" run "$m" $args
jq -c '.tokens' "$work/out" >"$work/cpu-tokens"
jq_eq "it is CPU-only" "$work/out" '.plan.strategy' cpu-only

# split NAME JSON STRATEGY NDEV: the checks every split run gets
split() {
	name=$1 js=$2
	jq_eq "$name: the plan is $3" "$js" '.plan.strategy' "$3"
	jq_eq "$name: $4 devices hold layers" "$js" \
		'[.plan.devices[] | select(.n_layers > 0)] | length' "$4"
	same_tokens "$name: the CPU-only run's greedy tokens" "$js"
	jq_eq "$name: every device holds weights" "$js" \
		'[.load.devices[] | select(.bytes > 0)] | length' "$4"
	jq_eq "$name: each device's memory within 3% of its plan" "$js" \
		'[.memory.devices[] | select(.planned_bytes > 0) | .measured_over_planned |
		  (. >= 0.97 and . <= 1.03)] | all' true
	jq_eq "$name: each device holds its activation arena" "$js" \
		'[.memory.devices[] | select(.planned_bytes > 0) | .activations.measured_bytes > 0] | all' true
}

# --- a GPU-kind test device with room for one layer and the output ---------------
if [ -f "$so" ]; then
	mkdir "$work/shrink" && ln -s "$so" "$work/shrink/shrink.so"
	check "test_shrink with 12 MB: trit run" 0 env TRIT_PLUGIN_TEST_SHRINK_FREE=12000000 \
		TRIT_PLUGIN_TEST_SHRINK_PROBE_FREE=12000000 "$trit" -P "$work/shrink" run "$m" $args
	cp "$work/out" "$work/shrink.json"
	split "test_shrink + cpu_avx2" "$work/shrink.json" hybrid 2
	check "the text report" 0 env TRIT_PLUGIN_TEST_SHRINK_FREE=12000000 \
		TRIT_PLUGIN_TEST_SHRINK_PROBE_FREE=12000000 "$trit" -P "$work/shrink" run "$m" \
		-p abc_def -n 8 --temp 0
	expect "names both devices on the run line" "$work/err" \
		'^run: .* on test_shrink/shrink0 \+ cpu_avx2/cpu0,'
	expect "and prints memory per device" "$work/err" \
		'^  test_shrink/shrink0 +weights [0-9.]+ / [0-9.]+ .*measured / planned 1\.0'
else
	skip "test_shrink + cpu_avx2" "tests/plugins/shrink.la was not built"
fi

# --- opencl on pocl with a budget from the INI: cpu_avx2 + opencl -----------------
# The bundled model (tied embeddings: the head's copy of token_embd goes to
# the device that runs the head). Budgets from a quick look at trit plan:
# 3 MiB holds its last layer and the head, 4 MiB a layer each on two devices,
# 5 MiB half the model each.
bm="$top_srcdir/models/kjv-bitnet-3M-I2_S.gguf"
bargs="-p A_computer -n 16 --temp 0 --json"
if [ -f "$ocl" ] && [ -f "$bm" ] &&
   POCL_DEVICES=pthread "$trit" devices --json 2>/dev/null | jq -e '[.plugins[] | select(.name == "opencl") | .devices | length][0] > 0' >/dev/null 2>&1; then
	export POCL_DEVICES=pthread
	check "the bundled model CPU-only" 0 "$trit" -P "$work/none" run "$bm" $bargs
	jq -c '.tokens' "$work/out" >"$work/cpu-tokens"
	printf '[plugin.opencl]\nmemory = 3MiB\n' >"$work/ocl.ini"
	check "opencl given 3 MiB in an INI: trit run" 0 \
		"$trit" -P "$work/none" --config "$work/ocl.ini" run "$bm" $bargs
	cp "$work/out" "$work/ocl.json"
	split "cpu_avx2 + opencl" "$work/ocl.json" hybrid 2
	jq_eq "cpu_avx2 + opencl: the head runs on opencl" "$work/ocl.json" \
		'[.plan.devices[] | select(.output == true) | .backend][0]' opencl
	jq_eq "cpu_avx2 + opencl: the plan says why a CPU device is an offload device" \
		"$work/ocl.json" '[.plan.reasons[] | select(.code == "device_budget_offload") |
		 .names.device][0]' p0d0
	export POCL_DEVICES="pthread pthread"
	check "two pocl devices given 4 MiB each: trit run" 0 env TRIT_PLUGIN_OPENCL_MEMORY=4MiB \
		"$trit" -P "$work/none" run "$bm" $bargs
	cp "$work/out" "$work/ocl2.json"
	split "opencl x2 + cpu_avx2" "$work/ocl2.json" hybrid 3
	check "two pocl devices given 5 MiB each: trit run" 0 env TRIT_PLUGIN_OPENCL_MEMORY=5MiB \
		"$trit" -P "$work/none" run "$bm" $bargs
	cp "$work/out" "$work/ocl3.json"
	split "opencl x2" "$work/ocl3.json" gpu-only 2
	unset POCL_DEVICES
else
	skip "cpu_avx2 + opencl" "no opencl plugin, no pocl device or no bundled model"
fi

tap_end
