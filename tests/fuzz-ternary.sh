#!/bin/sh
# Fuzz the ternary packer (tests/fuzz/fuzz_ternary) from a few seeds written
# here. `make check` runs a short bounded run; `make fuzz-ternary` a long one.
# Speaks TAP.   usage: fuzz-ternary.sh [RUNS [SECONDS]]   (SECONDS 0 = no limit)
runs=${1:-20000}
secs=${2:-30}
build=${top_builddir:-.}
bin=$build/tests/fuzz/fuzz_ternary
work=$build/tests/fuzz/ternary-work
corpus=$work/corpus

if test ! -x "$bin"; then
	echo "1..0 # SKIP $bin not built (needs clang with libFuzzer)"
	exit 0
fi
rm -rf "$work"
mkdir -p "$corpus" "$work/artifacts" || exit 1
# header bytes: source type index, destination format(s), rows - 1, (cols - 1) / 3
seed() { printf "$2" > "$corpus/$1"; head -c "$3" /dev/urandom >> "$corpus/$1"; }
seed f32    '\000\000\003\012' 600
seed f16    '\001\004\001\052' 600
seed tq2    '\003\002\000\125' 200
seed i2s    '\004\005\001\052' 100
seed tl1    '\005\001\037\040' 3000
seed tl2    '\006\007\001\040' 3000

echo "1..2"
if "$bin" "$corpus"/* > "$work/seeds.log" 2>&1; then
	echo "ok 1 - every seed runs clean"
else
	echo "not ok 1 - a seed crashed the packer"
	sed 's/^/# /' "$work/seeds.log" | tail -n 40
fi
if "$bin" -runs="$runs" -max_total_time="$secs" -seed=1 -max_len=8192 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$corpus" > "$work/fuzz.log" 2>&1; then
	if test "$secs" = 0; then limit="no time limit"; else limit="at most ${secs}s"; fi
	echo "ok 2 - $runs runs ($limit) found nothing"
	grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb' \
		"$work/fuzz.log" | sed 's/^/# /'
else
	echo "not ok 2 - the fuzzer found an input the packer mishandles (see $work/artifacts)"
	sed 's/^/# /' "$work/fuzz.log" | tail -n 60
fi
