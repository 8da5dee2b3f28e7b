#!/bin/sh
# trit run with layers on CUDA GPUs that the fake driver simulates
# (tests/fakecuda): the cuda plugin's ABI v2 graph ops end to end, without a
# GPU. Two ways to launch a kernel:
#   FAKECUDA_LAUNCH=noop     checks each launch against the hardware's limits
#                            and counts it, runs nothing: memory and launch
#                            accounting (the tokens are meaningless);
#   FAKECUDA_LAUNCH=emulate  runs the plugin's own kernels (kernels.cu,
#                            ops.cuh) on the CPU (tests/fakecuda/emulate.cc):
#                            the greedy tokens must equal a CPU-only run's.
# Cases: the refusal without either (a clean error naming the node); GPU-only
# on one simulated GPU; hybrid GPU + cpu_avx2 when the GPU is small; a split
# over two GPUs and the CPU; and the load-time fallback when memory the plan counted on
# is taken between the probe and the load (FAKECUDA_FAIL taken=...): trit
# re-plans with the memory measured then, says so, and runs. Every run's
# memory per device is within 3% of its plan (equal, in fact). .ci/run's
# valgrind stage runs the fallback case. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
cuda="$top_builddir/plugins/cuda/.libs/cuda.so"
fake="$top_builddir/tests/fakecuda/.libs/fakecuda.so"
model="$top_srcdir/models/kjv-bitnet-3M-I2_S.gguf"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-cuda-run-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_STRATEGY FAKECUDA_FAIL FAKECUDA_LAUNCH \
	FAKECUDA_LAUNCH_LOG FAKECUDA_DEVICES POCL_DEVICES
for v in $(env | sed -n 's/^\(TRIT_PLUGIN_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_PROBE=no

if [ ! -f "$cuda" ] || [ ! -f "$fake" ]; then
	skip "trit run on simulated GPUs" "the cuda plugin or the fake driver was not built"
	echo "1..$n"; exit 0
fi
if [ ! -f "$top_builddir/plugins/cuda/kernels-fatbin.c" ]; then
	skip "trit run on simulated GPUs" "the cuda plugin was built without kernels (no nvcc)"
	echo "1..$n"; exit 0
fi
if [ ! -f "$top_builddir/plugins/cpu_avx2/cpu_avx2.la" ] || ! grep -qw avx2 /proc/cpuinfo; then
	skip "trit run on simulated GPUs" "no AVX2: no CPU device to compare with or split onto"
	echo "1..$n"; exit 0
fi
export TRIT_CUDA_DRIVER="$fake"
args="-p The_cat -n 12 --temp 0 --threads 1 --json"
# A context costs the fake 64 MiB; the model needs about 4.5 MiB on top.
gpu() { echo "$1:$2 ctx=64MiB cc=8.6 sms=4"; }

# --- the reference: the CPU alone ------------------------------------------------
check "a CPU-only run" 0 env FAKECUDA_DEVICES= "$trit" run "$model" $args
jq -c '.tokens' "$work/out" >"$work/cpu-tokens"
jq_eq "it is CPU-only" "$work/out" '.plan.strategy' cpu-only

# memory NAME JSON: each device that holds something is within 3% of its plan
memory() {
	jq_eq "$1: each device's memory within 3% of its plan" "$2" \
		'[.memory.devices[] | select(.planned_bytes > 0) | .measured_over_planned |
		  (. >= 0.97 and . <= 1.03)] | all' true
}

# --- a simulated GPU that cannot run kernels: a clean error ------------------------
check "GPU-only without a way to launch: trit run fails" 1 \
	env FAKECUDA_DEVICES="$(gpu A 1GiB)" "$trit" run "$model" $args
expect "the error names the node and the driver's reason" "$work/err" \
	"cuda/cuda0.*node 0 'token_embd' \\(GET_ROWS\\): launching op_get_rows on cuda0 .*cannot run kernels"

# --- launch accounting: every layer's graph on the GPU, nothing computed ------------
check "GPU-only, launches counted: trit run" 0 env FAKECUDA_DEVICES="$(gpu A 1GiB)" \
	FAKECUDA_LAUNCH=noop FAKECUDA_LAUNCH_LOG="$work/launches" "$trit" run "$model" $args
cp "$work/out" "$work/noop.json"
jq_eq "the plan is GPU-only" "$work/noop.json" '.plan.strategy' gpu-only
memory "GPU-only, noop" "$work/noop.json"
# one graph per evaluation (the prompt's, then one per decoded token): the
# attention kernel runs once per layer in each, and every node is a launch
evals=$(jq '1 + .decode_evals' "$work/noop.json")
layers=$(jq '[.plan.devices[] | .n_layers] | add' "$work/noop.json")
if [ -f "$work/launches" ]; then
	got=$(awk '$2 == "op_attention" { s += $3 } END { print s + 0 }' "$work/launches")
	if [ "$got" -eq $((evals * layers)) ]; then ok "op_attention ran once per layer per evaluation ($got)"
	else not_ok "op_attention ran once per layer per evaluation" "got $got, wanted $evals x $layers" \
		"$(cat "$work/launches")"; fi
	if awk '$1 ~ /^[0-9]+$/ && $1 != 0 { bad = 1 } END { exit bad }' "$work/launches"; then
		ok "every launch was on cuda0"; else not_ok "every launch was on cuda0" "$(cat "$work/launches")"; fi
