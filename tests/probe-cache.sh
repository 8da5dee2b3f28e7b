#!/bin/sh
# The probe cache as an operator meets it through `trit devices`: a CPU
# plugin's bandwidth run is stored once and reused while nothing it depends
# on changes; a new probe size, a rebuilt plugin file, `--remeasure` or an
# expired entry measure again; probe_cache_max_age = 0 switches it off; a
# damaged cache file is a warning, then rewritten; on a CPU with several
# kernel paths, the timing that picks one per kernel type is stored once and
# reused the same way (its figures are not checked: timing), and so is the
# peak int8 throughput of a core (compute.int8_peak). The cpu_avx2 plugin is
# copied into a directory of its own (it shadows the build tree's), so its
# file can be touched. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}"
trit="$top_builddir/trit"
so="$top_builddir/plugins/cpu_avx2/.libs/cpu_avx2.so"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-pcache-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
work=$(cd "$work" && pwd -P)
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
run() { "$@" >"$work/out" 2>"$work/err"; got=$?; }
expect() { # NAME FILE PATTERN (extended regex)
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 2000 "$2")"; fi
}
jq_eq() { # NAME FILTER WANT (on $work/out)
	got_jq=$(jq -r "$2" "$work/out" 2>&1)
	if [ "$got_jq" = "$3" ]; then ok "$1"; else not_ok "$1" "jq '$2' gave '$got_jq', wanted '$3'" "$(head -c 1000 "$work/err")"; fi
}

if ! command -v jq >/dev/null 2>&1; then echo "1..0 # SKIP jq is not installed"; exit 0; fi
if [ ! -f "$so" ]; then echo "1..0 # SKIP the cpu_avx2 plugin was not built"; exit 0; fi
unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_PROBE_CACHE_MAX_AGE
export TRIT_PROBE_CACHE="$work/cache/probe.json"
# the bandwidth first, alone: no kernel timing
export TRIT_PLUGIN_CPU_AVX2_CHOOSE=widest
mkdir -m 0755 "$work/plug" && cp "$so" "$work/plug/" && chmod 0755 "$work/plug/cpu_avx2.so"
avx2='.plugins[] | select(.name == "cpu_avx2" and .status == "loaded")'
devices() { run "$trit" -P "$work/plug" devices --json "$@"; }

devices
jq_eq "a first run measures the bandwidth and stores it" "$avx2 | .cached[0] | \"\(.key) \(.from_cache)\"" \
	"cpu0.mem_bandwidth false"
jq_eq "... in the file [runtime] probe_cache names" '.probe_cache.path' "$TRIT_PROBE_CACHE"
first=$(jq -r "$avx2 | .devices[0].memory_bandwidth.value" "$work/out")
peak="$avx2 | .devices[0].properties[\"compute.int8_peak\"]"
jq_eq "the int8 peak of a core was measured and stored too" \
	"[$avx2 | .cached[] | select(.key | startswith(\"cpu0.int8_peak.\")) | .from_cache] | map(tostring) | join(\",\")" false
jq_eq "... published as compute.int8_peak in ops/s" "$peak | \"\(.unit) \(.state) \(.value > 0)\"" "ops/s measured true"
jq_eq "... whose source says how and that it is per core" \
	"$peak | .source | test(\"independent chains .* best of 5 samples .*; per core \\\\(one thread\\\\); measured now\")" true
first_peak=$(jq -r "$peak | .value" "$work/out")
cp "$TRIT_PROBE_CACHE" "$work/out"
bw='.entries[] | select(.plugin == "cpu_avx2" and .key == "cpu0.mem_bandwidth")'
jq_eq "the probe cache file holds one entry for the bandwidth" "[$bw] | length" 1
jq_eq "... the value measured" "$bw | .value" "$first"
jq_eq "... and one for the int8 peak of the path" \
	'[.entries[] | select(.plugin == "cpu_avx2" and (.key | test("^cpu0[.]int8_peak[.]avx[0-9a-z]+$")))] | length' 1

devices
jq_eq "the next run takes it from the cache" "$avx2 | .cached[0].from_cache" true
jq_eq "... and the int8 peak too, the same value" "[$avx2 | .cached[] | select(.key | startswith(\"cpu0.int8_peak.\")) | .from_cache | tostring] + [$peak | .value | tostring] | join(\" \")" "true $first_peak"
jq_eq "... the same value" "$avx2 | .devices[0].memory_bandwidth.value" "$first"
jq_eq "... whose source says so" \
	"$avx2 | .devices[0].memory_bandwidth.source | test(\"measured [0-9]+ s ago \\\\(probe cache\\\\)\")" true

run "$trit" -P "$work/plug" devices
expect "trit devices shows the cached measurement and its age" "$work/out" \
	"^  cached +cpu0\.mem_bandwidth, measured [0-9]+ s ago \(probe cache\)"
expect "... and the file, with how to measure again" "$work/out" \
	"^Probe cache: $TRIT_PROBE_CACHE \(.trit devices --remeasure. measures everything again\)"

TRIT_PLUGIN_CPU_AVX2_BANDWIDTH_BYTES=4MiB devices
jq_eq "another probe size is another stamp: measured again" "$avx2 | .cached[0].from_cache" false
cp "$TRIT_PROBE_CACHE" "$work/out"
jq_eq "... kept beside the first (one entry per plugin file, key and stamp)" "[$bw] | length" 2

