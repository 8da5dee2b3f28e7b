#!/bin/sh
# trit-conformance on the plugins built in this tree: cpu_avx2 with each ISA
# this CPU has, opencl on whatever OpenCL platform is installed (pocl in CI),
# cuda on the fake driver (buffers, and the kernels run by its emulator),
# and a deliberately wrong plugin the suite must fail, naming the op. Also
# the CLI's usage errors and a skipped plugin's reason. Speaks TAP; every
# run is bounded by `timeout`.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
conf="$top_builddir/trit-conformance"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-conformance-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0
LIMIT=300

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# run CMD...: stdout to $work/out, stderr to $work/err, status in $rc
run() { timeout "$LIMIT" "$@" >"$work/out" 2>"$work/err"; rc=$?; }
status_is() { # NAME WANT
	if [ "$rc" -eq "$2" ]; then ok "$1"; else
		not_ok "$1" "exit $rc, wanted $2" "$(head -c 3000 "$work/out")" "$(head -c 2000 "$work/err")"; fi
}
expect() { # NAME FILE PATTERN
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 3000 "$2")"; fi
}
# passes NAME: the summary line says at least one case passed and none failed.
passes() {
	expect "$1" "$work/out" '^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped)?$'
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG FAKECUDA_FAIL FAKECUDA_DEVICES
# The bandwidth probe takes a minute on a loaded machine and is not under test.
export TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_PROBE=no

# --- the CLI -------------------------------------------------------------------
run "$conf" --help; status_is "--help exits 0" 0
expect "--help documents --op" "$work/out" '--op NAME'
run "$conf"; status_is "no plugin is a usage error" 2
run "$conf" --frobnicate x.so; status_is "an unknown option is a usage error" 2
run "$conf" --op FROB x.so; status_is "an unknown op is a usage error" 2
expect "the unknown op is named" "$work/err" "unknown op 'FROB'"
run "$conf" --list; status_is "--list exits 0 without a plugin" 0
expect "--list has I8-input ternary matmuls" "$work/out" '^MATMUL TL2 x I8 '
expect "--list has GQA 4 attention over a Q8_0 cache" "$work/out" '^ATTENTION cache=Q8_0 D=64 Hq=8 Hkv=2 '
expect "--list has NEOX rope with n_rot < head_dim from position 7" "$work/out" '^ROPE NEOX head_dim=24 n_rot=16 .*pos0=7'
run "$conf" --list --type Q8_0
if grep -vq 'Q8_0' "$work/out"; then not_ok "--type keeps only the cases of that type" "$(grep -v Q8_0 "$work/out" | head -3)"
else ok "--type keeps only the cases of that type"; fi
run "$conf" "$work/missing.so"; status_is "a missing plugin file is a load error" 2

probe_fails="$top_builddir/tests/plugins/.libs/probe_fails.so"
if [ -f "$probe_fails" ]; then
	run "$conf" "$probe_fails"; status_is "a plugin whose init fails is a load error" 2
	expect "the registry's reason is printed" "$work/err" 'skipped: .+'
else
	skip "a plugin whose init fails is a load error" "tests/plugins not built"
	skip "the registry's reason is printed" "tests/plugins not built"
fi

# --- the suite can fail ----------------------------------------------------------
wrong="$top_builddir/tests/wrongplug/.libs/wrong_ops.so"
run "$conf" "$wrong"; status_is "a plugin with a wrong matmul fails the suite" 1
expect "the failure line names the op, types and shape" "$work/out" \
	'^FAIL MATMUL I2_S x F32 K=[0-9]+ M=[0-9]+ T=[0-9]+ on test_wrong/wrong0: dst max abs err'
expect "the failure line gives the tolerance and the first bad index" "$work/out" \
	'tolerance .* first bad index [0-9]+: got'
expect "the summary counts the failures" "$work/out" '^[0-9]+ passed, [1-9][0-9]* failed, [0-9]+ skipped$'
run "$conf" -v --op ADD "$wrong"
if grep -q 'ADD.*the ref backend does not run it' "$work/out"; then
	skip "an off-by-one ADD fails the suite" "the ref backend has no ADD yet"
else
	expect "an off-by-one ADD fails the suite" "$work/out" '^FAIL ADD .* first bad index'
fi
run "$conf" --json --seed 7 "$wrong"; cp "$work/out" "$work/json1"
run "$conf" --json --seed 7 "$wrong"
if cmp -s "$work/out" "$work/json1"; then ok "the same seed gives the same verdicts"; else
	not_ok "the same seed gives the same verdicts" "$(diff "$work/json1" "$work/out" | head -5)"; fi
if command -v jq >/dev/null; then
	got=$(jq -s '(map(select(.result == "FAIL")) | length > 0) and (.[-1].failed > 0)' "$work/out" 2>&1)
	if [ "$got" = true ]; then ok "--json prints one valid object per line"; else
		not_ok "--json prints one valid object per line" "$got"; fi
else
	skip "--json prints one valid object per line" "no jq"
fi
run "$conf" --device 3 "$wrong"; status_is "a device the plugin lacks is a usage error" 2

# --- cpu_avx2 ----------------------------------------------------------------------
avx2="$top_builddir/plugins/cpu_avx2/.libs/cpu_avx2.so"
if [ ! -f "$avx2" ]; then
	skip "cpu_avx2 (avx2) conforms" "cpu_avx2 not built"
elif ! grep -qw avx2 /proc/cpuinfo; then
	skip "cpu_avx2 (avx2) conforms" "this CPU has no AVX2"
else
	TRIT_PLUGIN_CPU_AVX2_ISA=avx2 run "$conf" "$avx2"
	status_is "cpu_avx2 (avx2) conforms" 0
	passes "cpu_avx2 (avx2) passes cases and fails none"
	if grep -qw avx512bw /proc/cpuinfo; then
		TRIT_PLUGIN_CPU_AVX2_ISA=avx512 run "$conf" "$avx2"
		status_is "cpu_avx2 (avx512) conforms" 0
		passes "cpu_avx2 (avx512) passes cases and fails none"
	else
		skip "cpu_avx2 (avx512) conforms" "this CPU has no AVX-512BW"
	fi
fi

# --- opencl --------------------------------------------------------------------------
ocl="$top_builddir/plugins/opencl/.libs/opencl.so"
if [ ! -f "$ocl" ]; then
	skip "opencl conforms" "opencl not built"
else
	run "$conf" "$ocl"
	if [ "$rc" -eq 2 ] && grep -q skipped "$work/err"; then
		skip "opencl conforms" "$(head -c 200 "$work/err")"
	else
		status_is "opencl conforms" 0
		passes "opencl passes its cases and fails none"
		# Every op of the forward pass runs on the device, not on the
		# host's fallback: each has passing cases of its own.
		run "$conf" -v "$ocl"
		for op in GET_ROWS RMS_NORM ADD MUL SCALE ROPE ATTENTION RELU2 SILU GELU GLU \
			QUANTIZE_ACT CPY KV_WRITE; do
			expect "opencl runs $op" "$work/out" "^ok $op .* on opencl/"
		done
		for mm in 'F32 x F32' 'F16 x F32' 'I2_S x F32' 'I2_S x I8' 'TL1 x I8' 'TL2 x I8'; do
			expect "opencl runs MATMUL $mm" "$work/out" "^ok MATMUL $mm .* on opencl/"
		done
		for c in F32 F16; do
			for op in ATTENTION KV_WRITE; do
				expect "opencl runs $op over an $c cache" "$work/out" \
					"^ok $op cache=$c .* on opencl/"
			done
		done
		got=$(grep -c '^ok .* on opencl/' "$work/out")
		if [ "$got" -ge 120 ]; then ok "opencl passes at least 120 cases"; else
			not_ok "opencl passes at least 120 cases" "$got passed"; fi
	fi
fi

# --- cuda on the fake driver -------------------------------------------------------
cuda="$top_builddir/plugins/cuda/.libs/cuda.so"
fake="$top_builddir/tests/fakecuda/.libs/fakecuda.so"
if [ ! -f "$cuda" ] || [ ! -f "$fake" ]; then
	skip "cuda buffers conform on the fake driver" "cuda or the fake driver not built"
else
	export TRIT_CUDA_DRIVER="$fake" FAKECUDA_DEVICES="RTX 3050:4GiB cc=8.6, A100:80GiB cc=8.0"
	run "$conf" --op BUFFER "$cuda"
	status_is "cuda buffers conform on the fake driver" 0
	expect "both simulated GPUs are tested" "$work/out" '^2 passed, 0 failed'
	run "$conf" --op MATMUL --device 1 "$cuda"
	status_is "a kernel the device cannot run is a failure" 1
	expect "the failure carries the driver's reason" "$work/out" '^FAIL MATMUL .* on cuda/cuda1: error .*cannot run kernels'
	# The plugin's own kernels, run on the CPU by the fake's emulator
	# (tests/fakecuda/emulate.cc): every op of the forward pass on the device.
	if [ ! -f "$top_builddir/plugins/cuda/kernels-fatbin.c" ] || ! grep -q fakecuda_emulate "$fake"; then
		skip "cuda's kernels conform, emulated" "no kernels (nvcc) or no emulator (C++17) in this build"
	else
		FAKECUDA_LAUNCH=emulate run "$conf" -v --device 0 "$cuda"
		status_is "cuda's kernels conform, emulated" 0
		expect "cuda (emulated) passes its cases and fails none" "$work/out" \
			'^[1-9][0-9]* passed, 0 failed(, [0-9]+ skipped)?$'
		for op in GET_ROWS RMS_NORM ADD MUL SCALE ROPE ATTENTION RELU2 SILU GELU GLU \
			QUANTIZE_ACT CPY KV_WRITE; do
			expect "cuda (emulated) runs $op" "$work/out" "^ok $op .* on cuda/"
		done
		for mm in 'F32 x F32' 'F16 x F32' 'BF16 x F32' 'Q8_0 x F32' 'I2_S x F32' 'I2_S x I8' \
			'TL1 x I8' 'TL2 x I8'; do
			expect "cuda (emulated) runs MATMUL $mm" "$work/out" "^ok MATMUL $mm .* on cuda/"
		done
		for c in F32 F16 Q8_0; do
			expect "cuda (emulated) runs ATTENTION over a $c cache" "$work/out" \
				"^ok ATTENTION cache=$c .* on cuda/"
		done
	fi
	unset TRIT_CUDA_DRIVER FAKECUDA_DEVICES
fi

echo "1..$n"
[ "$failed" -eq 0 ]
