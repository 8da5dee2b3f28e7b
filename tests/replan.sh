#!/bin/sh
# trit run when a device has less memory at load than when it was probed:
# the test_shrink plugin (tests/plugins/shrink.c) reports 8 GiB free at the
# probe, so the plan is GPU-only on it, but holds only `free` bytes at load.
# Three ways to run short: the loader's check of the free memory, a weight's
# allocation part way through the load (fragmented memory: `largest`), and
# the activation arena after the weights fit. Each time the session drops
# what it placed, re-measures, re-plans (CPU-only), says so on stderr and in
# the report, and generates the same tokens as a plain CPU run. When even the
# re-plan fits nowhere, trit run fails with a clear message (exit 1), no
# crash. With enough memory nothing is re-planned and the device runs the
# model. Leaks on these paths are the sanitizer build's to find (make check
# under ASan) and valgrind's in .ci/run's valgrind stage, which runs the same
# commands: valgrind cannot run this script's binaries in every build CI makes.
# Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
so="$top_builddir/tests/plugins/.libs/shrink.so"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-replan-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_STRATEGY TRIT_PLUGIN_TEST_SHRINK_FREE \
	TRIT_PLUGIN_TEST_SHRINK_PROBE_FREE

if [ ! -f "$so" ]; then
	skip "re-planning at load" "tests/plugins/shrink.la was not built"
	echo "1..$n"; exit 0
fi
if [ ! -f "$top_builddir/plugins/cpu_avx2/cpu_avx2.la" ] || ! grep -qw avx2 /proc/cpuinfo; then
	skip "re-planning at load" "no AVX2: no CPU device with measured memory to re-plan onto"
	echo "1..$n"; exit 0
fi
# the plugin alone in a directory, so no other test plugin joins the plan
mkdir "$work/plugins" && ln -s "$so" "$work/plugins/shrink.so"
pd="$work/plugins"
m="$work/m.gguf"
"$gen" --shape ref-llama --format gguf --weights ternary --seed 7 --type F32 \
	--vocab-strings -o "$m" >/dev/null || not_ok "generate the model"
run() { "$trit" -P "$pd" run "$m" -p "abc def" -n 8 --temp 0 "$@"; }

# --- the planner sees 8 GiB free and puts everything on the test device --------
check "plan with the shrinking device" 0 "$trit" -P "$pd" plan --json "$m"
jq_eq "the plan is GPU-only" "$work/out" '.strategy' gpu-only

# --- the reference: the same model on the CPU alone ----------------------------
check "a CPU-only run" 0 "$trit" run "$m" -p "abc def" -n 8 --temp 0 --json
jq -c '.tokens' "$work/out" >"$work/cpu-tokens"

# --- 64 KiB at load: re-plan CPU-only and go on ----------------------------------
export TRIT_PLUGIN_TEST_SHRINK_FREE=65536
check "a load short of device memory re-plans and generates" 0 run --json
cp "$work/out" "$work/replan.json"
expect "the loader's check names the device and the bytes" "$work/err" \
	'device test_shrink/shrink0 cannot hold the weights placed on it: [0-9]+ bytes needed, 65536 bytes free'
expect "stderr says it re-planned, and to what" "$work/err" \
	're-planned with the memory measured now: cpu-only, cpu_avx2/cpu0 \(layers 0-3\)'
absent "no device is left unmeasured" "$work/err" 're-measuring'
jq_eq "the report's replanned field says why" "$work/replan.json" \
	'.replanned | test("cannot hold.*re-planned with the memory measured now")' true
jq_eq "the report's plan is the new one" "$work/replan.json" '.plan.strategy' cpu-only
jq_eq "the report's load is the new one: nothing on the device" "$work/replan.json" \
	'[.load.devices[] | select(.device == "test_shrink/shrink0") | .bytes] | add // 0' 0
jq_eq "8 tokens generated" "$work/replan.json" '.tokens | length' 8
same_tokens "the same greedy tokens as the CPU-only run" "$work/replan.json"
check "the text report names the re-plan" 0 run
expect "re-planned at load: in the text report" "$work/err" '^  re-planned at load: .*cpu-only'