else
	not_ok "the fake wrote its launch log" "no $work/launches"
	not_ok "every launch was on cuda0" "no log"
fi

# --- the kernels run (emulated): GPU-only, hybrid, two GPUs ------------------------
if ! grep -q fakecuda_emulate "$fake"; then
	skip "the kernels on the CPU" "the fake driver was built without its emulator (no C++17 compiler)"
else
	check "GPU-only, emulated: trit run" 0 env FAKECUDA_DEVICES="$(gpu A 1GiB)" \
		FAKECUDA_LAUNCH=emulate "$trit" run "$model" $args
	cp "$work/out" "$work/gpu.json"
	jq_eq "GPU-only, emulated: the plan is GPU-only" "$work/gpu.json" '.plan.strategy' gpu-only
	same_tokens "GPU-only, emulated: the CPU-only run's greedy tokens" "$work/gpu.json"
	memory "GPU-only, emulated" "$work/gpu.json"

	# 66 MiB: the context's 64 and room for part of the model
	check "hybrid, emulated: trit run" 0 env FAKECUDA_DEVICES="$(gpu A 66MiB)" \
		FAKECUDA_LAUNCH=emulate "$trit" run "$model" $args
	cp "$work/out" "$work/hybrid.json"
	jq_eq "hybrid, emulated: the plan is hybrid" "$work/hybrid.json" '.plan.strategy' hybrid
	jq_eq "hybrid, emulated: both devices hold layers" "$work/hybrid.json" \
		'[.plan.devices[] | select(.n_layers > 0)] | length' 2
	same_tokens "hybrid, emulated: the CPU-only run's greedy tokens" "$work/hybrid.json"
	memory "hybrid, emulated" "$work/hybrid.json"

	# 68 MiB each: a layer on each GPU, the rest on the CPU (three devices)
	check "two GPUs, emulated: trit run" 0 env \
		FAKECUDA_DEVICES="$(gpu A 68MiB), $(gpu B 68MiB)" FAKECUDA_LAUNCH=emulate \
		"$trit" run "$model" $args
	cp "$work/out" "$work/two.json"
	jq_eq "two GPUs, emulated: both GPUs hold layers" "$work/two.json" \
		'[.plan.devices[] | select(.n_layers > 0 and (.id | startswith("cuda")))] | length' 2
	jq_eq "two GPUs, emulated: and the CPU the first ones" "$work/two.json" \
		'[.plan.devices[] | select(.n_layers > 0)] | length' 3
	same_tokens "two GPUs, emulated: the CPU-only run's greedy tokens" "$work/two.json"
	memory "two GPUs, emulated" "$work/two.json"
fi

# --- check_cuda_gpu, the ternary kernels' GPU suite, on the emulated GPU -------------
if grep -q fakecuda_emulate "$fake" && [ -x "$top_builddir/plugins/cuda/check_cuda_gpu" ]; then
	# its own summary, not TAP into this script's stream
	check "check_cuda_gpu passes on the emulated GPU" 0 env -u CK_TAP_LOG_FILE_NAME \
		CK_VERBOSITY=normal FAKECUDA_LAUNCH=emulate FAKECUDA_DEVICES="$(gpu A 1GiB)" \
		"$top_builddir/plugins/cuda/check_cuda_gpu"
	expect "and it ran the kernels (no skip)" "$work/out" '^100%: Checks: [1-9]'
fi

# --- memory taken between the probe and the load: re-plan --------------------------
# The probe reads cuMemGetInfo twice on the device (trit's context, then a
# second one that measures what a context costs); the load's check is the
# third read. 1000 MiB of the 1 GiB vanish there.
check "memory taken after the probe: trit run re-plans and runs" 0 env \
	FAKECUDA_DEVICES="$(gpu A 1GiB)" FAKECUDA_LAUNCH=noop FAKECUDA_FAIL="taken=0:1000MiB@3" \
	"$trit" run "$model" $args
cp "$work/out" "$work/replan.json"
cp "$work/err" "$work/replan.err"
expect "it says it re-planned, and why" "$work/replan.err" 're-planned with the memory measured now'
jq_eq "the report carries the re-plan" "$work/replan.json" '.replanned != null' true
jq_eq "the new plan keeps the layers off the GPU" "$work/replan.json" '.plan.strategy' cpu-only
memory "re-planned" "$work/replan.json"

tap_end
