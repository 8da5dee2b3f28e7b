#!/bin/sh
# The cuda plugin as `trit devices` and `trit plan` show it, with the fake
# driver (tests/fakecuda) selected through TRIT_CUDA_DRIVER: devices and
# figures exactly as simulated, broken environments listed with reasons, and
# the plans for the BitNet b1.58 2B model on 4, 8, 24 and 80 GB GPUs (the
# workspace from the plugin's matmul_workspace, the overhead it measured,
# the workspace batch from the free memory it measured). Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
fake="$top_builddir/tests/fakecuda/.libs/fakecuda.so"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-cuda-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0
GIB=1073741824 MIB=1048576

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# run CMD...: stdout to $work/out, stderr to $work/err, status in $rc
run() { "$@" >"$work/out" 2>"$work/err"; rc=$?; }
status_is() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then ok "$1"; else not_ok "$1" "exit $rc, wanted $2" "$(head -c 2000 "$work/err")"; fi
}
jq_eq() { # NAME FILTER WANT (on $work/out)
	got=$(jq -r "$2" "$work/out" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1" "jq '$2' gave '$got', wanted '$3'"; fi
}
expect() { # NAME FILE PATTERN
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 2000 "$2")"; fi
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG FAKECUDA_FAIL FAKECUDA_DEVICES
export TRIT_CUDA_DRIVER="$fake"
cuda='.plugins[] | select(.name == "cuda")'

if [ ! -f "$top_builddir/plugins/cuda/cuda.la" ] || [ ! -f "$fake" ]; then
	echo "1..1"
	echo "ok 1 # SKIP the cuda plugin or the fake driver was not built"
	exit 0
fi
kernels=yes
grep -q '^#define TRIT_CUDA_ARCHS ' "$top_builddir/build-config.h" || kernels=no

# --- devices -------------------------------------------------------------------
three="RTX 3050:4GiB cc=8.6 sms=20 bus=128 memclock=7001MHz, RTX 4090:24GiB/20GiB free cc=8.9 sms=128 bus=384 memclock=10501MHz, A100:80GiB cc=8.0 sms=108 bus=5120 memclock=1593MHz ctx=500MiB"
FAKECUDA_DEVICES="$three" run "$trit" devices --json
status_is "devices with three simulated GPUs exits 0" 0
jq_eq "the cuda plugin loads from the build tree" "$cuda | \"\(.status) \(.origin)\"" "loaded build tree"
jq_eq "it lists the three devices in CUDA's order" "[$cuda | .devices[].id] | join(\",\")" cuda0,cuda1,cuda2
jq_eq "with their names" "[$cuda | .devices[].name] | join(\",\")" "RTX 3050,RTX 4090,A100"
jq_eq "total memory is exactly as simulated, measured" \
	"[$cuda | .devices[].memory_total | \"\(.state):\(.value)\"] | join(\",\")" \
	"measured:$((4 * GIB)),measured:$((24 * GIB)),measured:$((80 * GIB))"
jq_eq "free memory is what was free before trit's context" \
	"[$cuda | .devices[].memory_free.value] | join(\",\")" "$((4 * GIB)),$((20 * GIB)),$((80 * GIB))"
jq_eq "the context's cost is the property mem.overhead" \
	"[$cuda | .devices[].properties[\"mem.overhead\"].value] | join(\",\")" \
	"$((300 * MIB)),$((300 * MIB)),$((500 * MIB))"
jq_eq "peak bandwidth is derived: 2 x memory clock x bus width / 8" \
	"[$cuda | .devices[].memory_bandwidth | \"\(.state):\(.value)\"] | join(\",\")" \
	"derived:224032000000,derived:1008096000000,derived:2039040000000"
jq_eq "compute capability and multiprocessors as simulated" \
	"[$cuda | .devices[] | \"\(.compute_capability.value)/\(.compute_units.value)\"] | join(\",\")" \
	"86/20,89/128,80/108"
if [ "$kernels" = yes ]; then
	jq_eq "each advertises the ternary kernels" "[$cuda | .devices[].matmul_kernels | join(\" \")] | unique | join(\",\")" "I2_S TL1 TL2"
else
	jq_eq "a probe-only build advertises no kernels" "[$cuda | .devices[].matmul_kernels | length] | add" 0
fi
FAKECUDA_DEVICES="$three" run "$trit" devices
expect "text output lists the simulated GPU" "$work/out" '^  cuda1  RTX 4090  \[gpu, NVIDIA\]'
expect "and its overhead" "$work/out" '^    mem.overhead +300.00 MiB'
expect "compute capability as NVIDIA writes it (8.9, not 89)" "$work/out" '^    compute capability 8\.9$'
expect "a discrete card's memory pool is its PCI location, as opencl names it" "$work/out" '^    mem.pool +pci:0000:02:00\.0$'

# --- broken environments ---------------------------------------------------------
TRIT_CUDA_DRIVER="$work/missing/libcuda.so.1" run "$trit" devices --json
status_is "no driver: devices still exits 0" 0
jq_eq "no driver: the plugin is skipped" "$cuda | .status" skipped
jq_eq "no driver: the reason names the library and where it came from" \
	"$cuda | .reason | test(\"no CUDA driver: cannot load .*/missing/libcuda.so.1 \\\\(environment TRIT_CUDA_DRIVER\\\\)\")" true
jq_eq "no driver: the other backends still load" "[.plugins[] | select(.name == \"ref\") | .status] | join(\"\")" loaded
printf '[plugin.cuda]\ndriver = %s\n' "$work/from-ini.so" >"$work/deploy.ini"
env -u TRIT_CUDA_DRIVER "$trit" --config "$work/deploy.ini" devices --json >"$work/out" 2>"$work/err"
jq_eq "[plugin.cuda] driver names the library, with file:line" \
	"$cuda | .reason | test(\"from-ini.so \\\\(.*deploy.ini:2\\\\)\")" true
FAKECUDA_DEVICES="" run "$trit" devices --json
jq_eq "zero devices: the plugin loads with no device" "$cuda | \"\(.status) \(.devices | length)\"" "loaded 0"
FAKECUDA_DEVICES="A:8GiB" FAKECUDA_FAIL=init run "$trit" devices --json
jq_eq "cuInit failing: skipped with the driver's error" \
	"$cuda | .reason | test(\"failed to initialise: cuInit: CUDA_ERROR_UNKNOWN\")" true
FAKECUDA_DEVICES="A:8GiB, B:8GiB" FAKECUDA_FAIL=lost=0 run "$trit" devices --json
jq_eq "a lost device is left out, the other stays" "[$cuda | .devices[].id] | join(\",\")" cuda1
expect "and the reason is logged" "$work/err" 'CUDA device 0 is not used: cuCtxCreate on cuda0 \(A\)'
if [ "$kernels" = yes ]; then
	FAKECUDA_DEVICES="A:8GiB" FAKECUDA_FAIL=module run "$trit" devices --json
	jq_eq "kernels that do not load: the device stays, without kernels" "$cuda | .devices[0].matmul_kernels | length" 0
	jq_eq "and says why" "$cuda | .devices[0].properties.kernels.text | test(\"CUDA_ERROR_NO_BINARY_FOR_GPU\")" true
fi

# --- plans for BitNet b1.58 2B (I2_S) ---------------------------------------------
if [ ! -x "$gen" ]; then
	echo "1..$n"
	[ "$failed" -eq 0 ]
	exit
fi
"$gen" --shape BitNet-b1.58-2B-4T --format gguf --type I2_S -o "$work/bitnet.gguf" >/dev/null
weights=$("$trit" inspect --json "$work/bitnet.gguf" | jq .bytes)
# plan_on GPU CTX: plan with one simulated GPU (GPU = "4GiB"...)
plan_on() { FAKECUDA_DEVICES="GPU:$1" run "$trit" plan --json --ctx "$2" "$work/bitnet.gguf"; }
gpu='.devices[] | select(.backend == "cuda")'
for g in 4 8 24 80; do
	plan_on "${g}GiB" 4096
	status_is "plan on a ${g} GiB GPU exits 0" 0
	jq_eq "BitNet 2B at its 4096-token context is GPU-only on ${g} GiB" '.strategy' gpu-only
	jq_eq "all 30 layers and the whole model on the GPU (${g} GiB)" \
		"$gpu | \"\(.n_layers) \(.memory.weights)\"" "30 $weights"
	jq_eq "the plan starts from the free memory the plugin measured (${g} GiB)" "$gpu | .free" $((g * GIB))
	jq_eq "usable = free x 0.90 (${g} GiB)" "$gpu | .usable" \
		"$(awk -v f=$((g * GIB)) 'BEGIN { printf "%.0f", int(f * 0.9) }')"
	if [ "$kernels" = yes ]; then
		jq_eq "workspace = the plugin's: ubatch x 6912 int8 + 4 bytes per token (${g} GiB)" \
			"$gpu | .memory.workspace" $((512 * 6912 + 512 * 4))
	fi
	jq_eq "overhead = the context cost the plugin measured (${g} GiB)" "$gpu | .memory.overhead" $((300 * MIB))
	jq_eq "the workspace batch is capped at 256 (${g} GiB)" "$gpu | .workspace_batch" 256
done
# A long context: KV cache and attention scores grow; the small GPUs give out.
cpu_free=$("$trit" devices --json | jq '[.plugins[] | select(.status == "loaded") | .devices[] | select(.kind == "cpu" and .memory_free.value != null) | .memory_free.value] | max // 0')
plan_on 8GiB 32768
jq_eq "at 32768 tokens an 8 GiB GPU still holds everything" '.strategy' gpu-only
for g in 24 80; do
	plan_on "${g}GiB" 131072
	jq_eq "at 131072 tokens a ${g} GiB GPU holds everything" '.strategy' gpu-only
	jq_eq "KV cache for 131072 cells: 30 layers x 131072 x 2 x 640 x 2 bytes (${g} GiB)" \
		"$gpu | .memory.kv" $((30 * 131072 * 2 * 640 * 2))
done
if [ "$cpu_free" -ge $((8 * GIB)) ]; then
	plan_on 4GiB 32768
	jq_eq "at 32768 tokens a 4 GiB GPU takes the last layers, the CPU the rest" '.strategy' hybrid
	jq_eq "the GPU's layers are the last ones" "$gpu | .first_layer + .n_layers" 30
	jq_eq "and what it holds fits its usable memory" "$gpu | (.total + .headroom <= .usable)" true
else
	skip "a 4 GiB GPU at 32768 tokens is a hybrid split" "the CPU has less than 8 GiB free here"
fi
# Seed 002's workspace batch from the measured free memory, uncapped: with
# workspace_fraction 0.10, usable = 0.10 x free - weights - 0.05 x free.
FAKECUDA_DEVICES="GPU:22.04GiB" TRIT_WORKSPACE_FRACTION=0.1 run "$trit" plan --json "$work/bitnet.gguf"
free=$(jq "$gpu | .free" "$work/out")
want=$(awk -v f="$free" -v w="$weights" 'BEGIN { b = int((0.1 * f - w - 0.05 * f) / (6912 * 4)); if (b < 1) b = 1; if (b > 256) b = 256; print b }')
jq_eq "workspace batch = (0.10 x free - weights - 0.05 x free) / (6912 x 4) = $want" "$gpu | .workspace_batch" "$want"
jq_eq "which is below the cap here" "$gpu | .workspace_batch < 256 and .workspace_batch > 1" true
# Two GPUs: layers are split in proportion to their usable memory.
FAKECUDA_DEVICES="A:24GiB, B:24GiB" run "$trit" plan --json --ctx 32768 "$work/bitnet.gguf"
jq_eq "two 24 GiB GPUs share the 30 layers 15/15" "[$gpu | .n_layers] | join(\",\")" "15,15"
# The plan's explanation names the overhead's source.
FAKECUDA_DEVICES="GPU:8GiB" run "$trit" plan --explain "$work/bitnet.gguf"
status_is "plan --explain with the simulated GPU exits 0" 0
expect "--explain shows cuda0's buffers" "$work/out" 'cuda0'

echo "1..$n"
[ "$failed" -eq 0 ]