# --- a weight's allocation fails part way through the load -----------------------
export TRIT_PLUGIN_TEST_SHRINK_FREE=8000000000 TRIT_PLUGIN_TEST_SHRINK_LARGEST=600000
check "an allocation failing mid-load re-plans and generates" 0 run --json
unset TRIT_PLUGIN_TEST_SHRINK_LARGEST
expect "the failed allocation is named" "$work/err" \
	'cannot hold tensor blk\.0\.ffn_[a-z]+\.weight: 786432 bytes needed.*at most 600000 bytes in one buffer'
expect "and the re-plan" "$work/err" 're-planned with the memory measured now: cpu-only'
same_tokens "mid-load: the same greedy tokens as the CPU-only run" "$work/out"

# --- the weights fit, the activation arena does not -------------------------------
export TRIT_PLUGIN_TEST_SHRINK_FREE=14000000
check "an arena allocation failing after the load re-plans and generates" 0 run --json
expect "the arena is named" "$work/err" 'cannot allocate the [0-9]+-byte activation arena'
# the weights and part of the arena fit: the re-plan keeps the last layer there
expect "and the re-plan: a hybrid split in the memory measured now" "$work/err" \
	're-planned with the memory measured now: hybrid, test_shrink/shrink0 \(layers 3-3\), cpu_avx2/cpu0 \(layers 0-2\)'
same_tokens "arena: the same greedy tokens as the CPU-only run" "$work/out"

# --- a device_update the host cannot plan on: said, old numbers kept ------------
export TRIT_PLUGIN_TEST_SHRINK_FREE=65536 TRIT_PLUGIN_TEST_SHRINK_BAD_UPDATE=1
check "a re-plan on the numbers of the probe fails again (exit 1)" 1 run
unset TRIT_PLUGIN_TEST_SHRINK_BAD_UPDATE
expect "the unusable re-measurement is named" "$work/err" \
	're-measuring test_shrink/shrink0: .*reports [0-9]+ bytes free of [0-9]+.*keeping the memory measured before'
expect "and the second failure follows the first" "$work/err" \
	'cannot load .*65536 bytes free; re-planned .*: gpu-only, .*; and the new plan failed too: .*cannot hold'

# --- not even the CPU can hold it: a clear error, no crash -----------------------
# The CPU's limit holds the process's own resident memory (the plan's
# measured overhead, which differs between builds: ASan's is larger) with its
# headroom, plus 6 MiB: less than the 18 MiB the model needs on top of it.
export TRIT_PLUGIN_TEST_SHRINK_FREE=65536
ovh=$("$trit" -P "$pd" plan --json "$m" | jq '[.devices[] | select(.id == "cpu0") | .memory.overhead][0]')
printf '[memory]\nlimit.cpu_avx2.cpu0 = %s\n' $((ovh + ovh / 10 + 6 * 1048576)) >"$work/tiny-cpu.ini"
check "when the re-plan fits nowhere trit run fails (exit 1)" 1 \
	"$trit" -P "$pd" --config "$work/tiny-cpu.ini" run "$m" -p "abc def" -n 8 --temp 0
expect "and says the model fits nowhere with the memory measured now" "$work/err" \
	'cannot load .*cannot hold .*; with the memory measured now the model fits nowhere'
unset TRIT_PLUGIN_TEST_SHRINK_FREE

# --- with the memory it reported, nothing is re-planned -------------------------
check "a device that keeps its memory loads as planned" 0 \
	env TRIT_PLUGIN_TEST_SHRINK_FREE=8589934592 "$trit" -P "$pd" run "$m" -p "abc def" -n 8 \
	--temp 0 --json
jq_eq "no re-plan" "$work/out" '.replanned' null
jq_eq "the plan stays GPU-only" "$work/out" '.plan.strategy' gpu-only
jq_eq "it generates 8 tokens" "$work/out" '.tokens | length' 8
same_tokens "on the device: the same greedy tokens as the CPU-only run" "$work/out"

tap_end