devices
jq_eq "back to 8 MiB: its own entry serves again, nothing measured" "$avx2 | .cached[0].from_cache" true
touch -d '+1 minute' "$work/plug/cpu_avx2.so" 2>/dev/null || { sleep 1; touch "$work/plug/cpu_avx2.so"; }
devices
jq_eq "a rebuilt plugin file (its modification time) measures again" "$avx2 | .cached[0].from_cache" false
devices --remeasure
jq_eq "--remeasure measures again" "$avx2 | .cached[0].from_cache" false
jq_eq "... the int8 peak too (what it stores now reads back: the cache keeps values)" \
	"[$avx2 | .cached[] | select(.key | startswith(\"cpu0.int8_peak.\")) | .from_cache | tostring] + [$peak | .state] | join(\" \")" \
	"false measured"
devices
jq_eq "... and stores it for the next run" "$avx2 | .cached[0].from_cache" true

TRIT_PROBE_CACHE_MAX_AGE=0 devices
jq_eq "probe_cache_max_age = 0: nothing is cached" "$avx2 | .cached | length" 0
jq_eq "... and the report says why" '.probe_cache.off_reason' \
	"switched off ([runtime] probe_cache_max_age = 0)"
jq_eq "... the int8 peak is then unknown, not measured at every start" \
	"$peak | \"\(.value) \(.state) \(.source)\"" \
	"null unknown not measured: the probe cache is off or keeps nothing, so it would be measured at every start"

printf '{"format": 1, "entries": [{"plugin": 5}]}' >"$TRIT_PROBE_CACHE"
devices
jq_eq "a damaged cache does not fail trit devices" "$avx2 | .cached[0].from_cache" false
expect "... it is a warning naming the file and the entry" "$work/err" \
	"warn: ignoring the probe cache $TRIT_PROBE_CACHE: entry 0: "
cp "$TRIT_PROBE_CACHE" "$work/out"
jq_eq "... and it is rewritten whole" \
	'[.entries[] | select(.plugin == "cpu_avx2") | .key | sub("^cpu0[.]int8_peak[.]avx[0-9a-z]+$"; "PEAK")] | sort | join(",")' \
	"PEAK,cpu0.kernel.cache-check,cpu0.mem_bandwidth"

# The kernel paths: timed once, then from the cache (several paths only).
unset TRIT_PLUGIN_CPU_AVX2_CHOOSE
kernels='[.entries[] | select(.plugin == "cpu_avx2" and (.key | startswith("cpu0.kernel."))) | .key] | unique | join(",")'
if grep -qw avx512bw /proc/cpuinfo && grep -qw avx512f /proc/cpuinfo; then
	devices
	jq_eq "choose = measure times the kernel paths and stores the figures" \
		"[$avx2 | .cached[] | select(.key | test(\"^cpu0[.]kernel[.](i2_s|tl1|tl2)$\")) | .from_cache] | map(tostring) | join(\",\")" \
		"false,false,false"
	cp "$TRIT_PROBE_CACHE" "$work/out"
	jq_eq "... an entry for each kernel type" "$kernels" "cpu0.kernel.cache-check,cpu0.kernel.i2_s,cpu0.kernel.tl1,cpu0.kernel.tl2"
	devices
	jq_eq "the next run takes them from the cache" \
		"[$avx2 | .cached[] | select(.key | test(\"^cpu0[.]kernel[.](i2_s|tl1|tl2)$\")) | .from_cache] | map(tostring) | join(\",\")" \
		"true,true,true"
	jq_eq "... and kernel.isa names the paths" \
		"$avx2 | .devices[0].properties[\"kernel.isa\"].text | test(\"^avx[0-9a-z]+(/avx[0-9a-z]+/avx[0-9a-z]+)?\$\")" true
	TRIT_PLUGIN_CPU_AVX2_ISA=avx2 devices
	jq_eq "a forced isa neither reads nor times them" \
		"[$avx2 | .cached[] | select(.key | test(\"^cpu0[.]kernel[.](i2_s|tl1|tl2)$\"))] | length" 0
	jq_eq "... and runs it" "$avx2 | .devices[0].properties[\"kernel.isa\"].text" avx2
else
	devices
	cp "$TRIT_PROBE_CACHE" "$work/out"
	# (the cache's own write-and-read check is stored on every machine)
	jq_eq "one kernel path: nothing timed or stored" "$kernels" "cpu0.kernel.cache-check"
fi

# trit plan says which kernel path runs the layers, and why
model="$top_builddir/models/bitnet-b1.58-2B-4T-I2_S.gguf"
if [ -f "$model" ]; then
	run "$trit" -P "$work/plug" plan "$model"
	expect "trit plan names each ternary kernel's path under the CPU's placement" "$work/out" \
		"^ +kernels I2_S [a-z0-9]+ \((the fastest measured|not measured)\), TL1 [a-z0-9]+ .*, TL2 "
	TRIT_PLUGIN_CPU_AVX2_ISA=avx2 run "$trit" -P "$work/plug" plan "$model" --explain
	expect "... a forced path says so" "$work/out" \
		"kernels I2_S avx2 \(set by the operator\), TL1 avx2 \(set by the operator\)"
	expect "... and --explain gives the reason" "$work/out" "^ +I2_S: \[plugin\.cpu_avx2\] isa = avx2"
	TRIT_PLUGIN_CPU_AVX2_ISA=avx2 run "$trit" -P "$work/plug" plan "$model" --json
	jq_eq "... as JSON too" '.devices[0].kernels.I2_S | "\(.path) \(.chosen)"' "avx2 set by the operator"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
