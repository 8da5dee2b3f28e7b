#!/bin/sh
# `trit bench` as a user meets it: usage errors, the measurements on a small
# shape (through the built-in reference backend and through a test backend
# whose simulated CPU runs the ternary kernels), a kernel that disagrees with
# the reference, the cache file and where it lives, and the cached figures
# read back by `trit devices` and `trit plan --explain`. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
plug="$top_builddir/tests/benchplug"
gen="$top_builddir/tests/trit-genmodel"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # NAME EXPECTED_STATUS CMD...
	name=$1 want=$2; shift 2
	"$@" >"$work/out" 2>"$work/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else
		not_ok "$name" "exit $got, wanted $want" "$(head -c 2000 "$work/err")"; fi
}
expect() { # NAME FILE PATTERN
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 2000 "$2")"; fi
}
jq_eq() { # NAME FILTER WANT (on $work/out)
	got=$(jq -r "$2" "$work/out" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1" "jq '$2' gave '$got', wanted '$3'"; fi
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_BENCH_CACHE TRIT_THREADS
# never touch the user's own cache
XDG_CACHE_HOME="$work/xdg" HOME="$work/home"
export XDG_CACHE_HOME HOME
# Keep OpenCL drivers out: this file tests bench itself (with ref and the test
# backend), and pocl would rebuild its kernels in the empty cache above on
# every run (seconds each; LLVM's leaks at exit also trip LeakSanitizer).
mkdir -p "$work/no-icd"
OCL_ICD_VENDORS="$work/no-icd"
export OCL_ICD_VENDORS
small="--shape 64x256 --shape 100x300 --reps 3"

# --- usage ----------------------------------------------------------------------
check "bench --help exits 0" 0 "$trit" bench --help
expect "bench --help documents --kernel and --shape" "$work/out" '--kernel K .*i2s, tl1, tl2 or all'
expect "and --full, the long version" "$work/out" '^  --full +the long version'
check "help bench exits 0" 0 "$trit" help bench
check "trit --help lists bench" 0 "$trit" --help
expect "and says what it is for" "$work/out" '^  bench  '
for s in 64by256 0x256 64x 64x256x2 x256 -64x256 4294967296x2; do
	check "--shape $s is a usage error" 2 "$trit" bench --shape "$s"
done
expect "the bad shape is named with what was expected" "$work/err" "--shape '4294967296x2': expected MxK"
check "an unknown kernel is a usage error" 2 "$trit" bench --kernel q4_0
expect "the kernels are named" "$work/err" "'q4_0': expected i2s, tl1, tl2 or all"
check "--tokens 0 is a usage error" 2 "$trit" bench --tokens 0
check "--working-set lots is a usage error" 2 "$trit" bench --working-set lots
check "a stray argument is a usage error" 2 "$trit" bench extra
check "bench on a described machine is a usage error" 2 \
	"$trit" --devices "$top_srcdir/docs/machines/cpu-ram8.ini" bench
expect "saying why" "$work/err" 'describes another machine'
check "--threads 0x is a usage error" 2 "$trit" bench --threads 0x --backend nosuch
check "nothing matching the filters exits 1" 1 "$trit" bench --backend nosuch
expect "and says so" "$work/err" 'nothing to measure'

# --- the reference backend, on a small shape --------------------------------------
check "bench --backend ref on a small shape exits 0" 0 \
	"$trit" bench --backend ref --shape 64x256 --reps 3 --working-set 1MiB --json --no-cache
jq_eq "one result per reference kernel" '[.results[].kernel] | join(",")' "I2_S,TL1,TL2"
jq_eq "every result has the schema's keys" \
	'[.results[] | has("backend", "device_id", "device_name", "kind", "isa", "kernel", "tokens", "threads", "reps", "measured_at", "working_set", "read_baseline", "weight_bytes_per_s", "gops", "read_bytes_per_s", "ratio", "gap_us", "gap_weight_bytes_per_s", "shapes")] | all' true
jq_eq "every shape has the schema's keys" \
	'[.results[].shapes[] | has("rows", "cols", "bytes", "copies", "batch", "seconds", "gops", "weight_bytes_per_s", "read_seconds", "read_bytes_per_s", "ratio", "gap_seconds")] | all' true
jq_eq "the gapped timing ran, after a 100 us gap, on every shape" \
	'[.results[] | (.gap_us == 100 and .gap_weight_bytes_per_s > 0 and ([.shapes[] | .gap_seconds > 0] | all))] | all' true
jq_eq "GOP/s, weight and read GB/s and the ratio are positive" \
	'[.results[].shapes[] | (.gops > 0 and .weight_bytes_per_s > 0 and .read_bytes_per_s > 0 and .ratio > 0)] | all' true
jq_eq "the ratio is weight GB/s over read GB/s" \
	'[.results[].shapes[] | ((.ratio - .weight_bytes_per_s / .read_bytes_per_s) | fabs) < 1e-9 * .ratio] | all' true
jq_eq "GOP/s is 2 x M x K x tokens / median" \
	'[.results[].shapes[] | ((.gops - 2 * .rows * .cols / .seconds.median / 1e9) | fabs) < 1e-9 * .gops] | all' true
jq_eq "min <= median <= max" \
	'[.results[].shapes[].seconds | (.min <= .median and .median <= .max)] | all' true
jq_eq "I2_S 64x256 weights are 64 x 256 / 4 + 32 bytes" \
	'.results[0].shapes[0].bytes' 4128
jq_eq "the copies, 256 bytes apart, span the working set" \
	'[.results[].shapes[] | (.copies * ((.bytes + 255) / 256 | floor) * 256 >= 1048576)] | all' true
jq_eq "the reference runs on 1 thread, as the planner would" '.results[0].threads' 1
jq_eq "--no-cache writes no cache" '.cache.written' false
jq_eq "ref reports no int8 peak: the peak and of_peak are null, with the reason" \
	'[.results[] | "\(.peak_ops_per_s_per_core) \(.peak_ops_per_s) \(.of_peak) \(.shapes[0].of_peak) \(.peak_why)"] | unique | join(",")' \
	"null null null null ref0 reports no compute.int8_peak in ops/s (its plugin does not measure it)"

# --- a test backend with ternary kernels and known memory ---------------------------
cache="$work/bench.json"
check "bench on the test backend exits 0" 0 \
	"$trit" -P "$plug" bench --backend test_ternary $small --cache "$cache" --json
jq_eq "three kernels measured" '.results | length' 3
jq_eq "on two shapes each" '[.results[].shapes | length] | join(",")' "2,2,2"
jq_eq "the device's kernel.isa is recorded" '[.results[].isa] | unique | join(",")' scalar
jq_eq "with the planner's threads (its 2 cores)" '[.results[].threads] | unique | join(",")' 2
jq_eq "the working set is 2 x its 1 MiB last-level cache" '.results[0].working_set.bytes' 2097152
jq_eq "and says where the cache size came from" '.results[0].working_set.why | test("cache.l3 of tcpu0")' true
jq_eq "the baseline is a streaming read of host memory with the same threads" \
	'.results[0].read_baseline | test("streaming read .* 2 threads")' true
jq_eq "the cache was written" '.cache.written' true
jq_eq "every result and shape has the peak's keys" \
	'[.results[] | has("peak_ops_per_s_per_core", "peak_ops_per_s", "peak_why", "of_peak") and ([.shapes[] | has("of_peak")] | all)] | all' true
jq_eq "the peak per core is the device's compute.int8_peak, per kernel type where it has one" \
	'[.results[] | "\(.kernel)=\(.peak_ops_per_s_per_core)"] | join(",")' "I2_S=1000000000,TL1=1000000000,TL2=2000000000"
jq_eq "the peak is that times the threads" '[.results[] | .peak_ops_per_s == .peak_ops_per_s_per_core * .threads] | all' true
jq_eq "of_peak is GOP/s over the peak, over all shapes and per shape" \
	'[.results[] | .peak_ops_per_s as $p | ([.] + .shapes)[] | .of_peak > 0 and ((.of_peak - .gops * 1e9 / $p) | fabs) < 1e-9 * .of_peak] | all' true
jq_eq "peak_why names the property and the plugin's source" '[.results[].peak_why] | unique | join("|")' \
	"tcpu0 compute.int8_peak, measured by the plugin: simulated: 1 G ops/s per core|tcpu0 compute.int8_peak.tl2, measured by the plugin: simulated: 2 G ops/s per core for TL2"
expect "progress goes to stderr" "$work/err" '^trit bench: test_ternary/tcpu0 I2_S 64x256.*packing'
expect "it says what the run is first" "$work/err" \
	'^trit bench: a quick run: 6 steps \(device, kernel, shape\), 3 timed samples each'
expect "and numbers each step as it packs" "$work/err" \
	'^trit bench: test_ternary/tcpu0 TL1 100x300 \(4/6\), 1 token: packing random weights, writing [0-9]+ copies'
for phase in 'checking against the reference' 'timing 3 samples of [0-9]+ matmuls$' \
	'timing 3 samples of [0-9]+ matmuls, each after a 100 us gap' \
	'reading the same .* from host memory \(the baseline\)'; do
	expect "a line when it starts ${phase%% *}" "$work/err" "^trit bench: test_ternary/tcpu0 TL2 64x256 \\(5/6\\): $phase"
done
if jq -e 'type == "object"' "$work/out" >/dev/null 2>&1 && ! grep -q '^trit bench:' "$work/out"; then
	ok "--json stdout is one JSON document, no progress"
else
	not_ok "--json stdout is one JSON document, no progress" "$(head -c 500 "$work/out")"
fi
jq_eq "the document says it was a quick run" '.mode' quick
jq_eq "and so does every result" '[.results[].mode] | unique | join(",")' quick
check "-q silences the progress" 0 \
	"$trit" -P "$plug" bench --backend test_ternary --kernel i2s --shape 64x256 --reps 2 -q --no-cache
if [ -s "$work/err" ]; then not_ok "-q leaves stderr empty" "$(head -c 500 "$work/err")"
else ok "-q leaves stderr empty"; fi
expect "text output has the table" "$work/out" '^  I2_S   64x256 +4.03 KiB'
expect "the peak once, under the device" "$work/out" \
	'^  peak int8 \(I2_S\): 1 GOP/s per core x 2 threads = 2 GOP/s, an upper bound \(tcpu0 compute.int8_peak, measured by the plugin: simulated'
expect "and an of-peak column" "$work/out" '^  I2_S   64x256 .* [0-9.]+ +[0-9.e-]+% +[0-9.]+ '
check "bench text with two kernels of different peaks" 0 \
	"$trit" -P "$plug" bench --backend test_ternary --kernel i2s --kernel tl2 --shape 64x256 --reps 2 -q --no-cache
if [ "$(grep -c '^  peak int8' "$work/out")" -eq 2 ] &&
	grep -Eq '^  peak int8 \(TL2\): 2 GOP/s per core x 2 threads = 4 GOP/s' "$work/out"; then
	ok "prints the peak again where a kernel's differs"
else
	not_ok "prints the peak again where a kernel's differs" "$(grep 'peak int8' "$work/out")"
fi
check "bench with the device's peak unknown exits 0" 0 env TRIT_PLUGIN_TEST_TERNARY_PEAK=unknown \
	"$trit" -P "$plug" bench --backend test_ternary --kernel i2s --shape 64x256 --reps 2 --json -q --no-cache
jq_eq "of_peak is null, with the plugin's reason" '.results[0] | "\(.peak_ops_per_s) \(.of_peak) \(.shapes[0].of_peak) \(.peak_why)"' \
	"null null null tcpu0 compute.int8_peak is unknown: simulated: not measured (peak = unknown)"
if [ -f "$cache" ] && jq -e '.format == 1 and (.results | length) == 3' "$cache" >/dev/null; then
	ok "the cache file holds the three results"
else
	not_ok "the cache file holds the three results" "$(head -c 1000 "$cache" 2>&1)"
fi

# the same run again replaces, not adds; another kernel.isa is a new key
"$trit" -P "$plug" bench -q --backend test_ternary --kernel i2s --shape 64x256 --reps 2 --cache "$cache" >/dev/null 2>&1
TRIT_PLUGIN_TEST_TERNARY_ISA=other "$trit" -P "$plug" bench -q --backend test_ternary --kernel i2s \
	--shape 64x256 --reps 2 --cache "$cache" >/dev/null 2>&1
if jq -e '(.results | length) == 4 and ([.results[] | select(.isa == "other")] | length) == 1' "$cache" >/dev/null; then
	ok "a rerun replaces its result; another kernel.isa is kept apart"
else
	not_ok "a rerun replaces its result; another kernel.isa is kept apart" "$(jq -c '[.results[] | [.kernel, .isa]]' "$cache")"
fi
if jq -e '[.results[] | select(.kernel == "TL2")][0] | .peak_ops_per_s_per_core == 2000000000 and (.peak_why | test("compute.int8_peak.tl2"))' "$cache" >/dev/null; then
	ok "the peak survives a read and rewrite of the cache"
else
	not_ok "the peak survives a read and rewrite of the cache" "$(jq -c '[.results[] | [.kernel, .peak_ops_per_s_per_core]]' "$cache")"
fi

# --- quick and full runs ------------------------------------------------------------------
# A device whose last-level cache is 160 MiB: --full rotates the weights over
# 2 x that, a quick run over at most 256 MiB. tgpu0 keeps its buffers in its
# own (simulated) memory, so no host copy is read and the test stays short.
big="env TRIT_PLUGIN_TEST_TERNARY_GPU=yes TRIT_PLUGIN_TEST_TERNARY_L3=167772160"
check "a quick run on a device with a large cache exits 0" 0 \
	$big "$trit" -P "$plug" bench --device tgpu0 --kernel i2s --shape 64x256 --reps 1 --json -q --no-cache
jq_eq "its working set is capped at 256 MiB" '.results[0].working_set.bytes' 268435456
jq_eq "and says so, with what --full would use" \
	'.results[0].working_set.why | test("^a quick run.s cap \\(--full: 320.00 MiB, 2 x the last-level cache: cache.l3 of tgpu0")' true
jq_eq "it is a quick result" '"\(.mode) \(.results[0].mode)"' "quick quick"
check "--full exits 0" 0 \
	$big "$trit" -P "$plug" bench --full --device tgpu0 --kernel i2s --shape 64x256 --reps 1 --json -q --no-cache
jq_eq "--full rotates over 2 x the last-level cache" '.results[0].working_set.bytes' 335544320
jq_eq "and is a full result" '"\(.mode) \(.results[0].mode) \(.results[0].working_set.why | test("cap"))"' "full full false"
check "--full without --reps takes 9 samples" 0 \
	"$trit" -P "$plug" bench --full --backend test_ternary --kernel i2s --shape 32x128 --json -q --no-cache
jq_eq "9 samples" '.results[0].reps' 9
check "a quick run without --reps takes 5" 0 \
	"$trit" -P "$plug" bench --backend test_ternary --kernel i2s --shape 32x128 --json -q --no-cache
jq_eq "5 samples" '.results[0].reps' 5

# a quick result goes beside a full one in the cache, never over it
modes="$work/modes.json"
"$trit" -P "$plug" bench -q --full --backend test_ternary --kernel i2s --shape 64x256 --reps 2 --cache "$modes" >/dev/null 2>&1
check "a quick run after a --full one exits 0" 0 \
	"$trit" -P "$plug" bench --backend test_ternary --kernel i2s --shape 64x256 --reps 2 --cache "$modes"
expect "and says the --full result stays in use" "$work/err" \
	'^trit bench: the cache keeps this quick result beside the --full result of test_ternary/tcpu0 I2_S \(.*\), which trit plan goes on using'
if jq -e '[.results[].mode] | sort == ["full", "quick"]' "$modes" >/dev/null 2>&1; then
	ok "the cache holds both"
else
	not_ok "the cache holds both" "$(jq -c '[.results[] | [.kernel, .mode]]' "$modes" 2>&1)"
fi
check "devices shows both" 0 env TRIT_BENCH_CACHE="$modes" "$trit" -P "$plug" devices
expect "marking the quick one" "$work/out" '^    bench I2_S .*, quick run, '
expect "as not used by trit plan" "$work/out" '\(a quick run: trit plan uses the --full result\)'
"$trit" -P "$plug" bench -q --full --backend test_ternary --kernel i2s --shape 64x256 --reps 2 --cache "$modes" >/dev/null 2>&1
if jq -e '[.results[].mode] | sort == ["full", "quick"]' "$modes" >/dev/null 2>&1; then
	ok "a --full run replaces the --full result only"
else
	not_ok "a --full run replaces the --full result only" "$(jq -c '[.results[] | [.kernel, .mode]]' "$modes" 2>&1)"
fi

# --- read back: devices and plan ------------------------------------------------------
check "devices shows the cached figures" 0 env TRIT_BENCH_CACHE="$cache" "$trit" -P "$plug" devices
expect "per kernel, under the device" "$work/out" '^    bench I2_S +[0-9.]+ GB/s of weights, [0-9.]+ GOP/s, [0-9.]+ x the streaming read'
expect "a result for another kernel.isa is marked as unused" "$work/out" 'measured with kernel.isa other; tcpu0 now reports scalar: not used by trit plan'
expect "and names the file they came from" "$work/out" "read from $cache"
check "devices --json shows them too" 0 env TRIT_BENCH_CACHE="$cache" "$trit" -P "$plug" devices --json
jq_eq "four results under tcpu0" '.plugins[] | select(.name == "test_ternary") | .devices[0].bench | length' 4
jq_eq "bench_cache names the file" '.bench_cache.path' "$cache"
printf '[runtime]\nbench_cache = %s\n' "$cache" >"$work/deploy.ini"
check "[runtime] bench_cache is read like TRIT_BENCH_CACHE" 0 "$trit" -P "$plug" --config "$work/deploy.ini" devices --json
jq_eq "the same four results" '.plugins[] | select(.name == "test_ternary") | .devices[0].bench | length' 4

if [ -x "$gen" ]; then
	"$gen" --shape BitNet-b1.58-2B-4T --format gguf --type I2_S -o "$work/bitnet.gguf" >/dev/null
	check "plan --explain uses the cached figures" 0 \
		env TRIT_BENCH_CACHE="$cache" "$trit" -P "$plug" plan --explain --ctx 4096 "$work/bitnet.gguf"
	expect "the plan runs on the test CPU" "$work/out" '^  tcpu0 +layers 0-29'
	expect "--explain says the I2_S weights stream at the measured rate" "$work/out" \
		'speed .*tcpu0: [0-9.]+ GB of I2_S weights / [0-9.]+ GB/s \(the I2_S kernel as trit bench measured it, isa scalar\)'
	check "plan without a cache uses the bandwidth formula" 0 \
		env TRIT_BENCH_CACHE="$work/none.json" "$trit" -P "$plug" plan --explain --ctx 4096 "$work/bitnet.gguf"
	expect "and says so" "$work/out" 'speed .*tcpu0: [0-9.]+ GB read per token / [0-9.]+ GB/s \(memory bandwidth\)'
	# A device without I2_S: the weights are repacked into the measured fastest format.
	check "plan for a device that runs only TL1 and TL2 exits 0" 0 env TRIT_BENCH_CACHE="$cache" \
		TRIT_PLUGIN_TEST_TERNARY_KERNELS=TL1,TL2 "$trit" -P "$plug" plan --json --ctx 4096 "$work/bitnet.gguf"
	fastest=$(jq -r '[.results[] | select(.isa == "scalar" and .kernel != "I2_S")] | max_by(.gops) | .kernel' "$cache")
	jq_eq "its weights are repacked into the faster measured format ($fastest)" \
		'.devices[] | select(.id == "tcpu0") | .ternary.format' "$fastest"
	jq_eq "and the plan says why" \
		'.devices[] | select(.id == "tcpu0") | .ternary.format_why | test("fastest of its kernels trit bench measured")' true
	jq_eq "all 210 BitLinear weights, from I2_S" \
		'.devices[] | select(.id == "tcpu0") | .ternary.repacked | "\(.tensors) \(.from | join(","))"' "210 I2_S"
	jq_eq "the repack buffers are counted on the CPU" '.repack_buffers.device' tcpu0
	check "--explain lists each weight's format" 0 env TRIT_BENCH_CACHE="$cache" \
		TRIT_PLUGIN_TEST_TERNARY_KERNELS=TL1,TL2 "$trit" -P "$plug" plan --explain --ctx 4096 "$work/bitnet.gguf"
	expect "repacked from I2_S" "$work/out" "^  blk\\.0\\.attn_q\\.weight +weights +$fastest <- I2_S "
	expect "and the Ternary weights section says what it costs" "$work/out" \
		"^  tcpu0 +210 repacked at load from I2_S into $fastest: 496\\.9 MiB in the file -> "
else
	ok "plan with cached figures # SKIP tests/trit-genmodel was not built"
fi

# --- a kernel that disagrees with the reference ----------------------------------------
check "a kernel that disagrees makes bench exit 1" 1 env TRIT_PLUGIN_TEST_TERNARY_WRONG=TL1 \
	"$trit" -P "$plug" bench --backend test_ternary --shape 64x256 --reps 2 --json -q --cache "$work/wrong.json"
expect "naming it, the shape, the place and both values" "$work/err" \
	'test_ternary/tcpu0 TL1 64x256 disagrees with the reference: copy 0, token 0, row 32: integer dot'
jq_eq "the others are still reported" '[.results[].kernel] | join(",")' "I2_S,TL2"
jq_eq "the refused one is listed with the reason" '.refused[0] | "\(.kernel) \(.why | test("disagrees"))"' "TL1 true"
if jq -e '[.results[].kernel] | index("TL1") == null' "$work/wrong.json" >/dev/null 2>&1; then
	ok "a refused kernel never reaches the cache"
else
	not_ok "a refused kernel never reaches the cache" "$(head -c 500 "$work/wrong.json" 2>&1)"
fi

# --- a device with memory of its own: no host baseline ------------------------------------
check "bench on a simulated GPU exits 0" 0 env TRIT_PLUGIN_TEST_TERNARY_GPU=yes \
	"$trit" -P "$plug" bench --device tgpu0 --kernel i2s --shape 64x256 --reps 2 --json -q --no-cache
jq_eq "its read baseline is unknown (null), and so is the ratio" \
	'.results[0] | "\(.read_bytes_per_s) \(.ratio) \(.shapes[0].ratio)"' "null null null"
jq_eq "with the reason" '.results[0].read_baseline | test("^unknown: tgpu0 keeps its buffers")' true
jq_eq "its own working set, from its own cache size" '.results[0].working_set.bytes' 2097152
jq_eq "no int8 peak for a device that is not a CPU" '.results[0] | "\(.peak_ops_per_s) \(.of_peak) \(.peak_why)"' \
	"null null not a CPU: the peak is one core's, scaled by the threads"

# --- where the cache lives -------------------------------------------------------------
check "without --cache the cache goes under XDG_CACHE_HOME" 0 \
	"$trit" -P "$plug" bench --backend test_ternary --kernel tl2 --shape 64x256 --reps 2 -q
if [ -f "$XDG_CACHE_HOME/trit/bench.json" ]; then ok "\$XDG_CACHE_HOME/trit/bench.json exists"
else not_ok "\$XDG_CACHE_HOME/trit/bench.json exists" "$(ls -R "$work" | head -20)"; fi
check "else under ~/.cache" 0 env -u XDG_CACHE_HOME \
	"$trit" -P "$plug" bench --backend test_ternary --kernel tl2 --shape 64x256 --reps 2 -q
if [ -f "$HOME/.cache/trit/bench.json" ]; then ok "~/.cache/trit/bench.json exists"
else not_ok "~/.cache/trit/bench.json exists" "$(ls -R "$work" | head -20)"; fi
check "[runtime] bench_cache sets the file" 0 \
	"$trit" -P "$plug" --config "$work/deploy.ini" bench --backend test_ternary --kernel tl2 --shape 32x128 --reps 2 -q
if jq -e '[.results[] | select(.shapes[0].rows == 32)] | length == 1' "$cache" >/dev/null; then
	ok "and bench writes there"
else
	not_ok "and bench writes there" "$(jq -c '[.results[] | .shapes[0].rows]' "$cache")"
fi
printf '{"format": 7}\n' >"$work/bad.json"
check "a file that is not a bench cache is not overwritten (exit 1)" 1 \
	"$trit" -P "$plug" bench --backend test_ternary --kernel tl2 --shape 64x256 --reps 2 -q --cache "$work/bad.json"
expect "the error names the file" "$work/err" 'bad.json is not a trit bench cache'
if [ "$(cat "$work/bad.json")" = '{"format": 7}' ]; then ok "the file is untouched"
else not_ok "the file is untouched" "$(head -c 300 "$work/bad.json")"; fi
check "devices still works with a broken cache" 0 env TRIT_BENCH_CACHE="$work/bad.json" "$trit" devices
expect "and says why it shows no bench results" "$work/out" '^Bench results: none shown: .*bad.json is not a trit bench cache'

# --- ref is skipped unless named, when another backend has ternary kernels --------------
# --working-set 1MiB: the default, 2 x the last-level cache (checked above on
# tcpu0), is gigabytes for cpu_avx2 on a machine with a large L3; this part
# checks which backends are measured, not how much memory they stream.
check "bench without --backend exits 0" 0 "$trit" -P "$plug" bench --shape 64x256 --reps 2 --working-set 1MiB --json --no-cache
jq_eq "ref is not measured" '[.results[].backend] | unique | index("ref") == null' true
expect "and stderr says how to include it" "$work/err" 'ref \(the scalar reference\) skipped.*--backend ref'

echo "1..$n"
[ "$failed" -eq 0 ]
